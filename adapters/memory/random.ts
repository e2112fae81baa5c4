// A small seeded PRNG for the simulator (xoshiro128** seeded through splitmix32). Every link
// direction, middlebox and host gets its own stream derived from (seed, stream id), so adding
// an element to a topology does not perturb the random draws of the others.
import type { SimRandom } from "./types.ts";

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Hashes a string label to 32 bits (FNV-1a), for naming streams. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xoshiro128** (Blackman and Vigna), 128-bit state, period 2^128 - 1. */
export class SeededRandom implements SimRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for `seed`, optionally a separate stream `stream` of it. */
  constructor(seed: number, stream: number = 0) {
    const st = { s: (seed ^ Math.imul(stream >>> 0, 0x27d4eb2d)) | 0 };
    // Mix the stream in twice so nearby (seed, stream) pairs give unrelated states.
    st.s = (st.s + splitmix32({ s: stream | 0 })) | 0;
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n) for n >= 1 (n below 2^32). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An independent generator derived from this seed and a label. */
  static stream(seed: number, label: string): SeededRandom {
    return new SeededRandom(seed, hashLabel(label));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
