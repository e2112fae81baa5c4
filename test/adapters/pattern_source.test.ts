// The CLI's `--send N` stream (PatternSource, word-wise generator) is exactly the first N bytes
// of SeededRandomSource(PATTERN_SEED) output, as adapters/README.md documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PATTERN_SEED, patternBytes, PatternSource } from "../../adapters/cli/app.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";

test("PatternSource = SeededRandomSource(PATTERN_SEED).fill, across 64 KiB blocks and odd reads", () => {
  const n = 3 * 65536 + 1234;
  const want = new Uint8Array(n);
  new SeededRandomSource(PATTERN_SEED).fill(want);
  assert.deepEqual(patternBytes(n), want);
  // Odd-sized peeks and advances see the same stream.
  const s = new PatternSource(n);
  const got = new Uint8Array(n);
  let o = 0;
  let step = 1;
  while (!s.done) {
    const c = s.peek(step);
    got.set(c, o);
    o += c.length;
    s.advance(c.length);
    step = (step * 7 + 3) % 20011;
  }
  assert.deepEqual(got, want);
});
