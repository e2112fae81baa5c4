// Connection-level policies: penalisation of a subflow (halves once, not during recovery) and
// receive-buffer autotuning (grows with the bytes read per largest RTT, bounded, never shrinks).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { liaFactory, renoFactory } from "../../core/congestion/index.ts";
import { RCV_SPACE_INITIAL, RcvSpace, penalise } from "../../core/mptcp/policies.ts";

const MSS = 1448;
const ack = (c: { onAck: (s: never) => void }, now: number): void =>
  (c.onAck as (s: object) => void)({ now, ackedBytes: 20 * MSS, inFlight: 0, srttUs: 50_000, minRttUs: 50_000, inRecovery: false, appLimited: false });

describe("penalise", () => {
  for (const f of [renoFactory, liaFactory]) {
    it(`${f().name}: halves the window and ssthresh once; nothing while the controller is in recovery`, () => {
      const cc = f().create({ mss: MSS, now: 0 });
      for (let i = 0; i < 5; i++) ack(cc, i);
      const w = cc.cwnd;
      assert.equal(penalise({ congestion: cc, bytesInFlight: w }, 10), true);
      assert.ok(Math.abs(cc.cwnd - w / 2) <= MSS, `${w} -> ${cc.cwnd}`);
      assert.equal(cc.ssthresh, cc.cwnd);
      // In recovery (a loss being handled): no second reduction.
      cc.onCongestionEvent(11, cc.cwnd);
      const r = cc.cwnd;
      assert.equal(penalise({ congestion: cc, bytesInFlight: r }, 12), false);
      assert.equal(cc.cwnd, r);
      assert.equal(penalise({ congestion: undefined, bytesInFlight: 0 }, 13), false);
    });
  }
});

describe("receive-buffer autotuning", () => {
  it("starts at 128 KiB, grows to 2 x (bytes read per RTT) + 16 segments, bounded by the maximum", () => {
    const r = new RcvSpace(4 << 20);
    assert.equal(r.size, RCV_SPACE_INITIAL);
    // 1 MB read in one 50 ms RTT: 20 MB/s.
    r.onRead(0, 500_000, 50_000);
    r.onRead(50_000, 500_000, 50_000);
    assert.equal(r.size, 2 * 1_000_000 + 16 * 1460);
    r.onRead(100_000, 4_000_000, 50_000);
    assert.equal(r.size, 4 << 20, "bounded by the configured buffer");
  });
  it("property: never shrinks, never exceeds the maximum, never below 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 24 }), fc.array(fc.tuple(fc.nat(200_000), fc.nat(1 << 20), fc.nat(300_000)), { maxLength: 60 }), (max, reads) => {
        const r = new RcvSpace(max);
        let now = 0;
        let prev = r.size;
        for (const [dt, n, rtt] of reads) {
          now += dt;
          r.onRead(now, n, rtt);
          assert.ok(r.size >= prev && r.size <= max && r.size >= 1 && Number.isFinite(r.size));
          prev = r.size;
        }
      }),
    );
  });
});
