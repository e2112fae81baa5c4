// Experiment 7 of issue 8 (Raiciu et al., "Improving datacenter performance and robustness with
// multipath TCP", SIGCOMM 2011) at its smallest scale: a whole k=4 fat tree (16 hosts, 4 pods,
// 4 core switches, every link 10 Mbit/s, full bisection bandwidth) with ECMP per-flow hashing at
// the edge and aggregation switches, and a permutation traffic matrix (every host sends to one
// other host and receives from one, a random derangement per seed). Single-path TCP (Reno)
// flows collide on ECMP-chosen links; MPTCP with 4 subflows per connection (ndiffports, LIA)
// spreads over the paths and moves traffic off the congested ones. Goodput of the 16 flows
// summed from 3 s to 10 s, against the optimum (16 x 10 Mbit/s: a permutation fits in a
// full-bisection fat tree), over 6 seeds (a seed sets the switches' hash seeds, the source
// ports and the permutation).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpConfig } from "../../core/mptcp/types.ts";
import { PM_WIDE, bulkFlows, derangement, fatTree, goodput, maxMinRates, mbit, probePacket, record, tracePath, wallMs } from "./exp_helpers.ts";

const SEEDS = [1, 2, 3, 4, 5, 6];
const RATE = 10e6;
const HOSTS = 16;
const OPTIMUM = HOSTS * RATE;

interface Run {
  total: number;
  per: number[];
  subflows: number;
  /** TCP only: the max-min fair total on the flows' ECMP paths, in bit/s of link rate. */
  maxMin: number;
}

function run(config: Partial<MptcpConfig>, seed: number): Run {
  const ft = fatTree({ k: 4, seed, link: { rateBps: RATE, delayUs: 100, queueBytes: 50_000 }, config });
  const perm = derangement(HOSTS, seed);
  const flows = bulkFlows(
    { sim: ft.sim },
    ft.hosts.map((h, i) => ({ name: `f${i}`, client: h, local: ft.addrs[i]!, port: 5001 + i, server: ft.hosts[perm[i]!]!, serverAddr: ft.addrs[perm[i]!]! })),
  );
  ft.sim.runUntil(10e6);
  const per = flows.map((f) => goodput(f, 3e6, 10e6));
  // The data direction of every flow's first subflow, as the switches hash it.
  const paths = flows.map((f, i) => {
    const sf = f.conn!.subflows[0]!;
    return tracePath(ft.links, ft.hosts[i]!, probePacket(ft.addrs[i]!, ft.addrs[perm[i]!]!, sf.localPort, sf.remotePort));
  });
  const maxMin = maxMinRates(paths).reduce((a, b) => a + b, 0) * RATE;
  return { total: per.reduce((a, b) => a + b, 0), per, subflows: Math.min(...flows.map((f) => f.conn!.subflows.length)), maxMin };
}

const pct = (bps: number): string => `${((100 * bps) / OPTIMUM).toFixed(1)}%`;

describe("experiment 7: datacenter, k=4 fat tree with ECMP, permutation traffic matrix", () => {
  // Known gap: the goal is 1.5x TCP; this fat tree gives 1.35x (TCP 61%, MPTCP 82% of the
  // optimum). Where it goes (these 6 seeds): at k=4 ECMP collisions cost TCP less than in the
  // paper's larger trees (max-min fair share on its hashed paths 63% here, ~48% at k=8 with 128
  // hosts), and 4 subflows do not always avoid a collision either: the best allocation on the
  // subflows' hashed paths (an LP over the traced paths) is 94% of the optimum, so 1.50x is the
  // bound with a perfect transport. MPTCP's DSS options on data and ACKs cost ~3% more than TCP's
  // headers (a flow alone reaches ~9.3 of 10 Mbit/s, TCP ~9.6, when the host link also carries
  // the ACKs of the flow it receives): 1.46x; LIA then reaches ~93% of that allocation. OLIA,
  // BALIA and uncoupled Reno subflows did no better in trial runs. Measured outside this test
  // (twice the CPU time each): 8 subflows, the paper's advice for FatTree (best allocation 100%
  // on these seeds), 86.9% of the optimum, 1.43x; k=8 (128 hosts, 5 Mbit/s links, one seed),
  // TCP 51.1%, MPTCP x4 75.5%, 1.48x.
  it("MPTCP (ndiffports, 4 subflows, LIA) against single-path TCP (Reno) [known gap: goal 1.5x, measured 1.35x]", () => {
    const t0 = wallMs();
    let tcp = 0;
    let mp = 0;
    let tcpMaxMin = 0;
    const ratios: string[] = [];
    for (const seed of SEEDS) {
      const t = run({ mptcp: false, congestion: "reno" }, seed);
      const m = run({ congestion: "lia", pathManager: { ...PM_WIDE, kind: "ndiffports", ndiffports: 4 } }, seed);
      assert.equal(t.subflows, 1);
      assert.equal(m.subflows, 4, "ndiffports opened 4 subflows on every connection");
      for (const x of [...t.per, ...m.per]) assert.ok(x > 0, "every flow delivered data");
      tcp += t.total;
      mp += m.total;
      tcpMaxMin += t.maxMin;
      ratios.push((m.total / t.total).toFixed(2));
      console.log(`[exp7] seed ${seed}: TCP ${pct(t.total)} (max-min on its paths ${pct(t.maxMin)}) [${t.per.map(mbit).join(" ")}]`);
      console.log(`[exp7] seed ${seed}: MPTCP ${pct(m.total)} [${m.per.map(mbit).join(" ")}]`);
    }
    const wall = wallMs() - t0;
    tcp /= SEEDS.length;
    mp /= SEEDS.length;
    tcpMaxMin /= SEEDS.length;
    const ratio = mp / tcp;
    console.log(`[exp7] mean total of 16 flows (optimum ${mbit(OPTIMUM)} Mbit/s): TCP ${mbit(tcp)}, MPTCP ${mbit(mp)} Mbit/s, ${ratio.toFixed(2)}x; wall ${wall.toFixed(0)} ms`);
    record({
      exp: 7,
      name: `k=4 fat tree (16 hosts), permutation traffic matrix, ndiffports x4 LIA vs TCP Reno (${SEEDS.length} seeds)`,
      goal: ">= 1.5x TCP",
      value: `${ratio.toFixed(2)}x (MPTCP ${pct(mp)}, TCP ${pct(tcp)} of the optimum ${mbit(OPTIMUM)} Mbit/s)`,
      detail: `TCP's max-min fair share on its ECMP paths ${pct(tcpMaxMin)}; per seed ${ratios.join(" ")}`,
      pass: ratio >= 1.5,
      wallMs: wall,
    });
    // Qualitative result: TCP gets what fair sharing on its hashed paths allows (the baseline is
    // not crippled), MPTCP uses most of the fabric and clearly more than TCP.
    assert.ok(tcp >= 0.85 * tcpMaxMin, `TCP ${pct(tcp)} against its max-min share ${pct(tcpMaxMin)}`);
    assert.ok(mp >= 0.7 * OPTIMUM, `MPTCP used ${pct(mp)} of the optimum`);
    assert.ok(ratio >= 1.2, `MPTCP / TCP = ${ratio.toFixed(2)}`);
  });
});
