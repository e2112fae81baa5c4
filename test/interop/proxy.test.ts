// `mptcp proxy` (issue 9) end to end: plain TCP client -> client-side proxy (--listen-tcp,
// MPTCP out) -> server-side proxy (MPTCP in, --to) -> plain TCP server. Both proxies are the
// CLI (bin/mptcp.mjs) run as child processes with the runtime running this file (Node or Deno).
//
// 1. Argument parsing (no network).
// 2. Over UDP (TCP-in-UDP) on loopback, no root: server-side proxy on 127.0.0.1, client-side
//    proxy with two paths (127.0.0.2 and 127.0.0.3, the second joins); the plain TCP client and
//    server are node:net sockets in this test process (an oracle independent of the proxy's
//    adapters/runtime/tcp_socket.ts). Echo byte-exact, half-close in both orders, resets both
//    ways, a refused target.
// 3. Over TUN in a network namespace (root and /dev/net/tun; skipped with the reason otherwise,
//    failed when CI=true). One namespace "h3-proxy-PID-N" does everything, with kernel
//    forwarding between the two proxies:
//
//      TCP client (python, 127.0.0.1) -> proxy A --listen-tcp 127.0.0.1:8000
//        proxy A: h3a0 198.18.0.2 (kernel 198.18.0.1/24), h3a1 198.18.1.2 (kernel 198.18.1.1/24)
//              |  kernel IPv4 forwarding inside the namespace (ip_forward=1)
//        proxy B: h3b0 198.18.2.2 (kernel 198.18.2.1/24), h3b1 198.18.3.2 (kernel 198.18.3.1/24),
//                 announces 198.18.3.2, --port 5000 --to 127.0.0.1:9000
//      -> TCP echo server (python, 127.0.0.1:9000)
//
//    Subflows (full mesh as Linux): A0->B0 (initial), A1->B0 (join from A's second path),
//    A0->B1 (after B's ADD_ADDR). Every device gets a tbf rate limit so a 16 MiB echo lasts a
//    few seconds; the failure case sets h3a1 down mid-transfer (A's second access path dies, as
//    a phone losing WiFi): the echo must still complete byte-exact over A0. The first case also
//    connects the namespace kernel's own MPTCP client, then a plain TCP client, straight to
//    proxy B (198.18.2.2:5000 over h3b0).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { parseProxyArgs } from "../../adapters/cli/proxy.ts";
import { UsageError } from "../../adapters/cli/args.ts";
import { cliArgv, freeUdpPort, root, runtimeName, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { interopSkip, requireInterop, sh } from "./netns.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

// ------------------------------------------------------------------------------- 1. parsing

test("proxy args: server side (--port --to) and client side (--listen-tcp --connect)", () => {
  const s = parseProxyArgs(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "localhost:9000", "--json", "--once"]);
  assert.equal(s.side, "server");
  assert.deepEqual(s.to, { host: "localhost", port: 9000 });
  assert.equal(s.once, true);
  assert.equal(s.mptcp.command, "server");
  assert.equal(s.mptcp.json, true);
  const c = parseProxyArgs(["--tun", "t0=198.18.0.2", "--tun", "t1=198.18.1.2", "--listen-tcp", "8000", "--connect", "198.18.2.2:5000", "--cc", "olia", "--checksum"]);
  assert.equal(c.side, "client");
  assert.deepEqual(c.listen, { host: "127.0.0.1", port: 8000 });
  assert.equal(c.mptcp.paths.length, 2);
  assert.equal(c.mptcp.checksum, true);
  assert.deepEqual(parseProxyArgs(["--udp", "::1", "--listen-tcp", "[::1]:8000", "--connect", "[::1]:5000"]).listen, { host: "::1", port: 8000 });
  assert.deepEqual(parseProxyArgs(["--udp", "[::1]:7000", "--port", "7000", "--to", "[2001:2::9]:80"]).to, { host: "2001:2::9", port: 80 });
});

test("proxy args: usage errors", () => {
  const bad = (argv: string[], re: RegExp): void => assert.throws(() => parseProxyArgs(argv), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(" "));
  bad(["--udp", "127.0.0.1:7000", "--port", "7000"], /needs --to/);
  bad(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "a:1", "--listen-tcp", "8000"], /choose one side/);
  bad(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "a:1", "--echo"], /not a proxy option/);
  bad(["--udp", "127.0.0.1", "--listen-tcp", "8000", "--connect", "127.0.0.1:1", "--send", "1M"], /not a proxy option/);
  bad(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "a:1", "--connect", "127.0.0.1:1"], /--connect goes with --listen-tcp/);
  bad(["--udp", "127.0.0.1", "--listen-tcp", "8000", "--port", "7000", "--connect", "127.0.0.1:1"], /--port goes with --to/);
  bad(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "nohostport"], /HOST:PORT/);
  bad(["--udp", "127.0.0.1:7000", "--port", "7000", "--to", "a:70000"], /bad port/);
  bad(["--udp", "127.0.0.1", "--listen-tcp", "8000"], /--connect/);
  bad(["--udp", "127.0.0.1:7001", "--port", "7000", "--to", "a:1"], /must equal --port/);
  bad(["--tun", "t0=198.18.0.2", "--udp", "127.0.0.1", "--listen-tcp", "8000", "--connect", "127.0.0.1:1"], /cannot be mixed/);
});

// ------------------------------------------------------------------ TCP peers in this process

type ServerBehaviour =
  | { kind: "echo" }
  /** Read to EOF, then answer sha256(received) in hex and `reply` bytes, then FIN. */
  | { kind: "sink-then-reply"; reply: Uint8Array }
  /** RST once `after` bytes arrived. */
  | { kind: "reset"; after: number }
  /** Just count; report how the connection ended. */
  | { kind: "observe" };

interface ServerSeen {
  received: number;
  ended: "fin" | "error" | undefined;
  error?: string;
}

class TcpPeerServer {
  behaviour: ServerBehaviour = { kind: "echo" };
  readonly seen: ServerSeen[] = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly srv: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<TcpPeerServer> {
    let self!: TcpPeerServer;
    const srv = net.createServer({ allowHalfOpen: true }, (s) => self.onConn(s));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    self = new TcpPeerServer(srv, (srv.address() as net.AddressInfo).port);
    return self;
  }

  private onConn(s: net.Socket): void {
    this.sockets.add(s);
    const b = this.behaviour;
    const seen: ServerSeen = { received: 0, ended: undefined };
    this.seen.push(seen);
    const h = createHash("sha256");
    s.on("error", (e: Error & { code?: string }) => {
      seen.ended ??= "error";
      seen.error = e.code ?? e.message;
    });
    s.on("close", () => this.sockets.delete(s));
    s.on("data", (d: Buffer) => {
      seen.received += d.length;
      if (b.kind === "echo") s.write(d);
      else if (b.kind === "sink-then-reply") h.update(d);
      else if (b.kind === "reset" && seen.received >= b.after) s.resetAndDestroy();
    });
    s.on("end", () => {
      seen.ended ??= "fin";
      if (b.kind === "sink-then-reply") {
        s.write(h.digest("hex"));
        s.write(b.reply);
      }
      if (!s.destroyed) s.end();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.srv.close(() => r()));
  }
}

interface ClientOutcome {
  received: Uint8Array;
  /** "fin": the proxy ended the stream in order; "error": an error (code in `error`). */
  ended: "fin" | "error" | "timeout";
  error?: string;
  /** Time of the client's own FIN and of the first byte received after it (ms). */
  finAt?: number;
  firstAfterFin?: number;
}

/** Connects to the client-side proxy, sends `data`, half-closes, reads to the end. */
function tcpClient(port: number, data: Uint8Array, opts: { resetWhen?: () => Promise<void>; timeoutMs?: number } = {}): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const out: Partial<ClientOutcome> = {};
    let done = false;
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const finish = (ended: ClientOutcome["ended"], error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      if (!s.destroyed) s.destroy();
      resolve({ ...out, received: new Uint8Array(Buffer.concat(chunks)), ended, ...(error ? { error } : {}) });
    };
    const t = setTimeout(() => finish("timeout"), opts.timeoutMs ?? 20_000);
    s.on("connect", () => {
      const write = (o: number): void => {
        while (o < data.length) {
          const chunk = data.subarray(o, Math.min(data.length, o + 16384));
          o += chunk.length;
          if (!s.write(chunk)) {
            s.once("drain", () => write(o));
            return;
          }
        }
        // Either a reset (once the test says so) or an orderly half-close.
        if (opts.resetWhen) void opts.resetWhen().then(() => s.resetAndDestroy());
        else s.end(() => (out.finAt = performance.now()));
      };
      write(0);
    });
    s.on("data", (d: Buffer) => {
      if (out.finAt !== undefined && out.firstAfterFin === undefined) out.firstAfterFin = performance.now();
      chunks.push(d);
    });
    s.on("end", () => finish("fin"));
    s.on("error", (e: Error & { code?: string }) => finish("error", e.code ?? e.message));
    s.on("close", () => finish("error", "closed"));
  });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function stopProxy(p: CliRun): Promise<{ code: number | null; lines: Array<Record<string, unknown>>; stderr: string }> {
  // process.kill as test/adapters/udp.test.ts does: under `deno test`, child.kill("SIGTERM") left
  // the proxies with exit code null (killed) instead of their own status.
  if (p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid!, "SIGTERM");
  const r = await p.done;
  return { code: r.code, lines: jsonLines(r.stdout), stderr: r.stderr };
}

/** The port the client-side proxy printed ("mptcp proxy: TCP 127.0.0.1:PORT -> ..."). */
function listenPort(p: CliRun): number {
  const m = /mptcp proxy: TCP [^ ]+:(\d+) ->/.exec(p.stderr());
  assert.ok(m, p.stderr());
  return Number(m[1]);
}

/** Server-side proxy on 127.0.0.1 and client-side proxy on 127.0.0.2 + 127.0.0.3, over UDP. */
async function udpPair(tcpTarget: number): Promise<{ a: CliRun; b: CliRun; port: number }> {
  const p = await freeUdpPort("127.0.0.1");
  const b = start(cliArgv(["proxy", "--udp", `127.0.0.1:${p}`, "--port", String(p), "--to", `127.0.0.1:${tcpTarget}`, "--json", "--timeout", "45"]), { killAfterMs: 60_000 });
  let a: CliRun | undefined;
  try {
    await b.waitFor(/mptcp proxy: MPTCP port/, 30_000);
    a = start(cliArgv(["proxy", "--udp", "127.0.0.2", "--udp", "127.0.0.3", "--listen-tcp", "127.0.0.1:0", "--connect", `127.0.0.1:${p}`, "--json", "--timeout", "45"]), { killAfterMs: 60_000 });
    await a.waitFor(/mptcp proxy: TCP /, 30_000);
    return { a, b, port: listenPort(a) };
  } catch (e) {
    stop(a);
    stop(b);
    throw e;
  }
}

// ----------------------------------------------------------------- 2. UDP on loopback, no root

test(`proxy over UDP (${runtimeName}): echo byte-exact through the pair, two paths, then half-close with the reply after the client's FIN`, async () => {
  const srv = await TcpPeerServer.start();
  const { a, b, port } = await udpPair(srv.port);
  try {
    const n = 512 * 1024;
    const data = bytes(n, 1);
    const r1 = await tcpClient(port, data);
    assert.equal(r1.ended, "fin", r1.error);
    assert.equal(r1.received.length, n);
    assert.equal(sha(r1.received), sha(data), "echo byte-exact");
    // Half-close: the server answers only after it saw our FIN (FIN -> DATA_FIN -> FIN), and the
    // reply still flows back to a client that already half-closed.
    const reply = bytes(200 * 1024, 2);
    srv.behaviour = { kind: "sink-then-reply", reply };
    const up = bytes(300 * 1024, 3);
    const r2 = await tcpClient(port, up);
    assert.equal(r2.ended, "fin", r2.error);
    assert.equal(new TextDecoder().decode(r2.received.subarray(0, 64)), sha(up), "the server received exactly what we sent, then our FIN");
    assert.equal(sha(r2.received.subarray(64)), sha(reply), "the reply came back intact after our half-close");
    assert.ok(r2.finAt !== undefined && r2.firstAfterFin !== undefined && r2.firstAfterFin >= r2.finAt);
    assert.equal(srv.seen[1]!.ended, "fin");
    const ra = await stopProxy(a);
    const rb = await stopProxy(b);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(ra.lines.length, 2, ra.stderr);
    assert.equal(rb.lines.length, 2, rb.stderr);
    for (const l of [...ra.lines, ...rb.lines]) {
      assert.equal(l.ok, true, JSON.stringify(l.error));
      assert.equal(l.mptcp, true);
    }
    assert.deepEqual([ra.lines[0]!.bytesSent, ra.lines[0]!.bytesReceived], [n, n]);
    assert.deepEqual([ra.lines[1]!.bytesSent, ra.lines[1]!.bytesReceived], [up.length, 64 + reply.length]);
    assert.deepEqual([rb.lines[1]!.bytesSent, rb.lines[1]!.bytesReceived], [64 + reply.length, up.length]);
    const subs = ra.lines[0]!.subflows as Array<{ local: string; bytesSent: number }>;
    assert.equal(subs.length, 2, `the second path joined: ${JSON.stringify(subs)}`);
    assert.ok(subs.some((s) => s.local.startsWith("127.0.0.3:")));
  } finally {
    stop(a);
    stop(b);
    await srv.close();
  }
});

test(`proxy over UDP (${runtimeName}): resets cross the pair both ways, a refused target resets the client`, async () => {
  const srv = await TcpPeerServer.start();
  const { a, b, port } = await udpPair(srv.port);
  let b2: CliRun | undefined;
  try {
    // The TCP server resets: the TCP client must see a reset, never an orderly end.
    srv.behaviour = { kind: "reset", after: 64 * 1024 };
    const r1 = await tcpClient(port, bytes(1024 * 1024, 4));
    assert.equal(r1.ended, "error", `the client saw ${r1.ended}`);
    assert.match(r1.error ?? "", /ECONNRESET|EPIPE/);
    // The TCP client resets: the TCP server must see a reset.
    // (Once the server has all the bytes: a reset before the MPTCP handshake completes never
    // reaches the server at all, correctly.)
    srv.behaviour = { kind: "observe" };
    const m = 256 * 1024;
    const until = Date.now() + 15_000;
    const serverHasAll = async (): Promise<void> => {
      while (!((srv.seen[1]?.received ?? 0) >= m) && Date.now() < until) await sleep(20);
    };
    const r2 = await tcpClient(port, bytes(m, 5), { resetWhen: serverHasAll });
    assert.equal(r2.ended, "error");
    assert.equal(srv.seen[1]?.received, m, `${r2.error}; proxies: ${a.stderr()} ${b.stderr()}`);
    while (srv.seen[1]?.ended === undefined && Date.now() < until) await sleep(20);
    assert.equal(srv.seen[1]?.ended, "error", `the server saw ${srv.seen[1]?.ended}`);
    assert.equal(srv.seen[1]?.error, "ECONNRESET");
    // And the pair still relays a clean connection afterwards.
    srv.behaviour = { kind: "echo" };
    const data = bytes(100_000, 6);
    const r3 = await tcpClient(port, data);
    assert.equal(r3.ended, "fin", r3.error);
    assert.equal(sha(r3.received), sha(data));
    const ra = await stopProxy(a);
    const rb = await stopProxy(b);
    assert.equal(ra.code, 1, "a proxy that relayed failed connections exits 1");
    assert.deepEqual(ra.lines.map((l) => l.ok), [false, false, true], ra.stderr);
    assert.deepEqual(rb.lines.map((l) => l.ok), [false, false, true], rb.stderr);
    assert.match(String(rb.lines[0]!.error), /tcp reset/);
    assert.match(String(ra.lines[0]!.error), /mptcp connection (fastclose|reset)/);
    assert.match(String(ra.lines[1]!.error), /tcp reset/);
    assert.match(String(rb.lines[1]!.error), /mptcp connection (fastclose|reset)/);

    // A server-side proxy whose target refuses: the client is reset.
    const closed = await new Promise<number>((r) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const p2 = await freeUdpPort("127.0.0.1");
    b2 = start(cliArgv(["proxy", "--udp", `127.0.0.1:${p2}`, "--port", String(p2), "--to", `127.0.0.1:${closed}`, "--json", "--once", "--timeout", "30"]), { killAfterMs: 45_000 });
    await b2.waitFor(/mptcp proxy: MPTCP port/, 30_000);
    const a2 = start(cliArgv(["proxy", "--udp", "127.0.0.2", "--listen-tcp", "127.0.0.1:0", "--connect", `127.0.0.1:${p2}`, "--json", "--once", "--timeout", "30"]), { killAfterMs: 45_000 });
    try {
      await a2.waitFor(/mptcp proxy: TCP /, 30_000);
      const r4 = await tcpClient(listenPort(a2), bytes(10_000, 7));
      assert.equal(r4.ended, "error");
      assert.match(r4.error ?? "", /ECONNRESET|EPIPE/);
      const x2 = await a2.done;
      const y2 = await b2.done;
      assert.equal(x2.code, 1);
      assert.equal(y2.code, 1);
      assert.match(String(jsonLines(y2.stdout)[0]?.error), /ECONNREFUSED/);
    } finally {
      stop(a2);
    }
  } finally {
    stop(a);
    stop(b);
    stop(b2);
    await srv.close();
  }
});

// ------------------------------------------------------------- 3. TUN in a network namespace

const PEERS = join(root, "test", "interop", "proxy_peers.py");
const PY_CLIENT = join(root, "test", "interop", "client.py");
const skip = interopSkip();
let nsCounter = 0;

/** A namespace of this test ("h3-proxy-PID-N"), deleted in finally; stale ones of dead PIDs swept. */
class ProxyNs {
  private constructor(readonly name: string) {}
  static create(): ProxyNs {
    for (const line of sh(["ip", "netns", "list"], { check: false }).stdout.split("\n")) {
      const m = /^(h3-proxy-(\d+)-\d+)/.exec(line);
      if (m && !alive(Number(m[2]))) sh(["ip", "netns", "del", m[1]!], { check: false });
    }
    const ns = new ProxyNs(`h3-proxy-${process.pid}-${++nsCounter}`);
    sh(["ip", "netns", "add", ns.name]);
    return ns;
  }
  wrap(argv: string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...argv];
  }
  exec(argv: string[]): string {
    return sh(this.wrap(argv)).stdout;
  }
  ip(...args: string[]): void {
    sh(["ip", "-n", this.name, ...args]);
  }
  /** Bytes the kernel received from our stack on a TUN device (what the proxy wrote to it). */
  rxBytes(dev: string): number {
    return this.linkStats(dev).rx;
  }
  /** The device's counters as the kernel sees them: rx = from the proxy, tx = to the proxy. */
  linkStats(dev: string): { rx: number; tx: number } {
    const j = JSON.parse(sh(["ip", "-n", this.name, "-s", "-j", "link", "show", "dev", dev]).stdout) as Array<{ stats64: { rx: { bytes: number }; tx: { bytes: number } } }>;
    return { rx: j[0]!.stats64.rx.bytes, tx: j[0]!.stats64.tx.bytes };
  }
  destroy(): void {
    sh(["ip", "netns", "del", this.name], { check: false });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** The namespace of the header: four TUN devices, forwarding, rate limits, echo server, proxies. */
async function withTunPair(fn: (ns: ProxyNs, procs: { a: CliRun; b: CliRun }) => Promise<void>): Promise<void> {
  const ns = ProxyNs.create();
  const procs: CliRun[] = [];
  try {
    ns.ip("link", "set", "lo", "up");
    ns.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    const devs = ["h3a0", "h3a1", "h3b0", "h3b1"];
    devs.forEach((d, i) => {
      ns.exec(["ip", "tuntap", "add", "dev", d, "mode", "tun"]);
      ns.ip("addr", "add", `198.18.${i}.1/24`, "dev", d);
      ns.ip("link", "set", d, "up");
      sh(["ip", "netns", "exec", ns.name, "tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", "60mbit", "burst", "64kbit", "latency", "200ms"]);
    });
    const py = start(ns.wrap(["python3", PEERS, "server", "--addr", "127.0.0.1", "--port", "9000", "--timeout", "90"]), { killAfterMs: 100_000 });
    procs.push(py);
    await py.waitFor(/READY/);
    const b = start(ns.wrap(cliArgv(["proxy", "--tun", "h3b0=198.18.2.2", "--tun", "h3b1=198.18.3.2", "--announce", "198.18.3.2", "--port", "5000", "--to", "127.0.0.1:9000", "--json", "--timeout", "80"])), { killAfterMs: 95_000 });
    procs.push(b);
    await b.waitFor(/mptcp proxy: MPTCP port/, 30_000);
    const a = start(ns.wrap(cliArgv(["proxy", "--tun", "h3a0=198.18.0.2", "--tun", "h3a1=198.18.1.2", "--listen-tcp", "127.0.0.1:8000", "--connect", "198.18.2.2:5000", "--json", "--timeout", "80"])), { killAfterMs: 95_000 });
    procs.push(a);
    await a.waitFor(/mptcp proxy: TCP /, 30_000);
    await fn(ns, { a, b });
  } finally {
    for (const p of procs) stop(p);
    ns.destroy();
  }
}

interface PyConn {
  bytes_out: number;
  bytes_in: number;
  sha256_out: string;
  sha256_in: string;
  error: string | null;
}

function pyClientResult(stdout: string): { seconds: number; conns: PyConn[] } {
  const lines = jsonLines(stdout);
  assert.ok(lines.length > 0, `no JSON from the TCP client: ${stdout}`);
  return lines[lines.length - 1] as unknown as { seconds: number; conns: PyConn[] };
}

test(`proxy over TUN (${runtimeName}): plain TCP client -> proxy pair over two paths each -> plain TCP server, 16 MiB echo byte-exact, then 8 concurrent connections, then the kernel's MPTCP and TCP clients straight to the server side`, { skip }, async () => {
  requireInterop();
  await withTunPair(async (ns, { a, b }) => {
    const n = 16 * 1024 * 1024;
    const c1 = start(ns.wrap(["python3", PEERS, "client", "--addr", "127.0.0.1", "--port", "8000", "--bytes", String(n), "--timeout", "60"]), { killAfterMs: 70_000 });
    const r1 = pyClientResult((await c1.done).stdout);
    const x = r1.conns[0]!;
    assert.equal(x.error, null);
    assert.equal(x.bytes_in, n);
    assert.equal(x.sha256_in, x.sha256_out, "16 MiB echoed byte-exact through both proxies");
    // The second access path carried part of it, both ways.
    const a1 = ns.linkStats("h3a1");
    assert.ok(a1.rx > 100_000 && a1.tx > 100_000, `h3a1 carried ${JSON.stringify(a1)}`);
    const k = 8;
    const m = 1024 * 1024;
    const c2 = start(ns.wrap(["python3", PEERS, "client", "--addr", "127.0.0.1", "--port", "8000", "--bytes", String(m), "--conns", String(k), "--timeout", "60"]), { killAfterMs: 70_000 });
    const r2 = pyClientResult((await c2.done).stdout);
    assert.equal(r2.conns.length, k);
    for (const [i, c] of r2.conns.entries()) {
      assert.equal(c.error, null, `connection ${i}`);
      assert.equal(c.bytes_in, m, `connection ${i}`);
      assert.equal(c.sha256_in, c.sha256_out, `connection ${i} byte-exact`);
    }
    assert.equal(new Set(r2.conns.map((c) => c.sha256_out)).size, k, "each connection carried its own bytes");
    // The server-side proxy straight from the namespace's kernel: its MPTCP client
    // (socket(..., 262)), then a plain TCP client (served through the Endpoint's fallback).
    for (const mptcp of [true, false]) {
      const kc = start(ns.wrap(["python3", PY_CLIENT, "--addr", "198.18.2.2", "--port", "5000", "--bytes", String(m), "--timeout", "30", ...(mptcp ? ["--mptcp"] : [])]), { killAfterMs: 40_000 });
      const kr = jsonLines((await kc.done).stdout).pop();
      assert.ok(kr, `kernel client (mptcp ${mptcp}): ${kc.stderr()}`);
      assert.equal(kr.error, undefined, String(kr.error));
      assert.equal(kr.bytes_in, m);
      assert.equal(kr.sha256_in, kr.sha256_out, `the kernel's ${mptcp ? "MPTCP" : "TCP"} client got its bytes back`);
      assert.equal(kr.mptcp, mptcp);
    }
    const ra = await stopProxy(a);
    const rb = await stopProxy(b);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(ra.lines.length, 1 + k);
    assert.equal(rb.lines.length, 1 + k + 2);
    assert.deepEqual(rb.lines.slice(-2).map((l) => [l.ok, l.mptcp]), [[true, true], [true, false]], "the kernel's MPTCP client, then plain TCP (fallback)");
    const subs = ra.lines[0]!.subflows as Array<{ local: string; remote: string; bytesSent: number }>;
    assert.ok(subs.length >= 2 && subs.some((s) => s.local.startsWith("198.18.1.2:") && s.bytesSent > 0), JSON.stringify(subs));
    assert.ok(ra.lines.every((l) => l.ok === true && l.mptcp === true));
    const devs = ["h3a0", "h3a1", "h3b0", "h3b1"].map((d) => `${d} ${JSON.stringify(ns.linkStats(d))}`).join(", ");
    process.stderr.write(`# proxy over TUN (${runtimeName}): 16 MiB echo in ${r1.seconds} s, ${k} x 1 MiB concurrent in ${r2.seconds} s; subflows of the first (sent/received): ${subs.map((s) => `${s.local}->${s.remote} ${s.bytesSent}/${(s as { bytesReceived?: number }).bytesReceived} B`).join(", ")}; devices: ${devs}\n`);
  });
});

test(`proxy over TUN (${runtimeName}): one of the client-side paths goes down mid-transfer; the 16 MiB echo completes byte-exact`, { skip }, async () => {
  requireInterop();
  await withTunPair(async (ns, { a, b }) => {
    const n = 16 * 1024 * 1024;
    const c = start(ns.wrap(["python3", PEERS, "client", "--addr", "127.0.0.1", "--port", "8000", "--bytes", String(n), "--timeout", "70", "--progress"]), { killAfterMs: 80_000 });
    // Mid-transfer: once the second path carried data and the client got 4 MiB back.
    await c.waitFor(/PROGRESS (4|5|6|7|8|9)\d{6}/, 60_000);
    const before = ns.rxBytes("h3a1");
    assert.ok(before > 100_000, `h3a1 carried ${before} B before the failure`);
    assert.doesNotMatch(c.stdout(), /"conns"/, "the transfer is still running");
    ns.ip("link", "set", "h3a1", "down");
    const r = pyClientResult((await c.done).stdout);
    const x = r.conns[0]!;
    assert.equal(x.error, null);
    assert.equal(x.bytes_in, n);
    assert.equal(x.sha256_in, x.sha256_out, "byte-exact despite the path failure");
    const ra = await stopProxy(a);
    const rb = await stopProxy(b);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const subs = ra.lines[0]!.subflows as Array<{ local: string; remote: string; bytesSent: number }>;
    process.stderr.write(`# proxy over TUN (${runtimeName}), h3a1 down after ${before} B: 16 MiB echo in ${r.seconds} s; subflows: ${subs.map((s) => `${s.local}->${s.remote} ${s.bytesSent} B`).join(", ")}\n`);
    assert.ok(subs.some((s) => s.local.startsWith("198.18.1.2:") && s.bytesSent > 0), "the failed path had carried data");
  });
});
