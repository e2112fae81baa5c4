// Opt-in: every corpus script against the Linux kernel itself (test/script/kernel.ts: a network
// namespace with a TUN device, the kernel's sockets, real time). A script passes on Linux
// whether or not it is marked @known-deviation (the mark is about OUR stack). Runs with
// MPTCP_KERNEL_SCRIPTS=1 under Node as root (several minutes of real time; timelines longer
// than 20 s are skipped); otherwise skipped with the reason.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

function why(): string | false {
  if (process.env.MPTCP_KERNEL_SCRIPTS !== "1") return "set MPTCP_KERNEL_SCRIPTS=1 to run the corpus against the Linux kernel";
  if (isDeno) return "the kernel binding uses koffi (Node only)";
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "needs Linux and root";
  if (!existsSync("/dev/net/tun")) return "needs /dev/net/tun";
  return false;
}

function list(d: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...list(p));
    else if (e.name.endsWith(".pkt")) out.push(p);
  }
  return out.sort();
}

const skip = why();
describe("packetdrill corpus against the Linux kernel (TUN)", () => {
  for (const f of list(join(root, "test", "scripts"))) {
    const name = relative(join(root, "test", "scripts"), f);
    it(name, { skip }, () => {
      const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "test", "script", "kernel.ts"), f], { encoding: "utf8", cwd: root, timeout: 120_000 });
      const out = r.stdout ?? "";
      if (out.startsWith("SKIP")) return;
      assert.ok(out.startsWith("PASS"), out + (r.stderr ?? ""));
    });
  }
});
