// Pacing rate (Linux ratios) and the token-bucket pacer.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Pacer, pacingDelayUs, pacingRateFor } from "../../core/congestion/pacing.ts";

const MSS = 1460;

test("pacingRateFor: 2x cwnd/srtt while cwnd < ssthresh / 2, 1.2x after, none without an RTT", () => {
  assert.equal(pacingRateFor(14600, Infinity, 100_000), 292_000);
  assert.equal(pacingRateFor(14600, 20_000, 100_000), 1.2 * 146_000);
  assert.equal(pacingRateFor(14600, 30_000, 100_000), 292_000);
  assert.equal(pacingRateFor(14600, Infinity, 0), undefined);
  assert.equal(pacingRateFor(14600, Infinity, 100_000, { slowStart: 1.5 }), 219_000);
  assert.equal(pacingDelayUs(1460, 1_460_000), 1000);
  assert.equal(pacingDelayUs(1, 3_000_000), 1, "rounded up to whole microseconds");
});

test("Pacer: the initial burst leaves at once, then one segment per MSS/rate", () => {
  const p = new Pacer({ mss: MSS, now: 0 });
  p.setRate(1_460_000); // one MSS per millisecond
  let now = 0;
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    now = p.nextSendTime(now, MSS);
    times.push(now);
    p.onSend(now, MSS);
  }
  assert.deepEqual(times.slice(0, 10), new Array(10).fill(0));
  for (let i = 10; i < 30; i++) assert.equal(times[i], (i - 9) * 1000, `segment ${i}`);
});

test("Pacer: an idle bucket refills only up to the burst size", () => {
  const p = new Pacer({ mss: MSS, now: 0, initialBurstBytes: 0 });
  p.setRate(1_460_000);
  const t = 1_000_000; // long idle
  assert.equal(p.nextSendTime(t, MSS), t);
  p.onSend(t, MSS);
  assert.equal(p.nextSendTime(t, MSS), t);
  p.onSend(t, MSS);
  assert.equal(p.nextSendTime(t, MSS), t + 1000, "a third segment waits");
});

test("Pacer: unpaced without a rate; sending early leaves a debt", () => {
  const p = new Pacer({ mss: MSS, now: 0, initialBurstBytes: 0 });
  assert.equal(p.nextSendTime(5, 100_000), 5);
  p.setRate(1_460_000);
  p.onSend(0, 3 * MSS); // e.g. retransmissions sent regardless
  assert.equal(p.nextSendTime(0, MSS), 4000);
  p.setRate(undefined);
  assert.equal(p.nextSendTime(10, MSS), 10);
  p.setRate(Number.NaN);
  assert.equal(p.rateBytesPerSec, undefined);
});

test("property: a greedy sender through the pacer never beats rate * time + burst", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 10_000, max: 100_000_000 }),
      fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 200 }),
      (rate, sizes) => {
        const burst = 2 * MSS;
        const initial = 10 * MSS;
        const p = new Pacer({ mss: MSS, now: 0 });
        p.setRate(rate);
        let now = 0;
        let sent = 0;
        for (const s of sizes) {
          const t = p.nextSendTime(now, s);
          assert.ok(Number.isInteger(t) && t >= now);
          now = t;
          p.onSend(now, s);
          sent += s;
          // Everything sent by `now` fits in what the bucket could have held plus one segment.
          assert.ok(sent <= initial + burst + (rate * now) / 1e6 + 9000 + 1, `sent ${sent} by ${now}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});
