// Seeded randomness for the simulator. The generator is core's SeededRandomSource
// (xoshiro128**, a RandomSource, so a stream can be handed straight to a TCP / MPTCP engine);
// this adds uniform floats and integers, and named streams: every link direction, middlebox
// chain and host gets its own stream derived from (seed, label), so adding an element to a
// topology does not perturb the random draws of the others.
import { SeededRandomSource } from "../../core/crypto/random.ts";
import type { SimRandom } from "./types.ts";

/** Hashes a string label to 32 bits (FNV-1a), for naming streams. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The murmur3 32-bit finaliser: a bijective mix. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seeded generator: a RandomSource (bytes) and a SimRandom (floats, words). */
export class SeededRandom extends SeededRandomSource implements SimRandom {
  /** A generator for `seed`, optionally a separate stream `stream` of it. */
  constructor(seed: number, stream: number = 0) {
    super(stream === 0 ? seed >>> 0 : fmix32((fmix32(seed >>> 0) + Math.imul(stream >>> 0, 0x9e3779b9)) >>> 0));
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32. */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An independent generator derived from a seed and a label. */
  static stream(seed: number, label: string): SeededRandom {
    return new SeededRandom(seed, hashLabel(label) || 1);
  }
}
