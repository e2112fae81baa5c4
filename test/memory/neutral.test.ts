// adapters/memory runs on Node and Deno alike and only on virtual time: no runtime API, no
// real clock, no timers, no ambient randomness (comments included, like the core/ rule).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const FORBIDDEN = ["Deno.", "node:", "process.", "setTimeout", "setInterval", "Date.now", "performance.now", "Math.random"];

test("adapters/memory uses no runtime API, clock, timer or Math.random", () => {
  const dir = join(root, "adapters", "memory");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 8, `the scan sees the sources (${files.length})`);
  const found: string[] = [];
  for (const f of files) {
    readFileSync(join(dir, f), "utf8").split("\n").forEach((line, i) => {
      for (const w of FORBIDDEN) if (line.includes(w)) found.push(`${f}:${i + 1}: ${w}`);
    });
  }
  assert.deepEqual(found, []);
});
