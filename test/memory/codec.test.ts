// Middlebox output read back with the project's own codecs (core/wire/packet.ts): what each
// box did is visible in the parsed TCP / MPTCP data model, and the packets stay parseable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePacket } from "../../core/wire/packet.ts";
import type { Packet } from "../../core/wire/packet.ts";
import { Simulator } from "../../adapters/memory/simulator.ts";
import { buildTcp, Nat, SeqRewrite, SplitSegments, StripOptions } from "../../adapters/memory/middleboxes.ts";
import type { Middlebox } from "../../adapters/memory/types.ts";
import { formatAddress, parseAddress } from "../../adapters/memory/packet.ts";
import { ScriptHost } from "./hosts.ts";

const A = parseAddress("198.18.0.1");
const B = parseAddress("198.18.0.2");
const KEY = [1, 2, 3, 4, 5, 6, 7, 8];
const MPC_ACK = [30, 20, 0x01, 0x01, ...KEY, ...KEY.map((x) => x + 8)];
// DSS with flags m|M|A: 4-byte DATA_ACK 9, 8-byte DSN, SSN 1, data-level length 10.
const DSS_MAP = [30, 22, 0x20, 0x0d, 0, 0, 0, 9, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 1, 0, 10];
const SACK = [1, 1, 5, 10, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0];

function through(box: Middlebox, packet: Uint8Array): Packet[] {
  const sim = new Simulator();
  const a = new ScriptHost([{ time: 0, packet }]);
  const b = new ScriptHost();
  sim.connect({ host: a, iface: 0 }, { host: b, iface: 0 }).addMiddlebox(box);
  sim.runUntilIdle(1e6);
  return b.received.map((r) => {
    const p = parsePacket(r.packet);
    assert.ok(p.ok, p.ok ? "" : p.error.detail);
    return p.value;
  });
}

test("codecs parse stripped, rewritten, split and NATed packets as intended", () => {
  const pay = new TextEncoder().encode("0123456789");
  const mp = buildTcp(A, B, 40000, 80, 1000, 2000, 0x18, 5000, Uint8Array.from([2, 4, 5, 0xb4, ...MPC_ACK]), pay);
  const before = parsePacket(mp);
  assert.ok(before.ok);
  assert.equal(before.value.tcp.header.options.mptcp.length, 1);

  const [stripped] = through(new StripOptions(), mp.slice());
  assert.deepEqual(stripped!.tcp.header.options.mptcp, []);
  assert.equal(stripped!.tcp.header.options.mss, 1460);
  assert.deepEqual(stripped!.tcp.payload, pay);

  const withSack = buildTcp(A, B, 40000, 80, 1000, 2000, 0x10, 5000, Uint8Array.from(SACK), new Uint8Array(0));
  const [rw] = through(new SeqRewrite(100, 7), withSack);
  assert.equal(rw!.tcp.header.seq, 1100);
  assert.equal(rw!.tcp.header.ack, 1993);
  assert.deepEqual(rw!.tcp.header.options.sack, [{ start: 993, end: 1993 }]);

  const dss = buildTcp(A, B, 40000, 80, 1000, 2000, 0x18, 5000, Uint8Array.from(DSS_MAP), pay);
  const orig = parsePacket(dss);
  assert.ok(orig.ok);
  const m0 = orig.value.tcp.header.options.mptcp[0];
  assert.ok(m0?.type === "dss" && m0.mapping?.dsn === 0x1122334455667788n && m0.mapping.length === 10 && m0.dataAck === 9n);
  const parts = through(new SplitSegments({ firstBytes: 3 }), dss);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts.map((p) => p.tcp.header.seq), [1000, 1003]);
  assert.deepEqual(parts.map((p) => p.tcp.payload.length), [3, 7]);
  for (const p of parts) assert.deepEqual(p.tcp.header.options.mptcp, orig.value.tcp.header.options.mptcp);

  const [nat] = through(new Nat({ inside: "a", publicAddress: "198.18.7.7", portBase: 41000 }), mp.slice());
  assert.equal(formatAddress(nat!.ip.src), "198.18.7.7");
  assert.equal(nat!.tcp.header.srcPort, 41000);
  assert.deepEqual(nat!.tcp.header.options.mptcp, before.value.tcp.header.options.mptcp);
});
