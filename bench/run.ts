// `npm run bench [FILTER...]`: runs every bench/*.bench.ts suite (or those whose file name
// contains a filter) and prints one JSON line per workload (see bench/harness.ts).
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runSuite, type BenchLine, type BenchSuite } from "./harness.ts";

const dir = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith(".bench.ts"));
// A filter that names a suite exactly (`tcp` -> tcp.bench.ts) selects only it, not every file
// containing it (mptcp.bench.ts); other filters match by substring.
const files = all
  .filter((f) => filters.length === 0 || filters.some((x) => (all.includes(`${x}.bench.ts`) ? f === `${x}.bench.ts` : f.includes(x))))
  .sort();
if (files.length === 0) {
  console.error("no benchmark suites matched");
  process.exit(1);
}
for (const f of files) {
  // A suite exports `suite` (tinybench workloads), or `run` when it measures itself (kernel:
  // whole transfers between processes, one JSON line per workload in the same format).
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { suite?: BenchSuite; run?: () => Promise<BenchLine[]> };
  if (mod.run) await mod.run();
  else if (mod.suite) await runSuite(mod.suite);
}
