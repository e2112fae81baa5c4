// Big-endian field access and the parse-failure constructor shared by the codecs in this folder.
import type { ParseErrorReason, ParseResult } from "./types.ts";

/** A failed ParseResult with a typed reason. */
export function fail<T>(reason: ParseErrorReason, detail: string): ParseResult<T> {
  return { ok: false, error: { reason, detail } };
}

/** Reads a big-endian u16 at b[o]. */
export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Reads a big-endian u32 at b[o]. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Writes v as a big-endian u16 at b[o]. */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

/** Writes v as a big-endian u32 at b[o]. */
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
