// Properties of the link model over random parameters (fast-check): packet conservation, no
// arrival before the physics allows, and determinism by seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Simulator } from "../../adapters/memory/simulator.ts";
import { SinkHost, SourceHost } from "./hosts.ts";

const params = fc.record({
  rateBps: fc.oneof(fc.constant(Infinity), fc.integer({ min: 100_000, max: 1e9 })),
  delayUs: fc.integer({ min: 0, max: 50_000 }),
  jitterUs: fc.integer({ min: 0, max: 5_000 }),
  queueBytes: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 20_000 })),
  lossRate: fc.double({ min: 0, max: 1, noNaN: true }),
  reorderRate: fc.double({ min: 0, max: 1, noNaN: true }),
  reorderDelayUs: fc.integer({ min: 0, max: 10_000 }),
  duplicateRate: fc.double({ min: 0, max: 1, noNaN: true }),
  corruptRate: fc.double({ min: 0, max: 1, noNaN: true }),
  mtu: fc.integer({ min: 60, max: 1500 }),
});

test("every packet is accounted for, arrives no earlier than serialisation + delay, and runs are reproducible", () => {
  fc.assert(
    fc.property(params, fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 48, max: 1400 }), (p, seed, count, intervalUs, size) => {
      const once = () => {
        const sim = new Simulator({ seed });
        const src = new SourceHost({ src: "198.18.0.1", dst: "198.18.0.2", count, size, intervalUs });
        const sink = new SinkHost();
        const link = sim.connect({ host: src, iface: 0 }, { host: sink, iface: 0 }, { ab: p });
        sim.runUntilIdle(1e12);
        return { c: link.ab.counters, sink };
      };
      const { c, sink } = once();
      const d = c.dropped;
      assert.equal(c.sentPackets, count);
      assert.equal(c.deliveredPackets, sink.arrivals.length);
      assert.equal(c.deliveredPackets - c.duplicated + d.queue + d.loss + d.mtu + d.down + d.middlebox, count);
      if (size > p.mtu) assert.equal(d.mtu, count);
      const ser = Number.isFinite(p.rateBps) ? (size * 8e6) / p.rateBps : 0;
      for (const a of sink.arrivals) assert.ok(a.time >= a.seq * intervalUs + ser + p.delayUs - 1e-6, `seq ${a.seq} at ${a.time}`);
      // Every corrupted packet is delivered (once, or twice when also duplicated) and fails its checksums.
      const invalid = sink.arrivals.filter((a) => !a.valid).length;
      assert.ok(invalid >= c.corrupted && invalid <= 2 * c.corrupted, `invalid ${invalid}, corrupted ${c.corrupted}`);
      const again = once().sink.arrivals.map((a) => `${a.time}/${a.seq}/${a.valid}`);
      assert.deepEqual(sink.arrivals.map((a) => `${a.time}/${a.seq}/${a.valid}`), again);
    }),
    { numRuns: 150, seed: 20261125 },
  );
});
