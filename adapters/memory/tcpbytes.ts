// Byte-level access to TCP inside raw IPv4 / IPv6 packets, for middleboxes: they work on the
// bytes, as real middleboxes do (rewrite fields in place, walk options by kind and length,
// re-emit), and fix the checksums afterwards with core/wire/checksum.ts. Garbage in: undefined
// out, never an exception.
import { fillIpv4HeaderChecksum, fillTcpChecksum, verifyTcpChecksum } from "../../core/wire/checksum.ts";
import { IPPROTO_TCP, ipDst, ipSrc, ipVersion, transport } from "./packet.ts";

/** Where things are in a TCP/IP packet. */
export interface TcpInfo {
  version: 4 | 6;
  /** Offset of the TCP header. */
  tcpOff: number;
  /** TCP header length (data offset * 4). */
  hdrLen: number;
  /** End of the TCP segment (from the IP length fields; trailing bytes beyond are ignored). */
  end: number;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  payloadOff: number;
  payloadLen: number;
  srcPort: number;
  dstPort: number;
}

export function u16(p: Uint8Array, o: number): number {
  return (p[o]! << 8) | p[o + 1]!;
}

export function u32(p: Uint8Array, o: number): number {
  return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
}

export function put16(p: Uint8Array, o: number, v: number): void {
  p[o] = (v >>> 8) & 0xff;
  p[o + 1] = v & 0xff;
}

export function put32(p: Uint8Array, o: number, v: number): void {
  p[o] = (v >>> 24) & 0xff;
  p[o + 1] = (v >>> 16) & 0xff;
  p[o + 2] = (v >>> 8) & 0xff;
  p[o + 3] = v & 0xff;
}

/** The TCP layout of a packet, or undefined when it is not a well-formed TCP/IP packet. */
export function tcpInfo(p: Uint8Array): TcpInfo | undefined {
  const version = ipVersion(p);
  if (version === 0) return undefined;
  const t = transport(p);
  if (!t || t.proto !== IPPROTO_TCP) return undefined;
  const end = version === 4 ? u16(p, 2) : 40 + u16(p, 4);
  if (end > p.length || t.offset + 20 > end) return undefined;
  const hdrLen = (p[t.offset + 12]! >> 4) * 4;
  if (hdrLen < 20 || t.offset + hdrLen > end) return undefined;
  return {
    version,
    tcpOff: t.offset,
    hdrLen,
    end,
    flags: p[t.offset + 13]!,
    seq: u32(p, t.offset + 4),
    ack: u32(p, t.offset + 8),
    window: u16(p, t.offset + 14),
    payloadOff: t.offset + hdrLen,
    payloadLen: end - t.offset - hdrLen,
    srcPort: u16(p, t.offset),
    dstPort: u16(p, t.offset + 2),
  };
}

/** One TCP option as found in the header: its offset in the packet and its total length. */
export interface RawOption {
  kind: number;
  off: number;
  len: number;
}

/**
 * The options of a TCP header in wire order (NOPs included, EOL and padding excluded), or
 * undefined when an option's length is malformed.
 */
export function tcpOptions(p: Uint8Array, info: TcpInfo): RawOption[] | undefined {
  const out: RawOption[] = [];
  const end = info.tcpOff + info.hdrLen;
  let o = info.tcpOff + 20;
  while (o < end) {
    const kind = p[o]!;
    if (kind === 0) break;
    if (kind === 1) {
      out.push({ kind, off: o, len: 1 });
      o++;
      continue;
    }
    if (o + 1 >= end) return undefined;
    const len = p[o + 1]!;
    if (len < 2 || o + len > end) return undefined;
    out.push({ kind, off: o, len });
    o += len;
  }
  return out;
}

/** True when the TCP checksum of the packet is right. */
export function tcpChecksumOk(p: Uint8Array, info: TcpInfo): boolean {
  return verifyTcpChecksum(ipSrc(p)!, ipDst(p)!, p, info.tcpOff, info.end - info.tcpOff);
}

/**
 * Recomputes the IPv4 header checksum and the TCP checksum after a rewrite. When the packet
 * arrived with a bad TCP checksum (`wasValid` false), the result is kept bad, as an
 * incremental update (RFC 1624) would: a middlebox must not repair corruption.
 */
export function finishTcp(p: Uint8Array, info: TcpInfo, wasValid: boolean): void {
  if (info.version === 4) fillIpv4HeaderChecksum(p, 0);
  const c = fillTcpChecksum(ipSrc(p)!, ipDst(p)!, p, info.tcpOff, info.end - info.tcpOff);
  if (!wasValid) put16(p, info.tcpOff + 16, c ^ 0x0100);
}

/**
 * A new packet with the same IP header and fixed TCP header as `p`, the given option bytes
 * (padded with EOL to a multiple of 4) and payload; IP length fields, data offset and
 * checksums are set. Returns undefined when the options exceed 40 bytes.
 */
export function rebuildTcp(p: Uint8Array, info: TcpInfo, options: Uint8Array, payload: Uint8Array, wasValid: boolean): Uint8Array | undefined {
  const optLen = (options.length + 3) & ~3;
  if (optLen > 40) return undefined;
  const hdrLen = 20 + optLen;
  const end = info.tcpOff + hdrLen + payload.length;
  const q = new Uint8Array(end);
  q.set(p.subarray(0, info.tcpOff + 20), 0);
  q.set(options, info.tcpOff + 20);
  q.set(payload, info.tcpOff + hdrLen);
  q[info.tcpOff + 12] = ((hdrLen / 4) << 4) | (p[info.tcpOff + 12]! & 0x0f);
  if (info.version === 4) put16(q, 2, end);
  else put16(q, 4, end - 40);
  const ni = tcpInfo(q);
  if (!ni) return undefined;
  finishTcp(q, ni, wasValid);
  return q;
}
