// Runs the multipath experiments (test/sim/exp_*.test.ts) under Node, collects the
// `[exp] {json}` lines they print, and regenerates the "Multipath experiments" section of
// bench/RESULTS.md (between the markers below; the rest of the file is left as it is).
//   node scripts/experiments.mjs [--no-write] [FILE_SUBSTRING ...]
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith("--"));
const write = !args.includes("--no-write");
const BEGIN = "<!-- experiments:begin (scripts/experiments.mjs regenerates this section) -->";
const END = "<!-- experiments:end -->";

let files = readdirSync(join(root, "test", "sim"))
  .filter((f) => f.startsWith("exp_") && f.endsWith(".test.ts"))
  .map((f) => join("test", "sim", f))
  .sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no experiment files");
  process.exit(1);
}

function run(file) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // Experiment 7 at k=8 runs 6 seeds here (2 in `npm test`).
    const env = { ...process.env, MPTCP_EXP7_SEEDS: process.env.MPTCP_EXP7_SEEDS ?? "6" };
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", file], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => process.stderr.write(d));
    child.on("close", (code) => resolve({ file, code: code ?? 1, text, wallMs: performance.now() - t0 }));
  });
}

const results = [];
const runs = [];
for (const f of files) {
  console.log(`running ${f} ...`);
  const r = await run(f);
  runs.push(r);
  for (const line of r.text.split("\n")) {
    const m = line.match(/\[exp\] (\{.*\})\s*$/);
    if (m) results.push({ ...JSON.parse(m[1]), file: f });
  }
  const pass = Number((r.text.match(/^# pass (\d+)/m) ?? [])[1] ?? NaN);
  const fail = Number((r.text.match(/^# fail (\d+)/m) ?? [])[1] ?? NaN);
  console.log(`  ${f}: ${pass} passed, ${fail} failed, ${(r.wallMs / 1000).toFixed(1)} s wall`);
}

const sh = (cmd, a) => {
  try {
    return execFileSync(cmd, a, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};
const model = (sh("lscpu", []).match(/Model name:\s*(.*)/) ?? [])[1] ?? cpus()[0]?.model ?? "?";
const commit = sh("git", ["rev-parse", "--short", "HEAD"]);
const status = sh("git", ["status", "--porcelain", "--", "core", "test/sim", "adapters"]);
const dirty = status && status !== "?" ? " (with uncommitted changes)" : "";
const esc = (s) => String(s ?? "").replace(/\|/g, "\\|");

results.sort((a, b) => a.exp - b.exp);
const lines = [];
lines.push(BEGIN);
lines.push("## Multipath experiments (test/sim/exp_*.test.ts)");
lines.push("");
lines.push(
  `${new Date().toISOString().slice(0, 10)}, ${model} (${cpus().length} cores, shared), Node ${process.version}, commit ${commit}${dirty}. ` +
    "Simulated time on the in-memory network (adapters/memory), seeded: the numbers are reproducible; " +
    "wall times depend on the machine's load. Each row is one `[exp]` record printed by the tests; " +
    "\"pass\" says whether the issue's goal was met (the tests assert the qualitative result; known gaps are named in the test titles).",
);
lines.push("");
lines.push("| # | scenario | goal | measured | goal met | wall (s) |");
lines.push("|---|---|---|---|---|---|");
for (const r of results) {
  const detail = r.detail ? ` (${esc(r.detail)})` : "";
  lines.push(`| ${r.exp} | ${esc(r.name)} | ${esc(r.goal)} | ${esc(r.value)}${detail} | ${r.pass ? "yes" : "**no**"} | ${r.wallMs !== undefined ? (r.wallMs / 1000).toFixed(1) : ""} |`);
}
lines.push("");
lines.push("Wall time per file (Node, this run): " + runs.map((r) => `${r.file.replace("test/sim/", "")} ${(r.wallMs / 1000).toFixed(1)} s${r.code === 0 ? "" : " (FAILED)"}`).join(", ") + ".");
lines.push(END);
const section = lines.join("\n");
console.log("\n" + section);

if (write) {
  const path = join(root, "bench", "RESULTS.md");
  const old = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmark results\n";
  const i = old.indexOf(BEGIN);
  const j = old.indexOf(END);
  const next = i >= 0 && j > i ? old.slice(0, i) + section + old.slice(j + END.length) : old.replace(/\s*$/, "\n\n") + section + "\n";
  writeFileSync(path, next);
  console.log(`\nwrote ${path}`);
}
process.exit(runs.every((r) => r.code === 0) ? 0 : 1);
