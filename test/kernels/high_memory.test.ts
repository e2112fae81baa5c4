// The WASM data plane above 2 GiB of memory (a long-running process with many connections):
// pointers come back from WASM as signed i32, so every address is taken `>>> 0` in core/kernels.
// Runs high_memory_child.ts in a child process of the same runtime, so the 2 GiB of ballast
// does not stay in this test runner's shared WASM memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isDeno, root } from "../adapters/cli_helpers.ts";

test("buffers, the DSS checksum scratch and the checksum kernel work at WASM addresses above 2 GiB", () => {
  const file = join(root, "test", "kernels", "high_memory_child.ts");
  const argv = isDeno ? ["run", "-A", file] : ["--import", "tsx", file];
  const r = spawnSync(process.execPath, argv, { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stdout}${r.stderr}`);
  const m = r.stdout.match(/^ok (\d+)$/m);
  assert.ok(m, `child printed ${r.stdout}`);
  assert.ok(Number(m[1]) > 2 ** 31, `WASM memory ${m[1]} bytes, expected above 2 GiB`);
});
