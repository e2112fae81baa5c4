// mptcp sim as a process: `bin/mptcp.mjs sim` dispatches to the runner (what `npm start` runs),
// and Ctrl-C (SIGINT) stops a long run cleanly with a summary and exit status 130. Runs the
// command with the runtime that runs the test (node bin/mptcp.mjs / deno run -A bin/mptcp.mjs).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

const root = fileURLToPath(new URL("../..", import.meta.url));
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const cmd = (args: string[]): string[] => (isDeno ? ["run", "-A", "bin/mptcp.mjs", ...args] : ["bin/mptcp.mjs", ...args]);
const PATHS = "a:rate=10Mbit,delay=10ms;b:rate=5Mbit,delay=30ms";

describe("mptcp sim command", () => {
  test("bin/mptcp.mjs sim runs an experiment and prints the JSON line", () => {
    const r = spawnSync(process.execPath, cmd(["sim", "--paths", PATHS, "--seconds", "1", "--json", "--quiet"]), { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(j.ok, true);
    assert.equal(j.simSeconds, 1);
    assert.deepEqual(j.subflows.map((s: { path: string }) => s.path), ["a", "b"]);
  });

  test("Ctrl-C stops a long run with a summary, exit status 130", async () => {
    const child = spawn(process.execPath, cmd(["sim", "--paths", PATHS, "--seconds", "3600"]), { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout!.on("data", (d) => {
        out += d;
        // The first progress line: the run is under way.
        if (!sent && /^t=\d/m.test(out)) {
          sent = true;
          process.kill(child.pid!, "SIGINT");
        }
      });
      child.stderr!.on("data", (d) => (err += d));
      child.on("close", (c) => resolve(c));
    });
    assert.ok(sent, `no progress line: ${out} ${err}`);
    assert.equal(code, 130, err);
    assert.match(out, /^interrupted: [\d.]+ \w+ in [\d.]+ s of virtual time/m);
    assert.match(out, /^per path: a .*, b /m);
  });
});
