// Checksums on the wire: TCP and UDP with the IPv4/IPv6 pseudo-header (RFC 9293 section 3.1,
// RFC 768, RFC 8200 section 8.1), the IPv4 header checksum (RFC 791), and the MPTCP DSS
// checksum (RFC 8684 section 3.3.1; see ../shared/PROTOCOL.md). The byte sums run on a
// ChecksumKernel (core/kernels/checksum.ts): by default the WebAssembly SIMD build, or any
// kernel passed as the last argument.
//
// Every `*Checksum` function returns the value of the 16-bit checksum field and ignores what the
// field currently holds, so it can be called on a segment as received. `fill*` writes the field
// (big-endian); `verify*` returns whether the field is right and never throws on bad bytes
// (network input), only on a range outside the buffer (API misuse).
import type { ChecksumKernel } from "../kernels/checksum.ts";
import { defaultChecksumKernel, finishChecksum, foldChecksum } from "../kernels/checksum.ts";
import type { IpAddress } from "./types.ts";
import { InvalidArgumentError } from "../errors.ts";

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** Offset of the checksum field inside a TCP header. */
export const TCP_CHECKSUM_OFFSET = 16;
/** Offset of the checksum field inside a UDP header. */
export const UDP_CHECKSUM_OFFSET = 6;
/** Offset of the header checksum field inside an IPv4 header. */
export const IPV4_CHECKSUM_OFFSET = 10;

function addrSum(a: IpAddress): number {
  let s = 0;
  for (let i = 0; i + 1 < a.length; i += 2) s += (a[i]! << 8) | a[i + 1]!;
  return s;
}

function checkAddrs(src: IpAddress, dst: IpAddress): void {
  if (!((src.length === 4 || src.length === 16) && dst.length === src.length)) {
    throw new InvalidArgumentError(`pseudo-header addresses must both be IPv4 or both IPv6 (got ${src.length} and ${dst.length} bytes)`);
  }
}

function checkRange(buf: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw new InvalidArgumentError(`range [${off}, ${off}+${len}) outside a buffer of ${buf.length} bytes`);
  }
}

/**
 * The unfolded one's complement sum (< 2^32) of the pseudo-header of an upper-layer packet:
 * IPv4 `src | dst | 0 | protocol | length(16)` or IPv6 `src | dst | length(32) | 0(24) | next header`.
 */
export function pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
  checkAddrs(src, dst);
  return addrSum(src) + addrSum(dst) + protocol + (length >>> 16) + (length & 0xffff);
}

/** The folded sum of pseudo-header plus segment, with the field at `fieldOff` counted as zero. */
function l4Sum(
  src: IpAddress,
  dst: IpAddress,
  protocol: number,
  seg: Uint8Array,
  off: number,
  len: number,
  fieldOff: number,
  kernel: ChecksumKernel,
): number {
  const s = kernel.sum(seg, off, len, pseudoHeaderSum(src, dst, protocol, len));
  // Remove the field's current contents: adding its one's complement subtracts it (mod 0xffff);
  // the pseudo-header makes the sum non-zero, so the folded representation is the canonical one.
  const field = (seg[off + fieldOff]! << 8) | seg[off + fieldOff + 1]!;
  return foldChecksum(s + (~field & 0xffff));
}

/** The TCP checksum field value of the segment seg[off, off+len) (header and payload). */
export function tcpChecksum(
  src: IpAddress,
  dst: IpAddress,
  seg: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  checkRange(seg, off, len);
  if (len < 20) throw new InvalidArgumentError(`a TCP segment has at least 20 bytes (got ${len})`);
  return finishChecksum(l4Sum(src, dst, IPPROTO_TCP, seg, off, len, TCP_CHECKSUM_OFFSET, kernel));
}

/** Computes the TCP checksum and writes it at off+16. Returns the value written. */
export function fillTcpChecksum(
  src: IpAddress,
  dst: IpAddress,
  seg: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  const c = tcpChecksum(src, dst, seg, off, len, kernel);
  seg[off + TCP_CHECKSUM_OFFSET] = c >>> 8;
  seg[off + TCP_CHECKSUM_OFFSET + 1] = c & 0xff;
  return c;
}

/** True when the checksum field of the TCP segment is right (false for a segment under 20 bytes). */
export function verifyTcpChecksum(
  src: IpAddress,
  dst: IpAddress,
  seg: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): boolean {
  checkRange(seg, off, len);
  if (len < 20 || !((src.length === 4 || src.length === 16) && dst.length === src.length)) return false;
  return kernel.sum(seg, off, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)) === 0xffff;
}

/**
 * The UDP checksum field value of the datagram dgram[off, off+len) (header and payload). A
 * computed 0 is sent as 0xffff (RFC 768), since 0 means "no checksum" on IPv4.
 */
export function udpChecksum(
  src: IpAddress,
  dst: IpAddress,
  dgram: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  checkRange(dgram, off, len);
  if (len < 8) throw new InvalidArgumentError(`a UDP datagram has at least 8 bytes (got ${len})`);
  const c = finishChecksum(l4Sum(src, dst, IPPROTO_UDP, dgram, off, len, UDP_CHECKSUM_OFFSET, kernel));
  return c === 0 ? 0xffff : c;
}

/** Computes the UDP checksum and writes it at off+6. Returns the value written. */
export function fillUdpChecksum(
  src: IpAddress,
  dst: IpAddress,
  dgram: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  const c = udpChecksum(src, dst, dgram, off, len, kernel);
  dgram[off + UDP_CHECKSUM_OFFSET] = c >>> 8;
  dgram[off + UDP_CHECKSUM_OFFSET + 1] = c & 0xff;
  return c;
}

/**
 * True when the UDP checksum is right. A zero field means "not computed": accepted on IPv4
 * unless `requireChecksum`, always refused on IPv6 (RFC 8200 section 8.1).
 */
export function verifyUdpChecksum(
  src: IpAddress,
  dst: IpAddress,
  dgram: Uint8Array,
  off: number,
  len: number,
  requireChecksum = false,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): boolean {
  checkRange(dgram, off, len);
  if (len < 8 || !((src.length === 4 || src.length === 16) && dst.length === src.length)) return false;
  const field = (dgram[off + UDP_CHECKSUM_OFFSET]! << 8) | dgram[off + UDP_CHECKSUM_OFFSET + 1]!;
  if (field === 0) return src.length === 4 && !requireChecksum;
  return kernel.sum(dgram, off, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)) === 0xffff;
}

/**
 * The unfolded sum of the 16-bit big-endian words of buf[off, off+len) (len even): for the
 * 20-60 bytes of an IPv4 header, cheaper in place than a kernel call (the WebAssembly kernels
 * copy bytes from outside their memory in first). Same value as a kernel's sum once folded.
 */
function headerSum(buf: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = off; i < off + len; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  return s;
}

/**
 * The header checksum field value of the IPv4 header at buf[off] (length from its IHL field).
 * Without a `kernel`, the header's few words are summed in place.
 */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number, kernel?: ChecksumKernel): number {
  checkRange(buf, off, 20);
  const hlen = (buf[off]! & 0x0f) * 4;
  if (hlen < 20) throw new InvalidArgumentError(`IPv4 IHL gives ${hlen} bytes, under 20`);
  checkRange(buf, off, hlen);
  const s = kernel ? kernel.sum(buf, off, hlen, 0) : foldChecksum(headerSum(buf, off, hlen));
  const field = (buf[off + IPV4_CHECKSUM_OFFSET]! << 8) | buf[off + IPV4_CHECKSUM_OFFSET + 1]!;
  // The version nibble (4) makes the sum non-zero, so removing the field keeps it canonical.
  return finishChecksum(foldChecksum(s + (~field & 0xffff)));
}

/** Computes the IPv4 header checksum and writes it at off+10. Returns the value written. */
export function fillIpv4HeaderChecksum(buf: Uint8Array, off: number, kernel?: ChecksumKernel): number {
  const c = ipv4HeaderChecksum(buf, off, kernel);
  buf[off + IPV4_CHECKSUM_OFFSET] = c >>> 8;
  buf[off + IPV4_CHECKSUM_OFFSET + 1] = c & 0xff;
  return c;
}

/** True when the IPv4 header at buf[off] has a right header checksum (false if IHL < 5 or truncated). */
export function verifyIpv4HeaderChecksum(buf: Uint8Array, off: number, kernel?: ChecksumKernel): boolean {
  if (!(off >= 0 && off + 20 <= buf.length)) return false;
  const hlen = (buf[off]! & 0x0f) * 4;
  if (hlen < 20 || off + hlen > buf.length) return false;
  return (kernel ? kernel.sum(buf, off, hlen, 0) : foldChecksum(headerSum(buf, off, hlen))) === 0xffff;
}

// ---------------------------------------------------------------------------------------------
// DSS checksum (RFC 8684 section 3.3.1): over `DSN(64) | SSN(32) | data-level length(16) |
// checksum(16)` followed by the mapped payload. The sender sums it with zero in the checksum
// place and sends the one's complement; the receiver sums it with the received checksum in
// place and expects 0xffff. The payload of one mapping may arrive in several pieces: sum them
// with combineChecksums (core/kernels/checksum.ts), starting from dssPseudoHeaderSum (16 bytes,
// an even length, so it can be the `initial` of the first piece).

/**
 * The unfolded sum (< 2^32) of the DSS pseudo-header, the DSN given as two u32 halves (no
 * bigint on the per-packet path), with `checksum` (default 0) in the checksum place.
 */
export function dssPseudoHeaderSum(dsnHi: number, dsnLo: number, ssn: number, dataLen: number, checksum = 0): number {
  return (
    (dsnHi >>> 16) + (dsnHi & 0xffff) + (dsnLo >>> 16) + (dsnLo & 0xffff) + (ssn >>> 16) + (ssn & 0xffff) + (dataLen & 0xffff) +
    (checksum & 0xffff)
  );
}

/** The DSS checksum of a mapping (DSN as two u32 halves) over payload[off, off+len). */
export function dssChecksumHiLo(
  dsnHi: number,
  dsnLo: number,
  ssn: number,
  dataLen: number,
  payload: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  checkRange(payload, off, len);
  return finishChecksum(kernel.sum(payload, off, len, dssPseudoHeaderSum(dsnHi, dsnLo, ssn, dataLen)));
}

/** The DSS checksum of a mapping (64-bit DSN, relative SSN, data-level length) over payload[off, off+len). */
export function dssChecksum(
  dsn: bigint,
  ssn: number,
  dataLen: number,
  payload: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): number {
  const d = BigInt.asUintN(64, dsn);
  return dssChecksumHiLo(Number(d >> 32n), Number(d & 0xffffffffn), ssn, dataLen, payload, off, len, kernel);
}

/** Receiver side: true when `checksum` (as received in the DSS option) matches the mapping and payload. */
export function verifyDssChecksum(
  dsn: bigint,
  ssn: number,
  dataLen: number,
  checksum: number,
  payload: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): boolean {
  const d = BigInt.asUintN(64, dsn);
  return verifyDssChecksumHiLo(Number(d >> 32n), Number(d & 0xffffffffn), ssn, dataLen, checksum, payload, off, len, kernel);
}

/** `verifyDssChecksum` with the DSN as two u32 halves. */
export function verifyDssChecksumHiLo(
  dsnHi: number,
  dsnLo: number,
  ssn: number,
  dataLen: number,
  checksum: number,
  payload: Uint8Array,
  off: number,
  len: number,
  kernel: ChecksumKernel = defaultChecksumKernel(),
): boolean {
  checkRange(payload, off, len);
  return kernel.sum(payload, off, len, dssPseudoHeaderSum(dsnHi, dsnLo, ssn, dataLen, checksum)) === 0xffff;
}
