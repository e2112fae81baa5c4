// The TCP receive side on the data-plane kernels (core/kernels createReceiveBuffer, width 32):
// the WASM kernel and its TS twin give the same connection behaviour, the buffer's memory is
// returned when the connection is done with it, and the congestion controller is released.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cubicFactory } from "../../core/congestion/cubic.ts";
import type { CongestionFactory } from "../../core/congestion/types.ts";
import { loadKernels } from "../../core/kernels/wasm/instance.ts";
import type { KernelImpl } from "../../core/kernels/types.ts";
import { concat, equalBytes, Pair, randomBytes, transfer } from "./helpers.ts";

const REORDER = { delayUs: 5_000, reorder: 0.1, reorderDelayUs: 3_000, loss: 0.01 };

function run(kernel: KernelImpl): { p: Pair; data: Uint8Array } {
  const p = new Pair({ seed: 21, link: REORDER, config: { kernel } });
  assert.ok(p.connect());
  const data = randomBytes(1 << 20, 4);
  assert.ok(transfer(p, data, 600_000_000), `stalled with ${kernel}: got ${p.b.receivedBytes}`);
  assert.ok(equalBytes(concat(p.b.received), data), `bytes differ with ${kernel}`);
  return { p, data };
}

describe("tcp receive buffer on the data-plane kernels", () => {
  it("WASM kernel and TS twin: byte-exact, and the same segments, ACKs and counters (loss + reordering)", () => {
    const w = run("wasm");
    const t = run("ts");
    const sw = w.p.b.conn.stats();
    assert.ok(sw.outOfOrderSegments > 0, "the scenario exercises reassembly");
    assert.deepEqual(t.p.b.conn.stats(), sw);
    assert.deepEqual(t.p.a.conn.stats(), w.p.a.conn.stats());
    assert.equal(t.p.now, w.p.now);
  });

  it("unread bytes stay readable after an orderly close; a reset discards them", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    p.autoRead = false;
    assert.ok(p.connect());
    const d = randomBytes(60_000, 7); // within the first window: nobody reads, so no autotuning
    assert.equal(p.a.conn.write(d), d.length);
    p.a.conn.shutdown();
    p.runUntil(() => p.b.conn.state === "CLOSE_WAIT", 5_000_000);
    p.b.conn.shutdown();
    p.runUntil(() => p.b.conn.state === "CLOSED", 5_000_000);
    assert.equal(p.b.conn.closedReason, "normal");
    assert.equal(p.b.conn.readable, d.length);
    p.drainRead(p.b);
    assert.ok(equalBytes(concat(p.b.received), d));
    assert.equal(p.b.conn.readable, 0);
    assert.equal(p.b.conn.read(new Uint8Array(10)), 0, "read after the buffer was freed returns 0");

    const q = new Pair({ link: { delayUs: 1000 } });
    q.autoRead = false;
    assert.ok(q.connect());
    assert.equal(q.a.conn.write(d), d.length);
    q.runUntil(() => q.b.conn.readable === d.length, 5_000_000);
    q.a.conn.abort();
    q.runUntil(() => q.b.conn.state === "CLOSED", 5_000_000);
    assert.equal(q.b.conn.closedReason, "reset");
    assert.equal(q.b.conn.readable, 0, "RFC 9293 3.10.7.4: a reset flushes the queues");
  });

  it("WASM memory is returned: rounds of transfers, closes and dispose() do not grow it", () => {
    const mem = loadKernels().memory;
    const round = (): void => {
      const pairs: Pair[] = [];
      for (let i = 0; i < 16; i++) {
        const p = new Pair({ seed: 100 + i, link: { delayUs: 500 }, config: { timeWaitUs: 1000 } });
        assert.ok(p.connect());
        const d = randomBytes(300_000, i);
        assert.ok(transfer(p, d, 60_000_000));
        pairs.push(p);
      }
      for (const p of pairs) {
        p.runUntil(() => p.a.conn.state === "CLOSED" && p.b.conn.state === "CLOSED", 5_000_000);
        assert.equal(p.a.conn.state, "CLOSED");
      }
      // Abandoned while ESTABLISHED, with unread bytes: dispose() frees the ring.
      for (let i = 0; i < 16; i++) {
        const p = new Pair({ seed: 200 + i, link: { delayUs: 500 } });
        p.autoRead = false;
        assert.ok(p.connect());
        p.a.conn.write(randomBytes(300_000, i));
        p.runFor(50_000);
        assert.ok(p.b.conn.readable > 65_536, "the ring grew past its first 64 KiB");
        p.a.conn.dispose();
        p.b.conn.dispose();
        p.b.conn.dispose();
        assert.equal(p.b.conn.state, "CLOSED");
        assert.equal(p.b.conn.readable, 0);
      }
    };
    round();
    const after1 = mem.buffer.byteLength;
    for (let r = 0; r < 6; r++) round();
    // 16 receive rings of up to 512 KiB per round: a leak would add megabytes per round.
    assert.ok(mem.buffer.byteLength <= after1 + 1024 * 1024, `WASM memory grew from ${after1} to ${mem.buffer.byteLength}`);
  });

  it("the congestion controller is released once the connection closes (orderly or reset)", () => {
    let released = 0;
    const inner = cubicFactory();
    const counting: CongestionFactory = {
      name: "counting-cubic",
      create(ctx) {
        const c = inner.create(ctx);
        c.release = () => void released++;
        return c;
      },
    };
    const p = new Pair({ link: { delayUs: 1000 }, config: { congestion: counting, timeWaitUs: 10_000 } });
    assert.ok(p.connect());
    assert.ok(transfer(p, randomBytes(50_000, 1), 5_000_000));
    assert.equal(released, 0);
    p.runUntil(() => p.a.conn.state === "CLOSED" && p.b.conn.state === "CLOSED", 5_000_000);
    assert.equal(released, 2);
    const q = new Pair({ link: { delayUs: 1000 }, config: { congestion: counting } });
    assert.ok(q.connect());
    q.a.conn.abort();
    q.runUntil(() => q.b.conn.state === "CLOSED", 1_000_000);
    assert.equal(released, 4);
  });
});
