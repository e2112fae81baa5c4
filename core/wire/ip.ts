// IPv4 header (RFC 791) and IPv6 fixed header (RFC 8200 section 3) codecs, and IP address
// text forms (RFC 4291 section 2.2, RFC 5952 for the canonical IPv6 text).
//
// Parse functions never throw, for any bytes: they return a ParseResult. Emit functions write
// the exact header length into a caller-provided buffer and return the bytes written; they
// throw InvalidArgumentError only on API misuse (a field out of range, a buffer too small).
// Header checksums are written as given: core/wire/checksum.ts fills them.
import type { IpAddress, ParseResult } from "./types.ts";
import { InvalidArgumentError } from "../errors.ts";
import { fail, u16, put16 } from "./bytes.ts";

export const IPV4_HEADER_MIN = 20;
export const IPV6_HEADER_LENGTH = 40;

/** IPv4 flag bits (the 3 bits above the fragment offset, shifted down: 0b R DF MF). */
export const IPV4_FLAG_DF = 0x2;
export const IPV4_FLAG_MF = 0x1;

export interface Ipv4Header {
  version: 4;
  /** The whole TOS byte (DSCP << 2 | ECN). */
  tos: number;
  /** Header plus payload, in bytes. */
  totalLength: number;
  identification: number;
  /** The 3 flag bits: IPV4_FLAG_DF, IPV4_FLAG_MF (bit 2 is reserved). */
  flags: number;
  /** In units of 8 bytes. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: IpAddress;
  dst: IpAddress;
  /** Options bytes (IHL * 4 - 20 of them, a multiple of 4; copied on parse). */
  options: Uint8Array;
}

export interface Ipv6Header {
  version: 6;
  trafficClass: number;
  flowLabel: number;
  /** Bytes after the 40-byte fixed header (extension headers included). */
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: IpAddress;
  dst: IpAddress;
}

export type IpHeader = Ipv4Header | Ipv6Header;

function inRange(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

function checkField(name: string, v: number, max: number): void {
  if (!inRange(v, max)) throw new InvalidArgumentError(`${name} must be an integer in [0, ${max}] (got ${v})`);
}

function checkOut(out: Uint8Array, off: number, n: number): void {
  if (!(Number.isInteger(off) && off >= 0 && off + n <= out.length)) {
    throw new InvalidArgumentError(`cannot write ${n} bytes at offset ${off} of a ${out.length}-byte buffer`);
  }
}

/** Bytes available from off, clamped to the buffer (never negative). */
function avail(buf: Uint8Array, off: number, len: number): number {
  if (!(off >= 0 && len >= 0) || !Number.isFinite(off) || !Number.isFinite(len)) return -1;
  return Math.min(len, buf.length - off);
}

/** The options of a header without options (zero bytes: shared, nothing to copy). */
const NO_OPTIONS = new Uint8Array(0);

/**
 * Parses an IPv4 header at buf[off, off+len). The header must be complete (IHL * 4 bytes);
 * the payload need not be: compare `totalLength` with what you have. Addresses and options are
 * copies, or with `views` views into `buf` (no allocation of their own: valid while the caller
 * leaves those bytes unchanged).
 */
export function parseIpv4(buf: Uint8Array, off: number, len: number, views: boolean = false): ParseResult<Ipv4Header> {
  const n = avail(buf, off, len);
  if (n < 0) return fail("Truncated", "bad offset or length");
  if (n < IPV4_HEADER_MIN) return fail("Truncated", `IPv4 header needs 20 bytes, have ${n}`);
  const b0 = buf[off]!;
  if (b0 >>> 4 !== 4) return fail("BadVersion", `IP version ${b0 >>> 4}, expected 4`);
  const hl = (b0 & 0xf) * 4;
  if (hl < IPV4_HEADER_MIN) return fail("BadHeader", `IHL ${b0 & 0xf} < 5`);
  if (hl > n) return fail("Truncated", `IPv4 header of ${hl} bytes, have ${n}`);
  const totalLength = u16(buf, off + 2);
  if (totalLength < hl) return fail("BadLength", `total length ${totalLength} < header length ${hl}`);
  const ff = u16(buf, off + 6);
  return {
    ok: true,
    value: {
      version: 4,
      tos: buf[off + 1]!,
      totalLength,
      identification: u16(buf, off + 4),
      flags: ff >>> 13,
      fragmentOffset: ff & 0x1fff,
      ttl: buf[off + 8]!,
      protocol: buf[off + 9]!,
      checksum: u16(buf, off + 10),
      src: views ? buf.subarray(off + 12, off + 16) : buf.slice(off + 12, off + 16),
      dst: views ? buf.subarray(off + 16, off + 20) : buf.slice(off + 16, off + 20),
      options: hl === IPV4_HEADER_MIN ? NO_OPTIONS : views ? buf.subarray(off + 20, off + hl) : buf.slice(off + 20, off + hl),
    },
  };
}

/** Parses an IPv6 fixed header at buf[off, off+len). Extension headers are not followed. Addresses as in parseIpv4. */
export function parseIpv6(buf: Uint8Array, off: number, len: number, views: boolean = false): ParseResult<Ipv6Header> {
  const n = avail(buf, off, len);
  if (n < 0) return fail("Truncated", "bad offset or length");
  if (n < IPV6_HEADER_LENGTH) return fail("Truncated", `IPv6 header needs 40 bytes, have ${n}`);
  const b0 = buf[off]!;
  if (b0 >>> 4 !== 6) return fail("BadVersion", `IP version ${b0 >>> 4}, expected 6`);
  const b1 = buf[off + 1]!;
  return {
    ok: true,
    value: {
      version: 6,
      trafficClass: ((b0 & 0xf) << 4) | (b1 >>> 4),
      flowLabel: ((b1 & 0xf) << 16) | u16(buf, off + 2),
      payloadLength: u16(buf, off + 4),
      nextHeader: buf[off + 6]!,
      hopLimit: buf[off + 7]!,
      src: views ? buf.subarray(off + 8, off + 24) : buf.slice(off + 8, off + 24),
      dst: views ? buf.subarray(off + 24, off + 40) : buf.slice(off + 24, off + 40),
    },
  };
}

/** Parses an IPv4 or IPv6 header, chosen by the version nibble. */
export function parseIp(buf: Uint8Array, off: number, len: number): ParseResult<IpHeader> {
  const n = avail(buf, off, len);
  if (n < 1) return fail("Truncated", "empty IP packet");
  const v = buf[off]! >>> 4;
  if (v === 4) return parseIpv4(buf, off, len);
  if (v === 6) return parseIpv6(buf, off, len);
  return fail("BadVersion", `IP version ${v}`);
}

/** The length in bytes of the header as emitted (IPv4: 20 + options; IPv6: 40). */
export function ipHeaderLength(h: IpHeader): number {
  return h.version === 4 ? IPV4_HEADER_MIN + h.options.length : IPV6_HEADER_LENGTH;
}

/** Writes an IPv4 header (20 + options bytes) at out[off]. Returns the bytes written. */
export function emitIpv4(h: Ipv4Header, out: Uint8Array, off: number): number {
  const hl = IPV4_HEADER_MIN + h.options.length;
  if (h.options.length % 4 !== 0 || hl > 60) {
    throw new InvalidArgumentError(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${h.options.length})`);
  }
  if (h.src.length !== 4 || h.dst.length !== 4) throw new InvalidArgumentError("IPv4 addresses must be 4 bytes");
  checkField("tos", h.tos, 0xff);
  checkField("totalLength", h.totalLength, 0xffff);
  checkField("identification", h.identification, 0xffff);
  checkField("flags", h.flags, 0x7);
  checkField("fragmentOffset", h.fragmentOffset, 0x1fff);
  checkField("ttl", h.ttl, 0xff);
  checkField("protocol", h.protocol, 0xff);
  checkField("checksum", h.checksum, 0xffff);
  checkOut(out, off, hl);
  out[off] = 0x40 | (hl >>> 2);
  out[off + 1] = h.tos;
  put16(out, off + 2, h.totalLength);
  put16(out, off + 4, h.identification);
  put16(out, off + 6, (h.flags << 13) | h.fragmentOffset);
  out[off + 8] = h.ttl;
  out[off + 9] = h.protocol;
  put16(out, off + 10, h.checksum);
  out.set(h.src, off + 12);
  out.set(h.dst, off + 16);
  if (h.options.length) out.set(h.options, off + 20);
  return hl;
}

/** Writes an IPv6 fixed header (40 bytes) at out[off]. Returns 40. */
export function emitIpv6(h: Ipv6Header, out: Uint8Array, off: number): number {
  if (h.src.length !== 16 || h.dst.length !== 16) throw new InvalidArgumentError("IPv6 addresses must be 16 bytes");
  checkField("trafficClass", h.trafficClass, 0xff);
  checkField("flowLabel", h.flowLabel, 0xfffff);
  checkField("payloadLength", h.payloadLength, 0xffff);
  checkField("nextHeader", h.nextHeader, 0xff);
  checkField("hopLimit", h.hopLimit, 0xff);
  checkOut(out, off, IPV6_HEADER_LENGTH);
  out[off] = 0x60 | (h.trafficClass >>> 4);
  out[off + 1] = ((h.trafficClass & 0xf) << 4) | (h.flowLabel >>> 16);
  put16(out, off + 2, h.flowLabel & 0xffff);
  put16(out, off + 4, h.payloadLength);
  out[off + 6] = h.nextHeader;
  out[off + 7] = h.hopLimit;
  out.set(h.src, off + 8);
  out.set(h.dst, off + 24);
  return IPV6_HEADER_LENGTH;
}

/** Writes an IPv4 or IPv6 header. Returns the bytes written. */
export function emitIp(h: IpHeader, out: Uint8Array, off: number): number {
  return h.version === 4 ? emitIpv4(h, out, off) : emitIpv6(h, out, off);
}

/**
 * A header from src to dst with common defaults: IPv4 with DF set, TTL 64, no options;
 * IPv6 with hop limit 64. Lengths, identification and checksum are 0 until the packet is built.
 */
export function ipHeaderFor(src: IpAddress, dst: IpAddress, protocol: number = 6): IpHeader {
  if (src.length === 4 && dst.length === 4) {
    return {
      version: 4,
      tos: 0,
      totalLength: 0,
      identification: 0,
      flags: IPV4_FLAG_DF,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      checksum: 0,
      src,
      dst,
      options: NO_OPTIONS,
    };
  }
  if (src.length === 16 && dst.length === 16) {
    return { version: 6, trafficClass: 0, flowLabel: 0, payloadLength: 0, nextHeader: protocol, hopLimit: 64, src, dst };
  }
  throw new InvalidArgumentError(`addresses must both be IPv4 or both IPv6 (got ${src.length} and ${dst.length} bytes)`);
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** True when both addresses have the same bytes. */
export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function v4Text(a: Uint8Array, o: number): string {
  return `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
}

/**
 * The text form of an address: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, the
 * longest run of two or more zero groups as `::`, the first on a tie; IPv4-mapped addresses
 * as `::ffff:a.b.c.d`). Throws on a length other than 4 or 16.
 */
export function formatIp(addr: IpAddress): string {
  if (addr.length === 4) return v4Text(addr, 0);
  if (addr.length !== 16) throw new InvalidArgumentError(`an IP address has 4 or 16 bytes (got ${addr.length})`);
  let mapped = addr[10] === 0xff && addr[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (addr[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${v4Text(addr, 12)}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((addr[i]! << 8) | addr[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(":");
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(":");
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(":");
  return `${head}::${tail}`;
}

function parseV4Text(s: string, out: Uint8Array, o: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[o + i] = v;
  }
  return true;
}

function parseGroups(s: string, out: number[]): boolean {
  if (s === "") return true;
  for (const p of s.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
    out.push(parseInt(p, 16));
  }
  return true;
}

/**
 * Parses "198.18.0.1" or an IPv6 text form (full, `::`-compressed, with an embedded IPv4
 * tail such as `::ffff:198.18.0.1`). Returns undefined for anything else (zone ids included).
 */
export function parseIpText(text: string): IpAddress | undefined {
  if (text.indexOf(":") < 0) {
    const out = new Uint8Array(4);
    return parseV4Text(text, out, 0) ? out : undefined;
  }
  let s = text;
  const out = new Uint8Array(16);
  let v4tail = false;
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".", lastColon) > 0) {
    if (!parseV4Text(s.slice(lastColon + 1), out, 12)) return undefined;
    v4tail = true;
    // Keep the colon so "::1.2.3.4" and "a::1.2.3.4" stay well formed; the tail counts as 2 groups.
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = s.indexOf("::");
  const groups: number[] = [];
  if (dbl < 0) {
    if (!parseGroups(s, groups) || groups.length !== 8) return undefined;
  } else {
    if (s.indexOf("::", dbl + 1) >= 0) return undefined;
    const head: number[] = [];
    const tail: number[] = [];
    if (!parseGroups(s.slice(0, dbl), head) || !parseGroups(s.slice(dbl + 2), tail)) return undefined;
    if (head.length + tail.length > 7) return undefined;
    groups.push(...head);
    for (let i = head.length + tail.length; i < 8; i++) groups.push(0);
    groups.push(...tail);
  }
  const upto = v4tail ? 6 : 8;
  for (let i = 0; i < upto; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}
