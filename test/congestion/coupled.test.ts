// Coupled congestion control: LIA (RFC 6356), OLIA (Khalili et al. 2013), BALIA (Peng et al. 2016).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  baliaFactory,
  baliaIncreaseFactor,
  liaAlpha,
  liaFactory,
  oliaAlphas,
  oliaFactory,
} from "../../core/congestion/coupled.ts";
import type { CoupledController, CoupledFactory, CoupledPath } from "../../core/congestion/coupled.ts";
import { congestionFactory } from "../../core/congestion/index.ts";
import { renoFactory } from "../../core/congestion/reno.ts";
import type { CongestionController, CongestionFactory } from "../../core/congestion/types.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { apply, checkWindow, eventArb, MSS, propertyInvariants, round, sample } from "./sim.ts";

/** A subflow in congestion avoidance with exactly `segs` segments and an RTT estimate. */
function inCA(f: CongestionFactory, segs: number, rttUs: number, mss = MSS): CoupledController {
  const c = f.create({ mss, now: 0, initialWindowSegments: 2 * segs }) as CoupledController;
  c.onCongestionEvent(0, 2 * segs * mss); // before it has an RTT: it is not coupled yet, plain halving
  c.onRecoveryExit(0);
  c.onAck(sample(0, 0, { rttUs, srttUs: rttUs, minRttUs: rttUs }));
  assert.equal(c.cwnd, segs * mss);
  assert.equal(c.ssthresh, segs * mss);
  return c;
}

const path = (cwndSegs: number, rttUs: number, lossDistance = 0, mss = MSS): CoupledPath => ({
  cwnd: cwndSegs * mss,
  rttUs,
  mss,
  lossDistance,
});

/** Deterministic PRNG for the simulations (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Round-based fluid model of a shared bottleneck: every round (one RTT) each subflow sends its
 * window; each packet is lost with probability p; a round with a loss is one congestion event,
 * otherwise the whole window is acknowledged. Returns the mean total window in segments.
 */
function simulate(flows: CongestionController[], p: number, rounds: number, seed: number, rttUs = 50_000): number {
  const rnd = prng(seed);
  let now = 0;
  let sum = 0;
  let counted = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of flows) {
      const pkts = c.cwnd / MSS;
      if (rnd() < 1 - Math.pow(1 - p, pkts)) {
        c.onCongestionEvent(now, c.cwnd);
        c.onRecoveryExit(now);
      } else {
        round(c, now, { rttUs });
      }
    }
    now += rttUs;
    if (r >= rounds / 10) {
      sum += flows.reduce((a, c) => a + c.cwnd / MSS, 0);
      counted++;
    }
  }
  return sum / counted;
}

test("LIA alpha (RFC 6356): 1/n for n equal paths, max/total for equal RTTs, 1 for one path", () => {
  assert.ok(Math.abs(liaAlpha([path(30, 50_000)]) - 1) < 1e-12);
  assert.ok(Math.abs(liaAlpha([path(40, 50_000), path(40, 50_000)]) - 0.5) < 1e-12);
  assert.ok(Math.abs(liaAlpha([path(10, 9_000), path(10, 9_000), path(10, 9_000)]) - 1 / 3) < 1e-12);
  assert.ok(Math.abs(liaAlpha([path(80, 20_000), path(20, 20_000)]) - 0.8) < 1e-12);
  // Direct evaluation of the RFC formula for unequal RTTs.
  const ps = [path(30, 10_000), path(60, 80_000)];
  const total = 90 * MSS;
  const best = Math.max((30 * MSS) / 1e8, (60 * MSS) / 6.4e9);
  const s = (30 * MSS) / 1e4 + (60 * MSS) / 8e4;
  assert.ok(Math.abs(liaAlpha(ps) - (total * best) / (s * s)) < 1e-12);
});

test("LIA, 2 subflows, equal RTTs: the connection grows by alpha MSS per RTT, one Reno flow by 1", () => {
  for (const [a, b] of [[40, 40], [80, 20]] as const) {
    const f = liaFactory();
    const x = inCA(f, a, 50_000);
    const y = inCA(f, b, 50_000);
    const alpha = liaAlpha([x.path()!, y.path()!]);
    const before = x.windowBytes + y.windowBytes;
    round(x, 0, { rttUs: 50_000 });
    round(y, 0, { rttUs: 50_000 });
    const grew = (x.windowBytes + y.windowBytes - before) / MSS;
    assert.ok(Math.abs(grew - alpha) < 0.02, `windows ${a}/${b}: grew ${grew} MSS, alpha ${alpha}`);
    assert.ok(grew <= 1, "never more than one Reno flow's 1 MSS per RTT");
  }
  const reno = renoFactory().create({ mss: MSS, now: 0, initialWindowSegments: 80 });
  reno.onCongestionEvent(0, 80 * MSS);
  reno.onRecoveryExit(0);
  const w = reno.cwnd;
  round(reno, 0, { rttUs: 50_000 });
  assert.equal(reno.cwnd - w, MSS);
});

test("shared bottleneck (fluid model): LIA, OLIA and BALIA on 2 paths take about one Reno flow's share", () => {
  const p = 0.002;
  const reno = simulate([renoFactory().create({ mss: MSS, now: 0 })], p, 6000, 1);
  // Reno's mean window under random loss p is about 1.3 / sqrt(p) segments (~29 here).
  assert.ok(reno > 20 && reno < 40, `reno ${reno}`);
  const results: Record<string, number> = {};
  for (const [name, f] of [["lia", liaFactory()], ["olia", oliaFactory()], ["balia", baliaFactory()]] as const) {
    results[name] = simulate([f.create({ mss: MSS, now: 0 }), f.create({ mss: MSS, now: 0 })], p, 6000, 1);
  }
  const uncoupled = simulate([renoFactory().create({ mss: MSS, now: 0 }), renoFactory().create({ mss: MSS, now: 0 })], p, 6000, 1);
  for (const [name, total] of Object.entries(results)) {
    const ratio = total / reno;
    assert.ok(ratio > 0.75 && ratio < 1.3, `${name}: total ${total.toFixed(1)} vs reno ${reno.toFixed(1)} (ratio ${ratio.toFixed(2)})`);
    assert.ok(total < 0.8 * uncoupled, `${name} takes clearly less than two uncoupled Reno flows (${uncoupled.toFixed(1)})`);
  }
});

test("property: LIA's increase never exceeds uncoupled Reno's on any subflow; BALIA's neither", () => {
  // At least 2 segments: a window in congestion avoidance is never below ssthresh's 2 MSS floor.
  const pathArb = fc.record({ segs: fc.integer({ min: 2, max: 500 }), rtt: fc.integer({ min: 100, max: 2_000_000 }) });
  for (const make of [liaFactory, baliaFactory]) {
    fc.assert(
      fc.property(
        fc.array(pathArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 4 * MSS }),
        (ps, pick, acked) => {
          const f = make();
          const cs = ps.map((p) => inCA(f, p.segs, p.rtt));
          const c = cs[pick % cs.length]!;
          const w = c.windowBytes;
          c.onAck(sample(1, acked, { rttUs: c.rttUs, srttUs: c.rttUs, minRttUs: c.rttUs }));
          const inc = c.windowBytes - w;
          const reno = (acked * MSS) / w;
          assert.ok(inc >= 0, `${f.name}: increase ${inc} < 0`);
          // (the increase is measured as a difference of windows: allow their rounding error)
          assert.ok(inc <= reno * (1 + 1e-9) + 4 * Number.EPSILON * w, `${f.name}: increase ${inc} > Reno's ${reno}`);
        },
      ),
      { numRuns: 300 },
    );
  }
});

test("one subflow alone: LIA, OLIA and BALIA are Reno (1 MSS per RTT, halving)", () => {
  for (const make of [liaFactory, oliaFactory, baliaFactory]) {
    const c = inCA(make(), 40, 30_000);
    const w = c.windowBytes;
    round(c, 0, { rttUs: 30_000 });
    assert.ok(Math.abs(c.windowBytes - w - MSS) < 0.05 * MSS, `${c.name}: +${(c.windowBytes - w) / MSS} MSS`);
    const before = c.windowBytes;
    c.onCongestionEvent(1, c.cwnd);
    assert.equal(c.cwnd, Math.floor(before / 2), c.name);
    assert.equal(c.ssthresh, Math.floor(before / 2), c.name);
  }
});

test("OLIA alphas: sum 0; positive only on best paths without the largest window, negative on the largest", () => {
  // Equal windows: every path is in M, B \ M is empty.
  assert.deepEqual(oliaAlphas([path(20, 10_000, 1e6), path(20, 40_000, 5e6)]), [0, 0]);
  // Best path (largest l / rtt^2) also has the largest window: no shift.
  assert.deepEqual(oliaAlphas([path(30, 10_000, 1e6), path(20, 10_000, 1e5)]), [0, 0]);
  // Path 1 is best but small: it gains 1/(n |B\M|), the largest loses 1/(n |M|).
  const a = oliaAlphas([path(30, 10_000, 1e5), path(10, 10_000, 1e6), path(5, 10_000, 1e4)]);
  assert.ok(Math.abs(a[0]! + 1 / 3) < 1e-12 && Math.abs(a[1]! - 1 / 3) < 1e-12 && a[2] === 0, String(a));
  fc.assert(
    fc.property(
      fc.array(fc.record({ segs: fc.integer({ min: 1, max: 50 }), rtt: fc.integer({ min: 1000, max: 500_000 }), l: fc.integer({ min: 0, max: 1e7 }) }), { minLength: 1, maxLength: 6 }),
      (ps) => {
        const paths = ps.map((p) => path(p.segs, p.rtt, p.l));
        const al = oliaAlphas(paths);
        const sum = al.reduce((x, y) => x + y, 0);
        assert.ok(Math.abs(sum) < 1e-12, `sum ${sum}`);
        const maxSegs = Math.max(...ps.map((p) => p.segs));
        al.forEach((x, i) => {
          if (x > 0) assert.ok(ps[i]!.segs < maxSegs);
          if (x < 0) assert.equal(ps[i]!.segs, maxSegs);
          assert.ok(Math.abs(x) <= 1 / ps.length + 1e-12);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test("OLIA: window moves from the largest path to the better one; equal RTTs never beat one Reno flow", () => {
  const f = oliaFactory();
  const big = inCA(f, 60, 20_000);
  const small = inCA(f, 10, 20_000);
  // The small path has seen many more bytes between losses (a better path).
  let now = 0;
  for (let r = 0; r < 3; r++) now = round(small, now, { rttUs: 20_000 });
  small.onCongestionEvent(now, small.cwnd);
  small.onRecoveryExit(now);
  for (let r = 0; r < 40; r++) now = round(small, now, { rttUs: 20_000 });
  const bigBefore = big.windowBytes;
  const smallBefore = small.windowBytes;
  const alphas = oliaAlphas([big.path()!, small.path()!]);
  assert.ok(alphas[0]! < 0 && alphas[1]! > 0, `alphas ${alphas}`);
  // Per RTT, the big path grows less than LIA's share would give it, the small one more.
  round(big, now, { rttUs: 20_000 });
  round(small, now, { rttUs: 20_000 });
  const dBig = (big.windowBytes - bigBefore) / MSS;
  const dSmall = (small.windowBytes - smallBefore) / MSS;
  assert.ok(dSmall > dBig, `small +${dSmall}, big +${dBig}`);
  // Property: with equal RTTs the connection's increase per RTT is at most one MSS.
  fc.assert(
    fc.property(
      fc.array(fc.record({ segs: fc.integer({ min: 2, max: 200 }), l: fc.integer({ min: 0, max: 1e7 }) }), { minLength: 1, maxLength: 5 }),
      (ps) => {
        const g = oliaFactory();
        const cs = ps.map((p) => inCA(g, p.segs, 30_000));
        // Give each path its loss distance: acknowledge l bytes in recovery (counted, no growth).
        cs.forEach((c, i) => c.onAck(sample(0, ps[i]!.l, { rttUs: 30_000, srttUs: 30_000, inRecovery: true })));
        const paths = cs.map((c) => c.path()!);
        const al = oliaAlphas(paths);
        let total = 0;
        let sumW = 0;
        for (const p of paths) sumW += p.cwnd;
        paths.forEach((p, i) => {
          // One RTT's worth of ACKs at fixed windows: cwnd_r bytes acknowledged.
          total += p.cwnd * MSS * (p.cwnd / (sumW * sumW) + al[i]! / p.cwnd);
        });
        assert.ok(total <= MSS * (1 + 1e-9), `total ${total / MSS} MSS per RTT`);
      },
    ),
    { numRuns: 200 },
  );
});

test("BALIA: increase factor <= 1 (1 for the fastest of equal paths); loss drops (w/2) min(alpha, 1.5)", () => {
  assert.equal(baliaIncreaseFactor([path(40, 10_000)], 0), 1);
  assert.ok(Math.abs(baliaIncreaseFactor([path(40, 10_000), path(40, 10_000)], 0) - 0.25) < 1e-12);
  fc.assert(
    fc.property(
      fc.array(fc.record({ segs: fc.integer({ min: 1, max: 500 }), rtt: fc.integer({ min: 100, max: 2_000_000 }) }), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (ps, pick) => {
        const paths = ps.map((p) => path(p.segs, p.rtt));
        const f = baliaIncreaseFactor(paths, pick % paths.length);
        assert.ok(f > 0 && f <= 1 + 1e-12, `factor ${f}`);
      },
    ),
    { numRuns: 300 },
  );
  // Two paths with rates 4:1 (alpha of the slow one = 4): the slow one keeps a quarter of its window.
  const g = baliaFactory();
  const fast = inCA(g, 40, 10_000);
  const slow = inCA(g, 20, 20_000);
  const wSlow = slow.windowBytes;
  slow.onCongestionEvent(1, slow.cwnd);
  assert.equal(slow.cwnd, Math.floor(wSlow - (wSlow / 2) * 1.5));
  const wFast = fast.windowBytes;
  fast.onCongestionEvent(1, fast.cwnd);
  assert.equal(fast.cwnd, Math.floor(wFast / 2), "the fastest path (alpha 1) halves");
});

test("coupling state: one group per factory, released subflows leave it, registry", () => {
  const f = liaFactory();
  const other = liaFactory();
  const a = inCA(f, 20, 10_000);
  const b = inCA(f, 20, 10_000);
  inCA(other, 20, 10_000);
  assert.equal(f.group.size, 2);
  assert.equal(other.group.size, 1);
  // Coupled with b: grows by alpha/2 of Reno; after b is released, a grows like Reno.
  let w = a.windowBytes;
  a.onAck(sample(1, MSS, { srttUs: 10_000 }));
  const coupledInc = a.windowBytes - w;
  b.release();
  b.release();
  assert.equal(f.group.size, 1);
  w = a.windowBytes;
  a.onAck(sample(2, MSS, { srttUs: 10_000 }));
  const aloneInc = a.windowBytes - w;
  assert.ok(Math.abs(aloneInc - (MSS * MSS) / w) < 1e-9);
  assert.ok(coupledInc < aloneInc / 3, `${coupledInc} vs ${aloneInc}`);
  // A subflow without an RTT estimate is not coupled yet and grows conservatively.
  const c = f.create({ mss: MSS, now: 0, initialWindowSegments: 4 }) as CoupledController;
  assert.equal(c.path(), undefined);
  assert.equal(f.group.size, 2);

  for (const name of ["reno", "cubic", "lia", "olia", "balia"] as const) {
    const x = congestionFactory(name);
    assert.equal(x.name, name);
    assert.equal(x.create({ mss: MSS, now: 0 }).name, name);
    assert.notEqual(congestionFactory(name), x, "a new factory per call");
  }
  assert.ok((congestionFactory("olia") as CoupledFactory).group !== undefined);
  assert.throws(() => congestionFactory("vegas" as never), InvalidArgumentError);
});

test("property: LIA, OLIA and BALIA keep their invariants under random events (one subflow)", () => {
  propertyInvariants(() => liaFactory());
  propertyInvariants(() => oliaFactory());
  propertyInvariants(() => baliaFactory());
});

test("property: coupled subflows of one connection keep their invariants under random events", () => {
  for (const make of [liaFactory, oliaFactory, baliaFactory]) {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.tuple(fc.nat(), eventArb, fc.boolean()), { maxLength: 150 }),
        (n, evs) => {
          const f = make();
          const subs = Array.from({ length: n }, () => ({
            c: f.create({ mss: MSS, now: 0 }),
            st: { now: 0, mss: MSS, srtt: 0 },
            congestion: false,
            live: true,
          }));
          let now = 0;
          for (const [pick, ev, rel] of evs) {
            const s = subs[pick % n]!;
            if (!s.live) continue;
            if (rel && ev.kind === "exit" && subs.filter((x) => x.live).length > 1) {
              s.c.release?.();
              s.live = false;
              continue;
            }
            now += ev.dt;
            s.st.now = now - ev.dt;
            apply(s.c, ev, s.st);
            if (ev.kind === "loss" || ev.kind === "rto") s.congestion = true;
            if (ev.kind === "spurious") s.congestion = false;
            for (const x of subs) if (x.live) checkWindow(x.c, x.st.mss, x.congestion, `${f.name} after ${ev.kind}`);
          }
        },
      ),
      { numRuns: 150 },
    );
  }
});
