// MPTCP option codec (core/wire/mptcp.ts): hand-written byte vectors for every form, built
// from the RFC 8684 section 3 layouts (and the ADD_ADDR HMACs of PROTOCOL.md), refusals with
// typed reasons, and fast-check round trips for every form.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { emitMptcpOption, mptcpOptionLength, parseMptcpOption } from "../../core/wire/mptcp.ts";
import type { MptcpOption } from "../../core/wire/types.ts";
import { hex, mptcpForms } from "./arbitraries.ts";

const K1 = "0102030405060708";
const K2 = "1112131415161718";
const V6 = "20010db8000000000000000000000001"; // 2001:db8::1

/** [name, bytes, value]: the bytes must parse to the value and the value emit to the bytes. */
const vectors: [string, string, MptcpOption][] = [
  ["MP_CAPABLE SYN (v1, H)", "1e 04 01 01", { type: "mp_capable", version: 1, flags: 0x01 }],
  ["MP_CAPABLE SYN/ACK", `1e 0c 01 01 ${K2}`, { type: "mp_capable", version: 1, flags: 0x01, senderKey: 0x1112131415161718n }],
  [
    "MP_CAPABLE ACK",
    `1e 14 01 01 ${K1} ${K2}`,
    { type: "mp_capable", version: 1, flags: 0x01, senderKey: 0x0102030405060708n, receiverKey: 0x1112131415161718n },
  ],
  [
    "MP_CAPABLE ACK+data",
    `1e 16 01 01 ${K1} ${K2} 00 64`,
    { type: "mp_capable", version: 1, flags: 0x01, senderKey: 0x0102030405060708n, receiverKey: 0x1112131415161718n, dataLength: 100 },
  ],
  [
    "MP_CAPABLE ACK+data+checksum (A set)",
    `1e 18 01 81 ${K1} ${K2} 00 64 ab cd`,
    {
      type: "mp_capable",
      version: 1,
      flags: 0x81,
      senderKey: 0x0102030405060708n,
      receiverKey: 0x1112131415161718n,
      dataLength: 100,
      checksum: 0xabcd,
    },
  ],
  ["MP_JOIN SYN (backup, id 5)", "1e 0c 11 05 66 84 0d da aa bb cc dd", { type: "mp_join_syn", backup: true, addressId: 5, token: 0x66840dda, nonce: 0xaabbccdd }],
  [
    "MP_JOIN SYN/ACK",
    "1e 10 10 02 72 be a4 3c 69 c0 c2 06 11 22 33 44",
    { type: "mp_join_synack", backup: false, addressId: 2, hmac: hex("72bea43c69c0c206"), nonce: 0x11223344 },
  ],
  ["MP_JOIN ACK", "1e 18 10 00 c2986b9ffe33dedc10955fc5c9c31544e3ac05c0", { type: "mp_join_ack", hmac: hex("c2986b9ffe33dedc10955fc5c9c31544e3ac05c0") }],
  ["DSS DATA_ACK 32", "1e 08 20 01 de ad be ef", { type: "dss", dataFin: false, dataAck: 0xdeadbeefn, ack64: false }],
  ["DSS DATA_ACK 64", `1e 0c 20 03 ${K1}`, { type: "dss", dataFin: false, dataAck: 0x0102030405060708n, ack64: true }],
  [
    "DSS mapping, 32-bit DSN",
    "1e 0e 20 04 a0 b0 c0 d0 00 00 00 01 05 b4",
    { type: "dss", dataFin: false, mapping: { dsn: 0xa0b0c0d0n, dsn64: false, ssn: 1, length: 1460 } },
  ],
  [
    "DSS mapping, 64-bit DSN",
    `1e 12 20 0c ${K2} 00 00 00 01 05 b4`,
    { type: "dss", dataFin: false, mapping: { dsn: 0x1112131415161718n, dsn64: true, ssn: 1, length: 1460 } },
  ],
  [
    "DSS mapping, 64-bit DSN, checksum",
    `1e 14 20 0c 11 22 33 44 55 66 77 88 00 00 00 01 00 04 29 df`,
    { type: "dss", dataFin: false, mapping: { dsn: 0x1122334455667788n, dsn64: true, ssn: 1, length: 4, checksum: 0x29df } },
  ],
  [
    "DSS A a M m F with checksum (28 bytes)",
    `1e 1c 20 1f ${K1} ${K2} 00 01 00 00 01 00 ff ff`,
    {
      type: "dss",
      dataFin: true,
      dataAck: 0x0102030405060708n,
      ack64: true,
      mapping: { dsn: 0x1112131415161718n, dsn64: true, ssn: 0x10000, length: 256, checksum: 0xffff },
    },
  ],
  [
    "DSS 32-bit ack, 32-bit DSN (16 bytes)",
    "1e 12 20 05 00 00 00 10 00 00 00 20 00 00 00 03 00 0a",
    { type: "dss", dataFin: false, dataAck: 0x10n, ack64: false, mapping: { dsn: 0x20n, dsn64: false, ssn: 3, length: 10 } },
  ],
  [
    "DSS DATA_FIN without data (ssn 0, length 1)",
    `1e 12 20 1c ${K2} 00 00 00 00 00 01`,
    { type: "dss", dataFin: true, mapping: { dsn: 0x1112131415161718n, dsn64: true, ssn: 0, length: 1 } },
  ],
  [
    "DSS infinite mapping (length 0)",
    `1e 12 20 0c ${K2} 00 00 00 01 00 00`,
    { type: "dss", dataFin: false, mapping: { dsn: 0x1112131415161718n, dsn64: true, ssn: 1, length: 0 } },
  ],
  [
    "ADD_ADDR v4 with HMAC (PROTOCOL.md vector)",
    "1e 10 30 05 c6 12 01 02 96 57 2a c7 3c e5 89 26",
    { type: "add_addr", echo: false, addressId: 5, address: hex("c6120102"), hmac: hex("96572ac73ce58926") },
  ],
  [
    "ADD_ADDR v4 port 8080 with HMAC (PROTOCOL.md vector)",
    "1e 12 30 05 c6 12 01 02 1f 90 c2 23 40 7a a4 d8 4b 7e",
    { type: "add_addr", echo: false, addressId: 5, address: hex("c6120102"), port: 8080, hmac: hex("c223407aa4d84b7e") },
  ],
  ["ADD_ADDR v4 echo", "1e 08 31 05 c6 12 01 02", { type: "add_addr", echo: true, addressId: 5, address: hex("c6120102") }],
  ["ADD_ADDR v4 echo with port", "1e 0a 31 05 c6 12 01 02 1f 90", { type: "add_addr", echo: true, addressId: 5, address: hex("c6120102"), port: 8080 }],
  ["ADD_ADDR v6 echo", `1e 14 31 07 ${V6}`, { type: "add_addr", echo: true, addressId: 7, address: hex(V6) }],
  ["ADD_ADDR v6 echo with port", `1e 16 31 07 ${V6} 01 bb`, { type: "add_addr", echo: true, addressId: 7, address: hex(V6), port: 443 }],
  ["ADD_ADDR v6 with HMAC", `1e 1c 30 07 ${V6} ${K1}`, { type: "add_addr", echo: false, addressId: 7, address: hex(V6), hmac: hex(K1) }],
  [
    "ADD_ADDR v6 port with HMAC",
    `1e 1e 30 07 ${V6} 01 bb ${K1}`,
    { type: "add_addr", echo: false, addressId: 7, address: hex(V6), port: 443, hmac: hex(K1) },
  ],
  ["REMOVE_ADDR one id", "1e 04 40 05", { type: "remove_addr", addressIds: [5] }],
  ["REMOVE_ADDR three ids", "1e 06 40 01 02 ff", { type: "remove_addr", addressIds: [1, 2, 255] }],
  ["MP_PRIO backup", "1e 03 51", { type: "mp_prio", backup: true }],
  ["MP_PRIO regular", "1e 03 50", { type: "mp_prio", backup: false }],
  ["MP_FAIL", `1e 0c 60 00 ${K1}`, { type: "mp_fail", dsn: 0x0102030405060708n }],
  ["MP_FASTCLOSE", `1e 0c 70 00 ${K2}`, { type: "mp_fastclose", receiverKey: 0x1112131415161718n }],
  ["MP_TCPRST transient, MPTCP error", "1e 04 81 01", { type: "mp_tcprst", flags: 1, reason: 1 }],
  ["MP_TCPRST middlebox", "1e 04 80 06", { type: "mp_tcprst", flags: 0, reason: 6 }],
  ["MP_EXPERIMENTAL", "1e 05 f3 aa bb", { type: "mp_experimental", low: 3, data: hex("aabb") }],
  ["MP_EXPERIMENTAL empty", "1e 03 f0", { type: "mp_experimental", low: 0, data: new Uint8Array(0) }],
  ["unknown subtype 9", "1e 04 92 12", { type: "mp_unknown", subtype: 9, raw: hex("9212") }],
];

for (const [name, bytes, value] of vectors) {
  test(`MPTCP vector: ${name}`, () => {
    const b = hex(bytes);
    const r = parseMptcpOption(b, 0, b.length);
    assert.ok(r.ok, r.ok ? "" : r.error.detail);
    assert.deepEqual(r.value, value);
    assert.equal(mptcpOptionLength(value), b.length);
    const out = new Uint8Array(b.length + 4).fill(0xee);
    assert.equal(emitMptcpOption(value, out, 2), b.length);
    assert.deepEqual(out.subarray(2, 2 + b.length), b);
    assert.equal(out[1], 0xee, "nothing written before the option");
    assert.equal(out[2 + b.length], 0xee, "nothing written after the option");
  });
}

test("MPTCP parse at an offset inside a larger buffer, length from the option", () => {
  const b = hex("01 01 1e 04 81 01 00 00");
  const r = parseMptcpOption(b, 2, 6);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { type: "mp_tcprst", flags: 1, reason: 1 });
});

test("MPTCP reserved bits are ignored on parse and written as 0", () => {
  // MP_JOIN ACK with reserved bits set; MP_FAIL and MP_FASTCLOSE with reserved byte set.
  const join = parseMptcpOption(hex("1e 18 1f ff c2986b9ffe33dedc10955fc5c9c31544e3ac05c0"), 0, 24);
  assert.ok(join.ok);
  const out = new Uint8Array(24);
  emitMptcpOption(join.value, out, 0);
  assert.deepEqual(out.subarray(0, 4), hex("1e 18 10 00"));
  const syn = parseMptcpOption(hex("1e 0c 1f 05 00 00 00 01 00 00 00 02"), 0, 12);
  assert.ok(syn.ok);
  assert.deepEqual(syn.value, { type: "mp_join_syn", backup: true, addressId: 5, token: 1, nonce: 2 });
});

test("DSS: checksum presence follows the length given the flags; no-mapping + 2 is tolerated", () => {
  // A only (32-bit ack) with 2 extra bytes: accepted like Linux, the 2 bytes ignored.
  const r = parseMptcpOption(hex("1e 0a 20 01 00 00 00 07 ff ff"), 0, 10);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { type: "dss", dataFin: false, dataAck: 7n, ack64: false });
  // a and m without A and M carry nothing: a 4-byte DSS.
  const bare = parseMptcpOption(hex("1e 04 20 0a"), 0, 4);
  assert.ok(bare.ok);
  assert.deepEqual(bare.value, { type: "dss", dataFin: false });
});

const refusals: [string, string, string][] = [
  ["MP_CAPABLE length 5", "1e 05 01 01 00", "BadLength"],
  ["MP_CAPABLE length 16", `1e 10 01 01 ${K1} 00 00 00 00`, "BadLength"],
  ["MP_JOIN length 20", `1e 14 10 00 ${K1} ${K1}`, "BadLength"],
  ["DSS M with length 12", "1e 0c 20 04 00 00 00 01 00 00 00 01", "BadLength"],
  ["DSS A a with length 10", "1e 0a 20 03 00 00 00 00 00 00", "BadLength"],
  ["DSS mapping + 3 bytes", "1e 11 20 04 00 00 00 01 00 00 00 01 00 04 00 00 00", "BadLength"],
  ["ADD_ADDR length 12", "1e 0c 30 01 c6 12 00 01 00 00 00 00", "BadLength"],
  ["ADD_ADDR echo with an HMAC", "1e 10 31 05 c6 12 01 02 96 57 2a c7 3c e5 89 26", "BadOption"],
  ["ADD_ADDR no echo without HMAC", "1e 08 30 05 c6 12 01 02", "BadOption"],
  ["REMOVE_ADDR without ids", "1e 03 40", "BadLength"],
  ["MP_PRIO length 4", "1e 04 51 00", "BadLength"],
  ["MP_FAIL length 8", "1e 08 60 00 00 00 00 00", "BadLength"],
  ["MP_FASTCLOSE length 4", "1e 04 70 00", "BadLength"],
  ["MP_TCPRST length 3", "1e 03 81", "BadLength"],
  ["length 2 (no subtype)", "1e 02", "BadLength"],
  ["length beyond the bytes", "1e 08 20 01 00 00", "Truncated"],
  ["only a kind byte", "1e", "Truncated"],
  ["not kind 30", "02 04 05 b4", "BadOption"],
];

for (const [name, bytes, reason] of refusals) {
  test(`MPTCP refused: ${name} -> ${reason}`, () => {
    const b = hex(bytes);
    const r = parseMptcpOption(b, 0, b.length);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.reason, reason);
  });
}

test("MPTCP parse refuses bad offsets and lengths without throwing", () => {
  const b = hex("1e 04 81 01");
  for (const [off, len] of [[-1, 4], [0, -1], [5, 4], [Number.NaN, 4], [0, Infinity], [3, 100]] as const) {
    const r = parseMptcpOption(b, off, len);
    assert.equal(r.ok, false, `off ${off} len ${len}`);
  }
});

test("MPTCP emit refuses API misuse with InvalidArgumentError", () => {
  const out = new Uint8Array(64);
  const misuse: MptcpOption[] = [
    { type: "add_addr", echo: false, addressId: 1, address: hex("c6120001") }, // no HMAC
    { type: "add_addr", echo: true, addressId: 1, address: hex("c61200") }, // 3-byte address
    { type: "mp_join_synack", backup: false, addressId: 1, hmac: new Uint8Array(7), nonce: 1 },
    { type: "dss", dataFin: false, dataAck: 1n << 32n, ack64: false },
    { type: "dss", dataFin: false, mapping: { dsn: -1n, dsn64: true, ssn: 0, length: 0 } },
    { type: "mp_fail", dsn: 1n << 64n },
    { type: "remove_addr", addressIds: [] },
    { type: "remove_addr", addressIds: [256] },
    { type: "mp_tcprst", flags: 16, reason: 0 },
    { type: "mp_join_syn", backup: false, addressId: 1, token: 2 ** 32, nonce: 0 },
  ];
  for (const m of misuse) assert.throws(() => emitMptcpOption(m, out, 0), { name: "InvalidArgumentError" }, JSON.stringify(m, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  assert.throws(() => emitMptcpOption({ type: "mp_prio", backup: true }, new Uint8Array(2), 0), { name: "InvalidArgumentError" });
});

for (const [name, arb] of Object.entries(mptcpForms)) {
  test(`MPTCP round trip (fast-check): ${name}`, () => {
    const out = new Uint8Array(300);
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 16 }), (opt, off) => {
        const n = emitMptcpOption(opt, out, off);
        assert.equal(n, mptcpOptionLength(opt));
        assert.equal(out[off + 1], n);
        const r = parseMptcpOption(out, off, n);
        assert.ok(r.ok, r.ok ? "" : r.error.detail);
        assert.deepEqual(r.value, opt);
      }),
      { numRuns: 300 },
    );
  });
}
