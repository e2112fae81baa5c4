// TCP-in-UDP (core/wire/tcp_in_udp.ts): the multipath-tcp/tcp-in-udp layout byte for byte,
// conversions both ways (also in place and over a UDP socket's payload), direct parse and emit.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emitTcpInUdp,
  parseTcpInUdp,
  tcpInUdpToTcp,
  tcpToTcpInUdp,
  tcpToUdpPayload,
  udpPayloadToTcp,
} from "../../core/wire/tcp_in_udp.ts";
import { emitTcp } from "../../core/wire/tcp.ts";
import { fillUdpChecksum, verifyUdpChecksum } from "../../core/wire/checksum.ts";
import { tsChecksumKernel } from "../../core/kernels/checksum.ts";
import { hex, tcpInUdpSegment, u16 } from "./arbitraries.ts";

const TCP = hex("9c 40 00 50  00 00 00 01  00 00 00 02  50 18 fa f0  12 34 00 00  61 62");
const TIU = hex("9c 40 00 50  00 16 00 00  50 18 fa f0  00 00 00 01  00 00 00 02  61 62");

test("TCP-in-UDP vector: ports | UDP length | UDP checksum | doff+flags | window | seq | ack | payload", () => {
  const out = new Uint8Array(22);
  const r = tcpToTcpInUdp(TCP, 0, 22, out, 0);
  assert.ok(r.ok);
  assert.equal(r.value, 22);
  assert.deepEqual(out, TIU);
  const back = new Uint8Array(22);
  const b = tcpInUdpToTcp(TIU, 0, 22, back, 0);
  assert.ok(b.ok);
  const want = TCP.slice();
  want[16] = 0; // the TCP checksum does not travel: written as 0, to be filled
  want[17] = 0;
  assert.deepEqual(back, want);
  const p = parseTcpInUdp(TIU, 0, 22);
  assert.ok(p.ok);
  assert.equal(p.value.udpLength, 22);
  assert.deepEqual(p.value.segment.header, { srcPort: 40000, dstPort: 80, seq: 1, ack: 2, flags: 0x18, window: 0xfaf0, checksum: 0, urgent: 0, options: { mptcp: [] } });
  assert.deepEqual(p.value.segment.payload, hex("61 62"));
});

test("TCP-in-UDP refusals: URG, bad data offset, UDP length mismatch, short input", () => {
  const urg = TCP.slice();
  urg[13] |= 0x20;
  const out = new Uint8Array(64);
  let r = tcpToTcpInUdp(urg, 0, 22, out, 0);
  assert.ok(!r.ok && r.error.reason === "BadHeader");
  const tiuUrg = TIU.slice();
  tiuUrg[9] |= 0x20;
  r = tcpInUdpToTcp(tiuUrg, 0, 22, out, 0);
  assert.ok(!r.ok && r.error.reason === "BadHeader");
  assert.equal(parseTcpInUdp(tiuUrg, 0, 22).ok, false);
  const badLen = TIU.slice();
  badLen[5] = 23;
  r = tcpInUdpToTcp(badLen, 0, 22, out, 0);
  assert.ok(!r.ok && r.error.reason === "BadLength");
  const p = parseTcpInUdp(badLen, 0, 22);
  assert.ok(!p.ok && p.error.reason === "BadLength");
  const doff = TIU.slice();
  doff[8] = 0x40;
  assert.equal(parseTcpInUdp(doff, 0, 22).ok, false);
  assert.equal(tcpToTcpInUdp(TCP, 0, 19, out, 0).ok, false);
  assert.equal(tcpToTcpInUdp(TCP, 10, 22, out, 0).ok, false); // beyond the buffer
  assert.equal(udpPayloadToTcp(TIU, 8, 11, 1, 2, out, 0).ok, false);
  assert.throws(() => tcpToTcpInUdp(TCP, 0, 22, new Uint8Array(21), 0), { name: "InvalidArgumentError" });
  assert.throws(() => emitTcpInUdp({ header: { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 0x20, window: 0, checksum: 0, urgent: 0, options: { mptcp: [] } }, payload: new Uint8Array(0) }, out, 0), { name: "InvalidArgumentError" });
});

test("TCP-in-UDP round trips (fast-check): convert, parse, convert back, in place, socket payload", () => {
  const seg = new Uint8Array(200);
  const a = new Uint8Array(200);
  const b = new Uint8Array(200);
  const src = hex("c6120001");
  const dst = hex("c6120002");
  fc.assert(
    fc.property(tcpInUdpSegment, fc.integer({ min: 0, max: 12 }), u16, u16, (s, off, sp, dp) => {
      const e = emitTcp(s, seg, 0);
      assert.ok(e.ok);
      const n = e.value;
      const tcpBytes = seg.slice(0, n);
      // TCP -> TCP-in-UDP at an offset, then parse it directly.
      const c = tcpToTcpInUdp(seg, 0, n, a, off);
      assert.ok(c.ok);
      assert.equal(c.value, n);
      const p = parseTcpInUdp(a, off, n);
      assert.ok(p.ok, p.ok ? "" : p.error.detail);
      assert.deepEqual(p.value.segment, s);
      // Emitting straight into TCP-in-UDP form gives the same bytes.
      const d = emitTcpInUdp(s, b, 0);
      assert.ok(d.ok);
      assert.deepEqual(b.subarray(0, n), a.subarray(off, off + n));
      // It is a valid UDP datagram once its checksum is filled.
      fillUdpChecksum(src, dst, b, 0, n, tsChecksumKernel);
      assert.ok(verifyUdpChecksum(src, dst, b, 0, n, true, tsChecksumKernel));
      // Back to TCP (checksum and urgent were 0 in the segment, so the bytes are identical).
      const back = tcpInUdpToTcp(a, off, n, b, 3);
      assert.ok(back.ok);
      assert.deepEqual(b.subarray(3, 3 + n), tcpBytes);
      // In place, both ways.
      const inPlace = tcpBytes.slice();
      assert.ok(tcpToTcpInUdp(inPlace, 0, n, inPlace, 0).ok);
      assert.deepEqual(inPlace, a.subarray(off, off + n));
      assert.ok(tcpInUdpToTcp(inPlace, 0, n, inPlace, 0).ok);
      assert.deepEqual(inPlace, tcpBytes);
      // Over a UDP socket: payload = datagram without its UDP header; ports from the socket.
      const pl = tcpToUdpPayload(tcpBytes, 0, n, b, 0);
      assert.ok(pl.ok);
      assert.equal(pl.value, n - 8);
      assert.deepEqual(b.subarray(0, n - 8), a.subarray(off + 8, off + n));
      const re = udpPayloadToTcp(b, 0, n - 8, sp, dp, b, 8); // overlapping ranges
      assert.ok(re.ok);
      const want = tcpBytes.slice();
      want[0] = sp >> 8;
      want[1] = sp & 0xff;
      want[2] = dp >> 8;
      want[3] = dp & 0xff;
      assert.deepEqual(b.subarray(8, 8 + n), want);
    }),
    { numRuns: 1000 },
  );
});
