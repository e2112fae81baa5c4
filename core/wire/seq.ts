// Named 32-bit wrapping sequence arithmetic (RFC 9293 section 3.4; RFC 1982 serial numbers).
// All values are numbers in [0, 2^32). Comparisons are valid while the two values are less
// than 2^31 apart, which TCP windows guarantee.

/** a + b modulo 2^32. */
export function seqAdd(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** The signed distance a - b, in (-2^31, 2^31]. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return seqLt(a, b) ? a : b;
}

/** True when lo <= x < hi in sequence space. */
export function seqInRange(x: number, lo: number, hi: number): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}

const TWO64 = 1n << 64n;
const MASK64 = TWO64 - 1n;

/**
 * Expands a 32-bit DSN or DATA_ACK (RFC 8684 section 3.3) to the 64-bit value closest to
 * `reference` whose low 32 bits are `low32` (wrap-aware in both directions).
 */
export function expandSeq64(low32: number, reference: bigint): bigint {
  const ref = reference & MASK64;
  const base = ref & ~0xffffffffn;
  let cand = base | BigInt(low32 >>> 0);
  const half = 1n << 31n;
  if (cand > ref + half) cand -= 1n << 32n;
  else if (cand + half < ref) cand += 1n << 32n;
  return cand & MASK64;
}

/** a + b modulo 2^64. */
export function seq64Add(a: bigint, b: bigint): bigint {
  return (a + b) & MASK64;
}

/** The signed distance a - b in 64-bit data sequence space, as a bigint in [-2^63, 2^63). */
export function seq64Diff(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a - b);
}
