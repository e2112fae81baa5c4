// Multipath experiments 2, 6 and 8 of issue 8: heterogeneous paths with small receive buffers
// (opportunistic retransmission and penalisation, NSDI 2012) and receive-buffer autotuning; a
// WiFi-to-LTE handover (longest delivery stall); small messages on the redundant scheduler.
// `[exp] {json}` lines are collected by scripts/experiments.mjs into bench/RESULTS.md.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { MptcpConfig } from "../../core/mptcp/types.ts";
import type { SchedulerName } from "../../core/scheduler/index.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import { PM_WIDE, SERVER_ADDR, bulkFlows, forward, goodput, hostAddr, mbit, multiPath, record, subflowBytes, wallMs } from "./exp_helpers.ts";

const KiB = 1024;

describe("experiment 2: 10 Mbit/s + 5 Mbit/s, 10 ms and 60 ms RTT (LIA)", () => {
  const FAST: LinkSpec = { rateBps: 10e6, delayUs: 5_000, queueBytes: 30_000 };
  const SLOW: LinkSpec = { rateBps: 5e6, delayUs: 30_000, queueBytes: 40_000 };
  const run = (paths: LinkSpec[], server: Partial<MptcpConfig>, client: Partial<MptcpConfig> = {}): { bps: number; conn: MptcpConnection; split: number[] } => {
    const net = multiPath({ paths, clientConfig: { pathManager: PM_WIDE }, serverConfig: { pathManager: PM_WIDE, ...server } });
    const [f] = bulkFlows(net, [{ name: "mp", client: net.client, local: hostAddr(0, 0), port: 5001, config: { congestion: "lia", ...client } }]);
    net.sim.runUntil(20e6);
    return { bps: goodput(f!, 3e6, 20e6), conn: f!.conn!, split: subflowBytes(f!) };
  };
  const BIG = { receiveBufferSize: 8 << 20 };
  let fastAlone = 0;
  let slowAlone = 0;

  it("a large receive buffer (8 MiB), and autotuning up to it: at least 0.85x the sum of the paths alone", () => {
    const t0 = wallMs();
    fastAlone = run([FAST], BIG).bps;
    slowAlone = run([SLOW], BIG).bps;
    const sum = fastAlone + slowAlone;
    const big = run([FAST, SLOW], BIG);
    const auto = run([FAST, SLOW], { ...BIG, receiveBufferAutotune: true });
    const wall = wallMs() - t0;
    console.log(`[exp2] fast alone ${mbit(fastAlone)}, slow alone ${mbit(slowAlone)}; both, 8 MiB buffer ${mbit(big.bps)} (${(big.bps / sum).toFixed(2)}x the sum), autotuned ${mbit(auto.bps)} (${(auto.bps / sum).toFixed(2)}x); wall ${wall.toFixed(0)} ms`);
    record({ exp: 2, name: "10+5 Mbit/s, 10/60 ms RTT, 8 MiB receive buffer", goal: ">= 0.85x sum of the paths alone", value: `${(big.bps / sum).toFixed(2)}x (${mbit(big.bps)} of ${mbit(sum)} Mbit/s)`, pass: big.bps >= 0.85 * sum, wallMs: wall });
    record({ exp: 2, name: "same, receive buffer autotuned (max 8 MiB)", goal: ">= 0.85x sum", value: `${(auto.bps / sum).toFixed(2)}x (${mbit(auto.bps)} Mbit/s)`, pass: auto.bps >= 0.85 * sum });
    assert.ok(big.bps >= 0.85 * sum, `${big.bps} vs sum ${sum}`);
    assert.ok(auto.bps >= 0.85 * sum, `autotuned ${auto.bps} vs sum ${sum}`);
    assert.ok(big.split[1]! > 0.2 * (big.split[0]! + big.split[1]!), "the slow path carries its share");
  });

  for (const kb of [48, 64, 128, 256, 512]) {
    it(`${kb} KiB receive buffer: with opportunistic retransmission and penalisation never below 0.8x the fast path alone`, () => {
      const t0 = wallMs();
      if (fastAlone === 0) fastAlone = run([FAST], BIG).bps;
      const small = { receiveBufferSize: kb * KiB };
      const without = run([FAST, SLOW], small);
      const withOr = run([FAST, SLOW], small, { opportunisticRetransmission: true });
      const wall = wallMs() - t0;
      const c = withOr.conn.counters;
      const r0 = without.bps / fastAlone;
      const r1 = withOr.bps / fastAlone;
      console.log(`[exp2] ${kb} KiB: without ${mbit(without.bps)} (${r0.toFixed(2)}x fast alone), with OR+P ${mbit(withOr.bps)} (${r1.toFixed(2)}x; ${c.OpportunisticRetrans} retransmissions, ${c.Penalisations} penalisations); wall ${wall.toFixed(0)} ms`);
      record({ exp: 2, name: `${kb} KiB receive buffer, opportunistic retransmission + penalisation`, goal: ">= 0.8x fast path alone", value: `${r1.toFixed(2)}x with, ${r0.toFixed(2)}x without (${mbit(withOr.bps)} / ${mbit(without.bps)} Mbit/s)`, pass: r1 >= 0.8, wallMs: wall, detail: `${c.OpportunisticRetrans} opp. retransmissions, ${c.Penalisations} penalisations` });
      assert.ok(r1 >= 0.8, `${r1.toFixed(2)}x the fast path`);
      assert.equal(without.conn.counters.OpportunisticRetrans, 0, "off by default");
      if (kb <= 64) assert.ok(c.OpportunisticRetrans > 0 && c.Penalisations > 0, "the mechanism acted");
      // It helps where the slow path holds the window: at 48 KiB (0.64x the fast path alone
      // without it). 64 KiB sits near that edge: 0.75x without while MPTCP segments were 28
      // bytes over the MSS (a dip: 62 and 66 KiB gave 1.08x and 1.11x), 1.17x once they fit.
      if (kb === 48) assert.ok(withOr.bps > without.bps, "and it helped at 48 KiB");
    });
  }
});

describe("experiment 2 (schedulers): 128 KiB receive buffer, every scheduler", () => {
  it("goodput per scheduler (reported); each at least 0.8x the fast path alone", () => {
    const t0 = wallMs();
    const FAST: LinkSpec = { rateBps: 10e6, delayUs: 5_000, queueBytes: 30_000 };
    const SLOW: LinkSpec = { rateBps: 5e6, delayUs: 30_000, queueBytes: 40_000 };
    const one = (paths: LinkSpec[], scheduler: SchedulerName): { bps: number; split: number[] } => {
      const net = multiPath({ paths, clientConfig: { pathManager: PM_WIDE }, serverConfig: { pathManager: PM_WIDE, receiveBufferSize: 128 * KiB } });
      const [f] = bulkFlows(net, [{ name: "mp", client: net.client, local: hostAddr(0, 0), port: 5001, config: { congestion: "lia", scheduler } }]);
      net.sim.runUntil(20e6);
      return { bps: goodput(f!, 3e6, 20e6), split: subflowBytes(f!) };
    };
    const fast = one([FAST], "default").bps;
    const rows: string[] = [];
    for (const sch of ["default", "lowrtt", "roundrobin", "blest", "ecf", "redundant"] as SchedulerName[]) {
      const r = one([FAST, SLOW], sch);
      const slowShare = r.split[1]! / (r.split[0]! + r.split[1]!);
      rows.push(`${sch} ${mbit(r.bps)} (${(r.bps / fast).toFixed(2)}x, slow path ${(100 * slowShare).toFixed(0)}%)`);
      record({ exp: 2, name: `128 KiB receive buffer, scheduler ${sch}`, goal: ">= 0.8x fast path alone", value: `${(r.bps / fast).toFixed(2)}x (${mbit(r.bps)} Mbit/s, ${(100 * slowShare).toFixed(0)}% of bytes on the slow path)`, pass: r.bps >= 0.8 * fast });
      assert.ok(r.bps >= 0.8 * fast, `${sch}: ${mbit(r.bps)}`);
      if (sch === "redundant") assert.ok(slowShare > 0.3, "redundant copies everything on the slow path too");
    }
    console.log(`[exp2] schedulers at 128 KiB (fast path alone ${mbit(fast)}): ${rows.join("; ")}; wall ${(wallMs() - t0).toFixed(0)} ms`);
  });
});

describe("experiment 6: handover from a WiFi-like to an LTE-like path", () => {
  // WiFi 20 Mbit/s, 10 ms RTT; LTE 10 Mbit/s, 60 ms RTT. Bulk upload; at 3 s the WiFi path
  // disappears. Stall = the longest gap between two deliveries to the server application
  // within 3 s after the failure (the gap that spans the failure included).
  const DOWN = 3_000_000;
  const run = (o: { backup: boolean; removeAddress: boolean }): { stall: number; after: number } => {
    const net = multiPath({
      paths: [
        { rateBps: 20e6, delayUs: 5_000, queueBytes: 60_000 },
        { rateBps: 10e6, delayUs: 30_000, queueBytes: 100_000 },
      ],
      clientFlags: [{}, { backup: o.backup }],
      clientConfig: { pathManager: PM_WIDE },
      serverConfig: { pathManager: PM_WIDE },
    });
    const [f] = bulkFlows(net, [{ name: "mp", client: net.client, local: hostAddr(0, 0), port: 5001, recordReads: true }]);
    net.sim.at(DOWN, (now) => {
      net.paths[0]!.setUp(false);
      if (o.removeAddress) net.client.endpoint.removeAddress(now, hostAddr(0, 0));
    });
    net.sim.runUntil(DOWN + 5e6);
    let last = -1;
    let stall = 0;
    for (const [t] of f!.reads!) {
      if (last >= 0 && t > DOWN && last <= DOWN + 3e6) stall = Math.max(stall, t - last);
      last = t;
    }
    if (last <= DOWN) stall = Infinity;
    return { stall, after: goodput(f!, DOWN + 3.5e6, DOWN + 5e6) };
  };
  const cases = [
    { name: "WiFi interface goes away (address removed), LTE regular", backup: false, removeAddress: true, goal: true },
    { name: "WiFi interface goes away (address removed), LTE backup", backup: true, removeAddress: true, goal: true },
    { name: "WiFi silently stops forwarding, LTE regular", backup: false, removeAddress: false, goal: true },
    // Linux semantics: a backup subflow takes over only when the regular one is stale (4 RTOs
    // without progress, about 3 s at a 200 ms RTO) unless the interface is reported down.
    { name: "WiFi silently stops forwarding, LTE backup (Linux stale rule: 4 RTOs)", backup: true, removeAddress: false, goal: false },
  ];
  for (const c of cases) {
    it(`${c.name}: longest delivery stall${c.goal ? " at most 1 s" : " (reported)"}`, () => {
      const t0 = wallMs();
      const r = run(c);
      const wall = wallMs() - t0;
      console.log(`[exp6] ${c.name}: longest stall ${(r.stall / 1000).toFixed(0)} ms, then ${mbit(r.after)} Mbit/s on LTE; wall ${wall.toFixed(0)} ms`);
      record({ exp: 6, name: `handover: ${c.name}`, goal: c.goal ? "stall <= 1 s" : "(reported; Linux waits for stale)", value: `${(r.stall / 1000).toFixed(0)} ms stall, then ${mbit(r.after)} Mbit/s`, pass: c.goal ? r.stall <= 1e6 : true, wallMs: wall });
      if (c.goal) assert.ok(r.stall <= 1e6, `stall ${r.stall} µs`);
      else assert.ok(r.stall < 5e6, `stall ${r.stall} µs: LTE never took over`);
      assert.ok(r.after > 0.8 * 9.5e6, `LTE carries the transfer afterwards (${mbit(r.after)} Mbit/s)`);
    });
  }
});

describe("experiment 8: small messages, redundant scheduler, paths of 10 ms and 60 ms RTT", () => {
  // 400 messages of 200 bytes, one every 25 ms; the fast path (5 ms one way) loses 5% of its
  // packets, the slow one (30 ms one way) none. Latency = write to the complete message read.
  const run = (scheduler: SchedulerName, loss: number): { p50: number; p99: number; max: number; copies: number } => {
    const net = multiPath({
      paths: [forward({ rateBps: 10e6, delayUs: 5_000, queueBytes: 50_000, lossRate: loss }), { rateBps: 10e6, delayUs: 30_000, queueBytes: 50_000 }],
      clientConfig: { pathManager: PM_WIDE },
      serverConfig: { pathManager: PM_WIDE },
    });
    net.server.endpoint.listen(5001);
    let c: MptcpConnection | undefined;
    let s: MptcpConnection | undefined;
    const SIZE = 200;
    const N = 400;
    const GAP = 25_000;
    const START = 1_000_000;
    const sentAt: number[] = [];
    const lat: number[] = [];
    let rx = 0;
    net.sim.at(0, (now) => {
      c = net.client.endpoint.connect(now, SERVER_ADDR, 5001, { localAddress: hostAddr(0, 0), config: { scheduler, tcp: { noDelay: true } } });
    });
    const msg = new Uint8Array(SIZE);
    for (let i = 0; i < N; i++) {
      net.sim.at(START + i * GAP, (now) => {
        sentAt.push(now);
        assert.equal(c!.write(now, msg), SIZE);
      });
    }
    net.client.app = () => {
      if (c) while (c.pollEvent() !== undefined);
    };
    const buf = new Uint8Array(65536);
    net.server.app = (now) => {
      s ??= net.server.endpoint.pollAccept();
      if (!s) return;
      while (s.pollEvent() !== undefined);
      let n: number;
      while ((n = s.read(now, buf)) > 0) {
        rx += n;
        while (lat.length < Math.floor(rx / SIZE)) lat.push(now - sentAt[lat.length]!);
      }
    };
    net.sim.runUntil(START + N * GAP + 3e6);
    assert.equal(lat.length, N, "every message arrived");
    const sorted = lat.slice().sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const sf = c!.stats().subflows.map((x) => x.dataBytesSent);
    return { p50: q(0.5), p99: q(0.99), max: q(1), copies: Math.min(...sf) / (SIZE * N) };
  };
  const ms = (us: number): string => (us / 1000).toFixed(1);

  it("latency follows the faster path: median at its one-way delay, tail bounded by the slower path", () => {
    const t0 = wallMs();
    const rows: Array<[string, ReturnType<typeof run>]> = [];
    for (const sch of ["default", "lowrtt", "redundant"] as SchedulerName[]) rows.push([sch, run(sch, 0.05)]);
    const clean = run("redundant", 0);
    const wall = wallMs() - t0;
    for (const [n, r] of rows) console.log(`[exp8] ${n}: median ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, max ${ms(r.max)} ms (5% loss on the fast path)`);
    console.log(`[exp8] redundant, no loss: median ${ms(clean.p50)} ms, max ${ms(clean.max)} ms; wall ${wall.toFixed(0)} ms`);
    const red = rows.find(([n]) => n === "redundant")![1];
    const def = rows.find(([n]) => n === "default")![1];
    record({ exp: 8, name: "200 B messages, 5 ms + 30 ms one way, 5% loss on the fast path: redundant", goal: "latency follows the faster path", value: `median ${ms(red.p50)} ms, p99 ${ms(red.p99)} ms, max ${ms(red.max)} ms`, pass: red.p50 <= 7_000 && red.max <= 35_000, wallMs: wall });
    record({ exp: 8, name: "same, default scheduler (reference)", goal: "(reference)", value: `median ${ms(def.p50)} ms, p99 ${ms(def.p99)} ms, max ${ms(def.max)} ms`, pass: true });
    // Median at the fast path's one-way delay (5 ms + serialisation), every message within the
    // slow path's one-way delay (30 ms + a little): a copy always travels the other path.
    assert.ok(red.p50 <= 7_000, `median ${red.p50}`);
    assert.ok(red.max <= 35_000, `max ${red.max}`);
    assert.ok(red.copies > 0.95, "every message went on both subflows");
    assert.ok(def.max > red.max, "without copies, losses on the fast path cost more");
    assert.ok(clean.max <= 7_000, `no loss: every message at the fast path's delay (${clean.max})`);
  });
});

describe("schedulers on finite objects (reported): 10 Mbit/s 10 ms + 5 Mbit/s 100 ms RTT", () => {
  // 20 objects, one every 500 ms on one connection (the subflows stay warm); completion time =
  // write of the object to its last byte read. ECF and BLEST exist for this case (short
  // transfers over heterogeneous paths); the numbers are reported, not judged against a goal.
  const run = (scheduler: SchedulerName, size: number): { mean: number; median: number; max: number } => {
    const net = multiPath({
      paths: [
        { rateBps: 10e6, delayUs: 5_000, queueBytes: 30_000 },
        { rateBps: 5e6, delayUs: 50_000, queueBytes: 40_000 },
      ],
      clientConfig: { pathManager: PM_WIDE },
      serverConfig: { pathManager: PM_WIDE },
    });
    net.server.endpoint.listen(5001);
    let c: MptcpConnection | undefined;
    let s: MptcpConnection | undefined;
    net.sim.at(0, (now) => {
      c = net.client.endpoint.connect(now, SERVER_ADDR, 5001, { localAddress: hostAddr(0, 0), config: { scheduler, congestion: "lia" } });
    });
    const N = 20;
    const sentAt: number[] = [];
    const done: number[] = [];
    let rx = 0;
    const obj = new Uint8Array(size);
    // The application writes each object as the send buffer takes it (autotuned, it may be
    // smaller than an object: the rest goes as acknowledgements make room, as a blocking send).
    let pending = 0;
    const pump = (now: number): void => {
      while (c && pending > 0) {
        const n = c.write(now, obj.subarray(0, Math.min(pending, size)));
        if (n === 0) break;
        pending -= n;
      }
    };
    for (let i = 0; i < N; i++) {
      net.sim.at(1_000_000 + i * 500_000, (now) => {
        sentAt.push(now);
        pending += size;
        pump(now);
      });
    }
    net.client.app = (now) => {
      if (c) while (c.pollEvent() !== undefined);
      pump(now);
    };
    const buf = new Uint8Array(1 << 20);
    net.server.app = (now) => {
      s ??= net.server.endpoint.pollAccept();
      if (!s) return;
      while (s.pollEvent() !== undefined);
      let n: number;
      while ((n = s.read(now, buf)) > 0) {
        rx += n;
        while (done.length < Math.floor(rx / size)) done.push(now - sentAt[done.length]!);
      }
    };
    net.sim.runUntil(1_000_000 + N * 500_000 + 2e6);
    assert.equal(done.length, N, `${scheduler}: every object arrived`);
    const m = done.slice().sort((a, b) => a - b);
    return { mean: done.reduce((a, b) => a + b, 0) / N, median: m[N >> 1]!, max: m[N - 1]! };
  };
  it("64 KiB and 256 KiB objects: completion times of default, BLEST, ECF", () => {
    const t0 = wallMs();
    const rows: string[] = [];
    for (const size of [64 * KiB, 256 * KiB]) {
      for (const sch of ["default", "blest", "ecf"] as SchedulerName[]) {
        const r = run(sch, size);
        const v = `mean ${(r.mean / 1000).toFixed(1)} ms, median ${(r.median / 1000).toFixed(1)} ms, max ${(r.max / 1000).toFixed(1)} ms`;
        rows.push(`${size / KiB} KiB ${sch}: ${v}`);
        record({ exp: 8, name: `${size / KiB} KiB objects every 500 ms, 10 ms + 100 ms RTT paths, scheduler ${sch}`, goal: "(reported)", value: v, pass: true });
      }
    }
    for (const r of rows) console.log(`[exp8b] ${r}`);
    console.log(`[exp8b] wall ${(wallMs() - t0).toFixed(0)} ms`);
  });
});
