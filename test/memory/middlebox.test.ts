// Middlebox models on real TCP/IP packets sent through a simulated link: each does what it
// says and leaves valid checksums (verified with an independent checksum routine).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../adapters/memory/simulator.ts";
import {
  buildTcp,
  CoalesceSegments,
  FunctionBox,
  Nat,
  ProxyAck,
  RewritePayload,
  SeqRewrite,
  SplitSegments,
  StripOptions,
} from "../../adapters/memory/middleboxes.ts";
import type { Middlebox } from "../../adapters/memory/types.ts";
import { formatAddress, ipDst, ipSrc, parseAddress } from "../../adapters/memory/packet.ts";
import { tcpInfo, tcpOptions, u32 } from "../../adapters/memory/tcpbytes.ts";
import { checksumsValid, ScriptHost, udpPacket } from "./hosts.ts";

const A = "198.18.0.1";
const B = "198.18.0.2";
const SYN = 0x02, ACK = 0x10, FIN = 0x01, PSH = 0x08;

const MSS = [2, 4, 0x05, 0xb4];
const SACK_PERM = [4, 2];
const ts = (val: number, ecr: number): number[] => [8, 10, ...be32(val), ...be32(ecr)];
const MPC_SYN = [30, 4, 0x01, 0x01];
const MPC_SYNACK = [30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8];
const MPC_ACK = [30, 20, 0x01, 0x01, ...Array.from({ length: 16 }, (_, i) => i + 1)];
const dss = (dataAck: number): number[] => [30, 8, 0x20, 0x01, ...be32(dataAck)];
function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

interface Seg {
  from?: "a" | "b";
  seq: number;
  ack?: number;
  flags: number;
  opts?: number[];
  payload?: Uint8Array | string;
  window?: number;
  v6?: boolean;
}

function seg(s: Seg): Uint8Array {
  const [src, dst] = s.v6 ? ["2001:db8::1", "2001:db8::2"] : [A, B];
  const fromA = (s.from ?? "a") === "a";
  const payload = typeof s.payload === "string" ? new TextEncoder().encode(s.payload) : (s.payload ?? new Uint8Array(0));
  return buildTcp(
    parseAddress(fromA ? src : dst), parseAddress(fromA ? dst : src),
    fromA ? 40000 : 80, fromA ? 80 : 40000,
    s.seq, s.ack ?? 0, s.flags, s.window ?? 65535, Uint8Array.from(s.opts ?? []), payload,
  );
}

/** Runs scripted packets from A and from B through one link with the given boxes. */
function run(boxes: Middlebox[], fromA: { time: number; packet: Uint8Array }[], fromB: { time: number; packet: Uint8Array }[] = [], delayUs = 1000) {
  const sim = new Simulator({ seed: 3 });
  const a = new ScriptHost(fromA);
  const b = new ScriptHost(fromB);
  const link = sim.connect({ host: a, iface: 0 }, { host: b, iface: 0 }, { delayUs });
  for (const m of boxes) link.addMiddlebox(m);
  sim.runUntilIdle(1e7);
  return { a, b, link, sim };
}

function optionKinds(p: Uint8Array): number[] {
  return tcpOptions(p, tcpInfo(p)!)!.map((o) => o.kind);
}

function payloadOf(p: Uint8Array): string {
  const i = tcpInfo(p)!;
  return new TextDecoder().decode(p.subarray(i.payloadOff, i.end));
}

test("strip MPTCP options on the SYN only: header shrinks, other options and checksums intact", () => {
  const box = new StripOptions({ options: "mptcp", on: ["syn"] });
  const { a, b } = run([box], [
    { time: 0, packet: seg({ seq: 100, flags: SYN, opts: [...MSS, ...SACK_PERM, ...MPC_SYN] }) },
    { time: 3000, packet: seg({ seq: 101, ack: 501, flags: ACK, opts: MPC_ACK }) },
  ], [{ time: 2000, packet: seg({ from: "b", seq: 500, ack: 101, flags: SYN | ACK, opts: [...MSS, ...MPC_SYNACK] }) }]);
  const syn = b.received[0]!.packet;
  assert.deepEqual(optionKinds(syn), [2, 4]);
  assert.equal(tcpInfo(syn)!.hdrLen, 28);
  assert.equal(syn.length, 20 + 28);
  assert.ok(checksumsValid(syn));
  assert.deepEqual(optionKinds(a.received[0]!.packet), [2, 30], "SYN/ACK untouched");
  assert.deepEqual(optionKinds(b.received[1]!.packet), [30], "third ACK untouched");
  assert.equal(box.stripped, 1);
});

test("strip on the third ACK and on data only, both directions", () => {
  const box = new StripOptions({ options: "mptcp", on: ["ack3", "data"] });
  const { a, b } = run([box], [
    { time: 0, packet: seg({ seq: 100, flags: SYN, opts: MPC_SYN }) },
    { time: 3000, packet: seg({ seq: 101, ack: 501, flags: ACK, opts: [...ts(1, 2), ...MPC_ACK] }) },
    { time: 4000, packet: seg({ seq: 101, ack: 501, flags: ACK | PSH, opts: dss(7), payload: "hello" }) },
    { time: 5000, packet: seg({ seq: 106, ack: 501, flags: ACK, opts: dss(7) }) },
  ], [
    { time: 2000, packet: seg({ from: "b", seq: 500, ack: 101, flags: SYN | ACK, opts: MPC_SYNACK }) },
    { time: 4500, packet: seg({ from: "b", seq: 501, ack: 101, flags: ACK, opts: dss(9), payload: "x" }) },
  ]);
  const kinds = b.received.map((r) => optionKinds(r.packet));
  assert.deepEqual(kinds, [[30], [8], [], [30]], "SYN kept, third ACK and data stripped, pure ACK kept");
  assert.deepEqual(optionKinds(a.received[0]!.packet), [30]);
  assert.deepEqual(optionKinds(a.received[1]!.packet), [], "data B->A stripped");
  assert.equal(payloadOf(b.received[2]!.packet), "hello");
  for (const r of [...a.received, ...b.received]) assert.ok(checksumsValid(r.packet));
});

test("strip all options by overwriting them with NOPs keeps the header length", () => {
  const p = seg({ seq: 1, flags: SYN, opts: [...MSS, ...SACK_PERM, ...ts(5, 0), ...MPC_SYN] });
  const { b } = run([new StripOptions({ options: "all", how: "nop" })], [{ time: 0, packet: p }]);
  const got = b.received[0]!.packet;
  const info = tcpInfo(got)!;
  assert.equal(info.hdrLen, tcpInfo(p)!.hdrLen);
  assert.ok(got.subarray(info.tcpOff + 20, info.payloadOff).every((x) => x === 1));
  assert.ok(checksumsValid(got));
});

test("IPv6: stripping shrinks the payload length and keeps the checksum valid", () => {
  const { b } = run([new StripOptions()], [{ time: 0, packet: seg({ v6: true, seq: 1, flags: ACK, opts: dss(3), payload: "abc" }) }]);
  const got = b.received[0]!.packet;
  assert.equal(got.length, 40 + 20 + 3);
  assert.equal((got[4]! << 8) | got[5]!, 23);
  assert.equal(payloadOf(got), "abc");
  assert.ok(checksumsValid(got));
});

test("sequence rewrite: offsets per direction, ACKs and SACK blocks mapped back", () => {
  const offAB = 0x80000000, offBA = 12345;
  const sack = [5, 10, ...be32(1000), ...be32(2000)];
  const { a, b } = run([new SeqRewrite(offAB, offBA)], [
    { time: 0, packet: seg({ seq: 0xfffffff0, ack: 77, flags: ACK, payload: "data" }) },
  ], [
    { time: 0, packet: seg({ from: "b", seq: 500, ack: (0xfffffff4 + offAB) >>> 0, flags: ACK, opts: [1, 1, ...sack] }) },
  ]);
  const atB = tcpInfo(b.received[0]!.packet)!;
  assert.equal(atB.seq, (0xfffffff0 + offAB) >>> 0);
  assert.equal(atB.ack, (77 - offBA) >>> 0);
  const atAp = a.received[0]!.packet;
  const atA = tcpInfo(atAp)!;
  assert.equal(atA.seq, 500 + offBA);
  assert.equal(atA.ack, 0xfffffff4, "the ACK is back in A's numbering");
  const sackOpt = tcpOptions(atAp, atA)!.find((o) => o.kind === 5)!;
  assert.equal(u32(atAp, sackOpt.off + 2), (1000 - offAB) >>> 0);
  assert.equal(u32(atAp, sackOpt.off + 6), (2000 - offAB) >>> 0);
  assert.ok(checksumsValid(atAp) && checksumsValid(b.received[0]!.packet));
});

test("split: one data segment becomes two adjacent ones with the options on both, FIN on the second", () => {
  const text = "0123456789".repeat(100);
  const box = new SplitSegments();
  const { b } = run([box], [{ time: 0, packet: seg({ seq: 4000, ack: 9, flags: ACK | PSH | FIN, opts: dss(5), payload: text }) }]);
  assert.equal(b.received.length, 2);
  const [p1, p2] = b.received.map((r) => r.packet) as [Uint8Array, Uint8Array];
  const i1 = tcpInfo(p1)!, i2 = tcpInfo(p2)!;
  assert.equal(i1.seq, 4000);
  assert.equal(i2.seq, 4000 + i1.payloadLen);
  assert.equal(i1.payloadLen, 500);
  assert.equal(payloadOf(p1) + payloadOf(p2), text);
  assert.equal(i1.flags, ACK);
  assert.equal(i2.flags, ACK | PSH | FIN);
  assert.deepEqual(optionKinds(p1), [30]);
  assert.deepEqual(optionKinds(p2), [30]);
  assert.ok(checksumsValid(p1) && checksumsValid(p2));
  assert.equal(box.splits, 1);
});

test("coalesce: adjacent segments merge (first one's options), a lone one is released after the hold time", () => {
  const box = new CoalesceSegments({ holdUs: 500 });
  const { b, link } = run([box], [
    { time: 0, packet: seg({ seq: 1, ack: 9, flags: ACK, opts: dss(1), payload: "abc" }) },
    { time: 100, packet: seg({ seq: 4, ack: 10, flags: ACK | PSH, opts: dss(2), payload: "def" }) },
    { time: 200, packet: seg({ seq: 7, ack: 10, flags: ACK, payload: "gh" }) },
    { time: 10_000, packet: seg({ seq: 100, ack: 10, flags: ACK, payload: "zz" }) },
  ], [], 1000);
  assert.equal(b.received.length, 2);
  const m = b.received[0]!.packet;
  const mi = tcpInfo(m)!;
  assert.equal(payloadOf(m), "abcdefgh");
  assert.equal(mi.seq, 1);
  assert.equal(mi.ack, 10);
  assert.equal(mi.flags, ACK | PSH);
  const opt = tcpOptions(m, mi)!;
  assert.deepEqual(opt.map((o) => o.kind), [30]);
  assert.equal(u32(m, opt[0]!.off + 4), 1, "the first segment's DSS survives");
  assert.equal(b.received[0]!.time, 200 + 500 + 1000);
  assert.equal(payloadOf(b.received[1]!.packet), "zz");
  assert.equal(b.received[1]!.time, 10_000 + 500 + 1000);
  assert.ok(b.received.every((r) => checksumsValid(r.packet)));
  assert.equal(box.merged, 2);
  assert.equal(link.ab.counters.deliveredPackets, 2);
});

test("coalesce: a non-adjacent segment releases the held one first, keeping the order", () => {
  const { b } = run([new CoalesceSegments({ holdUs: 500 })], [
    { time: 0, packet: seg({ seq: 1, flags: ACK, payload: "ab" }) },
    { time: 10, packet: seg({ seq: 50, flags: ACK, payload: "cd" }) },
    { time: 20, packet: seg({ seq: 60, flags: ACK }) },
  ]);
  assert.deepEqual(b.received.map((r) => tcpInfo(r.packet)!.seq), [1, 50, 60]);
});

test("payload rewrite (ALG): bytes replaced, length kept, checksum fixed", () => {
  const box = RewritePayload.replace(new TextEncoder().encode("USER"), new TextEncoder().encode("user"));
  const { b } = run([box], [{ time: 0, packet: seg({ seq: 1, flags: ACK | PSH, opts: dss(1), payload: "USER bob USER" }) }]);
  const p = b.received[0]!.packet;
  assert.equal(payloadOf(p), "user bob user");
  assert.ok(checksumsValid(p));
  assert.equal(box.rewritten, 1);
});

test("proxy ACK: the sender gets an ACK from the box before the receiver could answer", () => {
  const box = new ProxyAck();
  const { a, b } = run([box], [
    { time: 0, packet: seg({ seq: 100, flags: SYN, opts: ts(10, 0) }) },
    { time: 3000, packet: seg({ seq: 101, ack: 501, flags: ACK, opts: [1, 1, ...ts(11, 20)], payload: "hello" }) },
    { time: 3100, packet: seg({ seq: 106, ack: 501, flags: ACK, opts: [1, 1, ...ts(12, 20)], payload: "world!" }) },
  ], [{ time: 1000, packet: seg({ from: "b", seq: 500, ack: 101, flags: SYN | ACK, window: 4321, opts: ts(20, 10) }) }], 1000);
  // The box sits at the start of the link: ACKs reach A after one link delay, data reaches B
  // after one; B never answers, yet A has its data acknowledged.
  assert.equal(b.received.length, 3);
  const acks = a.received.slice(1).map((r) => ({ time: r.time, info: tcpInfo(r.packet)!, p: r.packet }));
  assert.deepEqual(acks.map((x) => x.info.ack), [106, 112]);
  assert.deepEqual(acks.map((x) => x.time), [4000, 4100]);
  for (const x of acks) {
    assert.equal(x.info.flags, ACK);
    assert.equal(x.info.seq, 501);
    assert.equal(x.info.window, 4321);
    assert.equal(formatAddress(ipSrc(x.p)!), B);
    assert.equal(x.info.srcPort, 80);
    assert.ok(checksumsValid(x.p));
    const o = tcpOptions(x.p, x.info)!.find((q) => q.kind === 8)!;
    assert.equal(u32(x.p, o.off + 2), 20, "TSval = receiver's last");
  }
  const o2 = tcpOptions(acks[1]!.p, acks[1]!.info)!.find((q) => q.kind === 8)!;
  assert.equal(u32(acks[1]!.p, o2.off + 6), 12, "TSecr echoes the data segment");
  assert.equal(box.acksSent, 2);
});

test("NAT: outbound source rewritten, replies mapped back, unknown inbound dropped, checksums valid", () => {
  const nat = new Nat({ inside: "a", publicAddress: "198.18.9.9", portBase: 30000 });
  const sim = new Simulator();
  const a = new ScriptHost([
    { time: 0, packet: seg({ seq: 1, flags: SYN }) },
    { time: 10, packet: udpPacket(A, B, 5353, 53, new Uint8Array([1, 2, 3])) },
  ]);
  const b = new ScriptHost([{ time: 5000, packet: seg({ from: "b", seq: 9, ack: 2, flags: SYN | ACK }) }]);
  // B answers everything it receives to where it came from.
  b.onPacket = (_now, p) => {
    const i = tcpInfo(p);
    if (!i) return [udpPacket(B, formatAddress(ipSrc(p)!), 53, (p[20]! << 8) | p[21]!, new Uint8Array([9]))];
    return [buildTcp(ipDst(p)!, ipSrc(p)!, i.dstPort, i.srcPort, 700, i.seq + 1, SYN | ACK, 1000, new Uint8Array(0), new Uint8Array(0))];
  };
  const link = sim.connect({ host: a, iface: 0 }, { host: b, iface: 0 }, { delayUs: 100 });
  link.addMiddlebox(nat);
  sim.runUntilIdle(1e6);
  assert.equal(b.received.length, 2);
  for (const r of b.received) {
    assert.equal(formatAddress(ipSrc(r.packet)!), "198.18.9.9");
    assert.ok(checksumsValid(r.packet));
  }
  assert.equal(tcpInfo(b.received[0]!.packet)!.srcPort, 30000);
  assert.equal(nat.mappedPort(A, 40000), 30000);
  assert.equal(nat.mappedPort(A, 5353, 17), 30001);
  // Replies: TCP SYN/ACK and UDP come back to A's own address and ports; B's scripted SYN/ACK
  // to A's private address directly is not for the NAT's public address and passes as is.
  const back = a.received.map((r) => r.packet);
  assert.equal(back.length, 3);
  for (const p of back) {
    assert.equal(formatAddress(ipDst(p)!), A);
    assert.ok(checksumsValid(p));
  }
  assert.equal(tcpInfo(back[0]!)!.dstPort, 40000);
  assert.equal(tcpInfo(back[0]!)!.ack, 2);
  assert.equal((back[1]![22]! << 8) | back[1]![23]!, 5353);
  assert.equal(nat.translated, 4);
  // Unknown inbound to the public address is dropped.
  const stray = buildTcp(parseAddress(B), parseAddress("198.18.9.9"), 80, 31234, 1, 0, SYN, 1000, new Uint8Array(0), new Uint8Array(0));
  sim.at(sim.now + 1, () => link.send(1, stray));
  sim.runUntilIdle(2e6);
  assert.equal(nat.droppedInbound, 1);
  assert.equal(link.ba.counters.dropped.middlebox, 1);
  assert.equal(a.received.length, 3);
});

test("a corrupted packet stays corrupted through a rewriting box", () => {
  const p = seg({ seq: 1, flags: ACK, payload: "payload", opts: dss(1) });
  p[p.length - 1]! ^= 0x40;
  assert.equal(checksumsValid(p), false);
  const { b } = run([new SeqRewrite(1000), new StripOptions()], [{ time: 0, packet: p }]);
  const got = b.received[0]!.packet;
  assert.equal(tcpInfo(got)!.seq, 1001);
  assert.deepEqual(optionKinds(got), []);
  assert.equal(checksumsValid(got), false);
});

test("boxes pass through what they do not understand; a chain runs in order per direction", () => {
  const order: string[] = [];
  const tag = (name: string) => new FunctionBox(name, (p, ctx) => (order.push(`${name}${ctx.dir}`), [p]));
  const junk = new Uint8Array([0x45, 1, 2, 3]);
  const udp = udpPacket(A, B, 1, 2, new Uint8Array(10));
  const { b, a } = run([tag("x"), new StripOptions(), new SeqRewrite(5), new SplitSegments(), new CoalesceSegments(), new ProxyAck(), tag("y")],
    [{ time: 0, packet: junk }, { time: 1, packet: udp }], [{ time: 2, packet: udpPacket(B, A, 2, 1, new Uint8Array(3)) }]);
  assert.deepEqual(b.received.map((r) => r.packet), [junk, udp]);
  assert.equal(a.received.length, 1);
  assert.deepEqual(order, ["x0", "y0", "x0", "y0", "y1", "x1"]);
});
