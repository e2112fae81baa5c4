// Internet checksum kernels (RFC 1071 sum, RFC 1624 incremental update): the pure-TS twin and
// the WebAssembly-backed implementations (assembly/checksum.ts, "simd" and "scalar" builds).
//
// Contract shared by every implementation (and by assembly/checksum.ts):
//   sum(buf, off, len, initial) = the one's complement sum of buf[off, off+len) read as
//   big-endian 16-bit words counted from `off` (buf[off] is the high byte of the first word; an
//   odd trailing byte is padded with a zero low byte), plus `initial`, folded to 16 bits.
//   `initial` is any integer in [0, 2^32) (an unfolded sum is fine).
//   The result is 0 only when all bytes and `initial` are 0, otherwise it lies in [1, 0xffff],
//   so all implementations return identical numbers, not only congruent ones.
//   Where the bytes sit in memory (odd offset, unaligned) never changes the result.
// Combining pieces: sum(A ++ B) = combineChecksums(sum(A), sum(B), len(A)); passing sum(A) as
// `initial` of B is the same thing only when len(A) is even (otherwise B's bytes move to the
// other half of their 16-bit words and its sum is byte-swapped, RFC 1071 section 2(B)).
// The checksum field is finishChecksum(sum) = ~sum & 0xffff.
import type { WasmKernels, WasmVariant } from "./wasm/instance.ts";
import { loadKernels } from "./wasm/instance.ts";
import { InvalidArgumentError } from "../errors.ts";

/** An Internet checksum implementation (see the contract at the top of this file). */
export interface ChecksumKernel {
  /** "ts", or the WebAssembly build variant. */
  readonly name: string;
  /** Folded 16-bit one's complement sum of buf[off, off+len), plus `initial` (default 0). */
  sum(buf: Uint8Array, off: number, len: number, initial?: number): number;
}

/** A checksum kernel backed by a WebAssembly build, which can also sum bytes already in its memory. */
export interface WasmChecksumKernel extends ChecksumKernel {
  readonly kernels: WasmKernels;
  /** The sum of [ptr, ptr+len) of the module's memory, plus `initial`: no copy, the data-plane path. */
  sumAt(ptr: number, len: number, initial: number): number;
  /**
   * A pointer to a scratch area of at least `len` bytes in the module's memory, to copy bytes
   * into. Allocated once and regrown rarely; growing may grow the memory, so re-read
   * `kernels.u8()` after calling this.
   */
  scratch(len: number): number;
}

/** Byte-swaps a 16-bit value. */
export function swap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** Folds a non-negative integer (up to 2^53) to 16 bits with end-around carries; 0 stays 0. */
export function foldChecksum(s: number): number {
  if (s <= 0xffffffff) {
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    return s;
  }
  // Congruent mod 0xffff, and a positive value stays positive.
  return ((s - 1) % 0xffff) + 1;
}

/** The checksum field for a sum: its one's complement, 16 bits. */
export function finishChecksum(sum: number): number {
  return ~foldChecksum(sum) & 0xffff;
}

/** The sum of A ++ B from the sums of A and B and the length of A (see the contract above). */
export function combineChecksums(sumA: number, sumB: number, lenA: number): number {
  const b = (lenA & 1) !== 0 ? swap16(foldChecksum(sumB)) : sumB;
  return foldChecksum(foldChecksum(sumA) + foldChecksum(b));
}

/**
 * RFC 1624 equation 3: the checksum field after one 16-bit word of the covered data (at an even
 * distance from the start) changes from `oldWord` to `newWord`: HC' = ~(~HC + ~m + m').
 * It equals a recomputation except when the new covered data sums to zero (all zero bytes):
 * then this gives 0x0000 where a recomputation gives 0xffff (the two zeros of one's complement).
 */
export function incrementalUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  const s = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldChecksum(s) & 0xffff;
}

function checkRange(buf: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length && Number.isInteger(off) && Number.isInteger(len))) {
    throw new InvalidArgumentError(`checksum range [${off}, ${off}+${len}) outside a buffer of ${buf.length} bytes`);
  }
}

const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// The TS twin reads 32-bit words through a Uint32Array over the whole underlying buffer, cached
// for the last buffer seen so that per-packet calls allocate nothing.
let wordBuf: ArrayBufferLike | null = null;
let wordLen = -1;
let words: Uint32Array = new Uint32Array(0);

/** Words per call of `sumWords` (the float sums stay far below 2^53). Small enough that a large
 * range makes many calls, so the engine optimises the loop through a normal call rather than
 * only on-stack replacement, which measured 2.5x slower on V8. */
const TS_BLOCK = 1 << 14;

/** Sum of u32[w, end) as a float (exact: at most 2^14 words of < 2^32 each). */
function sumWords(u32: Uint32Array, w: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  const unrolled = end - ((end - w) & 3);
  while (w < unrolled) {
    s0 += u32[w]!;
    s1 += u32[w + 1]!;
    s0 += u32[w + 2]!;
    s1 += u32[w + 3]!;
    w += 4;
  }
  while (w < end) s0 += u32[w++]!;
  return s0 + s1;
}

/**
 * The pure-TS twin: sums platform-order 32-bit words of the aligned middle of the range (word
 * pairing by memory address, with the edge bytes weighted by their address parity), folds once
 * at the end, and byte-swaps when the pairing by address differs from the pairing counted from
 * `off`. Exact for any length: the float sums are folded every 2^14 words.
 */
function tsSum(buf: Uint8Array, off: number, len: number, initial: number): number {
  const base = buf.byteOffset;
  let a = base + off; // address in the underlying buffer
  const end = a + len;
  // Address parity decides which half of a platform-order 16-bit word a byte lands in.
  const hiShift = LITTLE_ENDIAN ? 8 : 0; // shift of a byte at an odd address
  const loShift = 8 - hiShift; // shift of a byte at an even address
  let s0 = 0;
  let s1 = 0;
  // Head: single bytes up to 4-byte alignment.
  while ((a & 3) !== 0 && a < end) {
    s0 += buf[a - base]! << ((a & 1) !== 0 ? hiShift : loShift);
    a++;
  }
  const wEnd = end >>> 2 > a >>> 2 ? end >>> 2 : a >>> 2;
  let w = a >>> 2;
  if (w < wEnd) {
    const ab = buf.buffer;
    if (ab !== wordBuf || ab.byteLength !== wordLen) {
      wordBuf = ab;
      wordLen = ab.byteLength;
      words = new Uint32Array(ab, 0, ab.byteLength >>> 2);
    }
    const u32 = words;
    while (w < wEnd) {
      const blockEnd = wEnd - w > TS_BLOCK ? w + TS_BLOCK : wEnd;
      s0 = foldChecksum(s0 + sumWords(u32, w, blockEnd));
      w = blockEnd;
    }
    a = w << 2;
  }
  // Tail: the last 0-3 bytes.
  while (a < end) {
    s0 += buf[a - base]! << ((a & 1) !== 0 ? hiShift : loShift);
    a++;
  }
  let m = foldChecksum(s0 + s1);
  // m pairs bytes by address in platform order. Counted from `off` in big-endian order, that is
  // m itself when (little-endian and off's address odd) or (big-endian and even), else swapped.
  const oddStart = ((base + off) & 1) !== 0;
  if (oddStart !== LITTLE_ENDIAN) m = swap16(m);
  return initial === 0 ? m : foldChecksum(m + initial);
}

/** The pure-TS checksum kernel (the oracle and benchmark baseline of the WebAssembly ones). */
export const tsChecksumKernel: ChecksumKernel = {
  name: "ts",
  sum(buf: Uint8Array, off: number, len: number, initial = 0): number {
    checkRange(buf, off, len);
    return tsSum(buf, off, len, initial);
  },
};

const wasmCache = new Map<WasmVariant, WasmChecksumKernel>();

/** The checksum kernel of one WebAssembly build (shared per variant). */
export function wasmChecksumKernel(variant?: WasmVariant): WasmChecksumKernel {
  const k = loadKernels(variant);
  const hit = wasmCache.get(k.variant);
  if (hit) return hit;
  const ex = k.exports as {
    checksumSum(ptr: number, len: number, initial: number): number;
    checksumScratch(len: number): number;
  };
  const sumAt = ex.checksumSum;
  const scratch = ex.checksumScratch;
  const kernel: WasmChecksumKernel = {
    name: `wasm-${k.variant}`,
    kernels: k,
    sumAt(ptr: number, len: number, initial: number): number {
      return sumAt(ptr, len, initial);
    },
    scratch(len: number): number {
      return scratch(len) >>> 0;
    },
    sum(buf: Uint8Array, off: number, len: number, initial = 0): number {
      checkRange(buf, off, len);
      // Bytes that already live in this module's memory are summed in place.
      if (buf.buffer === k.memory.buffer) return sumAt(buf.byteOffset + off, len, initial);
      const p = scratch(len) >>> 0;
      const src = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
      k.u8().set(src, p);
      return sumAt(p, len, initial);
    },
  };
  wasmCache.set(k.variant, kernel);
  return kernel;
}

let defaultKernel: ChecksumKernel | null = null;

/** The kernel used when none is injected: the WebAssembly SIMD build (scalar where SIMD is missing). */
export function defaultChecksumKernel(): ChecksumKernel {
  if (defaultKernel === null) defaultKernel = wasmChecksumKernel();
  return defaultKernel;
}
