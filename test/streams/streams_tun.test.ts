// listen() over TUN (streams API) against the Linux kernel's MPTCP client, in a network
// namespace the test creates and deletes: the echo runs in a child process inside the namespace
// (tun_echo_fixture.ts; TUN devices are opened by name in the caller's namespace), the kernel
// client is test/interop/client.py. Checks bytes both ways by SHA-256, that the kernel joined the
// address the listener announced (ADD_ADDR), and both paths carried data. Needs root and
// /dev/net/tun (skipped with the reason otherwise; failed when CI=true).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { isDeno, lastJson, root, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { interopSkip, requireInterop, withNetns } from "../interop/netns.ts";

test("streams over TUN: the kernel's MPTCP client, 2 MiB echoed by listen() with two paths (ADD_ADDR joined)", { timeout: 120_000, skip: interopSkip() }, async () => {
  requireInterop();
  await withNetns("h1", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    ns.addTun("tun1", ["198.18.1.1/24"]);
    ns.mptcpLimits(4, 4);
    const fixture = join(root, "test", "streams", "tun_echo_fixture.ts");
    const argv = [...(isDeno ? [process.execPath, "run", "-A"] : [process.execPath, "--import", "tsx"]), fixture, "6000", "tun0=198.18.0.2", "tun1=198.18.1.2"];
    let srv: CliRun | undefined;
    let cli: CliRun | undefined;
    try {
      srv = start(ns.wrap(argv), { killAfterMs: 100_000 });
      await srv.waitFor(/READY/, 60_000);
      const n = 2 << 20;
      cli = start(ns.wrap(["python3", join(root, "test", "interop", "client.py"), "--addr", "198.18.0.2", "--port", "6000", "--bytes", String(n), "--mptcp", "--timeout", "60"]), { killAfterMs: 100_000 });
      const c = await cli.done;
      assert.equal(c.code, 0, `kernel client: ${c.stderr}\n${c.stdout}`);
      const k = lastJson(c.stdout);
      assert.equal(k.mptcp, true);
      assert.equal(k.bytes_in, n);
      assert.equal(k.sha256_in, k.sha256_out, "echoed byte-exact");
      const s = await srv.done;
      assert.equal(s.code, 0, s.stderr);
      const j = lastJson(s.stdout) as { reason: string; mptcp: boolean; bytesRead: number; subflows: Array<{ local: string; bytesReceived: number }>; events: string[] };
      assert.equal(j.reason, "normal");
      assert.equal(j.mptcp, true);
      assert.equal(j.bytesRead, n);
      // The listener announced 198.18.1.2 (its second path) and the kernel joined it.
      assert.ok(j.subflows.some((x) => x.local.startsWith("198.18.1.2:") && x.bytesReceived > 0), JSON.stringify(j.subflows));
      assert.ok(j.events.includes("subflowEstablished"), j.events.join(","));
      assert.ok((ns.nstat().MPTcpExtAddAddr ?? 0) >= 1, "the kernel received the ADD_ADDR");
    } finally {
      stop(cli);
      stop(srv);
    }
  });
});
