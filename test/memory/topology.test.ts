// Routers: a shared bottleneck for two flows, ECMP over a fat-tree slice, TTL handling,
// and timers of hosts driven by the simulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../adapters/memory/simulator.ts";
import { Router } from "../../adapters/memory/router.ts";
import type { Micros, SimHost, Transmit } from "../../adapters/memory/types.ts";
import { SinkHost, SourceHost, udpPacket } from "./hosts.ts";

test("two flows share one bottleneck: the sum is capped by its rate and both get a share", () => {
  // s1, s2 --(100 Mbit/s)--> r1 --(10 Mbit/s, 100 KB queue)--> r2 --> sink1, sink2
  const sim = new Simulator({ seed: 11 });
  const s1 = new SourceHost({ src: "198.18.1.1", dst: "198.18.2.1", count: 2000, size: 1000, intervalUs: 500 });
  const s2 = new SourceHost({ src: "198.18.1.2", dst: "198.18.2.2", count: 2000, size: 1000, intervalUs: 500 });
  const k1 = new SinkHost();
  const k2 = new SinkHost();
  const r1 = new Router("r1").addRoute("198.18.2.0/24", 2).addRoute("198.18.1.1", 0).addRoute("198.18.1.2", 1);
  const r2 = new Router("r2").addRoute("198.18.2.1", 1).addRoute("198.18.2.2", 2).addRoute("198.18.1.0/24", 0);
  // Access jitter breaks the phase locking of two perfectly periodic sources at a drop-tail
  // queue (without it, one flow loses nearly every drop race: Floyd and Jacobson's phase effects).
  const fast = { rateBps: 100e6, delayUs: 100, jitterUs: 300 };
  sim.connect({ host: s1, iface: 0 }, { host: r1, iface: 0 }, fast);
  sim.connect({ host: s2, iface: 0 }, { host: r1, iface: 1 }, fast);
  const neck = sim.connect({ host: r1, iface: 2 }, { host: r2, iface: 0 }, { rateBps: 10e6, delayUs: 5000, queueBytes: 100_000 }, "bottleneck");
  sim.connect({ host: r2, iface: 1 }, { host: k1, iface: 0 }, fast);
  sim.connect({ host: r2, iface: 2 }, { host: k2, iface: 0 }, fast);
  sim.runUntilIdle(10e6);
  // Offered: 2 x 16 Mbit/s for 1 s; the bottleneck carries 10 Mbit/s = 1250 packets/s.
  const delivered = k1.arrivals.length + k2.arrivals.length;
  assert.equal(delivered, neck.ab.counters.deliveredPackets);
  assert.equal(delivered + neck.ab.counters.dropped.queue, 4000);
  const busyUs = Math.max(k1.arrivals.at(-1)!.time, k2.arrivals.at(-1)!.time) - 5000;
  const mbps = (delivered * 8000) / busyUs;
  assert.ok(Math.abs(mbps - 10) < 0.2, `goodput ${mbps} Mbit/s`);
  assert.ok(k1.arrivals.length > 0.4 * delivered && k2.arrivals.length > 0.4 * delivered, `${k1.arrivals.length} / ${k2.arrivals.length}`);
  assert.ok(neck.ab.counters.dropped.queue > 1000);
  assert.ok(k1.arrivals.every((a) => a.valid), "TTL decrement keeps the IPv4 header checksum valid");
  assert.equal(k1.arrivals[0]!.packet[8], 62, "two routers: TTL 64 -> 62");
  assert.equal(r1.counters.forwarded, 4000 - 0);
});

test("ECMP: flows spread over equal-cost paths; every packet of a flow takes the same path", () => {
  // A fat-tree slice: edge router e1 with 4 uplinks to cores c0..c3, all down to e2, then a sink.
  const sim = new Simulator({ seed: 5 });
  const e1 = new Router("e1", 99).addRoute("198.18.2.0/24", [1, 2, 3, 4]);
  const e2 = new Router("e2").addRoute("198.18.2.0/24", 0);
  const sink = new SinkHost();
  const cores = [0, 1, 2, 3].map((i) => new Router(`c${i}`).addRoute("198.18.2.0/24", 1));
  cores.forEach((c, i) => {
    sim.connect({ host: e1, iface: i + 1 }, { host: c, iface: 0 }, { delayUs: 10 });
    sim.connect({ host: c, iface: 1 }, { host: e2, iface: i + 1 }, { delayUs: 10 });
  });
  sim.connect({ host: e2, iface: 0 }, { host: sink, iface: 0 });
  const flows = 200;
  const sources: SourceHost[] = [];
  for (let f = 0; f < flows; f++) {
    const s = new SourceHost({ src: `198.18.1.${1 + (f % 50)}`, dst: "198.18.2.1", sport: 1000 + f, count: 5, size: 100, intervalUs: 1000 });
    sources.push(s);
    const r = new Router(`in${f}`).addRoute("198.18.2.0/24", 1);
    sim.connect({ host: s, iface: 0 }, { host: r, iface: 0 });
    sim.connect({ host: r, iface: 1 }, { host: e1, iface: 10 + f });
  }
  sim.runUntilIdle(1e6);
  assert.equal(sink.arrivals.length, flows * 5);
  const perCore = cores.map((c) => c.counters.forwarded);
  assert.equal(perCore.reduce((x, y) => x + y), flows * 5);
  // Each core carries whole flows (5 packets each) and at least half its fair share.
  for (const n of perCore) assert.ok(n % 5 === 0 && n > (flows * 5) / 4 / 2, `per core ${perCore}`);
  // Same flow -> same path: every packet of a flow hashes to the same interface.
  const p0 = udpPacket("198.18.1.7", "198.18.2.1", 1234, 6000, new Uint8Array(4));
  const p1 = udpPacket("198.18.1.7", "198.18.2.1", 1234, 6000, new Uint8Array(400));
  assert.equal(e1.lookup(p0), e1.lookup(p1));
});

test("a router drops what it cannot route and packets whose TTL runs out", () => {
  const sim = new Simulator();
  const r = new Router("r").addRoute("198.18.2.0/24", 1);
  const sink = new SinkHost();
  const src = new SourceHost({ src: "198.18.1.1", dst: "198.18.3.1", count: 3, size: 60 });
  const src2: SimHost = {
    handlePacket: () => {},
    pollTransmit: (() => {
      let sent = false;
      return (): Transmit | undefined => {
        if (sent) return undefined;
        sent = true;
        return { packet: udpPacket("198.18.1.1", "198.18.2.1", 1, 2, new Uint8Array(4), 1), iface: 0 };
      };
    })(),
    pollTimeout: () => undefined,
    handleTimeout: () => {},
  };
  sim.connect({ host: src, iface: 0 }, { host: r, iface: 0 });
  sim.connect({ host: src2, iface: 0 }, { host: r, iface: 2 });
  sim.connect({ host: r, iface: 1 }, { host: sink, iface: 0 });
  sim.runUntilIdle(1e6);
  assert.equal(r.counters.noRoute, 3);
  assert.equal(r.counters.ttlExpired, 1);
  assert.equal(sink.arrivals.length, 0);
});

test("host timers: armed from pollTimeout, re-armed after every input, stale ones cancelled", () => {
  class TimerHost implements SimHost {
    fired: Micros[] = [];
    deadline: Micros | undefined = 1000;
    handlePacket(): void {}
    pollTransmit(): Transmit | undefined {
      return undefined;
    }
    pollTimeout(): Micros | undefined {
      return this.deadline;
    }
    handleTimeout(now: Micros): void {
      if (this.deadline !== undefined && now >= this.deadline) {
        this.fired.push(now);
        this.deadline = this.fired.length < 3 ? now + 1000 : undefined;
      }
    }
  }
  const sim = new Simulator();
  const h = new TimerHost();
  sim.addHost(h, "timer");
  // At 1500 an external command moves the deadline from 2000 to 5000.
  sim.at(1500, () => (h.deadline = 5000));
  assert.equal(sim.runUntilIdle(1e6), true);
  assert.deepEqual(h.fired, [1000, 5000, 6000]);
  assert.equal(sim.stats.timerFires, 3);
  assert.equal(sim.now, 6000);
});

test("a host whose timer never moves forward is caught, not spun forever", () => {
  const stuck: SimHost = {
    handlePacket: () => {},
    pollTransmit: () => undefined,
    pollTimeout: () => 10,
    handleTimeout: () => {},
  };
  const sim = new Simulator({ maxTimerFiresPerInstant: 50 });
  sim.addHost(stuck, "stuck");
  assert.throws(() => sim.runUntil(1000), /stuck: timer fired 51 times at 10/);
});
