// The link model of the in-memory network: rate, delay, queue, loss, duplication, reordering,
// corruption, MTU, up/down, jitter, parameter changes, counters, and determinism by seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../adapters/memory/simulator.ts";
import type { LinkParams } from "../../adapters/memory/types.ts";
import { SinkHost, SourceHost } from "./hosts.ts";
import type { SourceOptions } from "./hosts.ts";

const A = "198.18.0.1";
const B = "198.18.0.2";

function pair(
  src: Partial<SourceOptions> & { count: number; size: number },
  params: Partial<LinkParams>,
  seed = 7,
): { sim: Simulator; source: SourceHost; sink: SinkHost; link: ReturnType<Simulator["connect"]> } {
  const sim = new Simulator({ seed });
  const source = new SourceHost({ src: A, dst: B, ...src });
  const sink = new SinkHost();
  const link = sim.connect({ host: source, iface: 0 }, { host: sink, iface: 0 }, { ab: params });
  return { sim, source, sink, link };
}

test("rate and propagation delay give exact arrival times", () => {
  // 1250-byte packets at 10 Mbit/s take 1000 µs each to serialise; then 5 ms on the wire.
  const { sim, sink, link } = pair({ count: 10, size: 1250 }, { rateBps: 10e6, delayUs: 5000 });
  assert.equal(sim.runUntilIdle(1e6), true);
  assert.deepEqual(sink.arrivals.map((a) => a.time), Array.from({ length: 10 }, (_, k) => (k + 1) * 1000 + 5000));
  assert.deepEqual(sink.arrivals.map((a) => a.seq), Array.from({ length: 10 }, (_, k) => k));
  assert.ok(sink.arrivals.every((a) => a.valid));
  assert.equal(link.ab.counters.deliveredPackets, 10);
  assert.equal(link.ab.counters.deliveredBytes, 12500);
  assert.equal(link.ab.counters.sentPackets, 10);
});

test("a fractional serialisation time does not drift: long-run rate is exact", () => {
  // 100 bytes at 3 Mbit/s = 266.67 µs each; 3000 packets take exactly 800 ms.
  const { sim, sink } = pair({ count: 3000, size: 100 }, { rateBps: 3e6 });
  sim.runUntilIdle(10e6);
  assert.equal(sink.arrivals.length, 3000);
  assert.equal(sink.arrivals.at(-1)!.time, 800_000);
  assert.equal(sink.arrivals[0]!.time, 267);
});

test("paced sending below the rate sees no queueing", () => {
  const { sim, sink } = pair({ count: 50, size: 500, intervalUs: 1000, startUs: 100 }, { rateBps: 8e6, delayUs: 2000 });
  sim.runUntilIdle(1e6);
  // 500 bytes at 8 Mbit/s = 500 µs; sent at 100 + 1000k.
  assert.deepEqual(sink.arrivals.map((a) => a.time), Array.from({ length: 50 }, (_, k) => 100 + 1000 * k + 500 + 2000));
});

test("drop-tail queue drops what does not fit, and counts it", () => {
  // Room for 3 packets (the one being serialised counts); a burst of 10.
  const { sim, sink, link } = pair({ count: 10, size: 1000 }, { rateBps: 8e6, queueBytes: 3000 });
  sim.runUntilIdle(1e6);
  assert.deepEqual(sink.arrivals.map((a) => a.seq), [0, 1, 2]);
  assert.equal(link.ab.counters.dropped.queue, 7);
  assert.equal(link.ab.counters.sentPackets, 10);
});

test("the queue drains at the link rate: packets fit again after serialisation", () => {
  // Queue of 2 packets at 1 ms each; a packet every 400 µs: the queue fills and some are dropped,
  // but the link stays busy and delivers one packet per ms.
  const { sim, sink, link } = pair({ count: 100, size: 1000, intervalUs: 400 }, { rateBps: 8e6, queueBytes: 2000 });
  sim.runUntilIdle(1e6);
  const c = link.ab.counters;
  assert.equal(c.deliveredPackets + c.dropped.queue, 100);
  assert.ok(c.dropped.queue > 40 && c.dropped.queue < 62, `dropped ${c.dropped.queue}`);
  for (let i = 1; i < sink.arrivals.length; i++) {
    assert.ok(sink.arrivals[i]!.time - sink.arrivals[i - 1]!.time >= 1000);
  }
  assert.equal(link.ab.queuedBytes(), 0);
});

function within(x: number, n: number, p: number, sds = 5): boolean {
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.abs(x - n * p) <= sds * sd;
}

test("random loss rate is within statistical bounds, and every loss is counted", () => {
  const n = 20000;
  const { sim, sink, link } = pair({ count: n, size: 100, intervalUs: 10 }, { lossRate: 0.1 });
  sim.runUntilIdle(1e9);
  const lost = n - sink.arrivals.length;
  assert.equal(link.ab.counters.dropped.loss, lost);
  assert.ok(within(lost, n, 0.1), `lost ${lost} of ${n}`);
});

test("duplication rate is within bounds; duplicates are identical copies", () => {
  const n = 20000;
  const { sim, sink, link } = pair({ count: n, size: 100, intervalUs: 10 }, { duplicateRate: 0.05 });
  sim.runUntilIdle(1e9);
  const dups = sink.arrivals.length - n;
  assert.equal(link.ab.counters.duplicated, dups);
  assert.ok(within(dups, n, 0.05), `duplicated ${dups}`);
  const seen = new Map<number, Uint8Array>();
  for (const a of sink.arrivals) {
    const prev = seen.get(a.seq);
    if (prev) assert.deepEqual(a.packet, prev);
    seen.set(a.seq, a.packet);
  }
  assert.equal(seen.size, n);
});

test("reordering: a held-back packet is passed by later ones; rate within bounds", () => {
  const n = 10000;
  const { sim, sink, link } = pair({ count: n, size: 100, intervalUs: 100 }, { delayUs: 1000, reorderRate: 0.02, reorderDelayUs: 350 });
  sim.runUntilIdle(1e9);
  assert.equal(sink.arrivals.length, n);
  const r = link.ab.counters.reordered;
  assert.ok(within(r, n, 0.02), `reordered ${r}`);
  // Each reordered packet arrives after exactly 3 later ones (350 µs / 100 µs), unless those
  // later ones were themselves held back.
  let displaced = 0;
  for (let i = 1; i < sink.arrivals.length; i++) if (sink.arrivals[i]!.seq < sink.arrivals[i - 1]!.seq) displaced++;
  assert.ok(displaced > 0.8 * r && displaced <= r, `displaced ${displaced} reordered ${r}`);
  for (const a of sink.arrivals) assert.ok(a.time === 1000 + 100 * a.seq || a.time === 1350 + 100 * a.seq);
});

test("corruption flips a byte: exactly the corrupted packets fail their checksums", () => {
  const n = 5000;
  const { sim, sink, link } = pair({ count: n, size: 200, intervalUs: 10 }, { corruptRate: 0.03 });
  sim.runUntilIdle(1e9);
  const bad = sink.arrivals.filter((a) => !a.valid).length;
  assert.equal(bad, link.ab.counters.corrupted);
  assert.ok(within(bad, n, 0.03), `corrupted ${bad}`);
});

test("MTU: oversize packets are dropped and counted", () => {
  const sim = new Simulator();
  const small = new SourceHost({ src: A, dst: B, count: 5, size: 1500 });
  const big = new SourceHost({ src: A, dst: B, count: 3, size: 1501, sport: 7 });
  const sink = new SinkHost();
  const sink2 = new SinkHost();
  const l1 = sim.connect({ host: small, iface: 0 }, { host: sink, iface: 0 }, { mtu: 1500 });
  const l2 = sim.connect({ host: big, iface: 0 }, { host: sink2, iface: 0 }, { mtu: 1500 });
  sim.runUntilIdle(1e6);
  assert.equal(sink.arrivals.length, 5);
  assert.equal(sink2.arrivals.length, 0);
  assert.equal(l1.ab.counters.dropped.mtu, 0);
  assert.equal(l2.ab.counters.dropped.mtu, 3);
});

test("a path goes down and up mid-run: packets sent or in flight while down are lost", () => {
  // A packet every ms from t=0, 2.5 ms on the wire. Down during [30 ms, 60 ms).
  const { sim, sink, link } = pair({ count: 100, size: 100, intervalUs: 1000 }, { delayUs: 2500 });
  sim.at(30_000, () => link.setUp(false));
  sim.at(60_000, () => link.setUp(true));
  sim.runUntilIdle(1e6);
  const got = new Set(sink.arrivals.map((a) => a.seq));
  for (let k = 0; k < 100; k++) {
    // Sent at k ms, arriving at k + 2.5 ms: lost if sent while down, or in flight at 30 ms.
    const lost = (k >= 30 && k < 60) || (k * 1000 + 2500 > 30_000 && k * 1000 < 30_000);
    assert.equal(got.has(k), !lost, `packet ${k}`);
  }
  assert.equal(link.ab.counters.dropped.down, 100 - got.size);
});

test("rate and loss change at scheduled times", () => {
  const { sim, sink, link } = pair({ count: 40, size: 1000, intervalUs: 2000 }, { rateBps: 8e6 });
  sim.at(40_000, () => link.set({ rateBps: 4e6 }, 0));
  sim.at(60_000, () => link.set({ lossRate: 1 }, 0));
  sim.runUntilIdle(1e6);
  for (const a of sink.arrivals) {
    const sentAt = a.seq * 2000;
    assert.equal(a.time - sentAt, sentAt < 40_000 ? 1000 : 2000, `packet ${a.seq}`);
  }
  assert.equal(sink.arrivals.length, 30);
  assert.equal(link.ab.counters.dropped.loss, 10);
});

test("jitter delays within bounds and keeps the order", () => {
  const { sim, sink } = pair({ count: 2000, size: 100, intervalUs: 50 }, { delayUs: 1000, jitterUs: 400 });
  sim.runUntilIdle(1e9);
  let jittered = 0;
  for (let i = 0; i < sink.arrivals.length; i++) {
    const a = sink.arrivals[i]!;
    assert.equal(a.seq, i);
    const extra = a.time - (1000 + 50 * a.seq);
    assert.ok(extra >= 0 && extra <= 400, `extra ${extra}`);
    if (extra > 0) jittered++;
  }
  assert.ok(jittered > 1500);
});

test("directions are independent", () => {
  const sim = new Simulator();
  const s1 = new SourceHost({ src: A, dst: B, count: 3, size: 1000 });
  const sink = new SinkHost();
  const link = sim.connect({ host: s1, iface: 0 }, { host: sink, iface: 0 }, { ab: { delayUs: 100 }, ba: { delayUs: 9000, up: false } });
  sim.runUntilIdle(1e6);
  assert.deepEqual(sink.arrivals.map((a) => a.time), [100, 100, 100]);
  assert.equal(link.ba.params.delayUs, 9000);
  assert.equal(link.ba.counters.sentPackets, 0);
});

function trace(seed: number): string {
  const { sim, sink } = pair(
    { count: 500, size: 300, intervalUs: 100 },
    { rateBps: 20e6, delayUs: 3000, jitterUs: 200, lossRate: 0.05, reorderRate: 0.05, reorderDelayUs: 500, duplicateRate: 0.05, corruptRate: 0.05, queueBytes: 3000 },
    seed,
  );
  sim.runUntilIdle(1e9);
  return sink.arrivals.map((a) => `${a.time}:${a.seq}:${a.valid ? 1 : 0}:${Array.from(a.packet).join(",")}`).join("\n");
}

test("same seed, identical trace; another seed, another trace", () => {
  const t1 = trace(42);
  assert.equal(trace(42), t1);
  assert.notEqual(trace(43), t1);
});

test("runUntil stops at the deadline and resumes; runUntilTrue stops when the condition holds", () => {
  const { sim, sink } = pair({ count: 10, size: 100, intervalUs: 1000 }, { delayUs: 500 });
  sim.runUntil(3000);
  assert.equal(sim.now, 3000);
  assert.deepEqual(sink.arrivals.map((a) => a.seq), [0, 1, 2]);
  assert.equal(sim.runUntilTrue(() => sink.arrivals.length >= 6, 1e6), true);
  assert.equal(sim.now, 5500);
  assert.equal(sim.runUntilIdle(6000), false);
  assert.equal(sim.now, 6000);
  assert.equal(sim.runUntilIdle(1e6), true);
  assert.equal(sim.now, 9500);
  assert.equal(sink.arrivals.length, 10);
});

test("tick hook runs once per instant, in time order", () => {
  const { sim } = pair({ count: 5, size: 100, intervalUs: 10 }, { delayUs: 5 });
  const ticks: number[] = [];
  sim.onTick((now) => ticks.push(now));
  sim.runUntilIdle(1e6);
  assert.deepEqual(ticks, [...new Set(ticks)].sort((x, y) => x - y));
  assert.ok(ticks.includes(0) && ticks.includes(45));
});
