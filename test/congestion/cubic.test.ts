// CUBIC (RFC 9438) against its own formulas, computed here independently of the controller.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CubicController, cubicFactory } from "../../core/congestion/cubic.ts";
import { growTo, lossAndRecover, MSS, propertyInvariants, round } from "./sim.ts";

const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);
/** RFC 9438 Figure 1, in segments. */
const W = (t: number, k: number, wMax: number): number => C * Math.pow(t - k, 3) + wMax;

/** A CUBIC controller that just lost at a window of `wMaxSeg` segments and left recovery. */
function afterLoss(wMaxSeg: number, rttUs: number, opts = {}): { c: CubicController; now: number } {
  const c = new CubicController({ mss: MSS, now: 0 }, opts);
  let now = growTo(c, 0, wMaxSeg * MSS, rttUs);
  assert.equal(c.cwnd, wMaxSeg * MSS);
  lossAndRecover(c, now);
  return { c, now };
}

test("a congestion event: ssthresh = cwnd = 0.7 W_max, W_max = cwnd before, K = cbrt(W_max (1 - beta) / C)", () => {
  const { c, now } = afterLoss(100, 100_000);
  assert.equal(c.name, "cubic");
  assert.equal(c.wMax, 100 * MSS);
  assert.equal(c.cwndPrior, 100 * MSS);
  assert.equal(c.ssthresh, Math.floor(100 * MSS * 0.7));
  assert.equal(c.cwnd, 70 * MSS);
  // K is fixed when the epoch starts (first ACK in congestion avoidance).
  round(c, now, { rttUs: 100_000 });
  assert.ok(Math.abs(c.k - Math.cbrt((100 * (1 - BETA)) / C)) < 1e-9, `K ${c.k}`);
  assert.ok(Math.abs(c.k - 4.2172) < 1e-3);
});

test("the window follows W_cubic(t) = C (t - K)^3 + W_max (concave, plateau, convex)", () => {
  const rtt = 200_000;
  const { c, now: t0 } = afterLoss(100, rtt);
  let now = t0;
  now = round(c, now, { rttUs: rtt });
  const epoch = c.epochStartUs;
  assert.ok(epoch > t0 && epoch <= t0 + rtt);
  const K = Math.cbrt((100 * (1 - BETA)) / C);
  let checked = 0;
  let nearK = false;
  while (now - epoch < 8_000_000) {
    now = round(c, now, { rttUs: rtt });
    const t = (now - epoch) / 1e6;
    const w = c.cwnd / MSS;
    // cwnd aims at W_cubic(t + RTT) one RTT ahead: it lies between W(t) and W(t + RTT).
    const lo = W(t, K, 100);
    const hi = W(t + rtt / 1e6, K, 100);
    assert.ok(w >= lo - 1 && w <= hi + 1, `t=${t.toFixed(2)}s: cwnd ${w.toFixed(2)} not in [${lo.toFixed(2)}, ${hi.toFixed(2)}]`);
    if (Math.abs(t - K) < rtt / 1e6) {
      assert.ok(Math.abs(w - 100) < 1.5, `at t=K the window is W_max (${w})`);
      nearK = true;
    }
    checked++;
  }
  assert.ok(checked >= 38 && nearK);
  // Convex region: past K the growth accelerates.
  assert.ok(c.cwnd / MSS > W(7.5, K, 100));
});

test("Reno-friendly region at short RTT: cwnd = W_est, alpha_cubic per RTT, then 1 MSS per RTT", () => {
  const rtt = 2_000;
  const { c, now: t0 } = afterLoss(100, rtt);
  let now = t0;
  const K = Math.cbrt((100 * (1 - BETA)) / C);
  for (let r = 1; r <= 30; r++) now = round(c, now, { rttUs: rtt });
  const t = (now - c.epochStartUs) / 1e6;
  const w = c.cwnd / MSS;
  assert.ok(w > W(t + rtt / 1e6, K, 100) + 10, `Reno-friendly window ${w} above the cubic curve`);
  assert.equal(c.cwnd, Math.floor(c.wEst));
  // Growth alpha_cubic = 0.529 segments per RTT while W_est < cwnd_prior.
  assert.ok(Math.abs(w - (70 + 30 * ALPHA)) < 1, `after 30 RTTs: ${w} vs ${70 + 30 * ALPHA}`);
  // Past cwnd_prior (100 segments, after ~57 RTTs) alpha becomes 1.
  for (let r = 0; r < 40; r++) now = round(c, now, { rttUs: rtt });
  const a = c.cwnd;
  for (let r = 0; r < 10; r++) now = round(c, now, { rttUs: rtt });
  const perRtt = (c.cwnd - a) / MSS / 10;
  assert.ok(Math.abs(perRtt - 1) < 0.1, `Reno growth ${perRtt} MSS per RTT`);
});

test("fast convergence: a loss below W_max lowers W_max to cwnd (1 + beta) / 2", () => {
  for (const fastConvergence of [true, false]) {
    const { c, now } = afterLoss(100, 50_000, { fastConvergence });
    const t = growTo(c, now, 80 * MSS, 50_000);
    const w = c.cwnd;
    c.onCongestionEvent(t, w);
    const want = fastConvergence ? (w * (1 + BETA)) / 2 : w;
    assert.ok(Math.abs(c.wMax - want) <= 1, `fastConvergence ${fastConvergence}: W_max ${c.wMax} vs ${want}`);
    assert.equal(c.ssthresh, Math.max(Math.floor(c.cwndPrior * BETA), 2 * MSS));
  }
  // A loss above W_max sets W_max to the window.
  const { c, now } = afterLoss(50, 50_000);
  growTo(c, now, 60 * MSS, 50_000);
  const w = c.cwnd;
  c.onCongestionEvent(now + 1, w);
  assert.ok(Math.abs(c.wMax - w) <= 1);
});

test("RTO: loss window, ssthresh = beta cwnd, then K = 0 and W_max = cwnd at the start of congestion avoidance", () => {
  const c = new CubicController({ mss: MSS, now: 0 });
  let now = growTo(c, 0, 100 * MSS, 50_000);
  c.onRto(now, 100 * MSS);
  assert.equal(c.cwnd, MSS);
  assert.equal(c.ssthresh, Math.floor(100 * MSS * BETA));
  now = growTo(c, now + 1000, c.ssthresh, 50_000);
  assert.equal(c.cwnd, c.ssthresh);
  const w0 = c.cwnd;
  now = round(c, now, { rttUs: 50_000 });
  assert.equal(c.k, 0);
  assert.equal(c.wMax, w0);
  assert.ok(c.cwnd > w0);
});

test("application-limited time does not count in t", () => {
  const rtt = 100_000;
  const a = afterLoss(100, rtt);
  const b = afterLoss(100, rtt);
  let na = a.now;
  let nb = b.now;
  for (let r = 0; r < 5; r++) {
    na = round(a.c, na, { rttUs: rtt });
    nb = round(b.c, nb, { rttUs: rtt });
  }
  const w = a.c.cwnd;
  const e = a.c.epochStartUs;
  for (let r = 0; r < 10; r++) na = round(a.c, na, { rttUs: rtt, appLimited: true });
  assert.equal(a.c.cwnd, w, "no growth while application-limited");
  assert.equal(a.c.epochStartUs, e + 10 * rtt, "the epoch moved by the application-limited time");
  for (let r = 0; r < 20; r++) {
    na = round(a.c, na, { rttUs: rtt });
    nb = round(b.c, nb, { rttUs: rtt });
    assert.equal(a.c.cwnd, b.c.cwnd, `round ${r}: same curve as without the pause`);
  }
});

test("a spurious congestion event restores cwnd, ssthresh and W_max", () => {
  const { c, now } = afterLoss(100, 50_000);
  round(c, now, { rttUs: 50_000 });
  const w = c.cwnd;
  const wMax = c.wMax;
  const k = c.k;
  c.onCongestionEvent(now + 50_000, w);
  assert.ok(c.cwnd < w);
  c.onSpurious(now + 60_000);
  assert.equal(c.cwnd, w);
  assert.equal(c.wMax, wMax);
  assert.equal(c.k, k);
  assert.equal(c.ssthresh, Math.floor(100 * MSS * BETA));
});

test("HyStart++ leaves slow start when the RTT rises, and not when it stays", () => {
  const run = (hystart: boolean, rising: boolean): CubicController => {
    const c = new CubicController({ mss: MSS, now: 0 }, { hystart });
    let now = 0;
    for (let r = 0; r < 12 && c.ssthresh === Infinity; r++) {
      const rtt = rising && r >= 3 ? 80_000 : 50_000;
      now = round(c, now, { rttUs: rtt });
    }
    return c;
  };
  const rising = run(true, true);
  assert.ok(Number.isFinite(rising.ssthresh), "left slow start without a loss");
  assert.equal(rising.ssthresh, rising.cwnd);
  // In CSS the window grows by a quarter of slow start: it stays far below plain slow start's.
  const plain = run(false, true);
  assert.equal(plain.ssthresh, Infinity);
  assert.ok(rising.cwnd < plain.cwnd / 4, `${rising.cwnd} vs ${plain.cwnd}`);
  assert.equal(run(true, false).ssthresh, Infinity);
});

test("property: CUBIC keeps its invariants under random events", () => {
  propertyInvariants(() => cubicFactory());
  propertyInvariants(() => cubicFactory({ hystart: false, fastConvergence: false }), 100);
});
