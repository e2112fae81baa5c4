// Project rules that a test can hold: core/ and assembly/ stay pure (no runtime APIs, no clock,
// no timers, no ambient randomness), and deno.json matches package.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const FORBIDDEN = ["Deno.", "node:", "process.", "setTimeout", "setInterval", "Date.now", "performance.now", "Math.random"];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("core/ and assembly/ use no runtime API, clock, timer or Math.random", () => {
  const found: string[] = [];
  const list = [...files("core"), ...files("assembly")];
  assert.ok(list.length > 3, "the scan sees the sources");
  for (const f of list) {
    const lines = readFileSync(join(root, f), "utf8").split("\n");
    lines.forEach((line, i) => {
      for (const w of FORBIDDEN) if (line.includes(w)) found.push(`${f}:${i + 1}: ${w}`);
    });
  }
  assert.deepEqual(found, []);
});

test("deno.json has the same package name and version as package.json", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  assert.equal(deno.version, pkg.version);
  // JSR names are scoped (@scope/name); the name part must be the npm name.
  assert.equal(String(deno.name).replace(/^@[^/]+\//, ""), pkg.name);
});
