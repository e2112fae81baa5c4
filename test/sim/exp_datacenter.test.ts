// Experiment 7 of issue 8 (Raiciu et al., SIGCOMM 2011): a two-pod slice of a k=4 fat tree
// with ECMP at the edge and aggregation switches; four hosts of pod A each send to one host
// of pod B (a permutation). Single-path TCP flows collide on ECMP-chosen links; MPTCP with 4
// subflows per connection (ndiffports, LIA) spreads over the paths and moves traffic off the
// congested ones. Throughput of the four flows summed, from 3 s to 10 s, over 8 hash seeds.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpConfig } from "../../core/mptcp/types.ts";
import { PM_WIDE, bulkFlows, fatTreeSlice, goodput, mbit, record, wallMs } from "./exp_helpers.ts";

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

function run(config: Partial<MptcpConfig>, seed: number): { total: number; per: number[]; subflows: number } {
  const ft = fatTreeSlice({ seed, link: { rateBps: 10e6, delayUs: 100, queueBytes: 50_000 }, config });
  const flows = bulkFlows(
    { sim: ft.sim },
    ft.podA.map((h, i) => ({ name: `f${i}`, client: h, local: ft.addrA[i]!, port: 5001 + i, server: ft.podB[i]!, serverAddr: ft.addrB[i]! })),
  );
  ft.sim.runUntil(10e6);
  const per = flows.map((f) => goodput(f, 3e6, 10e6));
  return { total: per.reduce((a, b) => a + b, 0), per, subflows: flows[0]!.conn!.subflows.length };
}

describe("experiment 7: datacenter fat-tree slice with ECMP", () => {
  // Known gap: the goal is 1.5x TCP; this slice gives 1.47x (TCP 23.5, MPTCP 34.6 of 40 Mbit/s).
  // TCP loses 41% of the fabric to collisions, but 2 of the 8 hash seeds also put all 8
  // subflows of two flows on one uplink, which 4 subflows cannot avoid. The assertion below
  // checks the qualitative result (>= 1.3x, MPTCP >= 80% of the optimum); the record says
  // whether the 1.5x goal was met.
  it("MPTCP (ndiffports, 4 subflows, LIA) against single-path TCP (Reno) [known gap: goal 1.5x, measured 1.47x]", () => {
    const t0 = wallMs();
    let tcp = 0;
    let mp = 0;
    const rows: string[] = [];
    for (const seed of SEEDS) {
      const t = run({ mptcp: false, congestion: "reno" }, seed);
      const m = run({ congestion: "lia", pathManager: { ...PM_WIDE, kind: "ndiffports", ndiffports: 4 } }, seed);
      assert.equal(t.subflows, 1);
      assert.equal(m.subflows, 4, "ndiffports opened 4 subflows");
      tcp += t.total;
      mp += m.total;
      rows.push(`seed ${seed}: TCP ${mbit(t.total)} [${t.per.map(mbit).join(" ")}] MPTCP ${mbit(m.total)} [${m.per.map(mbit).join(" ")}]`);
    }
    const wall = wallMs() - t0;
    tcp /= SEEDS.length;
    mp /= SEEDS.length;
    const ratio = mp / tcp;
    for (const r of rows) console.log(`[exp7] ${r}`);
    console.log(`[exp7] mean total of 4 flows (optimum 40 Mbit/s): TCP ${mbit(tcp)} Mbit/s, MPTCP ${mbit(mp)} Mbit/s, ${ratio.toFixed(2)}x; wall ${wall.toFixed(0)} ms`);
    record({ exp: 7, name: "fat-tree slice, 4 flows, ndiffports x4 LIA vs TCP Reno (8 ECMP seeds)", goal: ">= 1.5x TCP", value: `${ratio.toFixed(2)}x (${mbit(mp)} vs ${mbit(tcp)} Mbit/s of 40)`, pass: ratio >= 1.5, wallMs: wall });
    // Qualitative result: MPTCP fills most of the fabric, TCP loses a large part to collisions.
    assert.ok(mp >= 0.8 * 40e6, `MPTCP used ${mbit(mp)} of 40 Mbit/s`);
    assert.ok(ratio >= 1.3, `MPTCP / TCP = ${ratio.toFixed(2)}`);
  });
});
