// Layout of the TCP option space (RFC 9293 section 3.2: at most 40 bytes, a multiple of 4):
// TCP options (RFC 7323, RFC 2018, RFC 6691 MSS) and MPTCP options (RFC 8684, kind 30).
//
// The layout follows Linux's tcp_options_write(), so our segments look like the kernel's in a
// capture and every option starts where the kernel's would:
//   MSS (4) | sackOK + TS (2 + 10) or NOP NOP TS (12) | NOP NOP sackOK (4, without TS)
//   | NOP wscale (4) | NOP NOP SACK (4 + 8n) | MPTCP options, each followed by NOPs up to a
//   multiple of 4 (as mptcp_options_write() does) | unknown options, the same way.
// If that aligned layout is longer than 40 bytes, the options are packed without NOPs, in the
// same order, and the space is padded to a multiple of 4 with EOL then zeros. If even that is
// longer than 40 bytes, nothing is written and a typed OptionsTooLong error is returned.
// `optionsLength` gives the length the layout would take, so engines can budget the space.
import type { TcpOptions } from "./types.ts";
import { emitMptcpOption, mptcpOptionLength } from "./mptcp.ts";
import { InvalidArgumentError } from "../errors.ts";
import { put16, put32 } from "./bytes.ts";

/** The most option bytes a TCP header can carry (data offset 15). */
export const TCP_OPTIONS_MAX = 40;

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

/** The options do not fit in the TCP option space. */
export interface OptionsTooLong {
  reason: "OptionsTooLong";
  /** Bytes the options need, packed without alignment NOPs (before the final padding). */
  needed: number;
  limit: number;
  detail: string;
}

export type EmitError = OptionsTooLong;

/** The outcome of an emit that can be refused for a reason other than API misuse. */
export type EmitResult<T> = { ok: true; value: T } | { ok: false; error: EmitError };

function chk(name: string, v: number, max: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new InvalidArgumentError(`${name} must be an integer in [0, ${max}] (got ${v})`);
}

const align4 = (n: number): number => (n + 3) & ~3;

// What measure() found: the aligned (Linux-like) and packed lengths of the options (module state
// instead of a result object: this runs twice per segment sent).
let mAligned = 0;
let mPacked = 0;

/** Aligned (Linux-like) and packed lengths of the options, into mAligned / mPacked. */
function measure(o: TcpOptions): void {
  let aligned = 0;
  let packed = 0;
  if (o.mss !== undefined) {
    aligned += 4;
    packed += 4;
  }
  if (o.timestamp !== undefined) {
    aligned += 12;
    packed += 10;
    if (o.sackPermitted) packed += 2;
  } else if (o.sackPermitted) {
    aligned += 4;
    packed += 2;
  }
  if (o.wscale !== undefined) {
    aligned += 4;
    packed += 3;
  }
  const sack = o.sack;
  if (sack !== undefined && sack.length > 0) {
    aligned += 4 + 8 * sack.length;
    packed += 2 + 8 * sack.length;
  }
  const mp = o.mptcp;
  for (let i = 0; i < mp.length; i++) {
    const n = mptcpOptionLength(mp[i]!);
    aligned += align4(n);
    packed += n;
  }
  const un = o.unknown;
  if (un !== undefined) {
    for (let i = 0; i < un.length; i++) {
      const n = 2 + un[i]!.data.length;
      aligned += align4(n);
      packed += n;
    }
  }
  mAligned = aligned;
  mPacked = packed;
}

/**
 * The number of option bytes the layout of `options` takes (a multiple of 4): the Linux-like
 * aligned layout when it fits in 40 bytes, else the packed one. More than TCP_OPTIONS_MAX
 * means they do not fit.
 */
export function optionsLength(options: TcpOptions): number {
  measure(options);
  return mAligned <= TCP_OPTIONS_MAX ? mAligned : align4(mPacked);
}

/**
 * Writes the options at out[off] (see the layout above). Returns the bytes written (a multiple
 * of 4, at most 40), or OptionsTooLong without writing anything. Throws InvalidArgumentError
 * on API misuse (a field out of range, more than 4 SACK blocks, a buffer too small).
 */
export function emitOptions(options: TcpOptions, out: Uint8Array, off: number): EmitResult<number> {
  const n = writeOptions(options, out, off);
  return n >= 0 ? { ok: true, value: n } : optionsTooLong();
}

/** The OptionsTooLong error of the last writeOptions that returned -1. */
export function optionsTooLong(): { ok: false; error: EmitError } {
  return {
    ok: false,
    error: { reason: "OptionsTooLong", needed: mPacked, limit: TCP_OPTIONS_MAX, detail: `options need ${mPacked} bytes packed, the TCP option space has ${TCP_OPTIONS_MAX}` },
  };
}

/**
 * emitOptions without a result object: the bytes written, or -1 when the options do not fit
 * (nothing written; optionsTooLong() then gives the error). For the per-packet path.
 */
export function writeOptions(options: TcpOptions, out: Uint8Array, off: number): number {
  const o = options;
  measure(o);
  const aligned = mAligned <= TCP_OPTIONS_MAX;
  const total = aligned ? mAligned : align4(mPacked);
  if (total > TCP_OPTIONS_MAX) return -1;
  if (!(Number.isInteger(off) && off >= 0 && off + total <= out.length)) {
    throw new InvalidArgumentError(`cannot write ${total} option bytes at offset ${off} of a ${out.length}-byte buffer`);
  }
  let p = off;
  if (o.mss !== undefined) {
    chk("mss", o.mss, 0xffff);
    out[p] = TCPOPT_MSS;
    out[p + 1] = 4;
    put16(out, p + 2, o.mss);
    p += 4;
  }
  const ts = o.timestamp;
  if (ts !== undefined) {
    chk("timestamp val", ts.val, 0xffffffff);
    chk("timestamp ecr", ts.ecr, 0xffffffff);
    if (o.sackPermitted) {
      out[p++] = TCPOPT_SACK_PERMITTED;
      out[p++] = 2;
    } else if (aligned) {
      out[p++] = TCPOPT_NOP;
      out[p++] = TCPOPT_NOP;
    }
    out[p] = TCPOPT_TIMESTAMP;
    out[p + 1] = 10;
    put32(out, p + 2, ts.val);
    put32(out, p + 6, ts.ecr);
    p += 10;
  } else if (o.sackPermitted) {
    if (aligned) {
      out[p++] = TCPOPT_NOP;
      out[p++] = TCPOPT_NOP;
    }
    out[p++] = TCPOPT_SACK_PERMITTED;
    out[p++] = 2;
  }
  if (o.wscale !== undefined) {
    chk("wscale", o.wscale, 0xff);
    if (aligned) out[p++] = TCPOPT_NOP;
    out[p] = TCPOPT_WSCALE;
    out[p + 1] = 3;
    out[p + 2] = o.wscale;
    p += 3;
  }
  const sack = o.sack;
  if (sack !== undefined && sack.length > 0) {
    if (sack.length > 4) throw new InvalidArgumentError(`at most 4 SACK blocks (got ${sack.length})`);
    if (aligned) {
      out[p++] = TCPOPT_NOP;
      out[p++] = TCPOPT_NOP;
    }
    out[p] = TCPOPT_SACK;
    out[p + 1] = 2 + 8 * sack.length;
    p += 2;
    for (let i = 0; i < sack.length; i++) {
      const b = sack[i]!;
      chk("SACK start", b.start, 0xffffffff);
      chk("SACK end", b.end, 0xffffffff);
      put32(out, p, b.start);
      put32(out, p + 4, b.end);
      p += 8;
    }
  }
  const mp = o.mptcp;
  for (let i = 0; i < mp.length; i++) {
    p += emitMptcpOption(mp[i]!, out, p);
    if (aligned) while ((p - off) & 3) out[p++] = TCPOPT_NOP;
  }
  const un = o.unknown;
  if (un !== undefined) {
    for (let i = 0; i < un.length; i++) {
      const u = un[i]!;
      chk("unknown option kind", u.kind, 0xff);
      if (u.kind === TCPOPT_EOL || u.kind === TCPOPT_NOP) throw new InvalidArgumentError("unknown options cannot be EOL or NOP");
      out[p] = u.kind;
      out[p + 1] = 2 + u.data.length;
      out.set(u.data, p + 2);
      p += 2 + u.data.length;
      if (aligned) while ((p - off) & 3) out[p++] = TCPOPT_NOP;
    }
  }
  if (p < off + total) {
    out[p++] = TCPOPT_EOL;
    while (p < off + total) out[p++] = 0;
  }
  return total;
}
