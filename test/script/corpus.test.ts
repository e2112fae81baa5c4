// Runs every script of the corpus (test/scripts/**/*.pkt) as one test against our stack on
// virtual time. A script the stack cannot run yet (no MPTCP endpoint binding, a path-manager
// helper not supported, `// @pending: reason`) is skipped with the reason. A script marked
// `// @known-deviation: reason` documents a place where our stack differs from Linux: it is
// skipped while it fails (with the reason and the failure), and fails once it passes, so the
// mark is removed when the deviation is fixed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { runScriptText } from "../../adapters/script/index.ts";
import type { ScriptResult } from "../../adapters/script/index.ts";
import { corpusFactory } from "./factory.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const dir = join(root, "test", "scripts");

function list(d: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...list(p));
    else if (e.name.endsWith(".pkt")) out.push(p);
  }
  return out.sort();
}

const files = list(dir);
const results: ScriptResult[] = files.map((f) => runScriptText(readFileSync(f, "utf8"), relative(root, f), corpusFactory));

describe("packetdrill corpus (test/scripts)", () => {
  it("has at least 40 scripts", () => {
    assert.ok(files.length >= 40, `only ${files.length} scripts`);
  });
  for (const r of results) {
    const name = r.file.replace(/^test\/scripts\//, "");
    if (r.status === "skip") {
      it(name, { skip: r.message ?? "skipped" }, () => {});
    } else if (r.knownDeviation !== undefined && r.status === "fail") {
      it(name, { skip: `known deviation from Linux: ${r.knownDeviation} -- ${r.message?.split("\n")[0] ?? ""}` }, () => {});
    } else {
      it(name, () => {
        if (r.knownDeviation !== undefined) assert.fail(`marked @known-deviation (${r.knownDeviation}) but passes: remove the mark`);
        if (r.status === "fail") assert.fail(r.message ?? "failed");
      });
    }
  }
});
