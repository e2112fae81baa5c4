// TCP-in-UDP encapsulation, the layout of multipath-tcp/tcp-in-udp (after
// draft-cheshire-tcp-over-udp; see ../shared/PROTOCOL.md). The TCP header is rearranged so that
// its first 8 bytes are a valid UDP header, and the datagram has the segment's size:
//
//   TCP:         src port | dst port | seq | ack | doff+flags | window | checksum | urgent | options | payload
//   TCP-in-UDP:  src port | dst port | UDP length | UDP checksum | doff+flags | window | seq | ack | options | payload
//
// The TCP checksum and urgent pointer are dropped; URG must be 0. Conversions write the
// checksum they cannot know as 0: fill the UDP checksum with fillUdpChecksum (checksum.ts) after
// tcpToTcpInUdp, and the TCP checksum with fillTcpChecksum after tcpInUdpToTcp, if needed.
// Over a UDP socket the kernel writes the UDP header: send datagram[8..] (tcpToUdpPayload) and
// rebuild received ones with udpPayloadToTcp.
//
// Every conversion reads the whole header before writing, so it may run in place (same
// buffer, same offset) or into an overlapping range. Conversions and parse never throw on
// bad input bytes (they return a ParseResult); a too-small output buffer is API misuse.
import type { ParseErrorReason, ParseResult, TcpSegment } from "./types.ts";
import { TCP_URG } from "./types.ts";
import { emitTcp, parseTcpOptions } from "./tcp.ts";
import type { EmitResult } from "./segment.ts";
import { InvalidArgumentError } from "../errors.ts";
import { fail, u16, u32, put16, put32 } from "./bytes.ts";

/** Bytes of the TCP-in-UDP header before the options (UDP header + 12). */
export const TCP_IN_UDP_HEADER_MIN = 20;

export interface TcpInUdpDatagram {
  udpLength: number;
  udpChecksum: number;
  /** The segment; header.checksum and header.urgent are 0 (they do not travel). */
  segment: TcpSegment;
}

function badRange(off: number, len: number): boolean {
  return !(off >= 0 && len >= 0) || !Number.isFinite(off) || !Number.isFinite(len);
}

function checkOut(out: Uint8Array, off: number, n: number): void {
  if (!(Number.isInteger(off) && off >= 0 && off + n <= out.length)) {
    throw new InvalidArgumentError(`cannot write ${n} bytes at offset ${off} of a ${out.length}-byte buffer`);
  }
}

/** Checks data offset and URG of the 16-bit doff+flags word; returns an error or undefined. */
function checkDoffFlags<T>(doffFlags: number, len: number): ParseResult<T> | undefined {
  const hl = (doffFlags >>> 12) * 4;
  if (hl < 20) return fail("BadHeader", `data offset ${hl >>> 2} < 5`);
  if (hl > len) return fail("Truncated", `header of ${hl} bytes, have ${len}`);
  if ((doffFlags & TCP_URG) !== 0) return fail("BadHeader", "URG set: the urgent pointer cannot travel in TCP-in-UDP");
  return undefined;
}

/** Copies src[srcOff+from, srcOff+len) to out[outOff+to...] unless it is already there. */
function moveTail(src: Uint8Array, srcOff: number, from: number, len: number, out: Uint8Array, outOff: number, to: number): void {
  if (len > from && !(src === out && srcOff + from === outOff + to)) out.set(src.subarray(srcOff + from, srcOff + len), outOff + to);
}

/**
 * Rewrites the TCP segment src[srcOff, srcOff+len) as a TCP-in-UDP datagram of the same
 * length at out[outOff]. The UDP checksum is written as 0. Returns the length.
 */
export function tcpToTcpInUdp(src: Uint8Array, srcOff: number, len: number, out: Uint8Array, outOff: number): ParseResult<number> {
  if (badRange(srcOff, len) || srcOff + len > src.length) return fail("Truncated", "segment outside the buffer");
  if (len < 20) return fail("Truncated", `TCP header needs 20 bytes, have ${len}`);
  if (len > 0xffff) return fail("BadLength", `segment of ${len} bytes does not fit a UDP length`);
  const doffFlags = u16(src, srcOff + 12);
  const e = checkDoffFlags<number>(doffFlags, len);
  if (e) return e;
  checkOut(out, outOff, len);
  const ports = u32(src, srcOff);
  const seq = u32(src, srcOff + 4);
  const ack = u32(src, srcOff + 8);
  const window = u16(src, srcOff + 14);
  moveTail(src, srcOff, 20, len, out, outOff, 20);
  put32(out, outOff, ports);
  put16(out, outOff + 4, len);
  put16(out, outOff + 6, 0);
  put16(out, outOff + 8, doffFlags);
  put16(out, outOff + 10, window);
  put32(out, outOff + 12, seq);
  put32(out, outOff + 16, ack);
  return { ok: true, value: len };
}

/**
 * Rewrites the TCP-in-UDP datagram src[srcOff, srcOff+len) (UDP header included; its length
 * field must equal len) as a TCP segment of the same length at out[outOff]. The TCP checksum
 * and urgent pointer are written as 0. Returns the length.
 */
export function tcpInUdpToTcp(src: Uint8Array, srcOff: number, len: number, out: Uint8Array, outOff: number): ParseResult<number> {
  if (badRange(srcOff, len) || srcOff + len > src.length) return fail("Truncated", "datagram outside the buffer");
  if (len < TCP_IN_UDP_HEADER_MIN) return fail("Truncated", `TCP-in-UDP header needs 20 bytes, have ${len}`);
  const udpLen = u16(src, srcOff + 4);
  if (udpLen !== len) return fail("BadLength", `UDP length ${udpLen}, datagram of ${len} bytes`);
  const doffFlags = u16(src, srcOff + 8);
  const e = checkDoffFlags<number>(doffFlags, len);
  if (e) return e;
  checkOut(out, outOff, len);
  const ports = u32(src, srcOff);
  const window = u16(src, srcOff + 10);
  const seq = u32(src, srcOff + 12);
  const ack = u32(src, srcOff + 16);
  moveTail(src, srcOff, 20, len, out, outOff, 20);
  put32(out, outOff, ports);
  put32(out, outOff + 4, seq);
  put32(out, outOff + 8, ack);
  put16(out, outOff + 12, doffFlags);
  put16(out, outOff + 14, window);
  put32(out, outOff + 16, 0);
  return { ok: true, value: len };
}

/**
 * Writes the UDP payload of the TCP-in-UDP form of the TCP segment src[srcOff, srcOff+len)
 * (the datagram without its 8-byte UDP header, for a UDP socket) at out[outOff]. Returns len - 8.
 */
export function tcpToUdpPayload(src: Uint8Array, srcOff: number, len: number, out: Uint8Array, outOff: number): ParseResult<number> {
  if (badRange(srcOff, len) || srcOff + len > src.length) return fail("Truncated", "segment outside the buffer");
  if (len < 20) return fail("Truncated", `TCP header needs 20 bytes, have ${len}`);
  if (len > 0xffff) return fail("BadLength", `segment of ${len} bytes does not fit a UDP length`);
  const doffFlags = u16(src, srcOff + 12);
  const e = checkDoffFlags<number>(doffFlags, len);
  if (e) return e;
  checkOut(out, outOff, len - 8);
  const seq = u32(src, srcOff + 4);
  const ack = u32(src, srcOff + 8);
  const window = u16(src, srcOff + 14);
  moveTail(src, srcOff, 20, len, out, outOff, 12);
  put16(out, outOff, doffFlags);
  put16(out, outOff + 2, window);
  put32(out, outOff + 4, seq);
  put32(out, outOff + 8, ack);
  return { ok: true, value: len - 8 };
}

/**
 * Rebuilds the TCP segment from the UDP payload src[srcOff, srcOff+len) received on a UDP
 * socket from srcPort to dstPort, at out[outOff]. The TCP checksum and urgent pointer are 0.
 * Returns the segment length, len + 8.
 */
export function udpPayloadToTcp(
  src: Uint8Array,
  srcOff: number,
  len: number,
  srcPort: number,
  dstPort: number,
  out: Uint8Array,
  outOff: number,
): ParseResult<number> {
  if (badRange(srcOff, len) || srcOff + len > src.length) return fail("Truncated", "payload outside the buffer");
  if (len < 12) return fail("Truncated", `TCP-in-UDP payload needs 12 bytes, have ${len}`);
  if (!(Number.isInteger(srcPort) && srcPort >= 0 && srcPort <= 0xffff && Number.isInteger(dstPort) && dstPort >= 0 && dstPort <= 0xffff)) {
    throw new InvalidArgumentError(`ports must be integers in [0, 65535] (got ${srcPort}, ${dstPort})`);
  }
  const doffFlags = u16(src, srcOff);
  const e = checkDoffFlags<number>(doffFlags, len + 8);
  if (e) return e;
  checkOut(out, outOff, len + 8);
  const window = u16(src, srcOff + 2);
  const seq = u32(src, srcOff + 4);
  const ack = u32(src, srcOff + 8);
  moveTail(src, srcOff, 12, len, out, outOff, 20);
  put16(out, outOff, srcPort);
  put16(out, outOff + 2, dstPort);
  put32(out, outOff + 4, seq);
  put32(out, outOff + 8, ack);
  put16(out, outOff + 12, doffFlags);
  put16(out, outOff + 14, window);
  put32(out, outOff + 16, 0);
  return { ok: true, value: len + 8 };
}

/** Parses a TCP-in-UDP datagram (UDP header included) straight into a segment. */
export function parseTcpInUdp(bytes: Uint8Array, off: number, len: number): ParseResult<TcpInUdpDatagram> {
  if (badRange(off, len)) return fail("Truncated", "bad offset or length");
  const n = Math.min(len, bytes.length - off);
  if (n < TCP_IN_UDP_HEADER_MIN) return fail("Truncated", `TCP-in-UDP header needs 20 bytes, have ${Math.max(n, 0)}`);
  const udpLength = u16(bytes, off + 4);
  if (udpLength !== n) return fail("BadLength", `UDP length ${udpLength}, datagram of ${n} bytes`);
  const doffFlags = u16(bytes, off + 8);
  const e = checkDoffFlags<TcpInUdpDatagram>(doffFlags, n);
  if (e) return e;
  const hl = (doffFlags >>> 12) * 4;
  const opts = parseTcpOptions(bytes, off + 20, hl - 20);
  if (!opts.ok) return opts;
  return {
    ok: true,
    value: {
      udpLength,
      udpChecksum: u16(bytes, off + 6),
      segment: {
        header: {
          srcPort: u16(bytes, off),
          dstPort: u16(bytes, off + 2),
          seq: u32(bytes, off + 12),
          ack: u32(bytes, off + 16),
          flags: doffFlags & 0xff,
          window: u16(bytes, off + 10),
          checksum: 0,
          urgent: 0,
          options: opts.value,
        },
        payload: bytes.subarray(off + hl, off + n),
      },
    },
  };
}

/**
 * Writes the segment straight in TCP-in-UDP form at out[off] (UDP checksum 0) and returns its
 * length, or OptionsTooLong. Throws if URG is set (it cannot travel) or the buffer is too small.
 */
export function emitTcpInUdp(seg: TcpSegment, out: Uint8Array, off: number): EmitResult<number> {
  if ((seg.header.flags & TCP_URG) !== 0) throw new InvalidArgumentError("URG cannot be sent in TCP-in-UDP");
  const r = emitTcp(seg, out, off);
  if (!r.ok) return r;
  const c = tcpToTcpInUdp(out, off, r.value, out, off);
  if (!c.ok) throw new InvalidArgumentError(`segment cannot be encapsulated: ${c.error.detail}`);
  return r;
}
