// TCP/UDP checksums with the IPv4/IPv6 pseudo-header, the IPv4 header checksum and the MPTCP
// DSS checksum, against the PROTOCOL.md vector, a known IPv4 header, and an independent
// reference that builds the pseudo-header bytes explicitly and sums them byte pair by byte pair.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  dssChecksum,
  dssChecksumHiLo,
  dssPseudoHeaderSum,
  fillIpv4HeaderChecksum,
  fillTcpChecksum,
  fillUdpChecksum,
  ipv4HeaderChecksum,
  tcpChecksum,
  udpChecksum,
  verifyDssChecksum,
  verifyDssChecksumHiLo,
  verifyIpv4HeaderChecksum,
  verifyTcpChecksum,
  verifyUdpChecksum,
} from "../../core/wire/checksum.ts";
import { combineChecksums, tsChecksumKernel, wasmChecksumKernel } from "../../core/kernels/checksum.ts";
import type { ChecksumKernel } from "../../core/kernels/checksum.ts";

function naive(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The pseudo-header as bytes (RFC 9293 section 3.1 / RFC 8200 section 8.1). */
function pseudoHeader(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (src.length === 4) return concat(src, dst, new Uint8Array([0, proto, len >>> 8, len & 0xff]));
  return concat(src, dst, new Uint8Array([len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0, 0, 0, proto]));
}

const kernels: ChecksumKernel[] = [tsChecksumKernel, wasmChecksumKernel("simd"), wasmChecksumKernel("scalar")];
const v4a = new Uint8Array([198, 18, 0, 1]);
const v4b = new Uint8Array([198, 18, 1, 2]);
const v6a = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0x01]);
const v6b = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xdc, 0x00, 0x02]);

test("DSS checksum vector of PROTOCOL.md: DSN 0x1122334455667788, SSN 1, length 4, 'abcd' -> 0x29df", () => {
  const payload = new TextEncoder().encode("abcd");
  for (const k of kernels) {
    assert.equal(dssChecksum(0x1122334455667788n, 1, 4, payload, 0, 4, k), 0x29df, k.name);
    assert.equal(dssChecksumHiLo(0x11223344, 0x55667788, 1, 4, payload, 0, 4, k), 0x29df, k.name);
    assert.equal(verifyDssChecksum(0x1122334455667788n, 1, 4, 0x29df, payload, 0, 4, k), true);
    assert.equal(verifyDssChecksumHiLo(0x11223344, 0x55667788, 1, 4, 0x29df, payload, 0, 4, k), true);
    assert.equal(verifyDssChecksum(0x1122334455667788n, 1, 4, 0x29de, payload, 0, 4, k), false);
    assert.equal(verifyDssChecksum(0x1122334455667789n, 1, 4, 0x29df, payload, 0, 4, k), false);
    assert.equal(verifyDssChecksum(0x1122334455667788n, 2, 4, 0x29df, payload, 0, 4, k), false);
  }
  assert.equal(dssChecksum(0x1122334455667788n, 1, 4, payload, 0, 4), 0x29df, "default kernel");
});

test("DSS checksum equals the reference, verifies, and combines over payload pieces", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.nat(0xffffffff),
      fc.uint8Array({ maxLength: 1500 }),
      fc.nat(1500),
      (dsn, ssn, payload, cutRaw) => {
        const dataLen = payload.length & 0xffff;
        const hdr = new Uint8Array(16);
        const dv = new DataView(hdr.buffer);
        dv.setBigUint64(0, dsn);
        dv.setUint32(8, ssn);
        dv.setUint16(12, dataLen);
        const want = ~naive(concat(hdr, payload)) & 0xffff;
        for (const k of kernels) {
          const c = dssChecksum(dsn, ssn, dataLen, payload, 0, payload.length, k);
          assert.equal(c, want, k.name);
          assert.ok(verifyDssChecksum(dsn, ssn, dataLen, c, payload, 0, payload.length, k));
        }
        // The same sum from two pieces of the payload.
        const cut = Math.min(cutRaw, payload.length);
        const k = kernels[1]!;
        const ph = dssPseudoHeaderSum(Number(dsn >> 32n), Number(dsn & 0xffffffffn), ssn, dataLen);
        const a = k.sum(payload, 0, cut, ph);
        const b = k.sum(payload, cut, payload.length - cut);
        assert.equal(~combineChecksums(a, b, cut) & 0xffff, want);
      },
    ),
    { numRuns: 200 },
  );
});

function tcpSegment(payload: Uint8Array): Uint8Array {
  const seg = new Uint8Array(20 + payload.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, 40000);
  dv.setUint16(2, 80);
  dv.setUint32(4, 0x12345678);
  dv.setUint32(8, 0x9abcdef0);
  seg[12] = 5 << 4;
  seg[13] = 0x18;
  dv.setUint16(14, 65535);
  seg.set(payload, 20);
  return seg;
}

test("TCP checksum over IPv4 and IPv6 equals the reference, ignores the field, fills and verifies", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), fc.nat(0xffff), fc.nat(5), (payload, v6, junk, lead) => {
      const [src, dst] = v6 ? [v6a, v6b] : [v4a, v4b];
      const seg = tcpSegment(payload);
      const want = ~naive(concat(pseudoHeader(src, dst, 6, seg.length), seg)) & 0xffff;
      const buf = new Uint8Array(lead + seg.length);
      buf.set(seg, lead);
      buf[lead + 16] = junk >>> 8; // whatever the field holds is ignored
      buf[lead + 17] = junk & 0xff;
      for (const k of kernels) assert.equal(tcpChecksum(src, dst, buf, lead, seg.length, k), want, k.name);
      assert.equal(fillTcpChecksum(src, dst, buf, lead, seg.length), want);
      assert.equal((buf[lead + 16]! << 8) | buf[lead + 17]!, want);
      for (const k of kernels) assert.equal(verifyTcpChecksum(src, dst, buf, lead, seg.length, k), true);
      buf[lead + seg.length - 1]! ^= 0x01; // flip a bit of the last byte
      assert.equal(verifyTcpChecksum(src, dst, buf, lead, seg.length), false);
      assert.equal(verifyTcpChecksum(dst, src.subarray(0, 4), buf, lead, seg.length), false, "mismatched families");
    }),
    { numRuns: 150 },
  );
  assert.equal(verifyTcpChecksum(v4a, v4b, new Uint8Array(19), 0, 19), false, "a runt segment is not valid");
  assert.throws(() => fillTcpChecksum(v4a, v4b, new Uint8Array(19), 0, 19), { name: "InvalidArgumentError" });
});

test("UDP checksum: reference, 0 sent as 0xffff, zero field accepted on IPv4 only", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 600 }), fc.boolean(), (dgram, v6) => {
      const [src, dst] = v6 ? [v6a, v6b] : [v4a, v4b];
      dgram[4] = dgram.length >>> 8;
      dgram[5] = dgram.length & 0xff;
      dgram[6] = 0;
      dgram[7] = 0;
      let want = ~naive(concat(pseudoHeader(src, dst, 17, dgram.length), dgram)) & 0xffff;
      if (want === 0) want = 0xffff;
      assert.equal(udpChecksum(src, dst, dgram, 0, dgram.length), want);
      assert.equal(verifyUdpChecksum(src, dst, dgram, 0, dgram.length), !v6, "zero field: 'no checksum' on IPv4 only");
      assert.equal(verifyUdpChecksum(src, dst, dgram, 0, dgram.length, true), false);
      fillUdpChecksum(src, dst, dgram, 0, dgram.length, tsChecksumKernel);
      assert.equal(verifyUdpChecksum(src, dst, dgram, 0, dgram.length, true), true);
      dgram[dgram.length - 1]! ^= 0x80;
      assert.equal(verifyUdpChecksum(src, dst, dgram, 0, dgram.length, true), false);
    }),
    { numRuns: 150 },
  );
  // A datagram whose checksum computes to 0 is sent with 0xffff and still verifies.
  const d = new Uint8Array(10);
  d[4] = 0;
  d[5] = 10;
  const s = naive(concat(pseudoHeader(v4a, v4b, 17, 10), d));
  const fix = 0xffff - s; // makes the data sum 0xffff, so the checksum is 0
  d[8] = fix >>> 8;
  d[9] = fix & 0xff;
  assert.equal(naive(concat(pseudoHeader(v4a, v4b, 17, 10), d)), 0xffff);
  assert.equal(fillUdpChecksum(v4a, v4b, d, 0, 10), 0xffff);
  assert.equal(verifyUdpChecksum(v4a, v4b, d, 0, 10, true), true);
});

test("IPv4 header checksum: the classic example header 4500 0073 ... gives 0xb861", () => {
  const hdr = new Uint8Array([
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
  ]);
  for (const k of kernels) {
    assert.equal(verifyIpv4HeaderChecksum(hdr, 0, k), true, k.name);
    assert.equal(ipv4HeaderChecksum(hdr, 0, k), 0xb861, k.name);
  }
  const copy = new Uint8Array(23);
  copy.set(hdr, 3);
  copy[13] = 0;
  copy[14] = 0;
  assert.equal(verifyIpv4HeaderChecksum(copy, 3), false);
  assert.equal(fillIpv4HeaderChecksum(copy, 3), 0xb861);
  assert.equal(verifyIpv4HeaderChecksum(copy, 3), true);
  copy[3] = 0x44; // IHL 4: malformed
  assert.equal(verifyIpv4HeaderChecksum(copy, 3), false);
  assert.equal(verifyIpv4HeaderChecksum(hdr.subarray(0, 19), 0), false, "truncated");
});
