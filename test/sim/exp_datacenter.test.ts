// Experiment 7 of issue 8 (Raiciu et al., "Improving datacenter performance and robustness with
// multipath TCP", SIGCOMM 2011): a whole k-ary fat tree (every link 10 Mbit/s, full bisection
// bandwidth) with ECMP per-flow hashing at the edge and aggregation switches, and a permutation
// traffic matrix (every host sends to one other host and receives from one, a random derangement
// per seed). Single-path TCP (Reno) flows collide on ECMP-chosen links; MPTCP with 4 subflows per
// connection (ndiffports, LIA) spreads over the paths and moves traffic off the congested ones.
// The score is the goodput of all flows summed over a measurement window, against the optimum
// (hosts x 10 Mbit/s: a permutation fits in a full-bisection fat tree). A seed sets the
// switches' hash seeds, the source ports and the permutation; seeds run 1, 2, ... in order.
//
// Two scales:
// - k=8 (128 hosts), the size of the paper's packet-level FatTree simulations: the goal
//   (>= 1.5x TCP) is asserted on the mean over the seeds. `npm test` runs 2 seeds (~30 s of CPU
//   each); MPTCP_EXP7_SEEDS=N runs N (scripts/experiments.mjs uses 6 for bench/RESULTS.md).
// - k=4 (16 hosts), the smallest fat tree, reported: ECMP collisions cost TCP less there, and
//   even a perfect transport on the 4 subflows' hashed paths would get only ~1.5x (below).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpConfig } from "../../core/mptcp/types.ts";
import { PM_WIDE, bulkFlows, derangement, fatTree, goodput, maxMinRates, mbit, probePacket, record, tracePath, wallMs } from "./exp_helpers.ts";

const RATE = 10e6;
const TCP: Partial<MptcpConfig> = { mptcp: false, congestion: "reno" };
const MPTCP: Partial<MptcpConfig> = { congestion: "lia", pathManager: { ...PM_WIDE, kind: "ndiffports", ndiffports: 4 } };

interface Scale {
  k: number;
  seeds: number[];
  /** Simulated time and the start of the measurement window (µs). */
  endUs: number;
  fromUs: number;
}

interface Run {
  total: number;
  per: number[];
  subflows: number;
  /** TCP only: the max-min fair total on the flows' ECMP paths, in bit/s of link rate. */
  maxMin: number;
}

function run(s: Scale, config: Partial<MptcpConfig>, seed: number): Run {
  const ft = fatTree({ k: s.k, seed, link: { rateBps: RATE, delayUs: 100, queueBytes: 50_000 }, config });
  const n = ft.hosts.length;
  const perm = derangement(n, seed);
  const flows = bulkFlows(
    { sim: ft.sim },
    ft.hosts.map((h, i) => ({ name: `f${i}`, client: h, local: ft.addrs[i]!, port: 5001 + i, server: ft.hosts[perm[i]!]!, serverAddr: ft.addrs[perm[i]!]! })),
  );
  ft.sim.runUntil(s.endUs);
  const per = flows.map((f) => goodput(f, s.fromUs, s.endUs));
  // The data direction of every flow's first subflow, as the switches hash it.
  const paths = flows.map((f, i) => {
    const sf = f.conn!.subflows[0]!;
    return tracePath(ft.links, ft.hosts[i]!, probePacket(ft.addrs[i]!, ft.addrs[perm[i]!]!, sf.localPort, sf.remotePort));
  });
  const maxMin = maxMinRates(paths).reduce((a, b) => a + b, 0) * RATE;
  const subflows = Math.min(...flows.map((f) => f.conn!.subflows.length));
  // Frees the buffers in the shared WASM memory before the next run.
  for (const h of ft.hosts) h.endpoint.dispose();
  return { total: per.reduce((a, b) => a + b, 0), per, subflows, maxMin };
}

interface Outcome {
  tcp: number;
  mp: number;
  tcpMaxMin: number;
  ratio: number;
  optimum: number;
  ratios: string[];
  wall: number;
}

/** Runs TCP and MPTCP on every seed of a scale; means of the totals. */
function compare(s: Scale): Outcome {
  const t0 = wallMs();
  const hosts = (s.k * s.k * s.k) / 4;
  const optimum = hosts * RATE;
  const pct = (bps: number): string => `${((100 * bps) / optimum).toFixed(1)}%`;
  let tcp = 0;
  let mp = 0;
  let tcpMaxMin = 0;
  const ratios: string[] = [];
  for (const seed of s.seeds) {
    const t = run(s, TCP, seed);
    const m = run(s, MPTCP, seed);
    assert.equal(t.subflows, 1);
    assert.equal(m.subflows, 4, "ndiffports opened 4 subflows on every connection");
    for (const x of [...t.per, ...m.per]) assert.ok(x > 0, "every flow delivered data");
    tcp += t.total;
    mp += m.total;
    tcpMaxMin += t.maxMin;
    ratios.push((m.total / t.total).toFixed(2));
    console.log(`[exp7] k=${s.k} seed ${seed}: TCP ${pct(t.total)} (max-min on its paths ${pct(t.maxMin)}), MPTCP ${pct(m.total)}, ${(m.total / t.total).toFixed(2)}x`);
  }
  const runs = s.seeds.length;
  const out = { tcp: tcp / runs, mp: mp / runs, tcpMaxMin: tcpMaxMin / runs, ratio: mp / tcp, optimum, ratios, wall: wallMs() - t0 };
  console.log(`[exp7] k=${s.k} mean of ${runs} seeds (optimum ${mbit(optimum)} Mbit/s): TCP ${mbit(out.tcp)}, MPTCP ${mbit(out.mp)} Mbit/s, ${out.ratio.toFixed(2)}x; wall ${out.wall.toFixed(0)} ms`);
  return out;
}

function seedsFromEnv(fallback: number): number[] {
  const n = Number(globalThis.process?.env?.MPTCP_EXP7_SEEDS ?? fallback);
  if (!(Number.isInteger(n) && n >= 1 && n <= 32)) throw new Error(`MPTCP_EXP7_SEEDS must be an integer in 1..32`);
  return Array.from({ length: n }, (_, i) => i + 1);
}

const share = (o: Outcome, bps: number): string => `${((100 * bps) / o.optimum).toFixed(1)}%`;

/**
 * Records the result row (goal met: >= 1.5x TCP) and asserts the qualitative result: TCP gets
 * what fair sharing on its hashed paths allows (the baseline is not crippled), MPTCP uses at
 * least `mpShare` of the optimum and `minRatio` times what TCP gets.
 */
function report(o: Outcome, name: string, goal: string, mpShare: number, minRatio: number): void {
  record({
    exp: 7,
    name,
    goal,
    value: `${o.ratio.toFixed(2)}x (MPTCP ${share(o, o.mp)}, TCP ${share(o, o.tcp)} of the optimum ${mbit(o.optimum)} Mbit/s)`,
    detail: `TCP's max-min fair share on its ECMP paths ${share(o, o.tcpMaxMin)}; per seed ${o.ratios.join(" ")}`,
    pass: o.ratio >= 1.5,
    wallMs: o.wall,
  });
  assert.ok(o.tcp >= 0.85 * o.tcpMaxMin, `TCP ${share(o, o.tcp)} against its max-min share ${share(o, o.tcpMaxMin)}`);
  assert.ok(o.mp >= mpShare * o.optimum, `MPTCP used ${share(o, o.mp)} of the optimum`);
  assert.ok(o.ratio >= minRatio, `MPTCP / TCP = ${o.ratio.toFixed(2)}, expected at least ${minRatio}`);
}

describe("experiment 7: datacenter, fat tree with ECMP, permutation traffic matrix", () => {
  it("k=8 (128 hosts): MPTCP (ndiffports, 4 subflows, LIA) gets at least 1.5x single-path TCP (Reno)", () => {
    // 4 s simulated, measured from 1.5 s: both transports are steady after ~1 s (per-second
    // totals within ~1% of the mean afterwards in trial runs of 5 and 10 s).
    const o = compare({ k: 8, seeds: seedsFromEnv(2), endUs: 4e6, fromUs: 1.5e6 });
    const name = `k=8 fat tree (128 hosts, the paper's packet-level size), permutation traffic matrix, ndiffports x4 LIA vs TCP Reno (${o.ratios.length} seeds)`;
    report(o, name, ">= 1.5x TCP", 0.65, 1.5);
  });

  // The smallest fat tree, reported against the same goal, which it does not reach: TCP 61%,
  // MPTCP 81% of the optimum, 1.34x over 6 seeds. What bounds it: at k=4 ECMP collisions cost TCP
  // less (max-min fair share on its hashed paths 63%, ~50% at k=8), and 4 subflows do not always
  // avoid a collision either: the best allocation on the subflows' hashed paths (an LP over the
  // traced paths) is 94% of the optimum, so 1.50x is the bound for a perfect transport. MPTCP's
  // DSS options on data and ACKs cost ~2-3% more than TCP's headers (1.46x); LIA reaches ~93% of
  // that allocation. OLIA, BALIA and uncoupled Reno subflows give the same within 1% (k=4 and k=6
  // trial runs): the allocation, not the controller, is what limits it. 8 subflows (the paper's
  // advice for FatTree) gave 1.43x in a trial run.
  it("k=4 (16 hosts): MPTCP clearly ahead of TCP, reported against the 1.5x goal", () => {
    const o = compare({ k: 4, seeds: [1, 2, 3, 4, 5, 6], endUs: 10e6, fromUs: 3e6 });
    report(o, "k=4 fat tree (16 hosts, the smallest), same workload (6 seeds)", ">= 1.5x TCP (reported at this size, asserted at k=8)", 0.7, 1.2);
  });
});
