import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createSendBuffer } from "../../core/kernels/factory.ts";
import { Refusal } from "../../core/kernels/types.ts";
import { IMPLS } from "./model.ts";

const MASK64 = (1n << 64n) - 1n;

test("send buffer: write, read by DSN across the ring wrap and the 2^64 wrap, release by DATA_ACK", () => {
  for (const impl of IMPLS) {
    const isn = 2n ** 64n - 10n;
    const sb = createSendBuffer({ initialDsn: isn, capacity: 16 }, impl);
    const src = new Uint8Array(40).map((_, i) => i + 1);
    assert.equal(sb.write(src, 0, 12), 12, impl);
    assert.equal(sb.ack(isn + 8n), 8);
    assert.equal(sb.write(src, 12, 20), 12, "only the free space is taken");
    assert.equal(sb.free, 0);
    assert.equal(sb.nxt64, (isn + 24n) & MASK64);
    const dst = new Uint8Array(16);
    // DSN 0 is stream offset 10 (after the 2^64 wrap).
    assert.equal(sb.read64(0, 0, dst, 0, 16), 14);
    assert.deepEqual([...dst.subarray(0, 14)], [...src.subarray(10, 24)]);
    const v = sb.peekAt(2, 100);
    assert.deepEqual([...v.first, ...v.second], [...src.subarray(10, 24)]);
    assert.equal(sb.ack64(0, 100), Refusal.AckBeyondSent);
    assert.equal(sb.ack(isn), 0, "old DATA_ACK");
    assert.equal(sb.readAt(-1, dst, 0, 1), Refusal.OutOfWindow);
    assert.equal(sb.readAt(17, dst, 0, 1), Refusal.OutOfWindow);
    sb.grow(64);
    assert.equal(sb.write(src, 24, 16), 16);
    assert.equal(sb.readAt(0, dst, 0, 16), 16);
    assert.deepEqual([...dst], [...src.subarray(8, 24)]);
    assert.equal(sb.ack(14n), 16, "DATA_ACK after the wrap");
    assert.equal(sb.buffered, 16);
    sb.dispose();
  }
});

test("send buffer: WASM builds and the TS twin match an array model", () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant("write" as const), n: fc.integer({ min: 0, max: 90 }) }),
    fc.record({ k: fc.constant("ack" as const), d: fc.integer({ min: -20, max: 120 }) }),
    fc.record({ k: fc.constant("read" as const), off: fc.integer({ min: -5, max: 120 }), n: fc.integer({ min: 0, max: 90 }) }),
    fc.record({ k: fc.constant("grow" as const), n: fc.integer({ min: 0, max: 40 }) }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MASK64 }), fc.array(op, { maxLength: 60 }), (isn, ops) => {
      const src = new Uint8Array(4096).map((_, i) => (i * 7 + 3) & 0xff);
      let model: number[] = [];
      let written = 0;
      let acked = 0;
      let cap = 50;
      const sbs = IMPLS.map((i) => createSendBuffer({ initialDsn: isn, capacity: 50 }, i));
      try {
        for (const o of ops) {
          let want: number[];
          if (o.k === "write") {
            const n = Math.min(o.n, cap - model.length, src.length - written);
            model.push(...src.subarray(written, written + n));
            written += n;
            want = [n];
          } else if (o.k === "ack") {
            if (o.d > model.length) want = [Refusal.AckBeyondSent];
            else if (o.d <= 0) want = [0];
            else {
              model = model.slice(o.d);
              acked += o.d;
              want = [o.d];
            }
          } else if (o.k === "read") {
            want = o.off < 0 || o.off > model.length ? [Refusal.OutOfWindow] : model.slice(o.off, o.off + o.n);
            if (want.length === 0 && !(o.off < 0 || o.off > model.length)) want = [];
          } else {
            cap += o.n;
            want = [cap];
          }
          for (const sb of sbs) {
            let got: number[];
            if (o.k === "write") got = [sb.write(src, written - want[0]!, o.n)];
            else if (o.k === "ack") {
              const a = (isn + BigInt(acked) - BigInt(want[0]! > 0 ? want[0]! : 0) + BigInt(o.d)) & MASK64;
              got = [sb.ack(a)];
            } else if (o.k === "read") {
              const d = new Uint8Array(o.n);
              const dsn = (isn + BigInt(acked) + BigInt(o.off)) & MASK64;
              const r = sb.read64(Number(dsn >> 32n), Number(dsn & 0xffffffffn), d, 0, o.n);
              got = r < 0 ? [r] : [...d.subarray(0, r)];
            } else {
              sb.grow(sb.capacity + o.n);
              got = [sb.capacity];
            }
            assert.deepEqual(got, want, o.k);
            assert.equal(sb.buffered, model.length);
            assert.equal(sb.una64, (isn + BigInt(acked)) & MASK64);
          }
        }
      } finally {
        for (const sb of sbs) sb.dispose();
      }
    }),
    { numRuns: 200 },
  );
});
