// The package is ready for JSR: `deno publish --dry-run` passes (including the slow-types check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");

test("deno publish --dry-run succeeds", () => {
  const deno = join(root, "node_modules", ".bin", "deno");
  const r = spawnSync(deno, ["publish", "--dry-run", "--allow-dirty"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, `deno publish --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Dry run complete/);
});
