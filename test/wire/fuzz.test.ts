// Fuzzing the wire parsers with arbitrary and mutated bytes: no parser ever throws, and what a
// parser accepts re-emits and re-parses to the same value (parse is a fixpoint after one
// round). The cases are counted; the last test checks that the suite ran at least 100,000.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { emitMptcpOption, mptcpOptionLength, parseMptcpOption } from "../../core/wire/mptcp.ts";
import { emitTcp, parseTcp, parseTcpOptions } from "../../core/wire/tcp.ts";
import { emitOptions } from "../../core/wire/segment.ts";
import { parseIp, parseIpText, formatIp } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import { parseTcpInUdp, tcpInUdpToTcp, tcpToTcpInUdp, udpPayloadToTcp } from "../../core/wire/tcp_in_udp.ts";
import { emitIp } from "../../core/wire/ip.ts";
import { ipAddress, mptcpOption, mutated, packetIpHeader, tcpInUdpSegment, tcpSegment, u16 } from "./arbitraries.ts";

let cases = 0;
/** Cases a parser accepted (so the fixpoint checks ran on them). */
let accepted = 0;
const scratch = new Uint8Array(1024);
const scratch2 = new Uint8Array(1024);

const randomBytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

const mptcpBytes = mptcpOption.map((o) => {
  const b = new Uint8Array(mptcpOptionLength(o));
  emitMptcpOption(o, b, 0);
  return b;
});
const tcpBytes = tcpSegment.map((s) => {
  const b = new Uint8Array(128);
  const r = emitTcp(s, b, 0);
  return b.slice(0, r.ok ? r.value : 0);
});
const packetBytes = fc.tuple(packetIpHeader, tcpSegment).map(([ip, s]) => {
  const b = new Uint8Array(256);
  const r = emitPacket(ip, s, b, 0);
  return b.slice(0, r.ok ? r.value.length : 0);
});
const tiuBytes = tcpInUdpSegment.map((s) => {
  const b = new Uint8Array(128);
  const r = emitTcp(s, b, 0);
  const n = r.ok ? r.value : 0;
  tcpToTcpInUdp(b, 0, n, b, 0);
  return b.slice(0, n);
});

function checkMptcp(b: Uint8Array, off: number): void {
  cases++;
  const r = parseMptcpOption(b, off, b.length - off);
  if (!r.ok) return;
  accepted++;
  const n = emitMptcpOption(r.value, scratch, 0);
  assert.ok(n <= b[off + 1]!, "re-emitted option is not longer than the parsed one");
  const again = parseMptcpOption(scratch, 0, n);
  assert.ok(again.ok);
  assert.deepEqual(again.value, r.value);
}

function checkTcp(b: Uint8Array): void {
  cases++;
  const r = parseTcp(b, 0, b.length);
  if (!r.ok) return;
  accepted++;
  const e = emitTcp(r.value, scratch, 0);
  assert.ok(e.ok, "what parses fits when re-emitted");
  const again = parseTcp(scratch, 0, e.value);
  assert.ok(again.ok);
  assert.deepEqual(again.value, r.value);
}

function checkOptions(b: Uint8Array): void {
  cases++;
  const r = parseTcpOptions(b, 0, b.length);
  if (!r.ok) return;
  accepted++;
  const e = emitOptions(r.value, scratch, 0);
  assert.ok(e.ok, "parsed options fit when re-emitted");
  const again = parseTcpOptions(scratch, 0, e.value);
  assert.ok(again.ok);
  assert.deepEqual(again.value, r.value);
}

function checkPacket(b: Uint8Array): void {
  cases++;
  const ip = parseIp(b, 0, b.length);
  if (ip.ok) emitIp(ip.value, scratch, 0);
  const r = parsePacket(b);
  if (!r.ok) return;
  accepted++;
  assert.ok(r.value.tcpOffset + r.value.tcpLength <= b.length);
  const e = emitPacket(r.value.ip, r.value.tcp, scratch, 0);
  assert.ok(e.ok);
  const again = parsePacket(scratch, 0, e.value.length);
  assert.ok(again.ok);
  assert.deepEqual(again.value.tcp, r.value.tcp);
}

function checkTcpInUdp(b: Uint8Array, sp: number, dp: number): void {
  cases++;
  const r = parseTcpInUdp(b, 0, b.length);
  const c = tcpInUdpToTcp(b, 0, b.length, scratch, 0);
  // The conversion checks the header only; the direct parse also walks the options.
  if (r.ok) {
    accepted++;
    assert.ok(c.ok, "what parses also converts");
  }
  if (c.ok) {
    const t = parseTcp(scratch, 0, c.value);
    assert.equal(t.ok, r.ok, "parsing the converted segment agrees with the direct parse");
    if (t.ok && r.ok) assert.deepEqual(t.value, r.value.segment);
    const back = tcpToTcpInUdp(scratch, 0, c.value, scratch2, 0);
    assert.ok(back.ok);
  }
  const s = tcpToTcpInUdp(b, 0, b.length, scratch, 0);
  if (s.ok) assert.equal(s.value, b.length);
  if (b.length >= 8) udpPayloadToTcp(b, 8, b.length - 8, sp, dp, scratch, 0);
}

function runs(n: number): { numRuns: number } {
  return { numRuns: n };
}

test("fuzz MPTCP option parser: random bytes (30,000)", () => {
  fc.assert(
    fc.property(randomBytes(40), fc.nat(3), (b, off) => {
      // Kind 30 and, most of the time, a length byte that fits, so inputs reach the subtype code.
      const o = Math.min(off, b.length);
      if (b.length > o) b[o] = 30;
      if (b.length > o + 1 && (b[o + 1]! & 3) !== 0) b[o + 1] = b[o + 1]! % (b.length - o + 1);
      checkMptcp(b, o);
    }),
    runs(30_000),
  );
});

test("fuzz MPTCP option parser: mutated valid options (20,000)", () => {
  fc.assert(fc.property(mutated(mptcpBytes), (b) => checkMptcp(b, 0)), runs(20_000));
});

/** Option bytes biased towards option kinds and plausible lengths. */
const optByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(1, 1, 2, 3, 4, 5, 8, 30, 10, 12, 18, 20));

test("fuzz TCP option parser: random option bytes (10,000)", () => {
  fc.assert(fc.property(fc.array(optByte, { maxLength: 40 }), (a) => checkOptions(Uint8Array.from(a))), runs(10_000));
});

test("fuzz TCP parser: random headers, option bytes and payloads (10,000)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.array(optByte, { maxLength: 40 }), randomBytes(16), fc.nat(7), (h, opts, payload, skew) => {
      const ol = (opts.length + 3) & ~3;
      const b = new Uint8Array(20 + ol + payload.length);
      b.set(h);
      b.set(opts, 20);
      b.set(payload, 20 + ol);
      // The right data offset most of the time, a wrong one sometimes.
      b[12] = ((skew === 0 ? h[12]! >> 4 : 5 + ol / 4) << 4) | (h[12]! & 0xf);
      checkTcp(b);
    }),
    runs(10_000),
  );
});

test("fuzz TCP parser: mutated valid segments (30,000)", () => {
  fc.assert(fc.property(mutated(tcpBytes), (b) => checkTcp(b)), runs(30_000));
});

test("fuzz IP and packet parsers: random bytes (5,000) and mutated valid packets (10,000)", () => {
  fc.assert(
    fc.property(randomBytes(100), (b) => {
      if (b.length > 0) b[0] = (b[0]! & 1 ? 0x40 : 0x60) | (b[0]! & 0xf);
      checkPacket(b);
    }),
    runs(5_000),
  );
  fc.assert(fc.property(mutated(packetBytes), (b) => checkPacket(b)), runs(10_000));
});

test("fuzz TCP-in-UDP: random bytes (5,000) and mutated valid datagrams (5,000)", () => {
  fc.assert(
    fc.property(randomBytes(60), u16, u16, (b, sp, dp) => {
      // Mostly a matching UDP length and a data offset that fits.
      if (b.length >= 20 && (b[4]! & 3) !== 0) {
        b[4] = b.length >> 8;
        b[5] = b.length & 0xff;
        b[8] = (Math.min(15, 5 + (b[8]! % ((b.length >> 2) - 4))) << 4) | (b[8]! & 0xf);
        b[9] &= ~0x20;
      }
      checkTcpInUdp(b, sp, dp);
    }),
    runs(5_000),
  );
  fc.assert(fc.property(mutated(tiuBytes), u16, u16, (b, sp, dp) => checkTcpInUdp(b, sp, dp)), runs(5_000));
});

test("fuzz IP address text parser: random and mutated texts (3,000)", () => {
  const ch = fc.constantFrom(..."0123456789abcdefABCDEF:.:%g ".split(""));
  const text = fc.oneof(
    fc.array(ch, { maxLength: 45 }).map((a) => a.join("")),
    fc.tuple(ipAddress.map(formatIp), fc.array(fc.tuple(fc.nat(), ch), { maxLength: 2 })).map(([t, edits]) => {
      const a = t.split("");
      for (const [i, c] of edits) a[i % a.length] = c;
      return a.join("");
    }),
  );
  fc.assert(
    fc.property(text, (t) => {
      cases++;
      const r = parseIpText(t);
      if (r === undefined) return;
      accepted++;
      assert.deepEqual(parseIpText(formatIp(r)), r);
    }),
    runs(3_000),
  );
});

test("the wire fuzz suite ran at least 100,000 generated cases", () => {
  assert.ok(cases >= 100_000, `only ${cases} cases`);
  assert.ok(accepted >= cases / 4, `parsers accepted only ${accepted} of ${cases} cases: the generators miss the deep paths`);
  console.log(`wire fuzz cases: ${cases}, accepted by the parser: ${accepted}`);
});
