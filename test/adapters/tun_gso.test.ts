// TUN segmentation offload (--gso, TunOpenOptions.gso) without a device: the virtio_net_hdr
// written before each packet (GSO only for TCP packets over the device MTU), the header stripped
// from packets read, and the MSS of incoming SYNs raised with the TCP checksum kept valid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { raiseSynMss, TunGroup, TunPort } from "../../adapters/tun/tun.ts";
import type { TunFfi } from "../../adapters/tun/ffi.ts";
import { fillTcpChecksum, verifyTcpChecksum } from "../../core/wire/checksum.ts";

const SRC4 = new Uint8Array([198, 18, 0, 1]);
const DST4 = new Uint8Array([198, 18, 0, 2]);
const SRC6 = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const DST6 = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

/** An IPv4 or IPv6 TCP packet: flags, MSS option (when given) + NOPs, payload of `payload` bytes. */
function tcpPacket(v6: boolean, flags: number, mss: number | undefined, payload: number): Uint8Array {
  const ip = v6 ? 40 : 20;
  const opts = mss === undefined ? [] : [2, 4, mss >> 8, mss & 0xff, 1, 1, 1, 1];
  const tcpLen = 20 + opts.length + payload;
  const p = new Uint8Array(ip + tcpLen);
  if (v6) {
    p[0] = 0x60;
    p[4] = tcpLen >> 8;
    p[5] = tcpLen & 0xff;
    p[6] = 6;
    p[7] = 64;
    p.set(SRC6, 8);
    p.set(DST6, 24);
  } else {
    p[0] = 0x45;
    p[2] = (ip + tcpLen) >> 8;
    p[3] = (ip + tcpLen) & 0xff;
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 6;
    p.set(SRC4, 12);
    p.set(DST4, 16);
  }
  const t = ip;
  p[t] = 0x13;
  p[t + 1] = 0x88; // port 5000
  p[t + 3] = 80;
  p[t + 12] = ((20 + opts.length) / 4) << 4;
  p[t + 13] = flags;
  p[t + 14] = 0xff;
  p[t + 15] = 0xff;
  p.set(opts, t + 20);
  for (let i = 0; i < payload; i++) p[t + 20 + opts.length + i] = (i * 7) & 0xff;
  fillTcpChecksum(v6 ? SRC6 : SRC4, v6 ? DST6 : DST4, p, t, tcpLen);
  return p;
}

for (const v6 of [false, true]) {
  test(`raiseSynMss (${v6 ? "IPv6" : "IPv4"}): a SYN's MSS becomes the largest segment, checksum still valid`, () => {
    for (const flags of [0x02, 0x12]) {
      const p = tcpPacket(v6, flags, 1460, 0);
      raiseSynMss(p);
      const ip = v6 ? 40 : 20;
      assert.equal((p[ip + 22]! << 8) | p[ip + 23]!, v6 ? 65475 : 65495);
      assert.ok(verifyTcpChecksum(v6 ? SRC6 : SRC4, v6 ? DST6 : DST4, p, ip, p.length - ip), "checksum valid after the rewrite");
    }
    // Not a SYN: untouched.
    const a = tcpPacket(v6, 0x10, 1460, 10);
    const copy = a.slice();
    raiseSynMss(a);
    assert.deepEqual(a, copy);
  });
}

function fakeFfi(writes: Uint8Array[]): TunFfi {
  return {
    runtime: "node",
    open: () => 3,
    ioctlPtr: () => 0,
    socket: () => 4,
    ifNameToIndex: () => 1,
    read: () => -11,
    write: (_fd, buf) => {
      writes.push(buf.slice());
      return buf.length;
    },
    close: () => {},
    pipe: () => [5, 6],
    pollAsync: () => new Promise(() => {}),
  };
}

test("TUN --gso: small packets get an all-zero virtio_net_hdr, TCP packets over the MTU a GSO one", () => {
  const writes: Uint8Array[] = [];
  const g = new TunGroup(fakeFfi(writes), { gso: true });
  const port = new TunPort(g, "tun0", 3, DST4);
  port.deviceMtu = 1500;
  port.gso = true;
  assert.equal(port.mtu, 65535, "the stack may hand the port 64 KiB packets");
  const small = tcpPacket(false, 0x10, undefined, 1000);
  const big = tcpPacket(false, 0x18, undefined, 60_000);
  assert.ok(port.send(small));
  assert.ok(port.send(big));
  assert.equal(writes.length, 2);
  assert.deepEqual([...writes[0]!.subarray(0, 10)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(writes[0]!.subarray(10), small);
  const h = new DataView(writes[1]!.buffer, writes[1]!.byteOffset, 10);
  assert.equal(h.getUint8(0), 1, "VIRTIO_NET_HDR_F_NEEDS_CSUM");
  assert.equal(h.getUint8(1), 1, "VIRTIO_NET_HDR_GSO_TCPV4");
  assert.equal(h.getUint16(2, true), 40, "hdr_len: IP + TCP header");
  assert.equal(h.getUint16(4, true), 1460, "gso_size: MTU - headers");
  assert.equal(h.getUint16(6, true), 20, "csum_start: the TCP header");
  assert.equal(h.getUint16(8, true), 16, "csum_offset: tcphdr.check");
  // The packet as given, except its TCP checksum field: the pseudo-header sum (partial checksum).
  const out = writes[1]!.subarray(10);
  assert.deepEqual(out.subarray(0, 36), big.subarray(0, 36));
  assert.deepEqual(out.subarray(38), big.subarray(38));
  let ph = 6 + (big.length - 20) + ((198 << 8) | 18) + 1 + ((198 << 8) | 18) + 2;
  while (ph > 0xffff) ph = (ph & 0xffff) + (ph >>> 16);
  assert.equal((out[36]! << 8) | out[37]!, ph, "tcphdr.check = the pseudo-header sum");
  assert.equal(port.stats().packetsOut, 2);
});

test("TUN without --gso: packets are written as they are and mtu is the device's", () => {
  const writes: Uint8Array[] = [];
  const g = new TunGroup(fakeFfi(writes), {});
  const port = new TunPort(g, "tun0", 3, DST4);
  port.deviceMtu = 1500;
  assert.equal(port.mtu, 1500);
  const small = tcpPacket(false, 0x10, undefined, 100);
  assert.ok(port.send(small));
  assert.deepEqual(writes[0], small);
});
