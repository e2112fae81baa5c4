// RFC 6937 Proportional Rate Reduction: the sending rate during fast recovery.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, equalBytes, Pair, randomBytes, transfer } from "./helpers.ts";

const RTT_HALF = 10_000;

/**
 * 4 MiB over 100 Mbit/s with a 20 ms RTT; the 400th data segment is lost once (CUBIC's window is
 * then ~400 segments). Returns when the fast retransmit left (after the loss), and over the first
 * 5 ms of recovery the segments sent against the ACKs that arrived.
 */
function oneLoss(prr: boolean): { frDelayUs: number; sent: number; acks: number; retrans: number } {
  const p = new Pair({ seed: 5, link: { delayUs: RTT_HALF, rateBps: 100e6 }, config: { prr } });
  assert.ok(p.connect());
  const out: Array<{ t: number; seq: number }> = [];
  const ackArrivals: number[] = [];
  let lostSeq = -1;
  p.ab.filter = (s, now) => {
    if (s.payload.length === 0) return true;
    out.push({ t: now, seq: s.header.seq });
    if (out.length === 400) {
      lostSeq = s.header.seq;
      return false;
    }
    return true;
  };
  p.ba.filter = (_s, now) => {
    ackArrivals.push(now + RTT_HALF);
    return true;
  };
  const d = randomBytes(4 << 20, 3);
  assert.ok(transfer(p, d, 60_000_000));
  assert.ok(equalBytes(concat(p.b.received), d));
  const lost = out.findIndex((x) => x.seq === lostSeq);
  const fr = out.findIndex((x, i) => i > lost && x.seq === lostSeq);
  assert.ok(fr > lost, "the lost segment was retransmitted");
  const tFr = out[fr]!.t;
  const W = 5_000;
  return {
    frDelayUs: tFr - out[lost]!.t,
    sent: out.filter((x, i) => i > fr && x.t <= tFr + W).length,
    acks: ackArrivals.filter((t) => t > tFr && t <= tFr + W).length,
    retrans: p.a.conn.stats().retransSegments,
  };
}

describe("tcp PRR (RFC 6937)", () => {
  it("fast retransmit at once, then about ssthresh/RecoverFS (0.7 for CUBIC) segments per delivered segment", () => {
    const withPrr = oneLoss(true);
    const without = oneLoss(false);
    assert.equal(withPrr.retrans, 1);
    assert.equal(without.retrans, 1);
    // Without PRR the window is cut to ssthresh at once: nothing, not even the retransmission,
    // leaves until 30% of the flight has drained (~120 ACKs at 120 µs each), then one per ACK.
    assert.ok(without.frDelayUs - withPrr.frDelayUs > 10_000, `fast retransmit after ${withPrr.frDelayUs} µs with PRR, ${without.frDelayUs} µs without`);
    const ratio = withPrr.sent / withPrr.acks;
    assert.ok(withPrr.acks >= 30 && ratio > 0.6 && ratio < 0.8, `PRR sent ${withPrr.sent} segments for ${withPrr.acks} ACKs`);
    assert.ok(without.sent >= without.acks - 1, `without PRR: ${without.sent} for ${without.acks}`);
  });
});
