// Injected randomness (DESIGN.md convention 4): keys, nonces and initial sequence numbers come
// from a RandomSource. Adapters supply one backed by crypto.getRandomValues; tests and the
// simulator use SeededRandomSource, so every run is reproducible from its seed. The core never
// draws ambient randomness itself.

/** A source of random bytes. `fill` overwrites every byte of `bytes`. */
export interface RandomSource {
  fill(bytes: Uint8Array): void;
}

const scratch4 = new Uint8Array(4);
const scratch8 = new Uint8Array(8);

/** A uniformly random u32 (as a number in [0, 2^32)) drawn from `src`. */
export function randomU32(src: RandomSource): number {
  src.fill(scratch4);
  return ((scratch4[0]! << 24) | (scratch4[1]! << 16) | (scratch4[2]! << 8) | scratch4[3]!) >>> 0;
}

/** A uniformly random u64 (as a bigint in [0, 2^64)) drawn from `src`: for MPTCP keys. */
export function randomU64(src: RandomSource): bigint {
  src.fill(scratch8);
  const hi = ((scratch8[0]! << 24) | (scratch8[1]! << 16) | (scratch8[2]! << 8) | scratch8[3]!) >>> 0;
  const lo = ((scratch8[4]! << 24) | (scratch8[5]! << 16) | (scratch8[6]! << 8) | scratch8[7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** SplitMix32 step (Steele, Lea and Flood's SplitMix with 32-bit murmur3 finaliser constants). */
function splitmix32(state: Uint32Array): number {
  state[0] = (state[0]! + 0x9e3779b9) >>> 0;
  let z = state[0]!;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A deterministic RandomSource for tests and simulation: xoshiro128** 1.0 (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", 2018; 128-bit state, period 2^128 - 1),
 * its state expanded from a 32-bit seed with SplitMix32. Bytes are produced from successive
 * 32-bit outputs, big-endian, so the byte stream is the same on every platform.
 * NOT cryptographically secure: never use it for keys on a real network.
 */
export class SeededRandomSource implements RandomSource {
  private readonly s: Uint32Array = new Uint32Array(4);

  constructor(seed: number) {
    const st = new Uint32Array([seed >>> 0]);
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** The next 32-bit output, a number in [0, 2^32). */
  nextU32(): number {
    const s = this.s;
    let s0 = s[0]!;
    let s1 = s[1]!;
    let s2 = s[2]!;
    let s3 = s[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /**
   * Successive 32-bit outputs, big-endian. The whole words go through one DataView store each
   * with the state in locals (256 MiB in ~80 ms on Node 20, against ~180 ms byte by byte: the
   * CLI's `--send` pattern is this stream); a tail of 1-3 bytes takes the high bytes of one more.
   */
  fill(bytes: Uint8Array): void {
    const n = bytes.length & ~3;
    if (n > 0) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
      const s = this.s;
      let s0 = s[0]! | 0;
      let s1 = s[1]! | 0;
      let s2 = s[2]! | 0;
      let s3 = s[3]! | 0;
      for (let i = 0; i < n; i += 4) {
        const m = Math.imul(s1, 5);
        dv.setInt32(i, Math.imul((m << 7) | (m >>> 25), 9));
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
      }
      s[0] = s0;
      s[1] = s1;
      s[2] = s2;
      s[3] = s3;
    }
    if (n < bytes.length) {
      let r = this.nextU32();
      for (let i = n; i < bytes.length; i++) {
        bytes[i] = r >>> 24;
        r = (r << 8) >>> 0;
      }
    }
  }
}
