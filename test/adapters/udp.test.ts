// UDP adapter (TCP-in-UDP): two of our plain-TCP stacks talk through real UDP sockets on
// loopback, in process (IPv4 and IPv6) and through the CLI as two processes (both runtimes:
// the one running this file). Byte-exact in both directions (SHA-256 and counts), datagrams
// in the TCP-in-UDP layout (the first 12 bytes of each UDP payload are doff/flags, window, seq,
// ack), and the port's drop reasons.
import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Driver } from "../../adapters/driver.ts";
import { CryptoRandomSource, globalTimers, PerformanceClock } from "../../adapters/runtime/index.ts";
import { UdpPort } from "../../adapters/udp/udp.ts";
import { TcpStack } from "../../adapters/cli/tcp_stack.ts";
import { ClientApp, PatternSource, patternBytes, ServerApp } from "../../adapters/cli/app.ts";
import type { TransferResult } from "../../adapters/cli/app.ts";
import { readPcap } from "../../core/pcap/writer.ts";
import { parsePacket } from "../../core/wire/packet.ts";
import { ipHeaderFor, emitIp, parseIpText } from "../../core/wire/ip.ts";
import { cliArgv, freeUdpPort, lastJson, root, runtimeName, start, stop } from "./cli_helpers.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function transfer(addr: string, bytes: number): Promise<{ client: TransferResult; server: TransferResult; wire: Uint8Array[] }> {
  const clock = new PerformanceClock();
  const sp = await UdpPort.openDgram({ address: addr, port: 0 });
  const cp = await UdpPort.openDgram({ address: addr, port: 0 });
  const server = new TcpStack([{ address: sp.address, localPort: sp.localPort }], new CryptoRandomSource());
  const client = new TcpStack([{ address: cp.address, localPort: cp.localPort }], new CryptoRandomSource());
  const wire: Uint8Array[] = [];
  // A spy on the client's socket: the raw UDP payloads it receives.
  const raw = (cp as unknown as { sock: dgram.Socket }).sock;
  raw.prependListener("message", (m: Uint8Array) => {
    if (wire.length < 4) wire.push(Uint8Array.from(m));
  });
  const sd = new Driver({ host: server, ports: [sp], clock, timers: globalTimers });
  const cd = new Driver({ host: client, ports: [cp], clock, timers: globalTimers });
  const srv = new ServerApp(server, { port: sp.localPort, mode: { kind: "echo" }, once: true, onResult: () => {} });
  const cli = new ClientApp(client, { remote: sp.address, port: sp.localPort, source: new PatternSource(bytes) });
  sd.start();
  cd.start();
  sd.act((now) => srv.start(now));
  cd.act((now) => cli.start(now));
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error("transfer timed out")), 30_000)));
  try {
    const [c, s] = await Promise.race([Promise.all([cli.done, srv.first]), timeout]);
    assert.equal(cp.stats().drops.PortMismatch ?? 0, 0);
    return { client: c, server: s, wire };
  } finally {
    clearTimeout(t);
    await cd.stop();
    await sd.stop();
  }
}

for (const addr of ["127.0.0.1", "::1"]) {
  test(`udp: our TCP to our TCP over TCP-in-UDP on ${addr}, 512 KiB echoed byte-exact`, async () => {
    const n = 512 * 1024;
    const { client, server, wire } = await transfer(addr, n);
    const expect = sha(patternBytes(n));
    assert.equal(client.ok, true, client.error);
    assert.equal(server.ok, true, server.error);
    assert.equal(client.bytesSent, n);
    assert.equal(client.bytesReceived, n);
    assert.equal(client.sha256Sent, expect);
    assert.equal(client.sha256Received, expect);
    assert.equal(server.sha256Received, expect);
    assert.equal(client.mptcp, false);
    // First datagram to the client is the SYN/ACK in TCP-in-UDP layout: doff+flags first.
    const synack = wire[0]!;
    const doffFlags = (synack[0]! << 8) | synack[1]!;
    assert.equal(doffFlags & 0x3f, 0x12, "SYN+ACK flags in the first 16 bits of the UDP payload");
    assert.ok(doffFlags >>> 12 >= 5);
    const ack = ((synack[8]! << 24) | (synack[9]! << 16) | (synack[10]! << 8) | synack[11]!) >>> 0;
    assert.ok(ack !== 0, "ack number at payload offset 8");
  });
}

test("udp: port drops packets that are not ours or not TCP, and wrong source ports", async () => {
  const p = await UdpPort.openDgram({ address: "127.0.0.1", port: 0 });
  try {
    const me = parseIpText("127.0.0.1")!;
    const other = parseIpText("127.0.0.2")!;
    const mk = (src: Uint8Array, proto: number, srcPort: number): Uint8Array => {
      const h = ipHeaderFor(src, me, proto);
      const pkt = new Uint8Array(40);
      if (h.version === 4) h.totalLength = 40;
      emitIp(h, pkt, 0);
      pkt[20] = srcPort >>> 8;
      pkt[21] = srcPort & 0xff;
      pkt[22] = 0x13;
      pkt[23] = 0x88;
      pkt[32] = 0x50; // doff 5
      return pkt;
    };
    assert.equal(p.send(new Uint8Array([1, 2, 3])), false);
    assert.equal(p.send(mk(me, 17, p.localPort)), false);
    assert.equal(p.send(mk(other, 6, p.localPort)), false);
    assert.equal(p.send(mk(me, 6, p.localPort === 1 ? 2 : 1)), false);
    assert.deepEqual(p.stats().drops, { NotIp: 1, NotTcp: 1, NotOurAddress: 1, PortMismatch: 1 });
    // A datagram that is not TCP-in-UDP (data offset < 5) is dropped on receive.
    let got = 0;
    p.start(() => got++);
    const s = dgram.createSocket("udp4");
    await new Promise<void>((r) => s.send(new Uint8Array(12), p.localPort, "127.0.0.1", () => r()));
    await new Promise((r) => setTimeout(r, 100));
    s.close();
    assert.equal(got, 0);
    assert.equal(p.stats().drops.BadTcpInUdp, 1);
  } finally {
    await p.close();
  }
});

test(`cli (${runtimeName}): server --echo --once and client --in/--out over UDP on loopback, pcap readable`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-cli-udp-"));
  const port = await freeUdpPort("127.0.0.1");
  let srv: ReturnType<typeof start> | undefined;
  let cli: ReturnType<typeof start> | undefined;
  try {
    const input = patternBytes(300_000).map((x, i) => x ^ (i & 0xff));
    writeFileSync(join(dir, "in.bin"), input);
    srv = start(cliArgv(["server", "--udp", `127.0.0.1:${port}`, "--port", String(port), "--no-mptcp", "--echo", "--once", "--json", "--timeout", "30"]));
    await srv.waitFor(/listening on port/);
    cli = start(cliArgv(["client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port}`, "--no-mptcp", "--in", join(dir, "in.bin"), "--out", join(dir, "out.bin"), "--pcap", join(dir, "c.pcap"), "--json", "--timeout", "30"]));
    const c = await cli.done;
    const s = await srv.done;
    assert.equal(c.code, 0, c.stderr);
    assert.equal(s.code, 0, s.stderr);
    const cj = lastJson(c.stdout);
    const sj = lastJson(s.stdout);
    assert.equal(cj.ok, true);
    assert.equal(cj.mptcp, false);
    assert.equal(cj.bytesSent, input.length);
    assert.equal(cj.sha256Sent, sha(input));
    assert.equal(cj.sha256Received, sha(input));
    assert.equal(sj.sha256Received, sha(input));
    assert.deepEqual(readFileSync(join(dir, "out.bin")), Buffer.from(input));
    const sub = (cj.subflows as Array<Record<string, unknown>>)[0]!;
    assert.equal(sub.remote, `127.0.0.1:${port}`);
    assert.equal(typeof sub.rttMs, "number");
    // The pcap holds IP/TCP packets as the stack saw them: SYN first, both directions.
    const pcap = readPcap(readFileSync(join(dir, "c.pcap")))!;
    assert.ok(pcap.records.length > 20);
    const first = parsePacket(pcap.records[0]!.data);
    assert.ok(first.ok && first.value.tcp.header.flags === 0x02 && first.value.tcp.header.dstPort === port);
  } finally {
    stop(cli);
    stop(srv);
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`cli (${runtimeName}): server --source, client --send 0; usage errors exit 2; refused connection exits 1`, async () => {
  const port = await freeUdpPort("127.0.0.1");
  let srv: ReturnType<typeof start> | undefined;
  try {
    srv = start(cliArgv(["server", "--udp", `127.0.0.1:${port}`, "--port", String(port), "--no-mptcp", "--source", "100k", "--once", "--json"]));
    await srv.waitFor(/listening on port/);
    const c = await start(cliArgv(["client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port}`, "--no-mptcp", "--json"])).done;
    assert.equal(c.code, 0, c.stderr);
    const j = lastJson(c.stdout);
    assert.equal(j.bytesReceived, 100 * 1024);
    assert.equal(j.bytesSent, 0);
    assert.equal(j.sha256Received, sha(patternBytes(100 * 1024)));
    assert.equal((await srv.done).code, 0);
    const bad = await start(cliArgv(["client", "--udp", "127.0.0.1", "--no-mptcp"])).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /client needs --connect/);
    const badSched = await start(cliArgv(["client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port}`, "--scheduler", "nosuch"])).done;
    assert.equal(badSched.code, 2);
    assert.match(badSched.stderr, /unknown scheduler/);
    // Nobody listening (no UDP socket on that port): the client times out, exit 1, ok false.
    const port2 = await freeUdpPort("127.0.0.1");
    const none = await start(cliArgv(["client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port2}`, "--no-mptcp", "--send", "10", "--json", "--timeout", "3"])).done;
    assert.equal(none.code, 1);
    assert.equal(lastJson(none.stdout).ok, false);
  } finally {
    stop(srv);
  }
});

test(`cli (${runtimeName}): MPTCP between two instances over UDP, two paths each (127.0.0.1/.2 server, .3/.4 client), join, 2 MiB echo`, async () => {
  const port = await freeUdpPort("127.0.0.1");
  let srv: ReturnType<typeof start> | undefined;
  try {
    srv = start(cliArgv(["server", "--udp", `127.0.0.1:${port}`, "--udp", `127.0.0.2:${port}`, "--port", String(port), "--echo", "--once", "--json", "--timeout", "40"]));
    await srv.waitFor(/listening on port/);
    const n = 2 * 1024 * 1024;
    const c = await start(cliArgv(["client", "--udp", "127.0.0.3", "--udp", "127.0.0.4", "--connect", `127.0.0.1:${port}`, "--send", String(n), "--json", "--timeout", "40"])).done;
    const s = await srv.done;
    assert.equal(c.code, 0, c.stderr);
    assert.equal(s.code, 0, s.stderr);
    const cj = lastJson(c.stdout);
    const sj = lastJson(s.stdout);
    assert.equal(cj.mptcp, true);
    assert.equal(sj.mptcp, true);
    assert.equal(cj.sha256Received, sha(patternBytes(n)));
    assert.equal(sj.sha256Received, sha(patternBytes(n)));
    const subs = cj.subflows as Array<Record<string, unknown>>;
    assert.equal(subs.length, 2, "initial subflow + one join");
    assert.deepEqual(subs.map((x) => String(x.local).split(":")[0]).sort(), ["127.0.0.3", "127.0.0.4"]);
    assert.ok(subs.every((x) => (x.bytesSent as number) > 0), "both subflows carried data");
    const cc = cj.counters as Record<string, number>;
    const sc = sj.counters as Record<string, number>;
    assert.equal(cc.MPTcpExtMPCapableSYNTX, 1);
    assert.equal(cc.MPTcpExtMPJoinSynTx, 1);
    assert.equal(sc.MPTcpExtMPCapableSYNRX, 1);
    assert.equal(sc.MPTcpExtMPJoinAckRx, 1);
  } finally {
    stop(srv);
  }
});

test(`cli (${runtimeName}): a server without --once serves connection after connection, one JSON line each, and exits 0 on SIGTERM`, async () => {
  const port = await freeUdpPort("127.0.0.1");
  let srv: ReturnType<typeof start> | undefined;
  try {
    srv = start(cliArgv(["server", "--udp", `127.0.0.1:${port}`, "--port", String(port), "--sink", "--json", "--no-mptcp"]));
    await srv.waitFor(/listening on port/);
    for (const n of [1000, 70_000, 5]) {
      const c = await start(cliArgv(["client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port}`, "--no-mptcp", "--send", String(n), "--json", "--timeout", "20"])).done;
      assert.equal(c.code, 0, c.stderr);
      assert.equal(lastJson(c.stdout).bytesReceived, 0, "a sink sends nothing");
    }
    await srv.waitFor(/(server: completed[^]*){3}/);
    process.kill(srv.child.pid!, "SIGTERM");
    const s = await srv.done;
    assert.equal(s.code, 0, `exit ${s.code} signal ${s.signal}: ${s.stderr}`);
    const lines = s.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.bytesReceived), [1000, 70_000, 5]);
    assert.ok(lines.every((l) => l.ok === true && l.sha256Received !== undefined));
    assert.equal(lines[1]!.sha256Received, sha(patternBytes(70_000)));
  } finally {
    stop(srv);
  }
});

test("cli (deno --unstable-net): Deno's native datagram API carries MPTCP between two instances, two paths, byte-exact", async () => {
  const deno = join(root, "node_modules", ".bin", "deno");
  const argv = (args: string[]): string[] => [deno, "run", "-A", "--unstable-net", join(root, "bin", "mptcp.mjs"), ...args];
  const port = await freeUdpPort("127.0.0.1");
  let srv: ReturnType<typeof start> | undefined;
  try {
    srv = start(argv(["server", "--udp", `127.0.0.1:${port}`, "--udp", `127.0.0.2:${port}`, "--port", String(port), "--echo", "--once", "--json", "--timeout", "40"]));
    await srv.waitFor(/listening on port/);
    assert.match(srv.stderr(), /\(Deno native\)/, "the native port was chosen");
    const n = 2 * 1024 * 1024;
    const c = await start(argv(["client", "--udp", "127.0.0.3", "--udp", "127.0.0.4", "--connect", `127.0.0.1:${port}`, "--send", String(n), "--json", "--timeout", "40"])).done;
    const s = await srv.done;
    assert.equal(c.code, 0, c.stderr);
    assert.equal(s.code, 0, s.stderr);
    const cj = lastJson(c.stdout);
    assert.equal(cj.mptcp, true);
    assert.equal(cj.sha256Received, sha(patternBytes(n)));
    assert.equal(lastJson(s.stdout).sha256Received, sha(patternBytes(n)));
    assert.equal((cj.subflows as unknown[]).length, 2);
  } finally {
    stop(srv);
  }
});
