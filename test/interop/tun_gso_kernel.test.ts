// Interop: `mptcp client --gso` (TUN segmentation offload, adapters/tun) against the kernel's
// MPTCP sink over two TUN paths with MTU 1500: the bytes arrive exactly over MPTCP, and the kernel
// received far fewer packets than 1500-byte ones would take (64 KiB GSO
// packets, delivered whole), with no checksum error. The namespaces are created and deleted here
// (netns.ts withNetns; 198.18.0.0/15 only; bounded: 16 MiB, 40 s).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { patternBytes } from "../../adapters/cli/app.ts";
import { cliArgv, lastJson, root, runtimeName, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { interopSkip, requireInterop, withNetns } from "./netns.ts";

const PY_SERVER = join(root, "test", "interop", "echo_server.py");

test(`interop tun --gso (${runtimeName}): our client writes 64 KiB GSO packets at MTU 1500; the kernel's MPTCP sink gets every byte`, { skip: interopSkip() }, async () => {
  requireInterop();
  await withNetns("gso", async (ns) => {
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      for (const i of [0, 1]) {
        ns.addTun(`tun${i}`, [`198.18.${i}.1/24`]);
        ns.ip("link", "set", `tun${i}`, "mtu", "1500");
      }
      ns.mptcpLimits(2, 2);
      py = start(ns.wrap(["python3", PY_SERVER, "--addr", "0.0.0.0", "--port", "5000", "--mode", "sink", "--mptcp", "--timeout", "30"]), { killAfterMs: 60_000 });
      await py.waitFor(/READY/);
      const n = 16 * 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", "tun0=198.18.0.2", "--tun", "tun1=198.18.1.2", "--gso", "--connect", "198.18.0.1:5000", "--send", String(n), "--json", "--timeout", "40"])));
      const r = await ours.done;
      assert.equal(r.code, 0, `our client exited ${r.code ?? r.signal}:\n${r.stderr}`);
      const j = lastJson(r.stdout);
      const pyOut = (await py.done).stdout.trim().split("\n").filter((l) => l.startsWith("{"));
      const kj = JSON.parse(pyOut[pyOut.length - 1] ?? "{}") as Record<string, unknown>;
      assert.equal(kj.error, undefined, String(kj.error));
      assert.equal(j.sha256Sent, createHash("sha256").update(patternBytes(n)).digest("hex"));
      assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received exactly what we sent");
      assert.equal(kj.mptcp, true);
      // (Whether the join gets there first is a race at these rates: 16 MiB can take 30 ms.)
      const c = ns.nstat();
      // 16 MiB in 1500-byte packets is ~11,800 of them; 64 KiB GSO packets make ~260.
      assert.ok((c.IpInReceives ?? 0) < n / 4096, `the kernel received ${c.IpInReceives} packets for ${n} bytes`);
      assert.equal(c.TcpInCsumErrors ?? 0, 0);
      assert.equal(c.TcpInErrs ?? 0, 0);
      assert.equal(c.MPTcpExtDSSNotMatching ?? 0, 0);
    } finally {
      stop(ours);
      stop(py);
    }
  });
});

test(`interop tun --gso (${runtimeName}): GSO packets the kernel forwards are cut into segments with right checksums (our client -> kernel router -> our server on a third TUN device)`, { skip: interopSkip() }, async () => {
  requireInterop();
  await withNetns("gsf", async (ns) => {
    let server: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      for (const i of [0, 1, 2]) ns.addTun(`tun${i}`, [`198.18.${i}.1/24`]);
      ns.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]);
      // The server's TUN device has no offloads (no IFF_VNET_HDR): the kernel segments each GSO
      // packet and computes every checksum in software; our server drops any segment whose
      // checksum is wrong (before the partial-checksum fix, the transfer timed out).
      server = start(ns.wrap(cliArgv(["server", "--tun", "tun2=198.18.2.2", "--port", "5000", "--sink", "--once", "--json", "--timeout", "40"])));
      await server.waitFor(/listening/);
      const n = 16 * 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", "tun0=198.18.0.2", "--tun", "tun1=198.18.1.2", "--gso", "--connect", "198.18.2.2:5000", "--send", String(n), "--json", "--timeout", "40"])));
      const r = await ours.done;
      assert.equal(r.code, 0, `our client exited ${r.code ?? r.signal}:\n${r.stderr}`);
      const s = await server.done;
      assert.equal(s.code, 0, `our server exited ${s.code ?? s.signal}:\n${s.stderr}`);
      const j = lastJson(r.stdout);
      const sj = lastJson(s.stdout);
      assert.equal(sj.bytesReceived, n);
      assert.equal(sj.sha256Received, j.sha256Sent, "the server received exactly what the client sent");
    } finally {
      stop(ours);
      stop(server);
    }
  });
});
