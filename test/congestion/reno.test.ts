// Reno / NewReno window arithmetic (RFC 5681, RFC 3465, RFC 6582, RFC 6928).
import { test } from "node:test";
import assert from "node:assert/strict";
import { RenoController, renoFactory } from "../../core/congestion/reno.ts";
import { initialWindowBytes } from "../../core/congestion/base.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { lossAndRecover, MSS, propertyInvariants, round, sample } from "./sim.ts";

const RTT = 50_000;

test("initial window: IW10 per RFC 6928 (with its 14600-byte cap), other sizes literal", () => {
  assert.equal(new RenoController({ mss: 1460, now: 0 }).cwnd, 14600);
  assert.equal(new RenoController({ mss: 536, now: 0 }).cwnd, 5360);
  // min(10*MSS, max(2*MSS, 14600)) for a 9000-byte MSS is 18000 (two segments).
  assert.equal(new RenoController({ mss: 9000, now: 0 }).cwnd, 18000);
  assert.equal(new RenoController({ mss: 1000, now: 0, initialWindowSegments: 4 }).cwnd, 4000);
  assert.equal(initialWindowBytes(1460, 1), 1460);
  const c = new RenoController({ mss: 1460, now: 0 });
  assert.equal(c.ssthresh, Infinity);
  assert.equal(c.name, "reno");
  assert.throws(() => new RenoController({ mss: 0, now: 0 }), InvalidArgumentError);
  assert.throws(() => c.setMss(1.5), InvalidArgumentError);
});

test("slow start doubles the window every RTT (one ACK per segment, and delayed ACKs)", () => {
  for (const ackEvery of [MSS, 2 * MSS]) {
    const c = new RenoController({ mss: MSS, now: 0 });
    let now = 0;
    let w = c.cwnd;
    for (let r = 0; r < 6; r++) {
      now = round(c, now, { rttUs: RTT, ackEvery });
      assert.equal(c.cwnd, 2 * w, `round ${r}, ACK every ${ackEvery}`);
      w = c.cwnd;
    }
  }
});

test("byte counting caps the slow-start increase at L = 2 MSS per ACK", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  const w0 = c.cwnd;
  c.onAck(sample(1000, 8 * MSS, { rttUs: RTT, srttUs: RTT }));
  assert.equal(c.cwnd, w0 + 2 * MSS);
  c.onAck(sample(2000, 700, { rttUs: RTT, srttUs: RTT }));
  assert.equal(c.cwnd, w0 + 2 * MSS + 700);
  const l1 = new RenoController({ mss: MSS, now: 0 }, { abcLimitSegments: 1 });
  l1.onAck(sample(1000, 8 * MSS));
  assert.equal(l1.cwnd, w0 + MSS);
});

test("slow start stops at ssthresh and hands the surplus to congestion avoidance", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  let now = 0;
  for (let r = 0; r < 4; r++) now = round(c, now, { rttUs: RTT }); // 160 segments
  lossAndRecover(c, now); // ssthresh = cwnd = 80 segments
  assert.equal(c.ssthresh, 80 * MSS);
  c.onRto(now + 1, 80 * MSS); // cwnd 1 MSS, ssthresh 40 segments
  assert.equal(c.ssthresh, 40 * MSS);
  assert.equal(c.cwnd, MSS);
  now += 1;
  let steps = 0;
  while (c.cwnd < c.ssthresh && steps < 1000) {
    now += 10;
    c.onAck(sample(now, MSS, { rttUs: RTT, srttUs: RTT }));
    steps++;
  }
  assert.equal(c.cwnd, 40 * MSS, "lands exactly on ssthresh");
  assert.equal(steps, 39);
  // Now in congestion avoidance: one more ACK does not add a whole MSS.
  c.onAck(sample(now + 10, MSS));
  assert.equal(c.cwnd, 40 * MSS);
});

test("congestion avoidance adds one MSS per RTT", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  let now = 0;
  for (let r = 0; r < 3; r++) now = round(c, now, { rttUs: RTT });
  lossAndRecover(c, now);
  const start = c.cwnd;
  for (let r = 1; r <= 20; r++) {
    now = round(c, now, { rttUs: RTT });
    assert.equal(c.cwnd, start + r * MSS, `round ${r}`);
  }
  // Delayed ACKs (2 MSS per ACK) give the same growth per RTT.
  const d = c.cwnd;
  for (let r = 1; r <= 10; r++) now = round(c, now, { rttUs: RTT, ackEvery: 2 * MSS });
  assert.equal(c.cwnd, d + 10 * MSS);
});

test("a congestion event halves the flight size, once per window, and recovery does not grow", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  let now = 0;
  for (let r = 0; r < 3; r++) now = round(c, now, { rttUs: RTT }); // 80 segments
  assert.equal(c.cwnd, 80 * MSS);
  c.onCongestionEvent(now, 80 * MSS);
  assert.equal(c.ssthresh, 40 * MSS);
  assert.equal(c.cwnd, 40 * MSS);
  // A second loss in the same window is part of the same event.
  c.onCongestionEvent(now + 1, 40 * MSS);
  assert.equal(c.cwnd, 40 * MSS);
  // ACKs during recovery do not open the window.
  c.onAck(sample(now + 2, 10 * MSS, { inRecovery: true }));
  assert.equal(c.cwnd, 40 * MSS);
  c.onRecoveryExit(now + 3);
  assert.equal(c.cwnd, 40 * MSS);
  // A new event after recovery halves again; an application-limited flight halves the flight.
  c.onCongestionEvent(now + 4, 10 * MSS);
  assert.equal(c.ssthresh, 5 * MSS);
  c.onRecoveryExit(now + 5);
  // Never below 2 MSS.
  c.onCongestionEvent(now + 6, MSS);
  assert.equal(c.ssthresh, 2 * MSS);
  assert.equal(c.cwnd, 2 * MSS);
});

test("RTO: loss window of one MSS, ssthresh from the flight, not lowered again by a repeated RTO", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  let now = 0;
  for (let r = 0; r < 2; r++) now = round(c, now, { rttUs: RTT }); // 40 segments
  c.onRto(now, 40 * MSS);
  assert.equal(c.cwnd, MSS);
  assert.equal(c.ssthresh, 20 * MSS);
  c.onRto(now + 1000, MSS); // backed-off retransmission timed out again
  assert.equal(c.ssthresh, 20 * MSS);
  assert.equal(c.cwnd, MSS);
  // Slow start again after new data is acknowledged.
  now = round(c, now + 2000, { rttUs: RTT });
  assert.equal(c.cwnd, 2 * MSS);
  // An RTO during fast recovery keeps the ssthresh of the recovery.
  const d = new RenoController({ mss: MSS, now: 0 });
  d.onCongestionEvent(0, 10 * MSS);
  d.onRto(1000, 5 * MSS);
  assert.equal(d.ssthresh, 5 * MSS);
  assert.equal(d.cwnd, MSS);
  d.onRecoveryExit(2000); // recovery was ended by the RTO: nothing to deflate
  assert.equal(d.cwnd, MSS);
});

test("a spurious congestion event is undone", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  const now = round(c, 0, { rttUs: RTT });
  const w = c.cwnd;
  c.onCongestionEvent(now, w);
  assert.equal(c.cwnd, w / 2);
  c.onSpurious(now + 1);
  assert.equal(c.cwnd, w);
  assert.equal(c.ssthresh, Infinity);
  c.onSpurious(now + 2); // nothing left to undo
  assert.equal(c.cwnd, w);
});

test("application-limited ACKs do not grow the window", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  const w = c.cwnd;
  round(c, 0, { rttUs: RTT, appLimited: true });
  assert.equal(c.cwnd, w);
});

test("pacing rate: 2x cwnd/srtt in slow start, 1.2x in congestion avoidance", () => {
  const c = new RenoController({ mss: MSS, now: 0 });
  assert.equal(c.pacingRate(0), undefined, "no RTT yet");
  assert.equal(c.pacingRate(100_000), (2 * 14600) / 0.1);
  lossAndRecover(c, 0);
  assert.ok(Math.abs(c.pacingRate(100_000)! - (1.2 * c.cwnd) / 0.1) < 1e-6);
});

test("MSS change keeps the window in bytes and the floors in the new MSS", () => {
  const c = new RenoController({ mss: 1000, now: 0, initialWindowSegments: 2 });
  c.onCongestionEvent(0, 2000); // ssthresh 2 MSS = 2000
  c.setMss(1400);
  assert.equal(c.ssthresh, 2800);
  assert.ok(c.cwnd >= 1400);
});

test("property: Reno keeps its invariants under random events", () => {
  propertyInvariants(() => renoFactory());
});
