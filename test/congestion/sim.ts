// Test helpers for the congestion controllers: ACK samples, a round-based driver (one RTT per
// round, one ACK per `ackEvery` bytes spread evenly over the round) and a fast-check model of
// random event sequences with the invariants every controller must keep.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { CongestionAckSample, CongestionController, CongestionFactory } from "../../core/congestion/types.ts";

export const MSS = 1460;

export function sample(now: number, ackedBytes: number, extra: Partial<CongestionAckSample> = {}): CongestionAckSample {
  return {
    now,
    ackedBytes,
    inFlight: 0,
    srttUs: 0,
    minRttUs: 0,
    inRecovery: false,
    appLimited: false,
    ...extra,
  };
}

export interface RoundOptions {
  rttUs: number;
  /** Bytes per ACK (default one MSS). */
  ackEvery?: number;
  appLimited?: boolean;
  /** RTT sample carried by the ACKs (default rttUs). */
  sampleRttUs?: number;
}

/**
 * One round: the controller's whole window is acknowledged over one RTT, in ACKs of
 * `ackEvery` bytes at evenly spaced times. Returns the time at the end of the round.
 */
export function round(c: CongestionController, now: number, o: RoundOptions): number {
  const per = o.ackEvery ?? MSS;
  const w = c.cwnd;
  const n = Math.max(1, Math.ceil(w / per));
  for (let i = 1; i <= n; i++) {
    const t = now + Math.round((o.rttUs * i) / n);
    // The last ACK covers what is left of the window.
    const bytes = i < n ? per : w - (n - 1) * per;
    c.onAck(sample(t, bytes, {
      inFlight: Math.max(0, w - (i - 1) * per - bytes),
      rttUs: o.sampleRttUs ?? o.rttUs,
      srttUs: o.rttUs,
      minRttUs: o.rttUs,
      appLimited: o.appLimited ?? false,
    }));
  }
  return now + o.rttUs;
}

/** A loss, then recovery exit: leaves the controller in congestion avoidance at its reduced window. */
export function lossAndRecover(c: CongestionController, now: number): void {
  c.onCongestionEvent(now, c.cwnd);
  c.onRecoveryExit(now);
}

/** Grows the window in slow start (constant RTT) until it reaches at least `bytes`. */
export function growTo(c: CongestionController, now: number, bytes: number, rttUs: number): number {
  while (c.cwnd < bytes) {
    const need = bytes - c.cwnd;
    const ack = Math.min(need, MSS);
    now += 100;
    c.onAck(sample(now, ack, { rttUs, srttUs: rttUs, minRttUs: rttUs, inFlight: c.cwnd }));
  }
  return now;
}

// Random event sequences.

export type Event =
  | { kind: "ack"; dt: number; acked: number; rtt: number; inRecovery: boolean; appLimited: boolean; withSample: boolean }
  | { kind: "loss"; dt: number; inFlight: number }
  | { kind: "exit"; dt: number }
  | { kind: "rto"; dt: number; inFlight: number }
  | { kind: "spurious"; dt: number }
  | { kind: "mss"; dt: number; mss: number };

const dt = fc.integer({ min: 0, max: 2_000_000 });

export const eventArb: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("ack" as const),
      dt,
      acked: fc.oneof(fc.integer({ min: 0, max: 3 * MSS }), fc.integer({ min: 0, max: 2_000_000 })),
      rtt: fc.integer({ min: 1, max: 3_000_000 }),
      inRecovery: fc.boolean(),
      appLimited: fc.boolean(),
      withSample: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("loss" as const), dt, inFlight: fc.integer({ min: 0, max: 5_000_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("exit" as const), dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rto" as const), dt, inFlight: fc.integer({ min: 0, max: 5_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("spurious" as const), dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mss" as const), dt, mss: fc.integer({ min: 536, max: 9000 }) }) },
);

export function checkWindow(c: CongestionController, mss: number, sawCongestion: boolean, where: string): void {
  assert.ok(Number.isFinite(c.cwnd) && Number.isInteger(c.cwnd), `${where}: cwnd ${c.cwnd} not a finite integer`);
  assert.ok(c.cwnd >= mss, `${where}: cwnd ${c.cwnd} below one MSS ${mss}`);
  assert.ok(!Number.isNaN(c.ssthresh) && c.ssthresh > 0, `${where}: ssthresh ${c.ssthresh}`);
  if (sawCongestion) {
    assert.ok(Number.isFinite(c.ssthresh), `${where}: ssthresh still infinite after a congestion event`);
  }
  if (c.ssthresh !== Infinity) assert.ok(c.ssthresh >= 2 * mss, `${where}: ssthresh ${c.ssthresh} < 2 MSS (${mss})`);
  const rate = c.pacingRate?.(100_000);
  if (rate !== undefined) assert.ok(Number.isFinite(rate) && rate > 0, `${where}: pacing rate ${rate}`);
}

/** Applies one random event to a controller (the time advances by ev.dt first). */
export function apply(c: CongestionController, ev: Event, st: { now: number; mss: number; srtt: number }): void {
  st.now += ev.dt;
  switch (ev.kind) {
    case "ack": {
      st.srtt = st.srtt === 0 ? ev.rtt : Math.round((7 * st.srtt + ev.rtt) / 8);
      c.onAck(sample(st.now, ev.acked, {
        inFlight: Math.max(0, c.cwnd - ev.acked),
        rttUs: ev.withSample ? ev.rtt : undefined,
        srttUs: ev.withSample ? st.srtt : 0,
        minRttUs: ev.withSample ? Math.min(st.srtt, ev.rtt) : 0,
        inRecovery: ev.inRecovery,
        appLimited: ev.appLimited,
      }));
      break;
    }
    case "loss":
      c.onCongestionEvent(st.now, ev.inFlight);
      break;
    case "exit":
      c.onRecoveryExit(st.now);
      break;
    case "rto":
      c.onRto(st.now, ev.inFlight);
      break;
    case "spurious":
      c.onSpurious?.(st.now);
      break;
    case "mss":
      st.mss = ev.mss;
      c.setMss(ev.mss);
      break;
  }
}

/** fast-check: any event sequence keeps the window invariants. */
export function propertyInvariants(factory: () => CongestionFactory, runs = 300): void {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 120 }), fc.integer({ min: 536, max: 9000 }), (events, mss0) => {
      const c = factory().create({ mss: mss0, now: 0 });
      const st = { now: 0, mss: mss0, srtt: 0 };
      let congestion = false;
      checkWindow(c, st.mss, false, "start");
      events.forEach((ev, i) => {
        apply(c, ev, st);
        if (ev.kind === "loss" || ev.kind === "rto") congestion = true;
        // An undo may restore the infinite ssthresh of before the first event.
        if (ev.kind === "spurious") congestion = false;
        checkWindow(c, st.mss, congestion, `event ${i} (${ev.kind})`);
      });
    }),
    { numRuns: runs },
  );
}
