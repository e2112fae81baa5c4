// Scheduler decisions: lowest RTT first, redundant, BLEST, ECF (and the default / round robin)
// on hand-made subflow views; backup handling as a fast-check property of every scheduler.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createScheduler } from "../../core/scheduler/index.ts";
import type { SchedConnection, SchedSubflow, SchedulerName } from "../../core/scheduler/index.ts";
import { BlestScheduler, blestBlocks } from "../../core/scheduler/blest.ts";
import { EcfScheduler, ecfWaits } from "../../core/scheduler/ecf.ts";
import { RedundantScheduler } from "../../core/scheduler/redundant.ts";
import { LowestRttScheduler } from "../../core/scheduler/lowrtt.ts";

const MSS = 1448;
interface Sf extends SchedSubflow {
  id: number;
  usable: boolean;
  tcp: { srttUs: number; cwndBytes: number; bytesInFlight: number; mss: number; rttvarUs?: number };
}
function sf(id: number, o: { rttMs: number; cwnd?: number; inflight?: number; backup?: boolean; stale?: boolean; usable?: boolean; rttvarMs?: number }): Sf {
  return {
    id,
    backup: o.backup ?? false,
    stale: o.stale ?? false,
    usable: o.usable ?? true,
    tcp: { srttUs: o.rttMs * 1000, cwndBytes: (o.cwnd ?? 10) * MSS, bytesInFlight: (o.inflight ?? 0) * MSS, mss: MSS, ...(o.rttvarMs !== undefined ? { rttvarUs: o.rttvarMs * 1000 } : {}) },
  };
}
const conn = (sendWindowFree: number, unsentBytes: number): SchedConnection => ({ sendWindowFree, unsentBytes });
const ALL: SchedulerName[] = ["default", "roundrobin", "lowrtt", "redundant", "blest", "ecf"];

describe("lowest RTT first", () => {
  it("orders regular subflows by RTT, then backups, then stale, then unusable", () => {
    const s = new LowestRttScheduler();
    const list = [sf(0, { rttMs: 50 }), sf(1, { rttMs: 10, backup: true }), sf(2, { rttMs: 20 }), sf(3, { rttMs: 5, stale: true }), sf(4, { rttMs: 1, usable: false })];
    assert.deepEqual(s.order(list).map((x) => x.id), [2, 0, 1, 3, 4]);
    // Re-sorted on every call: an RTT change shows at once.
    list[0]!.tcp.srttUs = 15_000;
    assert.deepEqual(s.order(list).map((x) => x.id), [0, 2, 1, 3, 4]);
  });
  it("a backup subflow takes data only when no regular subflow is usable", () => {
    const s = new LowestRttScheduler();
    const reg = sf(0, { rttMs: 50 });
    const bak = sf(1, { rttMs: 10, backup: true });
    assert.equal(s.allowed(bak, [reg, bak]), false);
    assert.equal(s.allowed(reg, [reg, bak]), true);
    reg.usable = false;
    assert.equal(s.allowed(bak, [reg, bak]), true);
  });
});

describe("BLEST", () => {
  it("holds back the slow subflow when the data it takes would block the send window", () => {
    const fast = sf(0, { rttMs: 10, cwnd: 20, inflight: 20 });
    const slow = sf(1, { rttMs: 100, cwnd: 10, inflight: 2 });
    // X = MSS * (20 + 4.5) * 10 = 245 MSS; window room 100 MSS - 3 MSS: blocks.
    assert.equal(blestBlocks(fast, slow, 100 * MSS, 1), true);
    // A large window (1000 MSS): no blocking, the slow subflow may send.
    assert.equal(blestBlocks(fast, slow, 1000 * MSS, 1), false);
    const s = new BlestScheduler();
    assert.equal(s.allowed(slow, [fast, slow], conn(100 * MSS, 1e6)), false);
    assert.equal(s.skipped, 1);
    assert.equal(s.allowed(slow, [fast, slow], conn(1000 * MSS, 1e6)), true);
    assert.equal(s.allowed(fast, [fast, slow], conn(100 * MSS, 1e6)), true, "the fastest subflow is never held back");
  });
  it("waits for the fast subflow while it still has window; equal RTTs never wait", () => {
    const s = new BlestScheduler();
    const fast = sf(0, { rttMs: 10, cwnd: 20, inflight: 5 });
    const slow = sf(1, { rttMs: 100, cwnd: 10, inflight: 0 });
    assert.equal(s.allowed(slow, [fast, slow], conn(1e9, 1e6)), false);
    const twin = sf(2, { rttMs: 10, cwnd: 10, inflight: 0 });
    assert.equal(s.allowed(twin, [fast, twin], conn(0, 1e6)), true);
  });
});

describe("ECF", () => {
  it("waits for the fast subflow when little data is queued, uses the slow one when much is", () => {
    const fast = sf(0, { rttMs: 10, cwnd: 10, inflight: 10, rttvarMs: 1 });
    const slow = sf(1, { rttMs: 100, cwnd: 10, inflight: 0, rttvarMs: 5 });
    // k = 20 segments: n = 3, 3 * 10 ms < 105 ms, and (20 / 10) * 100 ms >= 25 ms: wait.
    assert.equal(ecfWaits(fast, slow, 20 * MSS, false, 0.25), true);
    // k = 200 segments: n = 21, 210 ms >= 105 ms: the fast subflow alone would finish later.
    assert.equal(ecfWaits(fast, slow, 200 * MSS, false, 0.25), false);
    const s = new EcfScheduler();
    assert.equal(s.allowed(slow, [fast, slow], conn(1e9, 20 * MSS)), false);
    assert.equal(s.waiting, true);
    assert.equal(s.allowed(slow, [fast, slow], conn(1e9, 200 * MSS)), true);
    assert.equal(s.waiting, false);
  });
  it("the waiting flag adds hysteresis (beta)", () => {
    const fast = sf(0, { rttMs: 10, cwnd: 10, inflight: 10, rttvarMs: 0 });
    const slow = sf(1, { rttMs: 30, cwnd: 10, inflight: 0, rttvarMs: 0 });
    // k = 25 segments: n = 3.5, 35 ms vs 30 ms: use slow when not waiting, wait when waiting (30 * 1.25 = 37.5).
    assert.equal(ecfWaits(fast, slow, 25 * MSS, false, 0.25), false);
    assert.equal(ecfWaits(fast, slow, 25 * MSS, true, 0.25), true);
  });
});

describe("redundant", () => {
  it("queues what one subflow sent for every other usable subflow of the best rank", () => {
    const s = new RedundantScheduler();
    const a = sf(0, { rttMs: 10 });
    const b = sf(1, { rttMs: 50 });
    const c = sf(2, { rttMs: 5, backup: true });
    const all = [a, b, c];
    s.sent(a, 1000n, 1448, all);
    s.sent(a, 2448n, 1448, all);
    assert.equal(s.queued(b), 2896, "contiguous ranges merge");
    assert.equal(s.queued(c), 0, "a backup gets no copy while a regular subflow is usable");
    assert.equal(s.queued(a), 0);
    // DATA_ACKed bytes are skipped; the rest comes out in pieces of at most maxBytes.
    assert.deepEqual(s.duplicate(b, 1500n, 1000), { dsn: 1500n, len: 1000 });
    assert.deepEqual(s.duplicate(b, 1500n, 5000), { dsn: 2500n, len: 1396 });
    assert.equal(s.duplicate(b, 1500n, 5000), undefined);
  });
  it("with no regular subflow usable, the backups get the copies", () => {
    const s = new RedundantScheduler();
    const a = sf(0, { rttMs: 10, backup: true });
    const b = sf(1, { rttMs: 50, backup: true });
    const dead = sf(2, { rttMs: 5, usable: false });
    s.sent(a, 0n, 100, [a, b, dead]);
    assert.equal(s.queued(b), 100);
    assert.equal(s.queued(dead), 0);
  });
});

describe("every scheduler (property)", () => {
  const arbSf = fc.record({
    rttMs: fc.integer({ min: 1, max: 500 }),
    cwnd: fc.integer({ min: 1, max: 200 }),
    inflight: fc.integer({ min: 0, max: 200 }),
    backup: fc.boolean(),
    stale: fc.boolean(),
    usable: fc.boolean(),
  });
  it("order() is a permutation; unusable never allowed; a backup or stale subflow only when nothing better is usable", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.array(arbSf, { minLength: 1, maxLength: 8 }), fc.nat(1e7), fc.nat(1e7), (name, specs, win, unsent) => {
        const s = createScheduler(name);
        const list = specs.map((o, i) => sf(i, o));
        const ord = s.order(list);
        assert.deepEqual(ord.map((x) => x.id).sort((x, y) => x - y), list.map((x) => x.id));
        const rank = (x: Sf): number => (!x.usable ? 3 : x.stale ? 2 : x.backup ? 1 : 0);
        const best = Math.min(...list.map(rank));
        for (const x of list) {
          const ok = s.allowed(x, list, conn(win, unsent));
          if (!x.usable) assert.equal(ok, false);
          if (rank(x) > best) assert.equal(ok, false, `${name}: rank ${rank(x)} allowed while rank ${best} is usable`);
        }
        // The lowest-RTT subflow of the best rank is always allowed (no scheduler starves the connection).
        const cands = list.filter((x) => rank(x) === best && best < 3).sort((x, y) => x.tcp.srttUs - y.tcp.srttUs);
        if (cands.length > 0) assert.equal(s.allowed(cands[0]!, list, conn(win, unsent)), true, name);
      }),
      { numRuns: 300 },
    );
  });
});
