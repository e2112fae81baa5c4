// Interop, plain TCP: our TCP engine (core/tcp TcpHost through the CLI, the driver and the TUN
// adapter) against the Linux kernel's TCP, inside a network namespace each test creates and
// deletes. The kernel side is test/interop/echo_server.py / client.py. Both directions,
// byte-exact (SHA-256 on both sides), IPv4 and IPv6; idle CPU of a waiting TUN reader; and the
// TUN adapter's error messages. Runs under the runtime running this file (Node or Deno).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { TunError, TunGroup } from "../../adapters/tun/tun.ts";
import { cliArgv, lastJson, root, runtimeName, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { cpuTicks, interopSkip, requireInterop, sh, withNetns } from "./netns.ts";
import type { Netns } from "./netns.ts";

const PY_SERVER = join(root, "test", "interop", "echo_server.py");
const PY_CLIENT = join(root, "test", "interop", "client.py");
const skip = interopSkip();

function pyServer(ns: Netns, addr: string, port: number, extra: string[] = []): CliRun {
  return start(ns.wrap(["python3", PY_SERVER, "--addr", addr, "--port", String(port), "--timeout", "30", ...extra]), { killAfterMs: 60_000 });
}

function pyJson(text: string): Record<string, unknown> {
  const lines = text.trim().split("\n").filter((l) => l.startsWith("{"));
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

for (const v6 of [false, true]) {
  const fam = v6 ? "IPv6" : "IPv4";
  const kernelAddr = v6 ? "2001:2:0:1::1" : "198.18.0.1";
  const ourAddr = v6 ? "2001:2:0:1::2" : "198.18.0.2";
  const cidr = v6 ? `${kernelAddr}/64` : `${kernelAddr}/24`;
  const hp = (a: string, p: number): string => (v6 ? `[${a}]:${p}` : `${a}:${p}`);

  test(`interop tcp (${runtimeName}, ${fam}): our client --send 4 MiB over TUN to the kernel's TCP echo server`, { skip }, async () => {
    requireInterop();
    await withNetns("tcpc", async (ns) => {
      ns.addTun("tun0", [cidr]);
      let py: CliRun | undefined;
      let ours: CliRun | undefined;
      try {
        py = pyServer(ns, kernelAddr, 5000);
        await py.waitFor(/READY/);
        const n = 4 * 1024 * 1024;
        ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${ourAddr}`, "--connect", hp(kernelAddr, 5000), "--no-mptcp", "--send", String(n), "--json", "--timeout", "30"])));
        const r = await ours.done;
        const k = await py.done;
        assert.equal(r.code, 0, `our client failed:\n${r.stderr}\n${r.stdout}`);
        const j = lastJson(r.stdout);
        const kj = pyJson(k.stdout);
        assert.equal(kj.error, undefined, String(kj.error));
        assert.equal(j.ok, true);
        assert.equal(j.bytesSent, n);
        assert.equal(j.bytesReceived, n);
        assert.equal(kj.bytes_in, n, "the kernel received every byte");
        assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received exactly what we sent");
        assert.equal(j.sha256Received, j.sha256Sent, "the echo came back byte-exact");
        assert.equal(kj.peer, ourAddr);
        const c = ns.nstat();
        assert.ok((c.TcpPassiveOpens ?? 0) >= 1, "kernel counted a passive open");
        assert.equal(c.TcpInErrs ?? 0, 0, "no TCP checksum errors on the kernel side");
        assert.equal(c.TcpExtTCPAbortOnData ?? 0, 0);
      } finally {
        stop(ours);
        stop(py);
      }
    });
  });

  test(`interop tcp (${runtimeName}, ${fam}): the kernel's TCP client sends 4 MiB to our server --echo over TUN`, { skip }, async () => {
    requireInterop();
    await withNetns("tcps", async (ns) => {
      ns.addTun("tun0", [cidr]);
      let ours: CliRun | undefined;
      try {
        ours = start(ns.wrap(cliArgv(["server", "--tun", `tun0=${ourAddr}`, "--port", "6000", "--no-mptcp", "--echo", "--once", "--json", "--timeout", "40"])));
        await ours.waitFor(/listening on port/);
        const n = 4 * 1024 * 1024;
        const k = ns.exec(["python3", PY_CLIENT, "--addr", ourAddr, "--port", "6000", "--bytes", String(n), "--timeout", "30"], { check: false, timeoutMs: 45_000 });
        const r = await ours.done;
        const kj = pyJson(k.stdout);
        assert.equal(kj.error, undefined, `kernel client: ${String(kj.error)} ${k.stderr}\nours: ${r.stderr}`);
        assert.equal(r.code, 0, `our server failed:\n${r.stderr}\n${r.stdout}`);
        const j = lastJson(r.stdout);
        assert.equal(kj.bytes_out, n);
        assert.equal(kj.bytes_in, n, "the kernel got every byte back");
        assert.equal(kj.sha256_in, kj.sha256_out, "echo byte-exact as the kernel sees it");
        assert.equal(j.sha256Received, kj.sha256_out, "we received exactly what the kernel sent");
        assert.equal(j.bytesReceived, n);
        assert.ok((ns.nstat().TcpActiveOpens ?? 0) >= 1);
      } finally {
        stop(ours);
      }
    });
  });
}

test(`interop tcp (${runtimeName}): our sender loses 2% of its packets (--loss) to the kernel's sink: recovery, byte-exact`, { skip }, async () => {
  requireInterop();
  await withNetns("oloss", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      py = pyServer(ns, "198.18.0.1", 5000, ["--mode", "sink"]);
      await py.waitFor(/READY/);
      const n = 8 * 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", "tun0=198.18.0.2", "--connect", "198.18.0.1:5000", "--no-mptcp", "--loss", "0.02", "--send", String(n), "--json", "--timeout", "40"])));
      const r = await ours.done;
      const kj = pyJson((await py.done).stdout);
      assert.equal(r.code, 0, `our client: ${r.stderr}`);
      const j = lastJson(r.stdout);
      assert.equal(kj.bytes_in, n);
      assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received the stream byte-exact");
      const oc = j.counters as Record<string, number>;
      assert.ok(oc.TcpRetransSegs! > 0, "we retransmitted");
      assert.ok((ns.nstat().TcpExtTCPOFOQueue ?? 0) > 0, "the kernel saw holes (the loss was real)");
    } finally {
      stop(ours);
      stop(py);
    }
  });
});

// Found by this suite: core/tcp updated SND.WND only by RFC 9293's SND.WL1/WL2 test, so an ACK
// that advanced SND.UNA on a segment with an old SEG.SEQ (Linux retransmitting data below our
// RCV.NXT) kept the old window; SND.UNA + SND.WND then lay beyond the peer's right edge, we sent
// past it, and Linux discarded that data and every later ACK of ours (SEQ beyond its window):
// both sides retransmitted forever. Fixed in 9e4f652 (Linux's tcp_may_update_window rule).
test(`interop tcp (${runtimeName}): loss in the kernel's direction (tbf drops) while the kernel's receive window is tight`, { skip }, async () => {
  requireInterop();
  await withNetns("loss", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    // 50 Mbit/s with a 40 kB queue towards us: drops whenever the kernel bursts.
    ns.exec(["tc", "qdisc", "add", "dev", "tun0", "root", "tbf", "rate", "50mbit", "burst", "32kbit", "limit", "40000"]);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      py = pyServer(ns, "198.18.0.1", 5000);
      await py.waitFor(/READY/);
      const n = 16 * 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", "tun0=198.18.0.2", "--connect", "198.18.0.1:5000", "--no-mptcp", "--send", String(n), "--json", "--timeout", "25"])));
      const r = await ours.done;
      const kj = pyJson((await py.done).stdout);
      assert.equal(r.code, 0, `our client: ${r.stderr}`);
      const j = lastJson(r.stdout);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out);
      assert.equal(j.bytesReceived, n);
      const c = ns.nstat();
      assert.ok((c.TcpRetransSegs ?? 0) > 0, "the kernel had to retransmit (the case exercised loss)");
    } finally {
      stop(ours);
      stop(py);
    }
  });
});

test(`interop tcp (${runtimeName}): a TUN reader waiting for packets uses (almost) no CPU`, { skip }, async () => {
  requireInterop();
  await withNetns("idle", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    let ours: CliRun | undefined;
    try {
      ours = start(ns.wrap(cliArgv(["server", "--tun", "tun0=198.18.0.2", "--port", "6000", "--no-mptcp", "--once", "--timeout", "30"])));
      await ours.waitFor(/listening on port/);
      await new Promise((r) => setTimeout(r, 500)); // start-up compilation settles
      const pid = ours.child.pid!;
      const t0 = cpuTicks(pid);
      await new Promise((r) => setTimeout(r, 3000));
      const used = cpuTicks(pid) - t0;
      console.log(`idle TUN reader (${runtimeName}): ${used * 10} ms CPU in 3000 ms`);
      // A busy-polling reader would use ~300 ticks (a whole core); 30 = 10% is a generous bound.
      assert.ok(used <= 30, `idle reader used ${used * 10} ms of CPU in 3 s`);
      // It still answers: a SYN gets through and is served (proves the wait is a real wait).
      const k = ns.exec(["python3", PY_CLIENT, "--addr", "198.18.0.2", "--port", "6000", "--bytes", "1000", "--timeout", "10"], { check: false, timeoutMs: 20_000 });
      assert.equal(pyJson(k.stdout).bytes_in, 1000, k.stdout + k.stderr);
      assert.equal((await ours.done).code, 0);
    } finally {
      stop(ours);
    }
  });
});

test(`tun errors (${runtimeName}): missing device, missing /dev/net/tun, busy device, TAP device, no permission`, { skip }, async () => {
  requireInterop();
  // In this process, without touching any network: the name lookup fails before any open.
  await assert.rejects(TunGroup.open([{ device: "mptcpnodev9", address: "198.18.0.2" }]), (e: unknown) => {
    assert.ok(e instanceof TunError);
    assert.equal(e.code, "NoDevice");
    assert.match(e.message, /does not exist.*ip tuntap add dev mptcpnodev9 mode tun/);
    return true;
  });
  // A clone device path that does not exist ("lo" exists everywhere, so the open is reached).
  await assert.rejects(TunGroup.open([{ device: "lo", address: "198.18.0.2" }], { clonePath: "/nonexistent/net/tun" }), (e: unknown) => {
    assert.ok(e instanceof TunError);
    assert.equal(e.code, "NoTunDriver");
    assert.match(e.message, /\/nonexistent\/net\/tun is missing.*modprobe tun/);
    return true;
  });
  await withNetns("err", async (ns) => {
    ns.addTun("tun0", ["198.18.0.1/24"]);
    ns.addTun("tap0", ["198.18.1.1/24"], { mode: "tap" });
    let holder: CliRun | undefined;
    try {
      holder = start(ns.wrap(cliArgv(["server", "--tun", "tun0=198.18.0.2", "--port", "6000", "--no-mptcp", "--timeout", "30"])));
      await holder.waitFor(/listening on port/);
      const busy = await start(ns.wrap(cliArgv(["client", "--tun", "tun0=198.18.0.3", "--connect", "198.18.0.1:1", "--no-mptcp", "--json"]))).done;
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /tun0 is busy.*another process/);
      assert.equal(lastJson(busy.stdout).ok, false);
      const tap = await start(ns.wrap(cliArgv(["client", "--tun", "tap0=198.18.1.2", "--connect", "198.18.1.1:1", "--no-mptcp"]))).done;
      assert.equal(tap.code, 1);
      assert.match(tap.stderr, /tap0 is not a single-queue TUN device/);
      const none = await start(ns.wrap(cliArgv(["client", "--tun", "nosuch0=198.18.2.2", "--connect", "198.18.2.1:1", "--no-mptcp"]))).done;
      assert.equal(none.code, 1);
      assert.match(none.stderr, /nosuch0 does not exist in this network namespace/);
      // A device owned by another user, opened without CAP_NET_ADMIN (setpriv drops it from the
      // bounding and inheritable sets of our root process): TUNSETIFF -> EPERM.
      if (sh(["setpriv", "--help"], { check: false }).status === 0) {
        ns.exec(["ip", "tuntap", "add", "dev", "tun9", "mode", "tun", "user", "65534"]);
        const perm = await start(ns.wrap(["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", ...cliArgv(["client", "--tun", "tun9=198.18.9.2", "--connect", "198.18.9.1:1", "--no-mptcp"])])).done;
        assert.equal(perm.code, 1, perm.stderr);
        assert.match(perm.stderr, /no permission to attach to TUN device tun9.*CAP_NET_ADMIN/);
      }
    } finally {
      stop(holder);
    }
  });
});
