// IPv4/IPv6 header codecs, address text forms (RFC 5952 examples) and whole packets
// (core/wire/ip.ts, core/wire/packet.ts), with checksums filled and verified by
// core/wire/checksum.ts at the offsets emitPacket reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { emitIp, emitIpv4, emitIpv6, formatIp, ipEquals, ipHeaderFor, parseIp, parseIpText, parseIpv4, parseIpv6 } from "../../core/wire/ip.ts";
import type { Ipv4Header, Ipv6Header } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum, verifyIpv4HeaderChecksum, verifyTcpChecksum } from "../../core/wire/checksum.ts";
import { tsChecksumKernel } from "../../core/kernels/checksum.ts";
import type { TcpSegment } from "../../core/wire/types.ts";
import { TCP_ACK, TCP_PSH } from "../../core/wire/types.ts";
import { hex, ipAddress, ipv4Header, ipv6Header, packetIpHeader, tcpSegment } from "./arbitraries.ts";

test("IPv4 vector: a classic 20-byte header", () => {
  const b = hex("45 00 00 3c 1c 46 40 00 40 06 b1 e6 ac 10 0a 63 ac 10 0a 0c");
  const r = parseIpv4(b, 0, b.length);
  assert.ok(r.ok);
  const want: Ipv4Header = {
    version: 4,
    tos: 0,
    totalLength: 60,
    identification: 0x1c46,
    flags: 2,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 6,
    checksum: 0xb1e6,
    src: hex("ac100a63"),
    dst: hex("ac100a0c"),
    options: new Uint8Array(0),
  };
  assert.deepEqual(r.value, want);
  assert.ok(verifyIpv4HeaderChecksum(b, 0, tsChecksumKernel), "the vector's checksum is right");
  const out = new Uint8Array(20);
  assert.equal(emitIpv4(want, out, 0), 20);
  assert.deepEqual(out, b);
});

test("IPv4 with options (IHL 6), fragment fields", () => {
  const b = hex("46 b8 00 20 ab cd 3f ff 01 11 00 00 c6 12 00 01 c6 12 00 02 94 04 00 00");
  const r = parseIpv4(b, 0, b.length);
  assert.ok(r.ok);
  assert.equal(r.value.tos, 0xb8);
  assert.equal(r.value.flags, 1);
  assert.equal(r.value.fragmentOffset, 0x1fff);
  assert.deepEqual(r.value.options, hex("94 04 00 00"));
  const out = new Uint8Array(24);
  assert.equal(emitIp(r.value, out, 0), 24);
  assert.deepEqual(out, b);
});

test("IPv6 vector: traffic class, flow label, payload length, next header, hop limit", () => {
  const b = hex("6b 8a bc de 00 14 06 40 20010db8000000000000000000000001 20010db8000000000000000000000002");
  const r = parseIpv6(b, 0, b.length);
  assert.ok(r.ok);
  const want: Ipv6Header = {
    version: 6,
    trafficClass: 0xb8,
    flowLabel: 0xabcde,
    payloadLength: 20,
    nextHeader: 6,
    hopLimit: 64,
    src: hex("20010db8000000000000000000000001"),
    dst: hex("20010db8000000000000000000000002"),
  };
  assert.deepEqual(r.value, want);
  const out = new Uint8Array(40);
  assert.equal(emitIpv6(want, out, 0), 40);
  assert.deepEqual(out, b);
});

test("IP parse refusals are typed", () => {
  const cases: [string, string, string][] = [
    ["empty", "", "Truncated"],
    ["IPv4 of 19 bytes", "45" + "00".repeat(18), "Truncated"],
    ["IHL 4", "44 00 00 14" + "00".repeat(16), "BadHeader"],
    ["IHL 6 with 20 bytes", "46 00 00 18" + "00".repeat(16), "Truncated"],
    ["total length below the header", "45 00 00 10" + "00".repeat(16), "BadLength"],
    ["version 5", "55" + "00".repeat(39), "BadVersion"],
    ["IPv6 of 39 bytes", "60" + "00".repeat(38), "Truncated"],
  ];
  for (const [name, h, reason] of cases) {
    const b = hex(h);
    const r = parseIp(b, 0, b.length);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.equal(r.error.reason, reason, name);
  }
});

test("IP round trips (fast-check)", () => {
  const out = new Uint8Array(80);
  fc.assert(
    fc.property(fc.oneof(ipv4Header, ipv6Header), fc.integer({ min: 0, max: 8 }), (h, off) => {
      const n = emitIp(h, out, off);
      const r = parseIp(out, off, n);
      assert.ok(r.ok, r.ok ? "" : r.error.detail);
      assert.deepEqual(r.value, h);
    }),
    { numRuns: 1000 },
  );
});

test("address text: RFC 5952 canonical forms", () => {
  const cases: [string, string][] = [
    ["c6120001", "198.18.0.1"],
    ["00000000", "0.0.0.0"],
    ["ffffffff", "255.255.255.255"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"], // one zero group: not compressed
    ["20010000000000010000000000000001", "2001:0:0:1::1"], // the longest run
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"], // a tie: the first run
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["fe800000000000000000000000000000", "fe80::"],
    ["00000000000000000000ffffc6120001", "::ffff:198.18.0.1"],
    ["20010db8aaaabbbbccccddddeeeeffff", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"],
  ];
  for (const [h, text] of cases) {
    assert.equal(formatIp(hex(h)), text);
    assert.deepEqual(parseIpText(text), hex(h), text);
  }
});

test("address text: other accepted and refused inputs", () => {
  assert.deepEqual(parseIpText("2001:DB8:0:0:0:0:0:1"), hex("20010db8000000000000000000000001"));
  assert.deepEqual(parseIpText("2001:0db8::0001"), hex("20010db8000000000000000000000001"));
  assert.deepEqual(parseIpText("::198.18.0.1"), hex("000000000000000000000000c6120001"));
  assert.deepEqual(parseIpText("1:2:3:4:5:6:198.18.0.1"), hex("000100020003000400050006c6120001"));
  assert.deepEqual(parseIpText("1:2:3:4:5:6:7::"), hex("00010002000300040005000600070000"));
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", ":1::", "1::2:", " 1.2.3.4"]) {
    assert.equal(parseIpText(bad), undefined, JSON.stringify(bad));
  }
});

test("address text round trip (fast-check) and ipEquals", () => {
  fc.assert(
    fc.property(ipAddress, (a) => {
      const back = parseIpText(formatIp(a));
      assert.ok(back !== undefined);
      assert.ok(ipEquals(back, a));
      assert.deepEqual(back, a);
    }),
    { numRuns: 2000 },
  );
  assert.equal(ipEquals(hex("c6120001"), hex("c6120002")), false);
  assert.equal(ipEquals(hex("c6120001"), hex("00000000000000000000ffffc6120001")), false);
  assert.throws(() => formatIp(new Uint8Array(5)), { name: "InvalidArgumentError" });
});

test("packet round trip (fast-check): emitPacket, fill checksums at the reported offsets, parsePacket", () => {
  const out = new Uint8Array(256);
  fc.assert(
    fc.property(packetIpHeader, tcpSegment, (ip, seg) => {
      const r = emitPacket(ip, seg, out, 4);
      assert.ok(r.ok);
      const l = r.value;
      assert.equal(l.ipOffset, 4);
      assert.equal(l.tcpOffset, 4 + l.ipHeaderLength);
      assert.equal(l.length, l.ipHeaderLength + l.tcpLength);
      fillTcpChecksum(ip.src, ip.dst, out, l.tcpOffset, l.tcpLength, tsChecksumKernel);
      if (ip.version === 4) fillIpv4HeaderChecksum(out, l.ipOffset, tsChecksumKernel);
      const p = parsePacket(out, 4, l.length);
      assert.ok(p.ok, p.ok ? "" : p.error.detail);
      assert.ok(verifyTcpChecksum(ip.src, ip.dst, out, p.value.tcpOffset, p.value.tcpLength, tsChecksumKernel));
      if (ip.version === 4) {
        assert.ok(verifyIpv4HeaderChecksum(out, 4, tsChecksumKernel));
        assert.equal(p.value.ip.version === 4 && p.value.ip.totalLength, l.length);
      } else {
        assert.equal(p.value.ip.version === 6 && p.value.ip.payloadLength, l.tcpLength);
      }
      assert.deepEqual(p.value.tcp.payload, seg.payload);
      assert.deepEqual(p.value.tcp.header, { ...seg.header, checksum: p.value.tcp.header.checksum });
    }),
    { numRuns: 1000 },
  );
});

test("parsePacket: IPv4 link padding is cut at the total length; fragments and non-TCP refused", () => {
  const seg: TcpSegment = {
    header: { srcPort: 5000, dstPort: 80, seq: 1, ack: 2, flags: TCP_ACK | TCP_PSH, window: 100, checksum: 0, urgent: 0, options: { mptcp: [] } },
    payload: hex("68 69"),
  };
  const ip = ipHeaderFor(parseIpText("198.18.0.1")!, parseIpText("198.18.0.2")!);
  const out = new Uint8Array(64);
  const r = emitPacket(ip, seg, out, 0);
  assert.ok(r.ok);
  assert.equal(r.value.length, 42);
  const padded = parsePacket(out, 0, 60); // Ethernet minimum frame padding after the packet
  assert.ok(padded.ok);
  assert.deepEqual(padded.value.tcp.payload, hex("68 69"));
  assert.equal(padded.value.tcpLength, 22);
  const trunc = parsePacket(out, 0, 41);
  assert.ok(!trunc.ok && trunc.error.reason === "Truncated");
  const frag = out.slice(0, 42);
  frag[6] |= 0x20; // MF
  const f = parsePacket(frag);
  assert.ok(!f.ok && f.error.reason === "BadHeader");
  const udp = out.slice(0, 42);
  udp[9] = 17;
  const u = parsePacket(udp);
  assert.ok(!u.ok && u.error.reason === "BadHeader");
});

test("parsePacket: IPv6 hop-by-hop and destination-options headers are skipped; fragments refused", () => {
  const seg: TcpSegment = {
    header: { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_ACK, window: 5, checksum: 0, urgent: 0, options: { mptcp: [{ type: "mp_prio", backup: true }] } },
    payload: hex("aa"),
  };
  const tcp = new Uint8Array(80);
  const t = emitPacket(ipHeaderFor(new Uint8Array(16), new Uint8Array(16)), seg, tcp, 0);
  assert.ok(t.ok);
  const tcpBytes = tcp.subarray(40, t.value.length);
  // fixed header (next 0) | hop-by-hop (next 60, 8 bytes) | dest options (next 6, 16 bytes) | TCP
  const ext = hex("3c 00 01 04 00 00 00 00" + "06 01 01 0c" + "00".repeat(12));
  const pkt = new Uint8Array(40 + ext.length + tcpBytes.length);
  pkt.set(hex("60 00 00 00"), 0);
  pkt[4] = (ext.length + tcpBytes.length) >> 8;
  pkt[5] = (ext.length + tcpBytes.length) & 0xff;
  pkt[6] = 0;
  pkt[7] = 64;
  pkt.set(ext, 40);
  pkt.set(tcpBytes, 40 + ext.length);
  const r = parsePacket(pkt);
  assert.ok(r.ok, r.ok ? "" : r.error.detail);
  assert.equal(r.value.tcpOffset, 64);
  assert.deepEqual(r.value.tcp.header.options.mptcp, [{ type: "mp_prio", backup: true }]);
  assert.deepEqual(r.value.tcp.payload, hex("aa"));
  pkt[40] = 44; // hop-by-hop now says: a fragment header follows
  const f = parsePacket(pkt);
  assert.ok(!f.ok && f.error.reason === "BadHeader");
});

test("ipHeaderFor refuses mixed families", () => {
  assert.throws(() => ipHeaderFor(new Uint8Array(4), new Uint8Array(16)), { name: "InvalidArgumentError" });
});
