// Multipath experiments 1, 3, 4 and 5 of issue 8 (the published MPTCP results, RFC 6356 §2 goals):
// aggregation over disjoint paths, do no harm at a shared bottleneck, moving traffic off a
// congested path, balance under equal loss. Each prints its numbers (`[exp] {json}` lines are
// collected by scripts/experiments.mjs into bench/RESULTS.md) and asserts the qualitative result.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CongestionAlgorithm } from "../../core/congestion/index.ts";
import { PM_WIDE, bulkFlows, forward, goodput, hostAddr, mbit, multiPath, record, sharedBottleneck, subflowBytes, wallMs } from "./exp_helpers.ts";

const COUPLED: CongestionAlgorithm[] = ["lia", "olia", "balia"];

/** One bulk MPTCP flow over disjoint paths; goodput measured after `warmUs`. */
function disjoint(o: { paths: Parameters<typeof multiPath>[0]["paths"]; cc: CongestionAlgorithm; seed?: number; durUs: number; warmUs: number }): { bps: number; split: number[] } {
  const net = multiPath({ paths: o.paths, seed: o.seed ?? 1, clientConfig: { pathManager: PM_WIDE }, serverConfig: { pathManager: PM_WIDE } });
  const [f] = bulkFlows(net, [{ name: "mp", client: net.client, local: hostAddr(0, 0), port: 5001, config: { congestion: o.cc } }]);
  // The split counts the bytes each subflow carried after the warm-up (slow start and joins done).
  let base: number[] = [];
  net.sim.at(o.warmUs, () => {
    base = subflowBytes(f!);
  });
  net.sim.runUntil(o.durUs);
  assert.equal(f!.conn!.stats().subflows.length, o.paths.length, "one subflow per path");
  return { bps: goodput(f!, o.warmUs, o.durUs), split: subflowBytes(f!).map((x, i) => x - (base[i] ?? 0)) };
}

describe("experiment 1: two disjoint 10 Mbit/s paths", () => {
  for (const cc of ["lia", "cubic"] as CongestionAlgorithm[]) {
    it(`${cc}: the aggregate is at least 1.8x one path`, () => {
      const t0 = wallMs();
      const link = { rateBps: 10e6, delayUs: 10_000, queueBytes: 50_000 };
      const one = disjoint({ paths: [link], cc, durUs: 10e6, warmUs: 2e6 });
      const two = disjoint({ paths: [link, link], cc, durUs: 10e6, warmUs: 2e6 });
      const ratio = two.bps / one.bps;
      const wall = wallMs() - t0;
      console.log(`[exp1] ${cc}: one path ${mbit(one.bps)} Mbit/s, two paths ${mbit(two.bps)} Mbit/s (${ratio.toFixed(2)}x); wall ${wall.toFixed(0)} ms`);
      record({ exp: 1, name: `2 x 10 Mbit/s disjoint, ${cc}`, goal: ">= 1.8x one path", value: `${ratio.toFixed(2)}x (${mbit(two.bps)} vs ${mbit(one.bps)} Mbit/s)`, pass: ratio >= 1.8, wallMs: wall });
      assert.ok(ratio >= 1.8, `aggregate ${ratio.toFixed(2)}x one path`);
    });
  }
});

describe("experiment 3: shared bottleneck against one single-path TCP (Reno) flow", () => {
  // 10 Mbit/s bottleneck, 10 ms one way, 100 KB drop-tail queue; the MPTCP client's two
  // addresses and the TCP host have their own access links (100 Mbit/s, 1 ms, 0..3 ms jitter:
  // without jitter, drop-tail phase effects decide who loses, Floyd and Jacobson 1992).
  // Goodput from 5 s to 40 s, summed over 4 seeds. Reference flow: Reno for the coupled
  // (Reno-based) algorithms; CUBIC against CUBIC for the uncoupled case.
  const SEEDS = [1, 2, 3, 4];
  const run = (cc: CongestionAlgorithm, tcpCc: CongestionAlgorithm): { mp: number; tcp: number; per: string[]; wall: number } => {
    const t0 = wallMs();
    let mp = 0;
    let tcp = 0;
    const per: string[] = [];
    for (const seed of SEEDS) {
      const net = sharedBottleneck({
        mpPaths: 2,
        tcpHosts: 1,
        seed,
        access: { rateBps: 100e6, delayUs: 1000, jitterUs: 3000 },
        bottleneck: { rateBps: 10e6, delayUs: 10_000, queueBytes: 100_000 },
        clientConfig: { pathManager: PM_WIDE },
        serverConfig: { pathManager: PM_WIDE },
      });
      const [m, t] = bulkFlows(net, [
        { name: "mptcp", client: net.client, local: hostAddr(0, 0), port: 5001, config: { congestion: cc } },
        { name: "tcp", client: net.tcp[0]!, local: hostAddr(1, 0), port: 5002, config: { mptcp: false, congestion: tcpCc } },
      ]);
      net.sim.runUntil(40e6);
      assert.equal(m!.conn!.stats().subflows.length, 2);
      const a = goodput(m!, 5e6, 40e6);
      const b = goodput(t!, 5e6, 40e6);
      mp += a;
      tcp += b;
      per.push((a / b).toFixed(2));
    }
    return { mp: mp / SEEDS.length, tcp: tcp / SEEDS.length, per, wall: wallMs() - t0 };
  };

  for (const cc of COUPLED) {
    it(`${cc} takes no more than 1.2x the TCP flow`, () => {
      const r = run(cc, "reno");
      const ratio = r.mp / r.tcp;
      console.log(`[exp3] ${cc}: MPTCP ${mbit(r.mp)} Mbit/s, TCP ${mbit(r.tcp)} Mbit/s, ratio ${ratio.toFixed(2)} (per seed ${r.per.join(" ")}); wall ${r.wall.toFixed(0)} ms`);
      record({ exp: 3, name: `shared bottleneck, ${cc} (2 subflows) vs TCP Reno`, goal: "<= 1.2x TCP", value: `${ratio.toFixed(2)}x (${mbit(r.mp)} vs ${mbit(r.tcp)} Mbit/s)`, pass: ratio <= 1.2, wallMs: r.wall, detail: `per seed ${r.per.join(" ")}` });
      assert.ok(ratio <= 1.2, `${cc} took ${ratio.toFixed(2)}x the TCP flow`);
      assert.ok(ratio >= 0.5, `${cc} starved: ${ratio.toFixed(2)}x`);
    });
  }

  it("uncoupled CUBIC (2 subflows) takes more than the CUBIC TCP flow", () => {
    const r = run("cubic", "cubic");
    const ratio = r.mp / r.tcp;
    console.log(`[exp3] uncoupled cubic: MPTCP ${mbit(r.mp)} Mbit/s, TCP ${mbit(r.tcp)} Mbit/s, ratio ${ratio.toFixed(2)} (per seed ${r.per.join(" ")}); wall ${r.wall.toFixed(0)} ms`);
    record({ exp: 3, name: "shared bottleneck, uncoupled cubic (2 subflows) vs TCP CUBIC", goal: "takes more (> 1.2x)", value: `${ratio.toFixed(2)}x (${mbit(r.mp)} vs ${mbit(r.tcp)} Mbit/s)`, pass: ratio > 1.2, wallMs: r.wall, detail: `per seed ${r.per.join(" ")}` });
    assert.ok(ratio > 1.5, `uncoupled cubic took only ${ratio.toFixed(2)}x`);
  });
});

/** Two 10 Mbit/s, 20 ms RTT paths with the given forward loss rates; bytes per subflow summed over seeds. */
function lossyPair(cc: CongestionAlgorithm, loss: [number, number], seeds: number[]): { shares: number[]; share: number; bps: number; wall: number } {
  const t0 = wallMs();
  let a = 0;
  let b = 0;
  let bps = 0;
  const shares: number[] = [];
  for (const seed of seeds) {
    const r = disjoint({
      paths: loss.map((l) => forward({ rateBps: 10e6, delayUs: 10_000, queueBytes: 50_000, lossRate: l })),
      cc,
      seed,
      durUs: 30e6,
      warmUs: 2e6,
    });
    a += r.split[0]!;
    b += r.split[1]!;
    bps += r.bps;
    shares.push(r.split[0]! / (r.split[0]! + r.split[1]!));
  }
  return { shares, share: a / (a + b), bps: bps / seeds.length, wall: wallMs() - t0 };
}

describe("experiment 4: a path with 2% loss beside a clean one", () => {
  for (const cc of COUPLED) {
    it(`${cc}: ${cc === "lia" ? "at least 80% of the bytes" : "most bytes"} go over the clean path`, () => {
      const r = lossyPair(cc, [0, 0.02], [1, 2, 3]);
      console.log(`[exp4] ${cc}: clean path carries ${(100 * r.share).toFixed(1)}% (per seed ${r.shares.map((s) => (100 * s).toFixed(1)).join(" ")}), goodput ${mbit(r.bps)} Mbit/s; wall ${r.wall.toFixed(0)} ms`);
      const goal = cc === "lia" ? 0.8 : 0.5;
      record({ exp: 4, name: `2% loss vs clean path, ${cc}`, goal: `>= ${100 * goal}% on the clean path`, value: `${(100 * r.share).toFixed(1)}% (${mbit(r.bps)} Mbit/s)`, pass: r.share >= goal, wallMs: r.wall });
      assert.ok(r.share >= goal, `clean path share ${r.share}`);
    });
  }
  it("uncoupled cubic keeps more traffic on the lossy path than LIA (for comparison)", () => {
    const r = lossyPair("cubic", [0, 0.02], [1]);
    console.log(`[exp4] cubic: clean path carries ${(100 * r.share).toFixed(1)}%, goodput ${mbit(r.bps)} Mbit/s; wall ${r.wall.toFixed(0)} ms`);
    record({ exp: 4, name: "2% loss vs clean path, uncoupled cubic", goal: "(reference)", value: `${(100 * r.share).toFixed(1)}% (${mbit(r.bps)} Mbit/s)`, pass: true, wallMs: r.wall });
    assert.ok(r.share < 0.8);
  });
});

describe("experiment 5: equal loss (1%) on both paths", () => {
  for (const cc of COUPLED) {
    it(`${cc}: the split stays within 60/40 (bytes summed over 4 seeds x 28 s)`, () => {
      // Windows are small at 1% loss (about 7 segments per subflow), so one 28 s run is noisy;
      // the worst single seed is reported beside the split of the summed bytes.
      const r = lossyPair(cc, [0.01, 0.01], [1, 2, 3, 4]);
      const worst = Math.max(...r.shares.map((s) => Math.max(s, 1 - s)));
      console.log(`[exp5] ${cc}: path 0 carries ${(100 * r.share).toFixed(1)}% (per seed ${r.shares.map((s) => (100 * s).toFixed(1)).join(" ")}), goodput ${mbit(r.bps)} Mbit/s; wall ${r.wall.toFixed(0)} ms`);
      const big = Math.max(r.share, 1 - r.share);
      record({ exp: 5, name: `equal 1% loss, ${cc}`, goal: "split within 60/40", value: `${(100 * r.share).toFixed(1)}% / ${(100 - 100 * r.share).toFixed(1)}% (${mbit(r.bps)} Mbit/s)`, pass: big <= 0.6, wallMs: r.wall, detail: `worst single seed ${(100 * worst).toFixed(1)}%` });
      assert.ok(big <= 0.6, `split ${big}`);
    });
  }
});
