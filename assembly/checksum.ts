// Internet checksum kernels: RFC 1071 (one's complement sum, computation) and RFC 1624
// (incremental update, equation 3). Raw (ptr, len) exports over this module's memory.
//
// Contract of every sum in this file (the same as core/kernels/checksum.ts):
//   checksumSum(ptr, len, initial) = the one's complement sum of the bytes [ptr, ptr+len) read as
//   big-endian 16-bit words *counted from ptr* (the byte at ptr is the high byte of the first
//   word; an odd trailing byte is padded with a zero low byte), plus `initial`, folded to 16 bits.
//   The result is 0 only when every byte and `initial` are 0; otherwise it lies in [1, 0xffff].
//   The alignment of ptr does not matter (odd addresses are fine): word pairing is relative to
//   the start of the range, never to the memory address.
//
// Combining partial sums: for a range split into A then B,
//   sum(A ++ B) = fold(sum(A) + (len(A) odd ? swap16(sum(B)) : sum(B)))
// i.e. when A has an odd length every byte of B moves to the other half of its word, which
// byte-swaps B's sum (one's complement sums are byte-order independent up to a swap, RFC 1071
// section 2(B)). `checksumCombine` does exactly that; `initial` is only a plain add, so passing
// sum(A) as `initial` of B is correct only when len(A) is even.
//
// Implementation: the bytes are summed as little-endian words (what WebAssembly loads give) and
// the folded result is byte-swapped once at the end, which equals the big-endian sum.
// 32-bit words can be added directly because 2^16 = 1 (mod 0xffff).

/** Iterations of the 64-byte SIMD loop between two widenings of the 32-bit lane sums. With
 * 4 accumulators, each lane receives one 32-bit word per iteration; the high-half sums stay
 * exact while iterations * 0xffff < 2^32, so the block must stay <= 65536 iterations. */
const SIMD_BLOCK: usize = 32768;

// @ts-ignore: decorator
@inline function foldTo16(s: u64): u32 {
  // Each step keeps the value congruent mod 0xffff and never turns a non-zero value into 0.
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return <u32>s;
}

// @ts-ignore: decorator
@inline function swap16(x: u32): u32 {
  return ((x & 0xff) << 8) | ((x >> 8) & 0xff);
}

/** Little-endian word sum of [p, end) with p - start even; returns an unfolded 64-bit sum. */
// @ts-ignore: decorator
@inline function sumScalarLE(p: usize, end: usize): u64 {
  let a0: u64 = 0;
  let a1: u64 = 0;
  let a2: u64 = 0;
  let a3: u64 = 0;
  while (end - p >= 32) {
    a0 += <u64>load<u32>(p);
    a1 += <u64>load<u32>(p, 4);
    a2 += <u64>load<u32>(p, 8);
    a3 += <u64>load<u32>(p, 12);
    a0 += <u64>load<u32>(p, 16);
    a1 += <u64>load<u32>(p, 20);
    a2 += <u64>load<u32>(p, 24);
    a3 += <u64>load<u32>(p, 28);
    p += 32;
  }
  while (end - p >= 4) {
    a0 += <u64>load<u32>(p);
    p += 4;
  }
  if (end - p >= 2) {
    a1 += <u64>load<u16>(p);
    p += 2;
  }
  // The odd last byte sits at an even distance from the start: the low byte of a little-endian
  // word (the high byte of the big-endian word once swapped).
  if (p < end) a2 += <u64>load<u8>(p);
  return a0 + a1 + a2 + a3;
}

/** Unfolded little-endian word sum of [ptr, ptr+len) (the pairing counted from ptr). */
function sumLE(ptr: usize, len: usize): u64 {
  let p = ptr;
  const end = ptr + len;
  let acc: u64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (len >= 64) {
      let total = i64x2.splat(0);
      while (end - p >= 64) {
        let n = (end - p) >> 6;
        if (n > SIMD_BLOCK) n = SIMD_BLOCK;
        // v*: wrapping sums of whole 32-bit lanes; h*: exact sums of their high halves.
        // The exact low-half sum is v - (h << 16) (mod 2^32, and it is < 2^32 by the block bound).
        let v0 = i32x4.splat(0);
        let v1 = i32x4.splat(0);
        let v2 = i32x4.splat(0);
        let v3 = i32x4.splat(0);
        let h0 = i32x4.splat(0);
        let h1 = i32x4.splat(0);
        let h2 = i32x4.splat(0);
        let h3 = i32x4.splat(0);
        for (; n > 0; n--) {
          const x0 = v128.load(p);
          const x1 = v128.load(p, 16);
          const x2 = v128.load(p, 32);
          const x3 = v128.load(p, 48);
          v0 = i32x4.add(v0, x0);
          h0 = i32x4.add(h0, i32x4.shr_u(x0, 16));
          v1 = i32x4.add(v1, x1);
          h1 = i32x4.add(h1, i32x4.shr_u(x1, 16));
          v2 = i32x4.add(v2, x2);
          h2 = i32x4.add(h2, i32x4.shr_u(x2, 16));
          v3 = i32x4.add(v3, x3);
          h3 = i32x4.add(h3, i32x4.shr_u(x3, 16));
          p += 64;
        }
        const l0 = i32x4.sub(v0, i32x4.shl(h0, 16));
        const l1 = i32x4.sub(v1, i32x4.shl(h1, 16));
        const l2 = i32x4.sub(v2, i32x4.shl(h2, 16));
        const l3 = i32x4.sub(v3, i32x4.shl(h3, 16));
        // Widen the eight 32-bit lane vectors into the 64-bit total (weights of the high halves
        // are 2^16 = 1 mod 0xffff, so they are added as they are).
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(l0));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(l0));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(l1));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(l1));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(l2));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(l2));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(l3));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(l3));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(h0));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(h0));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(h1));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(h1));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(h2));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(h2));
        total = i64x2.add(total, i64x2.extend_low_i32x4_u(h3));
        total = i64x2.add(total, i64x2.extend_high_i32x4_u(h3));
      }
      acc = <u64>i64x2.extract_lane(total, 0) + <u64>i64x2.extract_lane(total, 1);
      assert(((p - ptr) & 63) == 0, "simd loop ends on a 64-byte step");
    }
  }
  return acc + sumScalarLE(p, end);
}

/**
 * RFC 1071 sum of [ptr, ptr+len) plus `initial` (any u32, e.g. an unfolded pseudo-header sum),
 * folded to 16 bits. See the contract at the top of this file.
 */
export function checksumSum(ptr: usize, len: usize, initial: u32): u32 {
  assert(ptr + len >= ptr, "range wraps");
  assert(ptr + len <= (<usize>memory.size() << 16), "range beyond memory");
  const le = foldTo16(sumLE(ptr, len));
  return foldTo16(<u64>swap16(le) + <u64>initial);
}

/** The sum of A ++ B from sum(A), sum(B) and len(A) (B's bytes change word half when len(A) is odd). */
export function checksumCombine(sumA: u32, sumB: u32, lenA: usize): u32 {
  const b = (lenA & 1) != 0 ? swap16(foldTo16(sumB)) : sumB;
  return foldTo16(<u64>sumA + <u64>b);
}

/** The checksum field value for a folded sum: its one's complement, 16 bits. */
export function checksumFinish(sum: u32): u32 {
  return ~foldTo16(sum) & 0xffff;
}

/**
 * RFC 1624 equation 3: the new checksum field after one 16-bit word of the covered data
 * changes from `oldWord` to `newWord`: HC' = ~(~HC + ~m + m').
 */
export function checksumIncremental(oldChecksum: u32, oldWord: u32, newWord: u32): u32 {
  const s = <u64>(~oldChecksum & 0xffff) + <u64>(~oldWord & 0xffff) + <u64>(newWord & 0xffff);
  return ~foldTo16(s) & 0xffff;
}

// Scratch area for JavaScript callers: data that lives in a JS buffer must be copied into this
// memory before a kernel can read it. Allocated once and regrown (never shrunk) only when a
// larger range is asked for; growing may grow the memory, so JS must re-create its views.
let scratchPtr: usize = 0;
let scratchCap: usize = 0;

/** A pointer to a scratch area of at least `minLen` bytes (the same one until it must grow). */
export function checksumScratch(minLen: usize): usize {
  if (minLen > scratchCap || scratchPtr == 0) {
    let cap: usize = 65536;
    while (cap < minLen && cap < (<usize>1 << 30)) cap <<= 1;
    if (cap < minLen) cap = minLen;
    if (scratchPtr != 0) heap.free(scratchPtr);
    scratchPtr = heap.alloc(cap);
    scratchCap = cap;
  }
  return scratchPtr;
}

/** Capacity in bytes of the current scratch area (0 before the first `checksumScratch`). */
export function checksumScratchCapacity(): usize {
  return scratchCap;
}
