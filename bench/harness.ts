// Shared benchmark harness over tinybench. Each suite file (bench/*.bench.ts) exports
// `suite: BenchSuite`; bench/run.ts runs them. Every workload prints one JSON line:
//   {"suite","name","unit","median","spread","samples","baseline","baselineMedian","ratio"}
// where `median` is in `unit`, `spread` is the median absolute deviation of the samples in the
// same unit, and `ratio` is median / baselineMedian for throughput units (higher is better) and
// baselineMedian / median for time units (so ratio > 1 always means "faster than the baseline").
import { Bench } from "tinybench";

export type Unit = "Gbit/s" | "MB/s" | "ns/op" | "us/op" | "ops/s";

export interface Workload {
  name: string;
  /** The operation measured. Must do the whole workload once per call. */
  fn: () => void;
  /** Bytes processed per call: the result is reported as Gbit/s (or MB/s if unit says so). */
  bytesPerOp?: number;
  /** Operations per call (e.g. segments): with a time unit, the time is divided by it. */
  opsPerCall?: number;
  unit: Unit;
  /** Name of another workload of the same suite that is this one's same-run baseline. */
  baseline?: string;
  /** Runs once before the timed runs (not timed). */
  setup?: () => void;
}

export interface BenchSuite {
  name: string;
  workloads: Workload[];
  /** Minimum time per workload in ms (default 500). */
  timeMs?: number;
  /** Minimum iterations per workload (default 16). */
  iterations?: number;
}

export interface BenchLine {
  suite: string;
  name: string;
  unit: Unit;
  median: number;
  spread: number;
  samples: number;
  baseline: string | null;
  baselineMedian: number | null;
  ratio: number | null;
}

function convert(w: Workload, ms: number): number {
  if (w.unit === "Gbit/s") return ((w.bytesPerOp ?? 0) * 8) / (ms * 1e6);
  if (w.unit === "MB/s") return (w.bytesPerOp ?? 0) / (ms * 1e3);
  const per = w.opsPerCall ?? 1;
  if (w.unit === "ns/op") return (ms * 1e6) / per;
  if (w.unit === "us/op") return (ms * 1e3) / per;
  return (1000 * per) / ms; // ops/s
}

const higherIsBetter = (u: Unit): boolean => u === "Gbit/s" || u === "MB/s" || u === "ops/s";

export async function runSuite(suite: BenchSuite, print: (line: string) => void = console.log): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  const medians = new Map<string, number>();
  for (const w of suite.workloads) {
    w.setup?.();
    const bench = new Bench({ name: suite.name, time: suite.timeMs ?? 500, iterations: suite.iterations ?? 16, warmupTime: 100 });
    bench.add(w.name, w.fn);
    await bench.run();
    const r = bench.tasks[0]!.result as { state: string; latency?: { p50: number; mad: number; samplesCount?: number }; error?: unknown };
    if (!r.latency) throw new Error(`workload ${w.name} did not complete: ${r.state} ${String(r.error ?? "")}`);
    const p50 = r.latency.p50;
    const median = convert(w, p50);
    // Spread: the MAD of the latency, propagated to the unit (half the distance p50 +/- mad).
    const lo = convert(w, p50 + r.latency.mad);
    const hi = convert(w, Math.max(p50 - r.latency.mad, p50 * 1e-6));
    const spread = Math.abs(hi - lo) / 2;
    medians.set(w.name, median);
    const base = w.baseline ?? null;
    const bm = base !== null ? (medians.get(base) ?? null) : null;
    const ratio = bm === null ? null : higherIsBetter(w.unit) ? median / bm : bm / median;
    const line: BenchLine = {
      suite: suite.name,
      name: w.name,
      unit: w.unit,
      median: Number(median.toPrecision(4)),
      spread: Number(spread.toPrecision(3)),
      samples: r.latency.samplesCount ?? bench.tasks[0]!.runs,
      baseline: base,
      baselineMedian: bm === null ? null : Number(bm.toPrecision(4)),
      ratio: ratio === null ? null : Number(ratio.toPrecision(3)),
    };
    lines.push(line);
    print(JSON.stringify(line));
  }
  return lines;
}
