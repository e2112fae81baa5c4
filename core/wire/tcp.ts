// TCP header and options codec (RFC 9293 section 3.1; options of RFC 7323, RFC 2018 and
// RFC 6691; kind 30 is delegated to mptcp.ts, RFC 8684). Option layout on emit: segment.ts.
//
// Parsing rules (never throws, for any bytes):
// - EOL ends the option list; NOP is skipped.
// - An option whose length byte is missing, below 2 or beyond the option space makes the
//   whole segment malformed (BadOption): the option list cannot be walked further.
// - A known option with a length no form of it has (e.g. MSS of length 3, SACK of length 11)
//   is not interpreted and goes to `unknown`, as Linux ignores it. The same holds for a
//   kind-30 option that mptcp.ts refuses (bad length, ADD_ADDR echo/HMAC mismatch): the
//   engines ignore it like Linux does, and can count it.
// - When an option occurs twice, the last one wins (as Linux); SACK blocks and MPTCP options
//   are kept in wire order.
// - The payload is a view on the input bytes (no copy); option byte fields are copies.
// The checksum field is written as given: core/wire/checksum.ts fills it (TCP_CHECKSUM_OFFSET).
import type { ParseErrorReason, ParseResult, SackBlock, TcpHeader, TcpOptions, TcpSegment, UnknownTcpOption } from "./types.ts";
import { TCPOPT_MPTCP } from "./types.ts";
import { parseMptcpOption } from "./mptcp.ts";
import type { EmitResult } from "./segment.ts";
import {
  optionsLength,
  optionsTooLong,
  writeOptions,
  TCPOPT_EOL,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED,
  TCPOPT_TIMESTAMP,
  TCPOPT_WSCALE,
} from "./segment.ts";
import { InvalidArgumentError } from "../errors.ts";
import { fail, u16, u32, put16, put32 } from "./bytes.ts";

export const TCP_HEADER_MIN = 20;

function addUnknown(o: TcpOptions, kind: number, buf: Uint8Array, p: number, n: number): void {
  const u: UnknownTcpOption = { kind, data: buf.slice(p + 2, p + n) };
  if (o.unknown === undefined) o.unknown = [u];
  else o.unknown.push(u);
}

/** Parses the TCP option bytes buf[off, off+len) (the space between header and payload). */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number): ParseResult<TcpOptions> {
  const o: TcpOptions = { mptcp: [] };
  const end = off + len;
  let p = off;
  while (p < end) {
    const kind = buf[p]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return fail("BadOption", `option kind ${kind} without a length byte`);
    const n = buf[p + 1]!;
    if (n < 2) return fail("BadOption", `option kind ${kind} with length ${n}`);
    if (p + n > end) return fail("BadOption", `option kind ${kind} of length ${n} overruns the option space`);
    switch (kind) {
      case TCPOPT_MSS:
        if (n === 4) o.mss = u16(buf, p + 2);
        else addUnknown(o, kind, buf, p, n);
        break;
      case TCPOPT_WSCALE:
        if (n === 3) o.wscale = buf[p + 2]!;
        else addUnknown(o, kind, buf, p, n);
        break;
      case TCPOPT_SACK_PERMITTED:
        if (n === 2) o.sackPermitted = true;
        else addUnknown(o, kind, buf, p, n);
        break;
      case TCPOPT_SACK:
        if (n >= 10 && n <= 34 && (n - 2) % 8 === 0) {
          const blocks: SackBlock[] = [];
          for (let q = p + 2; q < p + n; q += 8) blocks.push({ start: u32(buf, q), end: u32(buf, q + 4) });
          o.sack = blocks;
        } else addUnknown(o, kind, buf, p, n);
        break;
      case TCPOPT_TIMESTAMP:
        if (n === 10) o.timestamp = { val: u32(buf, p + 2), ecr: u32(buf, p + 6) };
        else addUnknown(o, kind, buf, p, n);
        break;
      case TCPOPT_MPTCP: {
        const r = parseMptcpOption(buf, p, n);
        // The first as a one-element literal: a push onto [] reserves room for 16.
        if (r.ok) {
          if (o.mptcp.length === 0) o.mptcp = [r.value];
          else o.mptcp.push(r.value);
        } else addUnknown(o, kind, buf, p, n);
        break;
      }
      default:
        addUnknown(o, kind, buf, p, n);
    }
    p += n;
  }
  return { ok: true, value: o };
}

/**
 * Parses the TCP segment buf[off, off+len): header, options, and the payload as a view of
 * the rest (no copy). `len` is the segment length (from the IP header), not the buffer's;
 * a buffer shorter than off + len is Truncated.
 */
export function parseTcp(buf: Uint8Array, off: number, len: number): ParseResult<TcpSegment> {
  if (!(off >= 0 && len >= 0) || !Number.isFinite(off) || !Number.isFinite(len)) return fail("Truncated", "bad offset or length");
  if (off + len > buf.length) return fail("Truncated", `segment of ${len} bytes at ${off}, the buffer has ${buf.length}`);
  const n = len;
  if (n < TCP_HEADER_MIN) return fail("Truncated", `TCP header needs 20 bytes, have ${n}`);
  const hl = (buf[off + 12]! >>> 4) * 4;
  if (hl < TCP_HEADER_MIN) return fail("BadHeader", `data offset ${hl >>> 2} < 5`);
  if (hl > n) return fail("Truncated", `TCP header of ${hl} bytes, have ${n}`);
  const opts = parseTcpOptions(buf, off + TCP_HEADER_MIN, hl - TCP_HEADER_MIN);
  if (!opts.ok) return opts;
  const header: TcpHeader = {
    srcPort: u16(buf, off),
    dstPort: u16(buf, off + 2),
    seq: u32(buf, off + 4),
    ack: u32(buf, off + 8),
    flags: buf[off + 13]!,
    window: u16(buf, off + 14),
    checksum: u16(buf, off + 16),
    urgent: u16(buf, off + 18),
    options: opts.value,
  };
  return { ok: true, value: { header, payload: buf.subarray(off + hl, off + n) } };
}

/** 20 + the option layout length: where the payload starts. Over 60 means the options do not fit. */
export function tcpHeaderLength(options: TcpOptions): number {
  return TCP_HEADER_MIN + optionsLength(options);
}

function chk(name: string, v: number, max: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new InvalidArgumentError(`${name} must be an integer in [0, ${max}] (got ${v})`);
}

/**
 * Writes the TCP header and its options at out[off] and returns the header length (the
 * payload goes right after it), or OptionsTooLong. The reserved bits are 0.
 */
export function emitTcpHeader(h: TcpHeader, out: Uint8Array, off: number): EmitResult<number> {
  const n = writeTcpHeader(h, out, off);
  return n >= 0 ? { ok: true, value: n } : optionsTooLong();
}

/** emitTcpHeader without a result object: the header length, or -1 (OptionsTooLong, see optionsTooLong()). */
export function writeTcpHeader(h: TcpHeader, out: Uint8Array, off: number): number {
  chk("srcPort", h.srcPort, 0xffff);
  chk("dstPort", h.dstPort, 0xffff);
  chk("seq", h.seq, 0xffffffff);
  chk("ack", h.ack, 0xffffffff);
  chk("flags", h.flags, 0xff);
  chk("window", h.window, 0xffff);
  chk("checksum", h.checksum, 0xffff);
  chk("urgent", h.urgent, 0xffff);
  if (!(Number.isInteger(off) && off >= 0 && off + TCP_HEADER_MIN <= out.length)) {
    throw new InvalidArgumentError(`cannot write a TCP header at offset ${off} of a ${out.length}-byte buffer`);
  }
  const ol = writeOptions(h.options, out, off + TCP_HEADER_MIN);
  if (ol < 0) return -1;
  const hl = TCP_HEADER_MIN + ol;
  put16(out, off, h.srcPort);
  put16(out, off + 2, h.dstPort);
  put32(out, off + 4, h.seq);
  put32(out, off + 8, h.ack);
  out[off + 12] = (hl >>> 2) << 4;
  out[off + 13] = h.flags;
  put16(out, off + 14, h.window);
  put16(out, off + 16, h.checksum);
  put16(out, off + 18, h.urgent);
  return hl;
}

/**
 * Writes header, options and payload at out[off] and returns the segment length, or
 * OptionsTooLong (then nothing meaningful is written). Throws on a buffer too small.
 */
export function emitTcp(seg: TcpSegment, out: Uint8Array, off: number): EmitResult<number> {
  const n = writeTcp(seg, out, off);
  return n >= 0 ? { ok: true, value: n } : optionsTooLong();
}

/** emitTcp without a result object: the segment length, or -1 (OptionsTooLong, see optionsTooLong()). */
export function writeTcp(seg: TcpSegment, out: Uint8Array, off: number): number {
  const hl = writeTcpHeader(seg.header, out, off);
  if (hl < 0) return -1;
  const pl = seg.payload.length;
  if (off + hl + pl > out.length) {
    throw new InvalidArgumentError(`cannot write a ${hl + pl}-byte TCP segment at offset ${off} of a ${out.length}-byte buffer`);
  }
  if (pl) out.set(seg.payload, off + hl);
  return hl + pl;
}
