// Internet checksum kernels: the TS twin and the WebAssembly builds (simd, scalar, debug with
// asserts) agree with a naive byte-pair reference on random buffers, offsets and lengths;
// partial sums combine; RFC 1624 incremental updates equal recomputation; RFC 1071 vector.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  combineChecksums,
  finishChecksum,
  foldChecksum,
  incrementalUpdate16,
  swap16,
  tsChecksumKernel,
  wasmChecksumKernel,
} from "../../core/kernels/checksum.ts";
import type { ChecksumKernel, WasmChecksumKernel } from "../../core/kernels/checksum.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";

/** Reference: big-endian 16-bit words counted from `off`, one at a time, folded at the end. */
function naiveChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  for (let i = 0; i < len; i += 2) {
    const hi = buf[off + i]!;
    const lo = i + 1 < len ? buf[off + i + 1]! : 0;
    s += (hi << 8) | lo;
    if (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

const wasm: WasmChecksumKernel[] = [wasmChecksumKernel("simd"), wasmChecksumKernel("scalar"), wasmChecksumKernel("debug")];
const kernels: ChecksumKernel[] = [tsChecksumKernel, ...wasm];

/** Copies `bytes` into the kernel's scratch at `shift` bytes past its start and sums in place. */
function sumInWasm(k: WasmChecksumKernel, bytes: Uint8Array, shift: number, initial: number): number {
  const p = k.scratch(bytes.length + shift) + shift;
  k.kernels.u8().set(bytes, p);
  return k.sumAt(p, bytes.length, initial);
}

/** A buffer of `n` pseudo-random bytes (deterministic from `seed`). */
function randomBytes(seed: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  new SeededRandomSource(seed).fill(b);
  return b;
}

test("RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 on every kernel and at any offset", () => {
  const v = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
  assert.equal(naiveChecksum(new Uint8Array(v), 0, 8), 0xddf2);
  for (const k of kernels) {
    for (let shift = 0; shift < 8; shift++) {
      const buf = new Uint8Array(24);
      buf.set(v, shift);
      assert.equal(k.sum(buf, shift, 8), 0xddf2, `${k.name} at offset ${shift}`);
      // A view that itself starts at an odd byte offset of its buffer.
      assert.equal(k.sum(buf.subarray(1), shift - 1 < 0 ? 0 : shift - 1, 0), 0, `${k.name} empty`);
      assert.equal(k.sum(buf.subarray(shift), 0, 8), 0xddf2, `${k.name} subarray at ${shift}`);
    }
    assert.equal(finishChecksum(k.sum(new Uint8Array(v), 0, 8)), 0x220d);
  }
  for (const k of wasm) {
    for (let shift = 0; shift < 5; shift++) assert.equal(sumInWasm(k, new Uint8Array(v), shift, 0), 0xddf2, `${k.name}.sumAt +${shift}`);
    assert.equal(k.kernels.exports.checksumCombine(0xddf2, 0, 8), 0xddf2);
  }
});

test("all kernels equal the naive reference on random bytes, offsets, lengths and initial values", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 600 }),
      fc.nat(600),
      fc.nat(600),
      fc.nat(7),
      fc.oneof(fc.constant(0), fc.nat(0xffff), fc.nat(0xffffffff)),
      (bytes, a, b, base, initial) => {
        // A view that starts `base` bytes into its ArrayBuffer, so that off + byteOffset covers
        // every alignment; [off, off+len) is any sub-range.
        const backing = new Uint8Array(bytes.length + base);
        backing.set(bytes, base);
        const buf = backing.subarray(base);
        const off = Math.min(a, bytes.length);
        const len = Math.min(b, bytes.length - off);
        const want = naiveChecksum(buf, off, len, initial);
        for (const k of kernels) assert.equal(k.sum(buf, off, len, initial), want, `${k.name} off=${off} len=${len} base=${base}`);
        for (const k of wasm) {
          assert.equal(sumInWasm(k, buf.subarray(off, off + len), base, initial), want, `${k.name}.sumAt`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("all kernels agree on large unaligned buffers (up to ~64 KiB) at every alignment", () => {
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 70000 }), fc.nat(15), fc.nat(15), (seed, len, lead, shift) => {
      const buf = randomBytes(seed, len + lead);
      const want = naiveChecksum(buf, lead, len);
      assert.equal(tsChecksumKernel.sum(buf, lead, len), want, "ts");
      for (const k of wasm) {
        assert.equal(k.sum(buf, lead, len), want, `${k.name}.sum`);
        assert.equal(sumInWasm(k, buf.subarray(lead, lead + len), shift, 0), want, `${k.name}.sumAt shift=${shift}`);
      }
    }),
    { numRuns: 40 },
  );
});

test("worst-case carries: 5 MiB of 0xff bytes (crosses the SIMD and TS accumulation blocks)", () => {
  for (const len of [5 * 1024 * 1024 + 3, (1 << 21) + 64, (1 << 22) - 1]) {
    const buf = new Uint8Array(len + 1).fill(0xff);
    const want = naiveChecksum(buf, 1, len);
    assert.equal(want, len % 2 === 1 ? 0xff00 : 0xffff, "0xffff words fold to 0xffff; an odd 0xff byte adds 0xff00");
    assert.equal(tsChecksumKernel.sum(buf, 1, len), want, `ts ${len}`);
    for (const k of wasm) {
      assert.equal(k.sum(buf, 1, len), want, `${k.name} ${len}`);
      assert.equal(sumInWasm(k, buf.subarray(1), 3, 0), want, `${k.name}.sumAt ${len}`);
    }
  }
  // A large random buffer too (non-trivial value), against the reference.
  const big = randomBytes(7, 9 * 1024 * 1024 + 5);
  const want = naiveChecksum(big, 3, big.length - 3);
  for (const k of kernels) assert.equal(k.sum(big, 3, big.length - 3), want, `${k.name} random 9 MiB`);
});

test("zero bytes sum to 0; data summing to a multiple of 0xffff gives 0xffff, not 0", () => {
  for (const k of kernels) {
    assert.equal(k.sum(new Uint8Array(100), 3, 90), 0, k.name);
    assert.equal(k.sum(new Uint8Array([0x12, 0x34, 0xed, 0xcb]), 0, 4), 0xffff, k.name);
    assert.equal(k.sum(new Uint8Array(0), 0, 0, 0x1234), 0x1234, k.name);
  }
});

test("sums of pieces combine into the sum of the whole (odd lengths swap the next piece)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 6 }), (bytes, cutsRaw) => {
      const cuts = [...new Set(cutsRaw.map((c) => Math.min(c, bytes.length)))].sort((x, y) => x - y);
      const bounds = [0, ...cuts, bytes.length];
      const whole = naiveChecksum(bytes, 0, bytes.length);
      for (const k of kernels) {
        let acc = 0;
        let accLen = 0;
        for (let i = 0; i + 1 < bounds.length; i++) {
          const piece = k.sum(bytes, bounds[i]!, bounds[i + 1]! - bounds[i]!);
          acc = combineChecksums(acc, piece, accLen);
          accLen += bounds[i + 1]! - bounds[i]!;
        }
        assert.equal(acc, whole, `${k.name} pieces ${bounds.join(",")}`);
      }
      for (const k of wasm) {
        // The WebAssembly export follows the same rule.
        if (cuts.length > 0) {
          const c = cuts[0]!;
          const a = k.sum(bytes, 0, c);
          const b = k.sum(bytes, c, bytes.length - c);
          assert.equal(k.kernels.exports.checksumCombine(a, b, c), whole, `${k.name} checksumCombine`);
        }
      }
    }),
    { numRuns: 200 },
  );
  // Passing the previous sum as `initial` is the same as combining when the first piece is even.
  const b = randomBytes(3, 101);
  for (const k of kernels) assert.equal(k.sum(b, 40, 61, k.sum(b, 0, 40)), naiveChecksum(b, 0, 101));
});

test("RFC 1624 incremental update equals recomputation", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(), fc.nat(0xffff), (bytes, at, newWord) => {
      const n = bytes.length & ~1;
      const i = (at % (n / 2)) * 2;
      const old = finishChecksum(naiveChecksum(bytes, 0, n));
      const oldWord = (bytes[i]! << 8) | bytes[i + 1]!;
      const changed = bytes.slice(0, n);
      changed[i] = newWord >>> 8;
      changed[i + 1] = newWord & 0xff;
      const recomputed = finishChecksum(naiveChecksum(changed, 0, n));
      const inc = incrementalUpdate16(old, oldWord, newWord);
      if (changed.some((x) => x !== 0)) assert.equal(inc, recomputed);
      else assert.deepEqual([inc, recomputed], [0, 0xffff], "all-zero data: the two zeros of one's complement");
      for (const k of wasm) assert.equal(k.kernels.exports.checksumIncremental(old, oldWord, newWord), inc, k.name);
    }),
    { numRuns: 500 },
  );
  // RFC 1624 section 4 example: HC=0xdd2f, m=0x5555 -> m'=0x3285 gives 0x0000 (eqn 3), not 0xffff.
  assert.equal(incrementalUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
});

test("helpers: fold, swap16, finish, and the WASM finish export", () => {
  assert.equal(foldChecksum(0), 0);
  assert.equal(foldChecksum(0xffff), 0xffff);
  assert.equal(foldChecksum(0x1fffe), 0xffff);
  assert.equal(foldChecksum(0xffffffff), 0xffff);
  assert.equal(foldChecksum(2 ** 40 + 5), ((2 ** 40 + 5 - 1) % 0xffff) + 1);
  assert.equal(swap16(0x1234), 0x3412);
  assert.equal(finishChecksum(0xddf2), 0x220d);
  for (const k of wasm) assert.equal(k.kernels.exports.checksumFinish(0xddf2), 0x220d);
});

test("the WASM scratch area is reused until a larger one is asked for", () => {
  for (const k of wasm) {
    const p1 = k.scratch(1000);
    assert.equal(k.scratch(10), p1);
    const cap = k.kernels.exports.checksumScratchCapacity() as number;
    assert.ok(cap >= 1000);
    assert.equal(k.scratch(cap), p1);
    const p2 = k.scratch(cap + 1);
    assert.ok(k.kernels.exports.checksumScratchCapacity() > cap);
    assert.ok(p2 + cap + 1 <= k.kernels.u8().length, "the grown area lies inside memory");
  }
});

test("a range outside the buffer is an API error", () => {
  for (const k of kernels) {
    assert.throws(() => k.sum(new Uint8Array(4), 2, 3), { name: "InvalidArgumentError" });
    assert.throws(() => k.sum(new Uint8Array(4), -1, 1), { name: "InvalidArgumentError" });
  }
});
