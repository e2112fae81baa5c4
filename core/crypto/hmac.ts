// MPTCP HMACs (RFC 8684 sections 3.2 and 3.4.1), all HMAC-SHA256 (RFC 2104) with keys from
// MP_CAPABLE as 8 big-endian bytes each. In MP_JOIN, A is the host that opens the subflow and
// B the host that answers it:
//   SYN/ACK (sent by B): first 8 bytes of HMAC(keyB || keyA, nonceB || nonceA)
//   third ACK (sent by A): first 20 bytes of HMAC(keyA || keyB, nonceA || nonceB)
//   ADD_ADDR: LAST 8 bytes of HMAC(senderKey || receiverKey, id | address | port (0 if absent))
// Synchronous (pure JS SHA-256 from @noble/hashes), identical on every runtime.
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keyBytes } from "./keys.ts";
import type { IpAddress } from "../wire/types.ts";
import { InvalidArgumentError } from "../errors.ts";

/** HMAC-SHA256 of `message` under `key` (32 bytes). */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(sha256, key, message);
}

function u32Bytes(n: number, out: Uint8Array, off: number): void {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new InvalidArgumentError(`a nonce is a u32 (got ${n})`);
  out[off] = n >>> 24;
  out[off + 1] = (n >>> 16) & 0xff;
  out[off + 2] = (n >>> 8) & 0xff;
  out[off + 3] = n & 0xff;
}

/** HMAC(key1 || key2, nonce1 || nonce2): the full 32-byte MP_JOIN digest. */
function joinDigest(key1: bigint, key2: bigint, nonce1: number, nonce2: number): Uint8Array {
  const k = new Uint8Array(16);
  keyBytes(key1, k, 0);
  keyBytes(key2, k, 8);
  const m = new Uint8Array(8);
  u32Bytes(nonce1, m, 0);
  u32Bytes(nonce2, m, 4);
  return hmacSha256(k, m);
}

/** The 64-bit truncated HMAC B sends in the MP_JOIN SYN/ACK (8 bytes). */
export function joinSynAckHmac(keyA: bigint, keyB: bigint, nonceA: number, nonceB: number): Uint8Array {
  return joinDigest(keyB, keyA, nonceB, nonceA).slice(0, 8);
}

/** The 160-bit HMAC A sends in the MP_JOIN third ACK (20 bytes). */
export function joinAckHmac(keyA: bigint, keyB: bigint, nonceA: number, nonceB: number): Uint8Array {
  return joinDigest(keyA, keyB, nonceA, nonceB).slice(0, 20);
}

/**
 * The 64-bit truncated HMAC of an ADD_ADDR (8 bytes) sent by the host with `senderKey` to the
 * host with `receiverKey`. `port` is the advertised port, or undefined / 0 when absent.
 */
export function addAddrHmac(senderKey: bigint, receiverKey: bigint, addressId: number, address: IpAddress, port?: number): Uint8Array {
  if (address.length !== 4 && address.length !== 16) throw new InvalidArgumentError(`an address has 4 or 16 bytes (got ${address.length})`);
  const p = port ?? 0;
  if (!(Number.isInteger(p) && p >= 0 && p <= 0xffff)) throw new InvalidArgumentError(`a port is a u16 (got ${p})`);
  const k = new Uint8Array(16);
  keyBytes(senderKey, k, 0);
  keyBytes(receiverKey, k, 8);
  const m = new Uint8Array(1 + address.length + 2);
  m[0] = addressId & 0xff;
  m.set(address, 1);
  m[1 + address.length] = p >>> 8;
  m[2 + address.length] = p & 0xff;
  return hmacSha256(k, m).slice(24, 32);
}

/** Compares two byte strings in time independent of where they differ (false if lengths differ). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** A checks B's SYN/ACK HMAC. Never throws on a wrong-length `received` (returns false). */
export function verifyJoinSynAckHmac(keyA: bigint, keyB: bigint, nonceA: number, nonceB: number, received: Uint8Array): boolean {
  return constantTimeEqual(joinSynAckHmac(keyA, keyB, nonceA, nonceB), received);
}

/** B checks A's third-ACK HMAC. Never throws on a wrong-length `received` (returns false). */
export function verifyJoinAckHmac(keyA: bigint, keyB: bigint, nonceA: number, nonceB: number, received: Uint8Array): boolean {
  return constantTimeEqual(joinAckHmac(keyA, keyB, nonceA, nonceB), received);
}

/** The receiver of an ADD_ADDR checks its HMAC (keys from the sender's point of view). */
export function verifyAddAddrHmac(
  senderKey: bigint,
  receiverKey: bigint,
  addressId: number,
  address: IpAddress,
  port: number | undefined,
  received: Uint8Array,
): boolean {
  if (address.length !== 4 && address.length !== 16) return false;
  return constantTimeEqual(addAddrHmac(senderKey, receiverKey, addressId, address, port), received);
}
