import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createReceiveBuffer } from "../../core/kernels/factory.ts";
import { WasmReceiveBuffer } from "../../core/kernels/reassembly.ts";
import { Refusal } from "../../core/kernels/types.ts";
import type { ReceiveBuffer } from "../../core/kernels/types.ts";
import { IMPLS } from "./model.ts";

function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const MASK64 = (1n << 64n) - 1n;

/** Writes a data-level segment at stream offset `off` (DSN = isn + off). */
function write64(rb: ReceiveBuffer, isn: bigint, off: number, src: Uint8Array, len: number): number {
  const dsn = (isn + BigInt(off)) & MASK64;
  return rb.write64(Number(dsn >> 32n), Number(dsn & 0xffffffffn), src, off, len);
}

test("receive buffer: out-of-order writes, in-order reads, views across the wrap", () => {
  for (const impl of IMPLS) {
    const data = pattern(100);
    const rb = createReceiveBuffer({ width: 32, initialSeq: 0xffffffc0, capacity: 32 }, impl);
    assert.equal(rb.write((0xffffffc0 + 20) >>> 0, data, 20, 10), 0, impl);
    assert.equal(rb.holes, 1);
    assert.equal(rb.write(0xffffffc0, data, 0, 20), 30);
    assert.equal(rb.readable, 30);
    assert.equal(rb.window, 2);
    const out = new Uint8Array(100);
    assert.equal(rb.read(out, 0, 25), 25);
    assert.equal(rb.write((0xffffffc0 + 30) >>> 0, data, 30, 40), 27, "trimmed at the window (read point + capacity)");
    assert.equal(rb.counters().bytesBeyondWindow, 13);
    assert.equal(rb.readable, 32);
    const v = rb.peek();
    assert.equal(v.first.length + v.second.length, 32);
    assert.ok(v.second.length > 0, "the readable bytes wrap around the ring");
    assert.deepEqual([...v.first, ...v.second], [...data.subarray(25, 57)]);
    out.set(v.first, 25);
    rb.release(v.first.length);
    assert.equal(rb.read(out, 25 + v.first.length, 100), v.second.length);
    assert.deepEqual(out.subarray(0, 57), data.subarray(0, 57));
    assert.equal(rb.readSeq, (0xffffffc0 + 57) >>> 0);
    assert.equal(rb.nextSeq, rb.readSeq);
    rb.dispose();
  }
});

test("receive buffer: refusals leave the state unchanged; grow keeps stored bytes", () => {
  for (const impl of IMPLS) {
    const data = pattern(200);
    const rb = createReceiveBuffer({ width: 64, initialSeq: 1000n, capacity: 16, maxHoles: 1 }, impl);
    assert.equal(write64(rb, 1000n, 16, data, 4), Refusal.OutOfWindow, impl);
    assert.equal(write64(rb, 1000n, 4, data, 2), 0);
    assert.equal(write64(rb, 1000n, 10, data, 2), Refusal.TooManyHoles);
    assert.equal(rb.write64(0, 1000 + 2 ** 31, data, 0, 1), Refusal.OutOfWindow, "DSN far outside the window");
    assert.equal(rb.write64(1, 1000, data, 0, 1), Refusal.OutOfWindow, "DSN 2^32 ahead");
    assert.equal(rb.readable, 0);
    assert.equal(rb.holes, 1);
    rb.grow(64);
    assert.equal(rb.capacity, 64);
    assert.equal(write64(rb, 1000n, 6, data, 14), 0, "fits after growing (merges with the held range)");
    assert.equal(write64(rb, 1000n, 0, data, 16), 20, "the bytes stored before grow() survived");
    const out = new Uint8Array(20);
    rb.read(out, 0, 20);
    assert.deepEqual(out, data.subarray(0, 20));
    assert.equal(rb.readSeq64, 1020n);
    const c = rb.counters();
    assert.equal(c.refusedOutOfWindow, 3);
    assert.equal(c.refusedTooManyHoles, 1);
    assert.throws(() => rb.release(1), { name: "InvalidArgumentError" });
    assert.throws(() => rb.grow(10), { name: "InvalidArgumentError" });
    assert.throws(() => rb.writeAt(0, data, 190, 20), { name: "InvalidArgumentError" }, "source range past the buffer");
    rb.dispose();
  }
});

/**
 * N subflows carry a stream cut into random segments; each subflow delivers its segments in
 * order after a random per-subflow delay, with drops, duplicates and re-segmented
 * retransmissions that straddle holes. The reader reads random amounts. Whatever the
 * interleaving, the receiver must deliver exactly the original stream, in order, once.
 */
test("receive buffer: any interleaving of N subflows delivers exactly the stream, in order, once", () => {
  const arb = fc.record({
    len: fc.integer({ min: 1, max: 3000 }),
    subflows: fc.integer({ min: 1, max: 4 }),
    capacity: fc.integer({ min: 64, max: 4096 }),
    maxHoles: fc.integer({ min: 1, max: 8 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    isn: fc.bigInt({ min: 0n, max: MASK64 }),
    impl: fc.constantFrom(...IMPLS),
  });
  fc.assert(
    fc.property(arb, ({ len, subflows, capacity, maxHoles, seed, isn, impl }) => {
      let x = seed;
      const rnd = (n: number): number => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      const data = pattern(len, seed);
      const rb = createReceiveBuffer({ width: 64, initialSeq: isn, capacity, maxHoles }, impl);
      const out = new Uint8Array(len);
      let got = 0;
      try {
        for (let round = 0; got < len; round++) {
          assert.ok(round < 10000, "no progress");
          // Cut [got, len) into segments (some overlapping the previous one), spread them over
          // the subflows, each with its own delay; drop some, duplicate some.
          const events: Array<{ t: number; off: number; n: number }> = [];
          const delay = Array.from({ length: subflows }, () => rnd(50));
          let off = Math.max(0, got - rnd(8));
          let t = 0;
          while (off < len) {
            const n = Math.min(1 + rnd(200), len - off);
            const sf = rnd(subflows);
            t += 1 + rnd(3);
            if (rnd(10) !== 0) events.push({ t: t + delay[sf]! + rnd(4), off, n });
            if (rnd(10) === 0) events.push({ t: t + rnd(100), off, n });
            off += n - (rnd(4) === 0 ? Math.min(n - 1, rnd(20)) : 0);
          }
          events.sort((a, b) => a.t - b.t);
          for (const e of events) {
            const r = write64(rb, isn, e.off, data, e.n);
            assert.ok(r >= 0 || r === -1 || r === -2, `refusal ${r}`);
            if (rnd(3) === 0) got += rb.read(out, got, rnd(300));
          }
          got += rb.read(out, got, len);
          assert.equal(rb.nextSeq64, (isn + BigInt(got)) & MASK64);
          assert.ok(rb.holes <= maxHoles);
        }
        assert.deepEqual(out, data);
        assert.equal(rb.readable, 0);
      } finally {
        rb.dispose();
      }
    }),
    { numRuns: 400 },
  );
});

test("receive buffer: WASM builds and the TS twin agree on random operation sequences", () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant("write" as const), off: fc.integer({ min: -30, max: 300 }), n: fc.integer({ min: 0, max: 80 }) }),
    fc.record({ k: fc.constant("read" as const), n: fc.integer({ min: 0, max: 120 }) }),
    fc.record({ k: fc.constant("peek" as const), n: fc.integer({ min: 0, max: 120 }) }),
    fc.record({ k: fc.constant("grow" as const), n: fc.integer({ min: 0, max: 64 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 50 }), (isn, holes, ops) => {
      const src = pattern(512, isn + 1);
      const bufs = IMPLS.map((i) => createReceiveBuffer({ width: 32, initialSeq: isn, capacity: 100, maxHoles: holes }, i));
      try {
        for (const o of ops) {
          const results = bufs.map((rb) => {
            if (o.k === "write") return [rb.write((rb.readSeq + o.off) >>> 0, src, 100, o.n)];
            if (o.k === "read") {
              const d = new Uint8Array(120);
              const n = rb.read(d, 0, o.n);
              return [n, ...d.subarray(0, n)];
            }
            if (o.k === "peek") {
              const v = rb.peek();
              const bytes = [...v.first, ...v.second].slice(0, o.n);
              rb.release(bytes.length);
              return bytes;
            }
            rb.grow(rb.capacity + o.n);
            return [rb.capacity];
          });
          for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
          const states = bufs.map((rb) => [rb.readable, rb.window, rb.holes, rb.readSeq, rb.nextSeq]);
          for (const s of states.slice(1)) assert.deepEqual(s, states[0]);
        }
        const cs = bufs.map((rb) => rb.counters());
        for (const c of cs.slice(1)) assert.deepEqual(c, cs[0]);
      } finally {
        for (const rb of bufs) rb.dispose();
      }
    }),
    { numRuns: 200 },
  );
});

test("receive buffer: a hole storm up to the window stays under the cap; data beyond is refused, not stored", () => {
  for (const impl of IMPLS) {
    const seg = 1448;
    const segs = 256;
    const capacity = seg * segs;
    const data = pattern(capacity * 2);
    const rb = createReceiveBuffer({ width: 64, initialSeq: 0n, capacity, maxHoles: 64 }, impl);
    const mem = rb instanceof WasmReceiveBuffer ? rb.kernels.memory : null;
    const bytesBefore = mem?.buffer.byteLength ?? 0;
    let refusedHoles = 0;
    for (let i = 1; i < segs; i += 2) {
      const r = write64(rb, 0n, i * seg, data, seg);
      if (r === Refusal.TooManyHoles) refusedHoles++;
      else assert.equal(r, 0);
      assert.ok(rb.holes <= 64, `${impl}: ${rb.holes} holes`);
    }
    assert.equal(rb.holes, 64);
    assert.equal(refusedHoles, segs / 2 - 64);
    for (let i = segs; i < segs + 10; i++) assert.equal(write64(rb, 0n, i * seg, data, seg), Refusal.OutOfWindow);
    const c = rb.counters();
    assert.equal(c.bytesBeyondWindow, 10 * seg);
    assert.equal(c.refusedTooManyHoles, refusedHoles);
    assert.equal(mem?.buffer.byteLength ?? 0, bytesBefore, "no memory growth while writing");
    // Filling the holes in order delivers everything that was stored, then the rest.
    let delivered = 0;
    for (let i = 0; i < segs; i++) {
      const r = write64(rb, 0n, i * seg, data, seg);
      assert.ok(r >= 0);
      delivered += r;
    }
    assert.equal(delivered, capacity);
    const out = new Uint8Array(capacity);
    assert.equal(rb.read(out, 0, capacity), capacity);
    assert.deepEqual(out, data.subarray(0, capacity));
    rb.dispose();
  }
});

test("receive buffer: subflow-level views feed the data level (in-memory copy for WASM), across both wraps", () => {
  for (const impl of IMPLS) {
    const data = pattern(20000, 3);
    const sub = createReceiveBuffer({ width: 32, initialSeq: 0xffffff00, capacity: 3000 }, impl);
    const dl = createReceiveBuffer({ width: 64, initialSeq: 2n ** 64n - 5000n, capacity: 7000 }, impl);
    const out = new Uint8Array(data.length);
    let sent = 0;
    let got = 0;
    while (got < data.length) {
      // Out of order at the subflow level: the second half of a chunk first.
      const n = Math.min(1200, data.length - sent, sub.window);
      if (n > 1) {
        const h = n >> 1;
        assert.equal(sub.write((0xffffff00 + sent + h) >>> 0, data, sent + h, n - h), 0, impl);
        assert.equal(sub.write((0xffffff00 + sent) >>> 0, data, sent, h), n);
        sent += n;
      } else if (n === 1) {
        sub.write((0xffffff00 + sent) >>> 0, data, sent, 1);
        sent += 1;
      }
      // Move the in-order subflow bytes to the data level, view by view.
      const v = sub.peek();
      for (const view of [v.first, v.second]) {
        const m = Math.min(view.length, dl.window);
        if (m === 0) continue;
        const dsn = dl.nextSeq64;
        assert.equal(dl.write64(Number(dsn >> 32n), Number(dsn & 0xffffffffn), view, 0, m), m);
        sub.release(m);
        if (m < view.length) break;
      }
      got += dl.read(out, got, 2500);
    }
    assert.deepEqual(out, data);
    assert.equal(dl.readSeq64, (2n ** 64n - 5000n + 20000n) & (2n ** 64n - 1n));
    sub.dispose();
    dl.dispose();
  }
});

test("receive buffer: resident writes (payload already in WASM memory) match the TS twin", () => {
  const variants = ["debug", "simd", "scalar"] as const;
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: MASK64 }),
      fc.array(fc.record({ off: fc.integer({ min: -40, max: 260 }), n: fc.integer({ min: 0, max: 90 }), read: fc.integer({ min: 0, max: 100 }) }), { maxLength: 40 }),
      (isn, ops) => {
        const src = pattern(512, Number(isn & 0xffffn) + 1);
        const ts = createReceiveBuffer({ width: 64, initialSeq: isn, capacity: 200, maxHoles: 4 }, "ts");
        const ws = variants.map((v) => new WasmReceiveBuffer({ width: 64, initialSeq: isn, capacity: 200, maxHoles: 4 }, v));
        const ptrs = ws.map((w) => {
          const p = w.kernels.exports.kbufAlloc(src.length) as number;
          w.kernels.u8().set(src, p);
          return p;
        });
        try {
          for (const o of ops) {
            const dsn = (ts.readSeq64 + BigInt(o.off) + MASK64 + 1n) & MASK64;
            const hi = Number(dsn >> 32n);
            const lo = Number(dsn & 0xffffffffn);
            const want = ts.write64(hi, lo, src, 100, o.n);
            ws.forEach((w, i) => assert.equal(w.write64Resident(hi, lo, ptrs[i]! + 100, o.n), want));
            const d = new Uint8Array(100);
            const n = ts.read(d, 0, o.read);
            for (const w of ws) {
              const e = new Uint8Array(100);
              assert.equal(w.read(e, 0, o.read), n);
              assert.deepEqual(e, d);
              assert.equal(w.nextSeq64, ts.nextSeq64);
              assert.equal(w.holes, ts.holes);
            }
          }
          for (const w of ws) assert.deepEqual(w.counters(), ts.counters());
        } finally {
          ts.dispose();
          ws.forEach((w, i) => {
            w.kernels.exports.kbufFree(ptrs[i]);
            w.dispose();
          });
        }
      },
    ),
    { numRuns: 150 },
  );
});
