// `npm test`: builds the WASM data plane if stale, type-checks, then runs every test file under
// test/ (files named *.test.ts) under Node (node --import tsx --test) and under Deno (deno test).
// Fails if either runtime fails or runs zero tests. Node 20 does not expand globs and `deno run`
// on a test file runs nothing, so the files are listed here.
//   node scripts/test.mjs [--node-only | --deno-only] [--no-typecheck] [PATH_SUBSTRING ...]
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith("--"));
const flag = (f) => args.includes(f);

function step(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`\n${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function listTests(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTests(p));
    else if (e.name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out.sort();
}

/** Runs a command, streaming its output, and returns the text it printed. */
function runCapture(cmd, argv, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => { process.stdout.write(d); text += d; });
    child.stderr.on("data", (d) => { process.stderr.write(d); text += d; });
    child.on("close", (code) => resolve({ code: code ?? 1, text }));
  });
}

step(process.execPath, [join(root, "scripts", "build-wasm.mjs")], "WASM build");
step(process.execPath, [join(root, "node_modules", "tsup", "dist", "cli-default.js"), "--silent"], "package build (tsup)");
if (!flag("--no-typecheck")) step(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], "type check (tsc)");

let files = listTests(join(root, "test"));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}

const results = [];
if (!flag("--deno-only")) {
  console.log(`\n=== Node ${process.version}: ${files.length} test files ===`);
  const r = await runCapture(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files]);
  const num = (k) => Number((r.text.match(new RegExp(`^\\S* ?${k} (\\d+)$`, "m")) ?? [])[1] ?? NaN);
  results.push({ runtime: "node", code: r.code, passed: num("pass"), failed: num("fail"), skipped: num("skipped") });
}
if (!flag("--node-only")) {
  const deno = join(root, "node_modules", ".bin", "deno");
  console.log(`\n=== Deno: ${files.length} test files ===`);
  const r = await runCapture(deno, ["test", "-A", "--quiet", ...files], { NO_COLOR: "1" });
  const m = r.text.match(/(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?(?: \| (\d+) ignored)?/);
  results.push({ runtime: "deno", code: r.code, passed: Number(m?.[1] ?? NaN), failed: Number(m?.[3] ?? NaN), skipped: Number(m?.[5] ?? 0) });
}

console.log("\n=== summary ===");
let bad = false;
for (const r of results) {
  const ok = r.code === 0 && r.failed === 0 && r.passed > 0;
  if (!ok) bad = true;
  const why = r.code !== 0 ? ` (exit ${r.code})` : !(r.passed > 0) ? " (no tests ran)" : "";
  console.log(`${r.runtime}: ${r.passed} passed, ${r.failed} failed, ${r.skipped || 0} skipped${why}`);
}
const sum = (k) => results.reduce((a, r) => a + (Number.isFinite(r[k]) ? r[k] : 0), 0);
console.log(`${sum("passed")} passed, ${sum("failed") + (bad && sum("failed") === 0 ? 1 : 0)} failed`);
process.exit(bad ? 1 : 0);
