// The built package (dist/, made by `npm run build`, which scripts/test.mjs runs first) imports
// from Node ESM, Node CJS and Deno, and its WASM data plane instantiates in each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const probe = `k.loadKernels().exports.abiVersion() === 1 && typeof k.MptcpError === "function" ? "ok" : "bad"`;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }).trim();
}

test("dist/ exists (npm run build)", () => {
  for (const f of ["index.js", "index.cjs", "index.d.ts", "index.d.cts"]) {
    assert.ok(existsSync(join(root, "dist", f)), `dist/${f} is missing: run npm run build`);
  }
});

test("the built package imports from Node ESM", () => {
  const out = run("node", ["--input-type=module", "-e", `import * as k from "mptcp"; console.log(${probe});`]);
  assert.equal(out, "ok");
});

test("the built package requires from Node CJS", () => {
  const out = run("node", ["-e", `const k = require("mptcp"); console.log(${probe});`]);
  assert.equal(out, "ok");
});

test("the built package imports from Deno", () => {
  const deno = join(root, "node_modules", ".bin", "deno");
  const out = run(deno, ["eval", `import * as k from "./dist/index.js"; console.log(${probe});`]);
  assert.equal(out, "ok");
});
