// A multipath experiment on the deterministic in-memory network (virtual time, no sockets, no
// root): a download over a WiFi-like and an LTE-like path; WiFi fails at 4 s and returns at 8 s.
// Prints the goodput and each path's share per phase, then one JSON line. The same seed gives the
// same numbers on Node and Deno. Arguments: [--seed N] [--cc olia|lia|balia|cubic|reno].
//   node --import tsx examples/simulate.ts
//   deno run -A examples/simulate.ts --seed 2
import process from "node:process";
import { Experiment, parseEvent, parsePaths } from "../adapters/sim/index.ts";
import type { ExperimentOptions } from "../adapters/sim/index.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};

const paths = parsePaths("wifi:rate=20Mbit,delay=10ms,loss=0.1%;lte:rate=10Mbit,delay=30ms,jitter=2ms");
const events = ["4s:wifi:down", "8s:wifi:up"].map((e) => parseEvent(e, paths.map((p) => p.name)));
const options: ExperimentOptions = { paths, events, seconds: 12, seed: Number(arg("--seed", "1")), cc: arg("--cc", "olia") as ExperimentOptions["cc"] };

const t0 = performance.now();
const { summary } = new Experiment(options).runToEnd(); // 12 s of virtual time
const wall = (performance.now() - t0) / 1000;

console.log(`${summary.simSeconds} s simulated in ${wall.toFixed(2)} s, seed ${summary.seed}, ${summary.cc}: ${summary.goodputMbps.toFixed(1)} Mbit/s, longest stall ${summary.maxStallMs} ms`);
for (const ph of summary.phases) {
  const shares = Object.entries(ph.mbps).map(([p, m]) => `${p} ${m.toFixed(1)} (${Math.round((ph.share[p] ?? 0) * 100)}%)`);
  console.log(`  ${ph.fromS}-${ph.toS} s ${ph.label.padEnd(12)} ${ph.goodputMbps.toFixed(1).padStart(5)} Mbit/s: ${shares.join(", ")}`);
}
console.log(JSON.stringify({ ok: summary.ok, goodputMbps: summary.goodputMbps, phases: summary.phases, subflows: summary.subflows, counters: summary.counters }));
process.exit(summary.ok ? 0 : 1);
