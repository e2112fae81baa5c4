// Runs every example of examples/ as a child process with the runtime running this file (Node:
// `node --import tsx FILE`, Deno: `deno run -A FILE`):
// - udp-echo-server.ts on 127.0.0.1 + 127.0.0.2, with the `mptcp` CLI as its client (byte-exact
//   echo checked by SHA-256 on the client, the server's own log of the connection);
// - tun-client.ts against the Linux kernel's MPTCP echo server in a network namespace with two
//   TUN paths (needs root and /dev/net/tun: skipped with the reason otherwise, failed when
//   CI=true), bytes checked against the kernel side's SHA-256 and its join counters;
// - simulate.ts (the in-memory simulator): phases as scripted (WiFi carries nothing while down).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliArgv, freeUdpPort, isDeno, lastJson, root, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { interopSkip, requireInterop, withNetns } from "../interop/netns.ts";
import { patternBytes } from "../../adapters/cli/app.ts";
import { createHash } from "node:crypto";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** argv running examples/NAME with this runtime. */
function exampleArgv(name: string, args: string[]): string[] {
  const file = join(root, "examples", name);
  return isDeno ? [process.execPath, "run", "-A", file, ...args] : [process.execPath, "--import", "tsx", file, ...args];
}

test("examples/udp-echo-server.ts: echoes 1 MiB from the mptcp CLI over two UDP paths", { timeout: 120_000 }, async () => {
  const port = await freeUdpPort("127.0.0.1");
  let srv: CliRun | undefined;
  let cli: CliRun | undefined;
  try {
    srv = start(exampleArgv("udp-echo-server.ts", [`127.0.0.1:${port}`, "127.0.0.2", "--once"]), { killAfterMs: 100_000 });
    await srv.waitFor(/listening on/, 60_000);
    assert.match(srv.stdout(), new RegExp(`127\\.0\\.0\\.1:${port}, 127\\.0\\.0\\.2:${port}`));
    const n = 1 << 20;
    cli = start(cliArgv(["client", "--udp", "127.0.0.1", "--udp", "127.0.0.2", "--connect", `127.0.0.1:${port}`, "--send", String(n), "--json", "--timeout", "60"]), { killAfterMs: 100_000 });
    const c = await cli.done;
    assert.equal(c.code, 0, c.stderr);
    const j = lastJson(c.stdout);
    assert.equal(j.ok, true);
    assert.equal(j.mptcp, true);
    assert.equal(j.bytesReceived, n);
    assert.equal(j.sha256Received, sha(patternBytes(n)));
    assert.ok((j.subflows as unknown[]).length >= 2, JSON.stringify(j.subflows));
    const s = await srv.done;
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /connected \(MPTCP\)/);
    assert.match(s.stdout, /subflow \d+ up/);
    assert.match(s.stdout, new RegExp(`closed \\(normal\\), ${n} bytes echoed`));
  } finally {
    stop(cli);
    stop(srv);
  }
});

const tunSkip = interopSkip();

test("examples/tun-client.ts: 2 MiB echoed by the kernel's MPTCP over two TUN paths in a namespace", { timeout: 120_000, skip: tunSkip }, async () => {
  requireInterop();
  await withNetns("h1", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    ns.addTun("tun1", ["198.18.1.1/24"]);
    ns.mptcpLimits(4, 4);
    let py: CliRun | undefined;
    let cli: CliRun | undefined;
    try {
      py = start(ns.wrap(["python3", join(root, "test", "interop", "echo_server.py"), "--addr", "198.18.0.1", "--port", "5000", "--mptcp", "--timeout", "60"]), { killAfterMs: 100_000 });
      await py.waitFor(/READY/);
      const n = 2 << 20;
      cli = start(ns.wrap(exampleArgv("tun-client.ts", ["--tun", "tun0=198.18.0.2", "--tun", "tun1=198.18.1.2", "--connect", "198.18.0.1:5000", "--send", String(n)])), { killAfterMs: 100_000 });
      const c = await cli.done;
      assert.equal(c.code, 0, `tun-client exited ${c.code ?? c.signal}: ${c.stderr}\n${c.stdout}`);
      const j = lastJson(c.stdout);
      assert.equal(j.ok, true);
      assert.equal(j.mptcp, true);
      assert.equal(j.bytesReceived, n);
      const k = lastJson((await py.done).stdout);
      assert.equal(k.mptcp, true, "the kernel's socket was MPTCP");
      assert.equal(k.bytes_in, n);
      assert.equal(k.sha256_in, j.sha256Sent, "the kernel got exactly what the example sent");
      assert.equal(k.sha256_out, j.sha256Received);
      // The second path joined: the kernel counted the join, and both paths carried data.
      const nstat = ns.nstat();
      assert.ok((nstat.MPTcpExtMPJoinAckRx ?? 0) >= 1, `MPJoinAckRx ${nstat.MPTcpExtMPJoinAckRx}`);
      const sfs = j.subflows as Array<{ local: string; bytesReceived: number }>;
      for (const addr of ["198.18.0.2", "198.18.1.2"]) assert.ok(sfs.some((s) => s.local.startsWith(addr + ":") && s.bytesReceived > 0), `${addr} carried data: ${JSON.stringify(sfs)}`);
    } finally {
      stop(cli);
      stop(py);
    }
  });
});

test("examples/simulate.ts: the scripted phases (WiFi down carries nothing, both paths otherwise)", { timeout: 120_000 }, async () => {
  const run = start(exampleArgv("simulate.ts", ["--seed", "1"]), { killAfterMs: 100_000 });
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /12 s simulated/);
  const j = lastJson(r.stdout) as { ok: boolean; phases: Array<{ label: string; share: Record<string, number>; goodputMbps: number }> };
  assert.equal(j.ok, true);
  assert.deepEqual(
    j.phases.map((p) => p.label),
    ["start", "wifi: down", "wifi: up"],
  );
  const [a, b, c] = j.phases;
  assert.equal(b!.share.wifi, 0);
  assert.equal(b!.share.lte, 1);
  for (const p of [a!, c!]) assert.ok(p.share.wifi! > 0.4 && p.share.lte! > 0.15, JSON.stringify(p));
  // Both paths together beat the LTE path alone (10 Mbit/s).
  assert.ok(a!.goodputMbps > 15 && c!.goodputMbps > 15, JSON.stringify(j.phases));
});
