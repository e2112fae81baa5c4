// Simple reference models for the kernel property tests: a position-set (bitmap) assembler.
// Not a test file itself (no .test.ts suffix).
export interface ModelCounters {
  bytesLeftOfReadPoint: number;
  bytesBeyondWindow: number;
  refusedOutOfWindow: number;
  refusedTooManyHoles: number;
  bytesTooManyHoles: number;
  bytesAssembled: number;
}

/** The assembler's contract, written as directly as possible over a set of received positions. */
export class ModelAssembler {
  front = 0;
  have = new Set<number>();
  c: ModelCounters = { bytesLeftOfReadPoint: 0, bytesBeyondWindow: 0, refusedOutOfWindow: 0, refusedTooManyHoles: 0, bytesTooManyHoles: 0, bytesAssembled: 0 };
  constructor(readonly cap: number) {}

  static runs(set: Set<number>, from: number): Array<[number, number]> {
    const ps = [...set].filter((p) => p >= from).sort((a, b) => a - b);
    const out: Array<[number, number]> = [];
    for (const p of ps) {
      const last = out[out.length - 1];
      if (last && last[1] === p) last[1] = p + 1;
      else out.push([p, p + 1]);
    }
    return out;
  }

  add(off: number, len: number, window: number): number {
    if (off <= -(2 ** 31) || off >= 2 ** 31) {
      this.c.bytesBeyondWindow += len;
      this.c.refusedOutOfWindow++;
      return -1;
    }
    if (len === 0) return 0;
    if (off + len <= 0) {
      this.c.bytesLeftOfReadPoint += len;
      return 0;
    }
    if (off >= window) {
      this.c.bytesBeyondWindow += len;
      this.c.refusedOutOfWindow++;
      return -1;
    }
    const s = Math.max(off, 0);
    const e = Math.min(off + len, window);
    const next = new Set(this.have);
    for (let p = this.front + s; p < this.front + e; p++) next.add(p);
    let f = this.front;
    while (next.has(f)) f++;
    const runs = ModelAssembler.runs(next, f);
    if (runs.length > this.cap) {
      this.c.refusedTooManyHoles++;
      this.c.bytesTooManyHoles += e - s;
      return -2;
    }
    this.c.bytesLeftOfReadPoint += s - off;
    this.c.bytesBeyondWindow += off + len - e;
    for (const p of next) if (p < f) next.delete(p);
    this.have = next;
    const got = f - this.front;
    this.front = f;
    this.c.bytesAssembled += got;
    return got;
  }

  ranges(): Array<[number, number]> {
    return ModelAssembler.runs(this.have, this.front).map(([a, b]) => [a - this.front, b - this.front]);
  }
}

/** Every implementation the differential tests cover. */
export const IMPLS = ["ts", "debug", "simd", "scalar"] as const;
