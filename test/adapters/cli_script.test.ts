// `mptcp script FILE...` from the command line (bin/mptcp.mjs): PASS/FAIL lines, the closing
// count, and the exit status, on the runtime running this test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const runtime = isDeno ? "deno" : "node";

function mptcp(args: string[]): { status: number | null; out: string } {
  const cmd = isDeno ? join(root, "node_modules", ".bin", "deno") : process.execPath;
  const argv = isDeno ? ["run", "-A", "bin/mptcp.mjs", ...args] : ["bin/mptcp.mjs", ...args];
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, out: r.stdout + r.stderr };
}

test(`mptcp script (${runtime}): passing scripts exit 0, a wrong expectation exits 1 with the field diff`, () => {
  const good = "test/scripts/mptcp/add-addr-echo-only.pkt";
  const ok = mptcp(["script", good]);
  assert.equal(ok.status, 0, ok.out);
  assert.match(ok.out, new RegExp(`^PASS ${good.replace(/[.]/g, "\\.")}$`, "m"));
  assert.match(ok.out, /^1 passed, 0 failed, 0 skipped$/m);

  // The same script with one expected field changed must fail and say where.
  const dir = mkdtempSync(join(tmpdir(), "mptcp-script-"));
  try {
    const text = readFileSync(join(root, good), "utf8");
    const lines = text.split("\n");
    const i = lines.findIndex((l) => /^\s*\S+\s+>\s/.test(l) && /\back\s+\d+/.test(l));
    assert.ok(i >= 0, "the script has an outbound line with an ack field");
    lines[i] = lines[i]!.replace(/\back\s+(\d+)/, (_m, n: string) => `ack ${Number(n) + 7}`);
    const bad = join(dir, "bad.pkt");
    writeFileSync(bad, lines.join("\n"));
    const r = mptcp(["script", bad]);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^FAIL /m);
    assert.match(r.out, /ack/);
    assert.match(r.out, /^0 passed, 1 failed, 0 skipped$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const usage = mptcp(["script"]);
  assert.equal(usage.status, 2);
});
