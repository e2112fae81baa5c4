// TCP header and options (core/wire/tcp.ts) and the option layout (core/wire/segment.ts):
// Linux-like layouts byte for byte, the packed fallback, the typed 40-byte overflow error,
// parsing rules for odd options, and fast-check round trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { emitTcp, emitTcpHeader, parseTcp, parseTcpOptions, tcpHeaderLength } from "../../core/wire/tcp.ts";
import { mptcpOptionLength } from "../../core/wire/mptcp.ts";
import { emitOptions, optionsLength, TCP_OPTIONS_MAX } from "../../core/wire/segment.ts";
import type { Dss, TcpOptions, TcpSegment } from "../../core/wire/types.ts";
import { TCP_ACK, TCP_SYN } from "../../core/wire/types.ts";
import { hex, mptcpOption, rec, sackBlock, tcpSegment, u16, u32, u8 } from "./arbitraries.ts";

const dss64: Dss = {
  type: "dss",
  dataFin: false,
  dataAck: 0x0102030405060708n,
  ack64: true,
  mapping: { dsn: 0x1112131415161718n, dsn64: true, ssn: 1, length: 1400 },
};
const DSS64_BYTES = "1e 1a 20 0f 0102030405060708 1112131415161718 00000001 0578";

/** The Linux-like aligned layout length, computed independently of segment.ts. */
function alignedLength(o: TcpOptions): number {
  let n = o.mss !== undefined ? 4 : 0;
  n += o.timestamp ? 12 : o.sackPermitted ? 4 : 0;
  n += o.wscale !== undefined ? 4 : 0;
  n += o.sack ? 4 + 8 * o.sack.length : 0;
  for (const m of o.mptcp) n += 4 * Math.ceil(mptcpOptionLength(m) / 4);
  return n;
}

function layout(o: TcpOptions): Uint8Array {
  const out = new Uint8Array(48).fill(0xee);
  const r = emitOptions(o, out, 0);
  assert.ok(r.ok, r.ok ? "" : r.error.detail);
  assert.equal(r.value, optionsLength(o));
  return out.slice(0, r.value);
}

test("layout: SYN with mss, sackOK, TS, wscale, MP_CAPABLE is Linux's", () => {
  const o: TcpOptions = { mss: 1460, sackPermitted: true, timestamp: { val: 0x01020304, ecr: 0 }, wscale: 7, mptcp: [{ type: "mp_capable", version: 1, flags: 0x01 }] };
  // mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7,mptcp capable v1
  assert.deepEqual(layout(o), hex("02 04 05 b4 04 02 08 0a 01 02 03 04 00 00 00 00 01 03 03 07 1e 04 01 01"));
});

test("layout: data segment with TS and DSS (64-bit ack and DSN) fills 40 bytes, NOPs after DSS", () => {
  const o: TcpOptions = { timestamp: { val: 7, ecr: 9 }, mptcp: [dss64] };
  assert.deepEqual(layout(o), hex(`01 01 08 0a 00000007 00000009 ${DSS64_BYTES} 01 01`));
});

test("layout: sackOK without TS, wscale without anything, SACK blocks after NOP NOP", () => {
  assert.deepEqual(layout({ sackPermitted: true, mptcp: [] }), hex("01 01 04 02"));
  assert.deepEqual(layout({ wscale: 14, mptcp: [] }), hex("01 03 03 0e"));
  assert.deepEqual(layout({ timestamp: { val: 1, ecr: 2 }, sack: [{ start: 10, end: 20 }, { start: 30, end: 40 }], mptcp: [] }), hex("01 01 08 0a 00000001 00000002 01 01 05 12 0000000a 00000014 0000001e 00000028"));
  assert.deepEqual(layout({ mptcp: [] }), new Uint8Array(0));
});

test("layout: MPTCP options and unknown options are each padded with NOPs to 4 bytes", () => {
  const o: TcpOptions = { mptcp: [{ type: "mp_prio", backup: true }, { type: "remove_addr", addressIds: [1, 2] }], unknown: [{ kind: 34, data: new Uint8Array(0) }] };
  assert.deepEqual(layout(o), hex("1e 03 51 01 1e 05 40 01 02 01 01 01 22 02 01 01"));
});

test("layout: when the aligned layout overflows, options are packed and padded with EOL", () => {
  // Aligned: 12 + 28 + 4 = 44 > 40. Packed: 10 + 26 + 3 = 39, then EOL.
  const o: TcpOptions = { timestamp: { val: 7, ecr: 9 }, mptcp: [dss64, { type: "mp_prio", backup: false }] };
  assert.equal(optionsLength(o), 40);
  const b = layout(o);
  assert.deepEqual(b, hex(`08 0a 00000007 00000009 ${DSS64_BYTES} 1e 03 50 00`));
  const back = parseTcpOptions(b, 0, b.length);
  assert.ok(back.ok);
  assert.deepEqual(back.value, o);
});

test("layout: options beyond 40 bytes give a typed OptionsTooLong error and write nothing", () => {
  // TS (10) + 3 SACK blocks (26) + DSS with 64-bit DATA_ACK (12) = 48 bytes packed.
  const o: TcpOptions = {
    timestamp: { val: 1, ecr: 2 },
    sack: [{ start: 1, end: 2 }, { start: 3, end: 4 }, { start: 5, end: 6 }],
    mptcp: [{ type: "dss", dataFin: false, dataAck: 5n, ack64: true }],
  };
  assert.ok(optionsLength(o) > TCP_OPTIONS_MAX);
  const out = new Uint8Array(100).fill(0xee);
  const r = emitOptions(o, out, 0);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.reason, "OptionsTooLong");
    assert.equal(r.error.needed, 48);
    assert.equal(r.error.limit, 40);
  }
  const seg: TcpSegment = { header: { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: TCP_ACK, window: 0, checksum: 0, urgent: 0, options: o }, payload: new Uint8Array(10) };
  const e = emitTcp(seg, out, 0);
  assert.equal(e.ok, false);
  if (!e.ok) assert.equal(e.error.reason, "OptionsTooLong");
  assert.ok(out.every((x) => x === 0xee), "nothing written");
});

test("TCP header vector: SYN 198.18.0.1:40000 -> :80", () => {
  const seg: TcpSegment = {
    header: {
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      ack: 0,
      flags: TCP_SYN,
      window: 64240,
      checksum: 0x1234,
      urgent: 0,
      options: { mss: 1460, sackPermitted: true, timestamp: { val: 0x01020304, ecr: 0 }, wscale: 7, mptcp: [{ type: "mp_capable", version: 1, flags: 0x01 }] },
    },
    payload: new Uint8Array(0),
  };
  const bytes = hex("9c 40 00 50 00000001 00000000 b0 02 fa f0 12 34 00 00 02 04 05 b4 04 02 08 0a 01 02 03 04 00 00 00 00 01 03 03 07 1e 04 01 01");
  const out = new Uint8Array(64);
  const r = emitTcp(seg, out, 0);
  assert.ok(r.ok);
  assert.equal(r.value, 44);
  assert.equal(tcpHeaderLength(seg.header.options), 44);
  assert.deepEqual(out.subarray(0, 44), bytes);
  const p = parseTcp(bytes, 0, bytes.length);
  assert.ok(p.ok);
  assert.deepEqual(p.value, seg);
});

test("TCP parse: payload is a view of the input; segment length comes from len", () => {
  const buf = hex("00 00 00 00 00000000 00000000 50 18 ff ff 00 00 00 00 61 62 63 64 ee ee");
  const r = parseTcp(buf, 0, 22);
  assert.ok(r.ok);
  assert.equal(r.value.payload.buffer, buf.buffer);
  assert.equal(r.value.payload.byteOffset, 20);
  assert.deepEqual(r.value.payload, hex("61 62"));
});

test("TCP options: EOL ends the list, odd lengths go to unknown, last duplicate wins", () => {
  const r = parseTcpOptions(hex("02 04 05 b4 02 03 00 00 02 04 02 18 ff 03 09"), 0, 15);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { mss: 1460, mptcp: [], unknown: [{ kind: 2, data: hex("00") }] });
  const d = parseTcpOptions(hex("02 04 05 b4 02 04 02 18"), 0, 8);
  assert.ok(d.ok);
  assert.equal(d.value.mss, 0x218);
  // SACK of length 11 and TS of length 8 are not interpreted.
  const s = parseTcpOptions(hex("05 0b 00 00 00 01 00 00 00 02 00 08 08 00 00 00 00 00 00 01"), 0, 20);
  assert.ok(s.ok);
  assert.equal(s.value.sack, undefined);
  assert.equal(s.value.timestamp, undefined);
  assert.deepEqual(s.value.unknown?.map((u) => u.kind), [5, 8]);
  // A malformed MPTCP option (MP_CAPABLE of length 5) is kept as an unknown kind-30 option.
  const m = parseTcpOptions(hex("1e 05 01 01 00 01 01 01"), 0, 8);
  assert.ok(m.ok);
  assert.deepEqual(m.value, { mptcp: [], unknown: [{ kind: 30, data: hex("01 01 00") }] });
  // SACK with 4 blocks.
  const four = parseTcpOptions(hex("01 01 05 22" + "00000001 00000002".repeat(4)), 0, 36);
  assert.ok(four.ok);
  assert.equal(four.value.sack?.length, 4);
});

test("TCP parse refusals are typed", () => {
  const cases: [string, string, string][] = [
    ["19 bytes", "00".repeat(19), "Truncated"],
    ["data offset 4", "00000000 00000000 00000000 40 00 0000 0000 0000", "BadHeader"],
    ["data offset beyond the bytes", "00000000 00000000 00000000 60 00 0000 0000 0000", "Truncated"],
    ["option length 1", "00000000 00000000 00000000 60 00 0000 0000 0000 08 01 00 00", "BadOption"],
    ["option length 0", "00000000 00000000 00000000 60 00 0000 0000 0000 fe 00 00 00", "BadOption"],
    ["option overruns the header", "00000000 00000000 00000000 60 00 0000 0000 0000 01 08 05 00", "BadOption"],
    ["option without its length byte", "00000000 00000000 00000000 60 00 0000 0000 0000 01 01 01 08", "BadOption"],
  ];
  for (const [name, h, reason] of cases) {
    const b = hex(h);
    const r = parseTcp(b, 0, b.length);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.equal(r.error.reason, reason, name);
  }
  assert.equal(parseTcp(new Uint8Array(40), 30, 20).ok, false);
  assert.equal(parseTcp(new Uint8Array(40), -1, 20).ok, false);
});

test("TCP emit refuses API misuse with InvalidArgumentError", () => {
  const base: TcpSegment = { header: { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 0, window: 0, checksum: 0, urgent: 0, options: { mptcp: [] } }, payload: new Uint8Array(4) };
  const out = new Uint8Array(64);
  assert.throws(() => emitTcp({ ...base, header: { ...base.header, seq: 2 ** 32 } }, out, 0), { name: "InvalidArgumentError" });
  assert.throws(() => emitTcp({ ...base, header: { ...base.header, srcPort: -1 } }, out, 0), { name: "InvalidArgumentError" });
  assert.throws(() => emitTcp({ ...base, header: { ...base.header, options: { mss: 70000, mptcp: [] } } }, out, 0), { name: "InvalidArgumentError" });
  const fiveSack = { sack: Array.from({ length: 5 }, () => ({ start: 1, end: 2 })), mptcp: [] };
  const five = emitOptions(fiveSack, new Uint8Array(64), 0); // 5 SACK blocks never fit
  assert.ok(!five.ok && five.error.reason === "OptionsTooLong");
  assert.throws(() => emitTcp(base, new Uint8Array(23), 0), { name: "InvalidArgumentError" });
  assert.throws(() => emitTcpHeader(base.header, new Uint8Array(19), 0), { name: "InvalidArgumentError" });
});

test("TCP segment round trip (fast-check): parse(emit(s)) equals s", () => {
  const out = new Uint8Array(200);
  fc.assert(
    fc.property(tcpSegment, fc.integer({ min: 0, max: 8 }), (seg, off) => {
      const r = emitTcp(seg, out, off);
      assert.ok(r.ok);
      const hl = tcpHeaderLength(seg.header.options);
      assert.equal(r.value, hl + seg.payload.length);
      assert.ok(hl <= 60 && hl % 4 === 0);
      const p = parseTcp(out, off, r.value);
      assert.ok(p.ok, p.ok ? "" : p.error.detail);
      assert.deepEqual(p.value, seg);
    }),
    { numRuns: 2000 },
  );
});

test("option layout (fast-check): fits iff optionsLength <= 40; the aligned layout puts every option of Linux's kinds where Linux does", () => {
  const anyOptions = rec({
    mss: fc.option(u16, { nil: undefined }),
    wscale: fc.option(u8, { nil: undefined }),
    sackPermitted: fc.option(fc.constant(true), { nil: undefined }),
    sack: fc.option(fc.array(sackBlock, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    timestamp: fc.option(rec({ val: u32, ecr: u32 }), { nil: undefined }),
    mptcp: fc.array(mptcpOption, { maxLength: 4 }),
  });
  const out = new Uint8Array(64);
  fc.assert(
    fc.property(anyOptions, (raw) => {
      const o: TcpOptions = { mptcp: raw.mptcp };
      for (const k of ["mss", "wscale", "sackPermitted", "sack", "timestamp"] as const) if (raw[k] !== undefined) (o as unknown as Record<string, unknown>)[k] = raw[k];
      const len = optionsLength(o);
      assert.equal(len % 4, 0);
      out.fill(0xee);
      const r = emitOptions(o, out, 0);
      assert.equal(r.ok, len <= 40);
      if (!r.ok) {
        assert.ok(out.every((x) => x === 0xee));
        return;
      }
      const p = parseTcpOptions(out, 0, r.value);
      assert.ok(p.ok);
      assert.deepEqual(p.value, o);
      // When the aligned layout was used, each option starts where Linux puts it: MSS and
      // MPTCP options on a 4-byte boundary, TS and SACK 2 bytes after one, wscale 1 after one.
      if (r.value === alignedLength(o)) {
        const want: Record<number, number> = { 2: 0, 30: 0, 8: 2, 5: 2, 3: 1 };
        for (let q = 0; q < r.value; ) {
          const kind = out[q]!;
          if (kind === 0) break;
          if (kind === 1) {
            q++;
            continue;
          }
          if (want[kind] !== undefined) assert.equal(q % 4, want[kind], `kind ${kind} at ${q}`);
          q += out[q + 1]!;
        }
      }
    }),
    { numRuns: 2000 },
  );
});
