// MPTCP key material (RFC 8684 section 3.1): from a 64-bit key, the 32-bit token (the most
// significant 32 bits of SHA-256 of the key) and the 64-bit initial data sequence number (the
// least significant 64 bits). The key is hashed as its 8 big-endian bytes.
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidArgumentError } from "../errors.ts";

/** Token and IDSN derived from one key. */
export interface KeyMaterial {
  /** First 4 bytes of SHA-256(key), as a u32 number. */
  token: number;
  /** Last 8 bytes of SHA-256(key), as a u64 bigint. The first data byte has DSN = IDSN + 1. */
  idsn: bigint;
}

/** The 8 big-endian bytes of a u64 key, written into `out` at `off` (or a new array). */
export function keyBytes(key: bigint, out: Uint8Array = new Uint8Array(8), off = 0): Uint8Array {
  if (key < 0n || key > 0xffffffffffffffffn) throw new InvalidArgumentError(`an MPTCP key is a u64 (got ${key})`);
  const hi = Number(key >> 32n);
  const lo = Number(key & 0xffffffffn);
  out[off] = hi >>> 24;
  out[off + 1] = (hi >>> 16) & 0xff;
  out[off + 2] = (hi >>> 8) & 0xff;
  out[off + 3] = hi & 0xff;
  out[off + 4] = lo >>> 24;
  out[off + 5] = (lo >>> 16) & 0xff;
  out[off + 6] = (lo >>> 8) & 0xff;
  out[off + 7] = lo & 0xff;
  return out;
}

function u32At(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Token and IDSN of a key, from one SHA-256. */
export function keyMaterial(key: bigint): KeyMaterial {
  const d = sha256(keyBytes(key));
  return { token: u32At(d, 0), idsn: (BigInt(u32At(d, 24)) << 32n) | BigInt(u32At(d, 28)) };
}

/** The 32-bit token of a key (identifies the connection in MP_JOIN). */
export function keyToToken(key: bigint): number {
  return keyMaterial(key).token;
}

/** The 64-bit initial data sequence number of a key. */
export function keyToIdsn(key: bigint): bigint {
  return keyMaterial(key).idsn;
}
