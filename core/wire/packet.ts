// Whole IP packets carrying TCP: IPv4 (RFC 791) or IPv6 (RFC 8200) header, then the segment.
// Kept apart from segment.ts (the option layout) so that tcp.ts can use the layout without an
// import cycle.
//
// parsePacket never throws. It refuses fragments and non-TCP payloads (BadHeader), follows the
// IPv6 hop-by-hop, routing, destination-options and AH extension headers, and cuts the segment
// at the IP length (link padding after it is ignored).
// emitPacket writes IP header + TCP segment and fills the IP length and protocol fields; the
// checksums are written as given. Fill them afterwards with core/wire/checksum.ts at the
// offsets it returns, e.g.
//   fillTcpChecksum(ip.src, ip.dst, out, l.tcpOffset, l.tcpLength);
//   if (ip.version === 4) fillIpv4HeaderChecksum(out, l.ipOffset);
import type { ParseResult, TcpSegment } from "./types.ts";
import type { IpHeader } from "./ip.ts";
import { emitIp, ipHeaderLength, parseIpv4, parseIpv6 } from "./ip.ts";
import { parseTcp, writeTcp } from "./tcp.ts";
import type { EmitResult } from "./segment.ts";
import { optionsTooLong } from "./segment.ts";
import { InvalidArgumentError } from "../errors.ts";
import { fail } from "./bytes.ts";

const IPPROTO_TCP_NUMBER = 6;

export interface Packet {
  ip: IpHeader;
  tcp: TcpSegment;
  /** Offset of the TCP header in the parsed bytes. */
  tcpOffset: number;
  /** TCP header + payload length. */
  tcpLength: number;
}

/** Where emitPacket put things, for the checksum step. */
export interface PacketLayout {
  /** Total bytes written (IP header + TCP segment). */
  length: number;
  ipOffset: number;
  ipHeaderLength: number;
  tcpOffset: number;
  tcpLength: number;
}

/**
 * Parses an IPv4 or IPv6 packet carrying TCP from bytes[off, off+len). With `views`, the IP
 * addresses and options are views into `bytes` instead of copies (parseIpv4); the TCP payload
 * is always a view.
 */
export function parsePacket(bytes: Uint8Array, off: number = 0, len: number = bytes.length - off, views: boolean = false): ParseResult<Packet> {
  if (!(off >= 0 && len >= 0) || !Number.isFinite(off) || !Number.isFinite(len)) return fail("Truncated", "bad offset or length");
  const n = Math.min(len, bytes.length - off);
  if (n < 1) return fail("Truncated", "empty packet");
  const v = bytes[off]! >>> 4;
  let ip: IpHeader;
  let tcpOff: number;
  let tcpLen: number;
  if (v === 4) {
    const r = parseIpv4(bytes, off, n, views);
    if (!r.ok) return r;
    const h = r.value;
    if (h.totalLength > n) return fail("Truncated", `IPv4 total length ${h.totalLength}, have ${n} bytes`);
    if ((h.flags & 1) !== 0 || h.fragmentOffset !== 0) return fail("BadHeader", "IPv4 fragment");
    if (h.protocol !== IPPROTO_TCP_NUMBER) return fail("BadHeader", `IP protocol ${h.protocol} is not TCP`);
    const hl = 20 + h.options.length;
    ip = h;
    tcpOff = off + hl;
    tcpLen = h.totalLength - hl;
  } else if (v === 6) {
    const r = parseIpv6(bytes, off, n, views);
    if (!r.ok) return r;
    const h = r.value;
    const end = off + 40 + h.payloadLength;
    if (h.payloadLength === 0) return fail("BadHeader", "IPv6 payload length 0 (jumbogram or empty)");
    if (end > off + n) return fail("Truncated", `IPv6 payload length ${h.payloadLength}, have ${n - 40} bytes`);
    let next = h.nextHeader;
    let p = off + 40;
    for (let hops = 0; next !== IPPROTO_TCP_NUMBER; hops++) {
      if (hops >= 8) return fail("BadHeader", "too many IPv6 extension headers");
      if (next === 44) return fail("BadHeader", "IPv6 fragment");
      if (next !== 0 && next !== 43 && next !== 60 && next !== 51) return fail("BadHeader", `IPv6 next header ${next} is not TCP`);
      if (p + 8 > end) return fail("Truncated", "IPv6 extension header");
      const size = next === 51 ? (bytes[p + 1]! + 2) * 4 : (bytes[p + 1]! + 1) * 8;
      next = bytes[p]!;
      p += size;
      if (p > end) return fail("Truncated", "IPv6 extension header");
    }
    ip = h;
    tcpOff = p;
    tcpLen = end - p;
  } else {
    return fail("BadVersion", `IP version ${v}`);
  }
  const t = parseTcp(bytes, tcpOff, tcpLen);
  if (!t.ok) return t;
  return { ok: true, value: { ip, tcp: t.value, tcpOffset: tcpOff, tcpLength: tcpLen } };
}

/**
 * Writes the IP header `ip` (its length and protocol fields are replaced by the right values)
 * followed by the TCP segment at out[off]. Returns the layout, or OptionsTooLong.
 */
export function emitPacket(ip: IpHeader, seg: TcpSegment, out: Uint8Array, off: number): EmitResult<PacketLayout> {
  const n = writePacket(ip, seg, out, off);
  if (n < 0) return optionsTooLong();
  const ihl = ipHeaderLength(ip);
  return { ok: true, value: { length: n, ipOffset: off, ipHeaderLength: ihl, tcpOffset: off + ihl, tcpLength: n - ihl } };
}

/**
 * emitPacket without result objects (the per-packet path): the packet length, or -1 when the
 * options do not fit (optionsTooLong() gives the error). The TCP segment starts at
 * off + ipHeaderLength(ip).
 */
export function writePacket(ip: IpHeader, seg: TcpSegment, out: Uint8Array, off: number): number {
  const ihl = ipHeaderLength(ip);
  const tcpLen = writeTcp(seg, out, off + ihl);
  if (tcpLen < 0) return -1;
  const total = ip.version === 4 ? ihl + tcpLen : tcpLen;
  if (total > 0xffff) throw new InvalidArgumentError(`IP packet length ${total} exceeds 65535`);
  emitIp(ip, out, off);
  if (ip.version === 4) {
    out[off + 2] = total >>> 8;
    out[off + 3] = total & 0xff;
    out[off + 9] = IPPROTO_TCP_NUMBER;
  } else {
    out[off + 4] = total >>> 8;
    out[off + 5] = total & 0xff;
    out[off + 6] = IPPROTO_TCP_NUMBER;
  }
  return ihl + tcpLen;
}
