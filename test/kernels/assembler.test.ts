import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createAssembler } from "../../core/kernels/factory.ts";
import { WasmAssembler } from "../../core/kernels/reassembly.ts";
import { Refusal } from "../../core/kernels/types.ts";
import { IMPLS, ModelAssembler } from "./model.ts";

test("assembler: in-order, out-of-order, overlap, duplicate, straddling retransmission", () => {
  for (const impl of IMPLS) {
    const a = createAssembler({ width: 32, initialSeq: 1000, maxHoles: 4 }, impl);
    assert.equal(a.add(0, 10, 100), 10, `${impl}: in order`);
    assert.equal(a.frontSeq, 1010);
    assert.equal(a.add(10, 5, 100), 0, "out of order");
    assert.equal(a.add(30, 5, 100), 0);
    assert.deepEqual(a.ranges(), [[10, 15], [30, 35]]);
    assert.equal(a.add(12, 2, 100), 0, "duplicate inside a range");
    assert.equal(a.add(14, 20, 100), 0, "straddles the hole between two ranges");
    assert.deepEqual(a.ranges(), [[10, 35]]);
    assert.equal(a.add(-5, 16, 100), 35, "left part ignored, fills the hole");
    assert.equal(a.frontSeq, 1045);
    assert.equal(a.holes, 0);
    assert.equal(a.counters().bytesLeftOfReadPoint, 5);
    assert.equal(a.counters().bytesAssembled, 45);
    assert.equal(a.add(-20, 20, 100), 0, "wholly left of the read point");
    assert.equal(a.counters().bytesLeftOfReadPoint, 25);
    a.dispose();
  }
});

test("assembler: refusals are typed, counted and change nothing; the next expected byte always fits", () => {
  for (const impl of IMPLS) {
    const a = createAssembler({ width: 32, initialSeq: 0, maxHoles: 2 }, impl);
    assert.equal(a.add(100, 10, 100), Refusal.OutOfWindow, `${impl}: starts at the window`);
    assert.equal(a.add(10, 1, 100), 0);
    assert.equal(a.add(20, 1, 100), 0);
    const before = a.ranges();
    assert.equal(a.add(30, 5, 100), Refusal.TooManyHoles, `${impl}: third hole`);
    assert.equal(a.add(95, 10, 100), Refusal.TooManyHoles, "trimmed to the window, still a third hole");
    assert.deepEqual(a.ranges(), before);
    assert.equal(a.add(19, 100, 100), 0, "merges with [20,21), trimmed at the window");
    assert.deepEqual(a.ranges(), [[10, 11], [19, 100]]);
    assert.equal(a.add(0, 1, 100), 1, "next expected byte with every hole slot taken");
    assert.equal(a.add(0, 20, 100), 99, "fills both holes");
    assert.equal(a.holes, 0);
    const c = a.counters();
    assert.equal(c.refusedOutOfWindow, 1);
    assert.equal(c.bytesBeyondWindow, 10 + 19);
    assert.equal(c.refusedTooManyHoles, 2);
    assert.equal(c.bytesTooManyHoles, 10);
    assert.equal(c.bytesLeftOfReadPoint, 0, "offsets are relative to the front, which moved");
    a.dispose();
  }
});

test("assembler: API misuse throws a typed error", () => {
  for (const impl of IMPLS) {
    const a = createAssembler({ width: 32, initialSeq: 0 }, impl);
    assert.throws(() => a.add(0, -1, 10), { name: "InvalidArgumentError" }, impl);
    assert.throws(() => a.add(0.5, 1, 10), { name: "InvalidArgumentError" });
    assert.throws(() => a.add(0, 1, 2 ** 31), { name: "InvalidArgumentError" });
    assert.throws(() => createAssembler({ width: 32, initialSeq: 2 ** 32 }, impl), { name: "InvalidArgumentError" });
    assert.throws(() => createAssembler({ width: 32, initialSeq: 0, maxHoles: 0 }, impl), { name: "InvalidArgumentError" });
    a.dispose();
    assert.throws(() => a.add(0, 1, 10), { name: "InvalidStateError" });
  }
});

test("assembler: 32-bit subflow sequence numbers wrap at 2^32", () => {
  for (const impl of IMPLS) {
    const a = createAssembler({ width: 32, initialSeq: 0xfffffff0 }, impl);
    assert.equal(a.addSeq(0x00000005, 10, 1000), 0, `${impl}: after the wrap, out of order`);
    assert.deepEqual(a.ranges(), [[21, 31]]);
    assert.equal(a.addSeq(0xfffffff0, 21, 1000), 31);
    assert.equal(a.frontSeq, 15);
    assert.equal(a.frontSeq64, 15n);
    assert.equal(a.addSeq(0xfffffff8, 4, 1000), 0, "left of the read point across the wrap");
    assert.equal(a.counters().bytesLeftOfReadPoint, 4);
    a.dispose();
  }
});

test("assembler: 64-bit DSNs near 2^64 wrap; far DSNs are refused as out of window", () => {
  for (const impl of IMPLS) {
    const a = createAssembler({ width: 64, initialSeq: 2n ** 64n - 8n }, impl);
    assert.equal(a.addSeq64(0, 2, 4, 1000), 0, `${impl}: beyond the wrap`);
    assert.deepEqual(a.ranges(), [[10, 14]]);
    assert.equal(a.addSeq64(0xffffffff, 0xfffffff8, 10, 1000), 14);
    assert.equal(a.frontSeq64, 6n);
    assert.equal(a.addSeq64(0x7, 0x10, 4, 1000), Refusal.OutOfWindow, "2^35 ahead");
    assert.equal(a.addSeq64(0x0, 0x90000006, 4, 1000), Refusal.OutOfWindow, "2^31 + ahead");
    assert.equal(a.addSeq64(0xfffffff0, 0, 4, 1000), Refusal.OutOfWindow, "far behind");
    assert.equal(a.counters().refusedOutOfWindow, 3);
    assert.equal(a.frontSeq64, 6n);
    a.dispose();
  }
});

test("assembler: every implementation matches the bitmap model on random operations", () => {
  const op = fc.record({ off: fc.integer({ min: -40, max: 260 }), len: fc.integer({ min: 0, max: 50 }), window: fc.integer({ min: 0, max: 256 }) });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (cap, ops) => {
      const model = new ModelAssembler(cap);
      const impls = IMPLS.map((i) => createAssembler({ width: 32, initialSeq: 0xffffff00, maxHoles: cap }, i));
      try {
        for (const o of ops) {
          const want = model.add(o.off, o.len, o.window);
          for (const a of impls) {
            assert.equal(a.add(o.off, o.len, o.window), want);
            assert.deepEqual(a.ranges(), model.ranges());
            assert.ok(a.holes <= cap);
            if (a instanceof WasmAssembler) assert.ok(a.check());
          }
        }
        for (const a of impls) {
          assert.deepEqual(a.counters(), model.c);
          assert.equal(a.frontSeq, (0xffffff00 + model.front) >>> 0);
        }
      } finally {
        for (const a of impls) a.dispose();
      }
    }),
    { numRuns: 300 },
  );
});
