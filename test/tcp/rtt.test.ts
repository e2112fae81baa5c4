import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RttEstimator } from "../../core/tcp/rtt.ts";

describe("RTT estimator (Linux tcp_rtt_estimator)", () => {
  it("the minimum RTO floors the variance term: a 10 ms RTT gives 210 ms, a 100 ms one 300 ms", () => {
    const a = new RttEstimator(1_000_000, 200_000, 120_000_000);
    assert.equal(a.rtoUs, 1_000_000);
    a.sample(10_000, 1, 1);
    assert.equal(a.rtoUs, 210_000);
    const b = new RttEstimator(1_000_000, 200_000, 120_000_000);
    b.sample(100_000, 1, 1);
    assert.equal(b.rtoUs, 300_000); // 100 + max(2 * 100, 200)
  });

  it("a steady RTT keeps SRTT + rto_min; the variance term grows at once and decays once per round trip", () => {
    const r = new RttEstimator(1_000_000, 200_000, 120_000_000);
    let una = 1;
    let nxt = 1001;
    r.sample(50_000, una, nxt);
    for (let i = 0; i < 50; i++) {
      una += 1000;
      nxt += 1000;
      r.sample(50_000, una, nxt);
    }
    assert.ok(Math.abs(r.rtoUs - 250_000) <= 1, `steady: ${r.rtoUs}`);
    // A spike: 4 * deviation = 4 * 3/4-weighted error > rto_min, taken at once.
    una += 1000;
    nxt += 1000;
    r.sample(350_000, una, nxt);
    const spiked = r.rtoUs;
    assert.ok(spiked > r.srttUs + 200_000, `spike raises the variance term: ${spiked}`);
    // Further samples within the same round trip (SND.UNA not past the new rtt_seq) do not decay it.
    r.sample(50_000, una, nxt);
    const sameRound = r.rtoUs - r.srttUs;
    // Then each new round trip takes a quarter of the excess off.
    una = nxt + 1;
    nxt += 2000;
    r.sample(50_000, una, nxt);
    assert.ok(r.rtoUs - r.srttUs < sameRound, "decays after a round trip");
    assert.ok(r.rtoUs - r.srttUs >= 200_000, "never below rto_min");
  });

  it("backoff doubles the RTO up to the maximum; a new sample resets it", () => {
    const r = new RttEstimator(1_000_000, 200_000, 2_000_000);
    r.sample(100_000, 1, 1);
    r.backOff();
    assert.equal(r.rtoUs, 600_000);
    r.backOff();
    r.backOff();
    assert.equal(r.rtoUs, 2_000_000);
    r.sample(100_000, 2, 2);
    assert.equal(r.backoff, 0);
  });
});
