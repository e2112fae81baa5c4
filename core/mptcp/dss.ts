// Data-sequence arithmetic of the MPTCP connection (RFC 8684 section 3.3): the send side keeps
// its DSNs unbounded (IDSN + 1 + byte offset) so they never wrap in comparisons; the wire and
// the kernels see them mod 2^64, and 32-bit DSNs / DATA_ACKs are expanded first
// (core/wire/seq.ts expandSeq64), then unwrapped next to a reference.

const MASK64 = (1n << 64n) - 1n;
const TWO32 = 4294967296;

/** A DSN as it goes on the wire (mod 2^64). */
export function wireDsn(dsn: bigint): bigint {
  // Already in range (all DSNs until the first wrap): no new bigint (this runs per segment).
  return dsn >= 0n && dsn <= MASK64 ? dsn : dsn & MASK64;
}

/**
 * A wire DSN / DATA_ACK (mod 2^64) as the unbounded value closest to `ref` (within 2^63 either
 * way): the inverse of wireDsn near `ref`.
 */
export function unwrapDsn(x: bigint, ref: bigint): bigint {
  return ref + BigInt.asIntN(64, x - (ref & MASK64));
}

/** Relative subflow sequence number of `seq` on `sf` (the first data byte after the SYN is 1). */
export function rel(sf: { readonly tcp: { readonly initialRecvSeq: number } }, seq: number): number {
  return (seq - sf.tcp.initialRecvSeq + TWO32) % TWO32;
}
