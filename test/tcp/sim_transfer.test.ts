// 64 MiB plain-TCP transfers over the in-memory simulator, byte-exact, in each link condition.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { simTransfer } from "./sim_helpers.ts";
import type { SimResult } from "./sim_helpers.ts";

const MiB = 1 << 20;
const SIZE = 64 * MiB;

function report(name: string, r: SimResult): void {
  const s = r.sender;
  console.log(
    `[tcp sim] ${name}: ${(r.goodputBps / 1e6).toFixed(1)} Mbit/s over ${(r.transferUs / 1e6).toFixed(2)} s virtual; ` +
      `data segs ${s.dataSegmentsOut}, retrans ${s.retransSegments} (${((100 * s.retransSegments) / s.dataSegmentsOut).toFixed(2)}%), ` +
      `spurious(DSACK) ${s.spuriousRetransmits}, RTO ${s.rtoExpiries}, TLP ${s.tlpProbes}, recoveries ${s.recoveries}, ` +
      `link drops ${JSON.stringify(r.ab.dropped)}`,
  );
}

describe("tcp over the simulator, 64 MiB byte-exact", () => {
  it("no loss (1 Gbit/s, 10 ms RTT)", () => {
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 1e9, delayUs: 5_000 } });
    report("no loss", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    assert.equal(r.sender.retransSegments, 0);
  });

  it("1% random loss: goodput within 50% of the Mathis estimate", () => {
    const rttS = 0.01;
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 1e9, delayUs: 5_000, lossRate: 0.01 }, seed: 2 });
    report("1% loss", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    const mathis = ((r.sender.sndMss * 8) / rttS) * (Math.sqrt(1.5) / Math.sqrt(0.01));
    console.log(`[tcp sim] Mathis estimate ${(mathis / 1e6).toFixed(1)} Mbit/s, measured ${(r.goodputBps / 1e6).toFixed(1)} (ratio ${(r.goodputBps / mathis).toFixed(2)})`);
    assert.ok(r.goodputBps >= 0.5 * mathis && r.goodputBps <= 1.5 * mathis, `goodput ${r.goodputBps} vs Mathis ${mathis}`);
  });

  it("5% random loss", () => {
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 1e9, delayUs: 5_000, lossRate: 0.05 }, seed: 3 });
    report("5% loss", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
  });

  it("10% reordering: no spurious-retransmission storm", () => {
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 1e9, delayUs: 5_000, reorderRate: 0.1, reorderDelayUs: 3_000 }, seed: 4 });
    report("10% reordering", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    // Every retransmission here is spurious (nothing is lost): they must stay rare.
    assert.ok(r.sender.retransSegments < 0.01 * r.sender.dataSegmentsOut, `retrans ${r.sender.retransSegments}`);
    assert.equal(r.sender.rtoExpiries, 0);
    // Out-of-window drops at the receiver. The link reorders ACKs too: ACKs held back 3 ms carry
    // a TSval older than TS.Recent (1 ms clock) and fail PAWS at the sender (correct, RFC 7323
    // 5.3; thousands of them). Before the ACK throttle (RFC 5961 section 7, Linux's
    // tcp_invalid_ratelimit) the sender answered each with a pure ACK; 10% of those were
    // reordered behind later data, arrived with SEG.SEQ < RCV.NXT and failed the zero-length
    // acceptability test (RFC 9293 3.10.7.4): ~366 "OutOfWindow" drops with no retransmission,
    // each answered with one more ACK. Now the only sources are duplicates of (spurious)
    // retransmissions and the sender's few pure segments (handshake ACK, FIN, <= 1 throttled
    // reply per 500 ms).
    const s = r.sender;
    const pure = s.segmentsOut - s.dataSegmentsOut;
    const oow = r.receiver!.drops.OutOfWindow ?? 0;
    assert.ok((s.drops.PawsFailed ?? 0) > 1000 && s.oowAcksSkipped > 1000, `PAWS ${s.drops.PawsFailed}, throttled ${s.oowAcksSkipped}`);
    assert.ok(pure <= 3 + Math.ceil(r.transferUs / 500_000), `sender pure segments ${pure}`);
    assert.ok(oow <= s.retransSegments + pure, `receiver OutOfWindow ${oow}, retrans ${s.retransSegments}, pure ${pure}`);
    // Nothing is lost, so every retransmission is spurious and must come back as a D-SACK, and
    // the recovery must be undone (else CUBIC's cut costs 3.7x the time: 2.4 s instead of 0.65 s).
    // The late original of a retransmitted segment carries an older TSval than the retransmission
    // that already advanced TS.Recent: it fails PAWS and needs its D-SACK there (as Linux's
    // tcp_send_dupack). Not guaranteed for every seed: the ACK carrying a D-SACK can itself be
    // reordered and fail PAWS at the sender (seed 3).
    assert.equal(s.spuriousRetransmits, s.retransSegments);
    assert.equal(s.spuriousRecoveries, s.recoveries);
  });

  it("5% duplication", () => {
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 1e9, delayUs: 5_000, duplicateRate: 0.05 }, seed: 5 });
    report("duplication", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    assert.equal(r.sender.retransSegments, 0);
    assert.ok((r.receiver?.dsacksOut ?? 0) > 0, "duplicates reported by D-SACK");
  });

  it("200 ms RTT, 10 MB bandwidth-delay product: window scaling carries it", () => {
    const r = simTransfer({
      bytes: SIZE,
      link: { rateBps: 400e6, delayUs: 100_000 },
      config: { receiveBufferSize: 16 * MiB, sendBufferSize: 16 * MiB },
      seed: 6,
    });
    report("200 ms RTT / 10 MB BDP", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    // Without scaling the window would cap at 64 KiB / 200 ms = 2.6 Mbit/s.
    assert.ok(r.goodputBps > 100e6, `goodput ${r.goodputBps}`);
    assert.ok(r.receiver!.rcvWnd > 10e6, `receiver window ${r.receiver!.rcvWnd}`);
  });

  it("rate-limited bottleneck with a small queue", () => {
    const r = simTransfer({ bytes: SIZE, link: { rateBps: 50e6, delayUs: 10_000, queueBytes: 30_000 }, seed: 7 });
    report("bottleneck 50 Mbit/s, 30 kB queue", r);
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    assert.ok(r.goodputBps > 0.5 * 50e6, `goodput ${r.goodputBps}`);
  });
});
