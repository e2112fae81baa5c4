// Plain TCP goodput per CPU-second (user + system time of this process), the metric of the issue:
// one connection over the in-memory link in one process, MSS 1448, 64 MiB per run (workloads and
// setup: bench/tcp.bench.ts). The WASM-kernel and TS-twin runs alternate, so the machine's load
// hits both alike; one warm-up run each first. Prints one JSON line per workload in the format of
// bench/harness.ts (median and spread = median absolute deviation, in the unit; the ratio is
// against the TS twin measured in the same run).
//   node --import tsx bench/tcp_cpu.ts [runs] [MiB]
//   deno run -A bench/tcp_cpu.ts [runs] [MiB]
import process from "node:process";
import { TCP_WORKLOADS, tcpTransfer } from "./tcp.bench.ts";

const runs = Number(process.argv[2] ?? 7);
const bytes = Number(process.argv[3] ?? 64) * 1024 * 1024;
const verbose = process.env.TCP_BENCH_VERBOSE === "1";

const samples = new Map<string, number[]>(TCP_WORKLOADS.map((w) => [w.name, []]));
for (let i = 0; i <= runs; i++) {
  for (const w of TCP_WORKLOADS) {
    const c0 = process.cpuUsage();
    const got = tcpTransfer(w.kernel, 1 + i, bytes);
    const c = process.cpuUsage(c0);
    const cpuS = (c.user + c.system) / 1e6;
    const g = (got * 8) / 1e9 / cpuS;
    if (verbose) console.error(JSON.stringify({ run: i, kernel: w.kernel, cpuS: +cpuS.toFixed(3), gbitPerCpuS: +g.toFixed(3) }));
    if (i > 0) samples.get(w.name)!.push(g); // run 0 warms up the JIT
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const medians = new Map<string, number>();
for (const w of TCP_WORKLOADS) {
  const xs = samples.get(w.name)!;
  const med = median(xs);
  medians.set(w.name, med);
  const bm = w.baseline !== undefined ? medians.get(w.baseline) ?? null : null;
  console.log(JSON.stringify({
    suite: "tcp",
    name: w.name,
    unit: "Gbit/s per CPU-second",
    median: Number(med.toPrecision(4)),
    spread: Number(median(xs.map((x) => Math.abs(x - med))).toPrecision(3)),
    samples: xs.length,
    baseline: w.baseline ?? null,
    baselineMedian: bm === null ? null : Number(bm.toPrecision(4)),
    ratio: bm === null ? null : Number((med / bm).toPrecision(3)),
  }));
}
