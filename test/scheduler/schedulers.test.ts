// Scheduler decisions: the default (Linux's linger time and bursts), lowest RTT first, redundant,
// BLEST (with its adaptive lambda), ECF (and round robin) on hand-made subflow views; backup
// handling as a fast-check property of every scheduler.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createScheduler } from "../../core/scheduler/index.ts";
import type { SchedConnection, SchedSubflow, SchedulerName } from "../../core/scheduler/index.ts";
import { BlestScheduler, adaptLambda, blestBlocks } from "../../core/scheduler/blest.ts";
import { EcfScheduler, ecfWaits } from "../../core/scheduler/ecf.ts";
import { RedundantScheduler } from "../../core/scheduler/redundant.ts";
import { LowestRttScheduler } from "../../core/scheduler/lowrtt.ts";
import { LingerScheduler, SEND_BURST_SIZE, sendBufferOf } from "../../core/scheduler/linger.ts";
import { ReferenceLingerScheduler } from "./linger_reference.ts";
import { RankRttOrder, orderByRankRtt } from "../../core/scheduler/common.ts";

const MSS = 1448;
interface Sf extends SchedSubflow {
  id: number;
  usable: boolean;
  stale: boolean;
  tcp: { srttUs: number; cwndBytes: number; bytesInFlight: number; mss: number; rttvarUs?: number; unacked?: number; congestion?: { pacingRate(srttUs: number): number } };
}
function sf(
  id: number,
  o: { rttMs: number; cwnd?: number; inflight?: number; backup?: boolean; stale?: boolean; usable?: boolean; rttvarMs?: number; queued?: number; paceBps?: number },
): Sf {
  return {
    id,
    backup: o.backup ?? false,
    stale: o.stale ?? false,
    usable: o.usable ?? true,
    tcp: {
      srttUs: o.rttMs * 1000,
      cwndBytes: (o.cwnd ?? 10) * MSS,
      bytesInFlight: (o.inflight ?? 0) * MSS,
      mss: MSS,
      ...(o.rttvarMs !== undefined ? { rttvarUs: o.rttvarMs * 1000 } : {}),
      ...(o.queued !== undefined ? { unacked: o.queued * MSS } : {}),
      ...(o.paceBps !== undefined ? { congestion: { pacingRate: (): number => o.paceBps! } } : {}),
    },
  };
}
const conn = (sendWindowFree: number, unsentBytes: number, nowUs?: number): SchedConnection => ({ sendWindowFree, unsentBytes, ...(nowUs !== undefined ? { nowUs } : {}) });
const ALL: SchedulerName[] = ["default", "roundrobin", "lowrtt", "redundant", "blest", "ecf"];

describe("default: Linux's linger time and 64 KiB bursts", () => {
  it("picks the subflow whose queue drains first at its pacing rate, not the lowest RTT", () => {
    // A: 10 ms, cwnd 20, 15 segments queued: 1.2 * 20 * 1448 B / 10 ms = 3.48 MB/s, linger 6.25 ms.
    // B: 40 ms, cwnd 20, 2 segments queued: 0.87 MB/s, linger 3.33 ms.
    const a = sf(0, { rttMs: 10, cwnd: 20, inflight: 15, queued: 15 });
    const b = sf(1, { rttMs: 40, cwnd: 20, inflight: 2, queued: 2 });
    const s = new LingerScheduler();
    assert.ok(Math.abs(s.lingerUs(a)! - 6250) < 1 && Math.abs(s.lingerUs(b)! - 3333.3) < 1);
    assert.equal(s.choose([a, b]), b);
    // Ten segments to send: they are B's burst, and A gets none.
    assert.equal(s.allowed(a, [a, b], conn(1e9, 10 * MSS)), false);
    assert.equal(s.reserved(b), 10 * MSS);
    assert.equal(s.allowed(b, [a, b], conn(1e9, 10 * MSS)), true);
    assert.equal(new LowestRttScheduler().allowed(a, [a, b], conn(1e9, 10 * MSS)), true, "lowrtt would send on A");
    // Three bursts to send, as Linux's push loop: B's (its queue then drains in 78.8 ms), then
    // A's (25.1 ms), then A's again.
    const s1 = new LingerScheduler();
    assert.equal(s1.allowed(a, [a, b], conn(1e9, 3 * SEND_BURST_SIZE)), true);
    assert.deepEqual([s1.reserved(b), s1.reserved(a)], [SEND_BURST_SIZE, 2 * SEND_BURST_SIZE]);
    // The queue counts what was sent and not yet cumulatively acknowledged (SACKed bytes too),
    // and the controller's pacing rate is the one used when the view has it.
    const c = sf(2, { rttMs: 40, cwnd: 20, inflight: 0, queued: 10, paceBps: 10 * MSS * 100 });
    assert.equal(s.lingerUs(c), 10_000);
    assert.equal(new LingerScheduler().choose([a, c]), a);
    // Idle subflows tie at 0: the lower RTT goes first.
    assert.equal(new LingerScheduler().choose([sf(3, { rttMs: 30 }), sf(4, { rttMs: 20 })])!.id, 4);
  });
  it("keeps the chosen subflow for its burst, then chooses again", () => {
    const a = sf(0, { rttMs: 10, cwnd: 40, inflight: 0, queued: 0 });
    const b = sf(1, { rttMs: 40, cwnd: 40, inflight: 0, queued: 0 });
    const all = [a, b];
    const s = new LingerScheduler();
    let unsent = SEND_BURST_SIZE;
    // Both idle: A (lower RTT) gets the 64 KiB burst; nothing is left for B.
    assert.equal(s.allowed(b, all, conn(1e9, unsent)), false);
    assert.equal(s.reserved(a), SEND_BURST_SIZE);
    assert.equal(s.bursts, 1);
    // A sends its burst segment by segment; its queue soon drains later than idle B's, but A
    // keeps the burst and B stays out until the burst is used up.
    let sent = 0;
    while (sent < SEND_BURST_SIZE) {
      assert.equal(s.allowed(a, all, conn(1e9, unsent)), true);
      const n = Math.min(MSS, SEND_BURST_SIZE - sent);
      s.sent(a, BigInt(sent), n, all);
      sent += n;
      unsent -= n;
      a.tcp.unacked = sent;
      a.tcp.bytesInFlight = Math.min(sent, a.tcp.cwndBytes);
      if (sent >= 2 * MSS) assert.ok(s.lingerUs(a)! > s.lingerUs(b)!);
      if (unsent > 0) assert.equal(s.allowed(b, all, conn(1e9, unsent)), false, "B waits while A's burst lasts");
    }
    assert.equal(s.reserved(a), 0);
    // New data: the next burst goes to B, whose queue now drains first.
    unsent = 10 * MSS;
    assert.equal(s.allowed(a, all, conn(1e9, unsent)), false);
    assert.equal(s.reserved(b), 10 * MSS);
    assert.equal(s.allowed(b, all, conn(1e9, unsent)), true);
  });
  it("fills the subflows' queues in parallel, each up to Linux's autotuned send buffer", () => {
    const a = sf(0, { rttMs: 10, cwnd: 20, queued: 0 });
    const b = sf(1, { rttMs: 10, cwnd: 20, queued: 0 });
    // tcp_sndbuf_expand: 2 * max(cwnd, 10) segments of 4352 bytes (MSS 1448).
    assert.equal(sendBufferOf(a), 2 * 20 * 4352);
    const s = new LingerScheduler();
    assert.equal(s.allowed(a, [a, b], conn(1e9, 1e9)), true);
    assert.equal(s.reserved(a), sendBufferOf(a));
    assert.equal(s.reserved(b), sendBufferOf(b));
    assert.equal(s.allowed(b, [a, b], conn(1e9, 1e9)), true);
    // The quickest queue is full: nobody gets data, the connection waits for it to drain
    // (Linux: sk_stream_memory_free fails, no subflow).
    const c = sf(2, { rttMs: 5, cwnd: 20, inflight: 20 });
    c.tcp.unacked = sendBufferOf(c); // 174080 B at 1.2 * 20 * 1448 B / 5 ms: 25 ms
    const d = sf(3, { rttMs: 10, cwnd: 40, inflight: 40, queued: 200 }); // 200 * 1448 B at 1.2 * 40 * 1448 B / 10 ms: 41.7 ms
    const s2 = new LingerScheduler();
    assert.equal(s2.choose([c, d]), c);
    assert.equal(s2.allowed(d, [c, d], conn(1e9, 1e9)), false);
    assert.equal(s2.bursts, 0);
  });
  it("gives no burst to a subflow whose TCP send window is closed, and takes back the one it holds (interop 6b)", () => {
    // The join (lower RTT) holds a burst; then its last segment says window 0 and its path dies:
    // no window update ever reaches it. The burst goes to the first subflow instead of waiting.
    const first = sf(0, { rttMs: 20, cwnd: 40, queued: 0 });
    const join = sf(1, { rttMs: 5, cwnd: 40, queued: 0 });
    const all = [first, join];
    const s = new LingerScheduler();
    assert.equal(s.allowed(first, all, conn(1e9, SEND_BURST_SIZE)), false);
    assert.equal(s.reserved(join), SEND_BURST_SIZE);
    (join.tcp as { sendWindow?: number }).sendWindow = 0;
    assert.equal(s.choose(all), first);
    assert.equal(s.allowed(first, all, conn(1e9, SEND_BURST_SIZE)), true);
    assert.deepEqual([s.reserved(first), s.reserved(join)], [SEND_BURST_SIZE, 0]);
    assert.equal(s.allowed(join, all, conn(1e9, SEND_BURST_SIZE)), false);
    // Every subflow closed: nobody gets a burst (each waits for its window update or probe answer).
    (first.tcp as { sendWindow?: number }).sendWindow = 0;
    const s2 = new LingerScheduler();
    assert.equal(s2.choose(all), undefined);
    assert.equal(s2.allowed(first, all, conn(1e9, SEND_BURST_SIZE)), false);
    assert.equal(s2.bursts, 0);
    // The window reopens: bursts again.
    (join.tcp as { sendWindow?: number }).sendWindow = 65535;
    assert.equal(s2.allowed(join, all, conn(1e9, SEND_BURST_SIZE)), true);
    assert.equal(s2.reserved(join), SEND_BURST_SIZE);
  });
  it("uses backup subflows only when no regular subflow is active", () => {
    const reg = sf(0, { rttMs: 100, cwnd: 10, inflight: 8, queued: 8 });
    const bak = sf(1, { rttMs: 5, cwnd: 10, backup: true });
    const s = new LingerScheduler();
    assert.equal(s.allowed(bak, [reg, bak], conn(1e9, 1e6)), false, "the idle backup drains first, but it is a backup");
    assert.equal(s.allowed(reg, [reg, bak], conn(1e9, 1e6)), true);
    assert.ok(s.reserved(reg) > 0);
    // The regular subflow goes away: its reservation is dropped and the backup takes over.
    reg.usable = false;
    assert.equal(s.allowed(bak, [reg, bak], conn(1e9, 1e6)), true);
    assert.equal(s.reserved(reg), 0);
    assert.equal(s.allowed(reg, [reg, bak], conn(1e9, 1e6)), false);
    // A stale regular subflow counts below a backup.
    reg.usable = true;
    reg.stale = true;
    assert.equal(s.allowed(reg, [reg, bak], conn(1e9, 1e6)), false);
  });
  it("bounds the burst by the peer's connection-level window", () => {
    const a = sf(0, { rttMs: 10, cwnd: 100 });
    const b = sf(1, { rttMs: 20, cwnd: 100 });
    const s = new LingerScheduler();
    assert.equal(s.allowed(a, [a, b], conn(10_000, 1e6)), true);
    assert.equal(s.reserved(a), 10_000);
    assert.equal(s.allowed(b, [a, b], conn(10_000, 1e6)), false, "the whole window is A's burst");
    // And by the data there is.
    const s2 = new LingerScheduler();
    assert.equal(s2.allowed(a, [a, b], conn(1e9, 3000)), true);
    assert.equal(s2.reserved(a), 3000);
    // With the window full (opportunistic retransmission) or nothing new (reinjection), every
    // subflow of the tier may take what there is.
    const s3 = new LingerScheduler();
    assert.equal(s3.allowed(b, [a, b], conn(0, 1e6)), true);
    assert.equal(s3.allowed(b, [a, b], conn(1e6, 0)), true);
    assert.equal(s3.reserved(a) + s3.reserved(b), 0);
  });
});

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
  it("adapts lambda once per RTT of the fast subflow: up while it is window-blocked, down otherwise, within [1.0, 1.3]", () => {
    const fast = sf(0, { rttMs: 10, cwnd: 20, inflight: 10 });
    const slow = sf(1, { rttMs: 30, cwnd: 10, inflight: 0 });
    const s = new BlestScheduler();
    assert.equal(s.lambda, 1.2);
    let now = 0;
    const seen: number[] = [];
    // The fast subflow asks for data while the peer's window is full: blocked, every RTT.
    for (let i = 0; i < 20; i++) {
      s.allowed(fast, [fast, slow], conn(0, 1e6, now));
      s.allowed(fast, [fast, slow], conn(0, 1e6, now + 1000)); // same RTT: no second step
      seen.push(s.lambda);
      now += 10_000;
    }
    assert.deepEqual(seen.slice(0, 4), [1.24, 1.28, 1.3, 1.3]);
    assert.ok(seen.every((l) => l <= 1.3));
    // The window opens: lambda comes down by 0.01 per RTT, to 1.0 and no lower.
    for (let i = 0; i < 50; i++) {
      s.allowed(fast, [fast, slow], conn(1e9, 1e6, now));
      seen.push(s.lambda);
      now += 10_000;
    }
    // (the last blocked look, in the RTT before, still counts once)
    assert.deepEqual(seen.slice(20, 22), [1.3, 1.29]);
    assert.equal(s.lambda, 1.0);
    assert.ok(seen.every((l) => l >= 1.0 && l <= 1.3));
    assert.equal(adaptLambda(1.0, false, s), 1.0);
    assert.equal(adaptLambda(1.3, true, s), 1.3);
  });
  it("a larger lambda holds the slow subflow back sooner", () => {
    const fast = sf(0, { rttMs: 10, cwnd: 20, inflight: 20 });
    const slow = sf(1, { rttMs: 20, cwnd: 10, inflight: 0 });
    // X = 1448 * (20 + 0.5) * 2 = 41 segments; room = W - 1 segment. W = 50 segments: 41 * 1.0 and
    // 41 * 1.2 fit in 49, 41 * 1.3 = 53.3 does not.
    assert.equal(blestBlocks(fast, slow, 50 * MSS, 1.0), false);
    assert.equal(blestBlocks(fast, slow, 50 * MSS, 1.3), true);
    const s = new BlestScheduler({ lambda: 1.0 });
    assert.equal(s.allowed(slow, [fast, slow], { sendWindowFree: 0, sendWindow: 50 * MSS, unsentBytes: 1e6 }), true);
    for (let i = 0; i < 10; i++) s.allowed(fast, [fast, slow], conn(0, 1e6)); // blocked, no clock: a step each
    assert.equal(s.lambda, 1.3);
    assert.equal(s.allowed(slow, [fast, slow], { sendWindowFree: 0, sendWindow: 50 * MSS, unsentBytes: 1e6 }), false);
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
        const cands = list.filter((x) => rank(x) === best && best < 3).sort((x, y) => x.tcp.srttUs - y.tcp.srttUs);
        if (cands.length === 0) return;
        if (name === "default") {
          // Some subflow of the best rank may send, unless the one whose queue drains first has
          // no room (twice its congestion window queued): then the connection waits for it.
          if (cands.some((x) => s.allowed(x, list, conn(win, unsent)))) return;
          const pick = new LingerScheduler().choose(list)!;
          assert.ok(rank(pick) === best && pick.tcp.bytesInFlight >= sendBufferOf(pick), "default: nothing allowed while the quickest queue has room");
          return;
        }
        // The lowest-RTT subflow of the best rank is always allowed (no scheduler starves the connection).
        assert.equal(s.allowed(cands[0]!, list, conn(win, unsent)), true, name);
      }),
      { numRuns: 300 },
    );
  });
});

describe("default: the restructured scheduler decides as the first version did (property)", () => {
  // linger.ts keeps its reservations in arrays and reads the connection view at most twice per
  // pull; test/scheduler/linger_reference.ts is the version before (a Map, every reading afresh).
  // Both are driven through the same random sequence of pulls, sends and changes of the
  // subflows (RTT, window, queue, pacing rate, MSS, TCP send window, tiers, subflows leaving and
  // coming back).
  type Op =
    | { k: "allowed"; i: number; wnd: number; unsent: number }
    | { k: "sent"; i: number; len: number }
    | { k: "set"; i: number; rttMs: number; cwnd: number; inflight: number; queued: number; pace: number; mss: number }
    | { k: "sndwnd"; i: number; wnd: number }
    | { k: "tier"; i: number; backup: boolean; stale: boolean; usable: boolean }
    | { k: "member"; i: number }
    | { k: "order" };
  const idx = fc.nat(3);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ k: fc.constant("allowed" as const), i: idx, wnd: fc.integer({ min: -2000, max: 600_000 }), unsent: fc.integer({ min: -10, max: 600_000 }) }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant("sent" as const), i: idx, len: fc.integer({ min: 0, max: 70_000 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant("set" as const),
        i: idx,
        rttMs: fc.integer({ min: 0, max: 300 }),
        cwnd: fc.integer({ min: 1, max: 300 }),
        inflight: fc.integer({ min: 0, max: 300 }),
        queued: fc.integer({ min: -1, max: 600 }),
        pace: fc.integer({ min: -1, max: 5_000_000 }),
        mss: fc.constantFrom(536, 1420, 1448, 8960),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("tier" as const), i: idx, backup: fc.boolean(), stale: fc.boolean(), usable: fc.constantFrom(true, true, true, false) }) },
    // The TCP send window: closed (0), open, or not in the view (-1).
    { weight: 2, arbitrary: fc.record({ k: fc.constant("sndwnd" as const), i: idx, wnd: fc.constantFrom(-1, 0, 0, 1448, 65535) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("member" as const), i: idx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("order" as const) }) },
  );
  it("same allowed(), reservations, bursts, choice, linger times and order on every step", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
        const subs: Sf[] = [0, 1, 2, 3].map((i) => sf(i, { rttMs: 10 * (i + 1), cwnd: 10, inflight: 0, queued: 0 }));
        let all: Sf[] = subs.slice(0, 2);
        const ref = new ReferenceLingerScheduler();
        const now = new LingerScheduler();
        for (const o of ops) {
          const s = subs["i" in o ? o.i : 0]!;
          if (o.k === "allowed") {
            const c = conn(o.wnd, o.unsent);
            assert.equal(now.allowed(s, all, c), ref.allowed(s, all, c));
          } else if (o.k === "sent") {
            now.sent(s, 0n, o.len, all);
            ref.sent(s, 0n, o.len, all);
          } else if (o.k === "set") {
            const t = s.tcp as { -readonly [K in keyof Sf["tcp"]]: Sf["tcp"][K] };
            t.srttUs = o.rttMs * 1000;
            t.cwndBytes = o.cwnd * o.mss;
            t.bytesInFlight = o.inflight * o.mss;
            t.mss = o.mss;
            if (o.queued >= 0) t.unacked = o.queued * o.mss;
            else delete t.unacked;
            if (o.pace >= 0) t.congestion = { pacingRate: (): number => o.pace };
            else delete t.congestion;
          } else if (o.k === "sndwnd") {
            const t = s.tcp as { sendWindow?: number };
            if (o.wnd >= 0) t.sendWindow = o.wnd;
            else delete t.sendWindow;
          } else if (o.k === "tier") {
            (s as { backup: boolean }).backup = o.backup;
            s.stale = o.stale;
            s.usable = o.usable;
          } else if (o.k === "member") {
            all = all.includes(s) ? all.filter((x) => x !== s) : [...all, s];
          } else {
            assert.deepEqual(now.order(all).map((x) => x.id), ref.order(all).map((x) => x.id));
          }
          for (const x of subs) {
            assert.equal(now.reserved(x), ref.reserved(x));
            assert.equal(now.lingerUs(x), ref.lingerUs(x));
          }
          assert.equal(now.bursts, ref.bursts);
          assert.equal(now.choose(all)?.id, ref.choose(all)?.id);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("RankRttOrder (the kept polling order of lowrtt, redundant, BLEST, ECF) (property)", () => {
  it("answers as a fresh orderByRankRtt after any change of RTTs, tiers or members", () => {
    const change = fc.record({
      i: fc.nat(4),
      what: fc.constantFrom("rtt", "tier", "member", "none"),
      rttUs: fc.constantFrom(0, 1000, 1000, 2000, 5000, NaN, Infinity),
      backup: fc.boolean(),
      stale: fc.boolean(),
      usable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 200 }), (changes) => {
        const subs = [0, 1, 2, 3, 4].map((i) => sf(i, { rttMs: i + 1 }));
        let all: Sf[] = subs.slice(0, 2);
        const kept = new RankRttOrder();
        for (const c of changes) {
          const s = subs[c.i]!;
          if (c.what === "rtt") (s.tcp as { srttUs: number }).srttUs = c.rttUs;
          else if (c.what === "tier") {
            (s as { backup: boolean }).backup = c.backup;
            s.stale = c.stale;
            s.usable = c.usable;
          } else if (c.what === "member") all = all.includes(s) ? all.filter((x) => x !== s) : [...all, s];
          assert.deepEqual(kept.of(all).map((x) => x.id), orderByRankRtt(all).map((x) => x.id));
        }
      }),
      { numRuns: 300 },
    );
  });
});
