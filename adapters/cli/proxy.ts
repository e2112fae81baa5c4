// `mptcp proxy` (issue 9): relays between MPTCP (our userspace stack over TUN devices or UDP,
// several paths) and plain TCP through the operating system (adapters/runtime/tcp_socket.ts).
//
//   server side: mptcp proxy (--tun DEV=ADDR ... | --udp ADDR:PORT ...) --port P --to HOST:PORT
//     accepts MPTCP connections on port P and relays each to a plain TCP server HOST:PORT;
//   client side: mptcp proxy (--tun ... | --udp ADDR ...) --listen-tcp [ADDR:]PORT --connect HOST:PORT
//     accepts plain TCP clients (on 127.0.0.1 unless ADDR is given) and carries each over MPTCP
//     to HOST:PORT (usually a server-side proxy).
//
// Per connection pair, both directions, with backpressure and no unbounded buffering:
// - TCP -> MPTCP: chunks read from the OS socket wait in a queue until the MPTCP send buffer
//   takes them; at HIGH queued bytes the socket is paused (the kernel's window closes) and it is
//   resumed under LOW.
// - MPTCP -> TCP: bytes are read from the MPTCP connection only while the OS socket has fewer
//   than HIGH bytes waiting in user space; otherwise they stay in the MPTCP receive buffer and
//   the connection-level window closes on the peer.
// - Half-close: the TCP peer's FIN becomes a DATA_FIN (shutdown()) once every byte before it was
//   written; the MPTCP peer's DATA_FIN becomes a FIN (end()) once every byte before it was read.
// - Resets: an MPTCP reset / fast close / timeout resets the TCP socket (RST, never a FIN: a
//   truncated stream must not look complete); a TCP reset or failure (including a refused
//   connect to --to) aborts the MPTCP connection (MP_FASTCLOSE).
// The MPTCP stack, ports, driver, options and JSON summary are those of `mptcp server/client`
// (main.ts); the stack runs every pair from its onProgress hook with the current time. Over TUN
// one stack carries every connection; the client side over UDP opens a stack with fresh sockets
// per connection (TCP-in-UDP: a socket's port is the TCP port of every subflow on its path, and
// a finished connection keeps its 4-tuples in TIME-WAIT). Not on adapters/streams: its connect()
// owns a private stack per connection, and a TUN device can be attached by one stack only, so
// the client side over TUN could not carry concurrent connections through it.
import process from "node:process";
import { formatIp } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import { Driver, LossyPort } from "../driver.ts";
import type { PacketPort } from "../driver.ts";
import { CryptoRandomSource, globalTimers, PerformanceClock } from "../runtime/index.ts";
import { tcpConnect, tcpListen } from "../runtime/tcp_socket.ts";
import type { TcpFailure, TcpListener, TcpSocket } from "../runtime/tcp_socket.ts";
import { PcapFileTap } from "../node/pcap_stream.ts";
import { parseArgs, UsageError } from "./args.ts";
import type { ClientOptions, ServerOptions } from "./args.ts";
import { buildStack, mptcpConfig, openPorts, tcpConfig } from "./main.ts";
import type { RunIo } from "./main.ts";
import type { AppConnection, AppStack, StackPath, SubflowSummary } from "./stack.ts";

export const PROXY_USAGE: string = `usage:
  mptcp proxy (--tun DEV=ADDR ... | --udp ADDR:PORT ...) --port PORT --to HOST:PORT [--once] [common]
      server side: accept MPTCP on PORT, relay each connection to the plain TCP server HOST:PORT
  mptcp proxy (--tun DEV=ADDR ... | --udp ADDR ...) --listen-tcp [ADDR:]PORT --connect HOST:PORT [--once] [common]
      client side: accept plain TCP on ADDR:PORT (default 127.0.0.1), carry each over MPTCP to HOST:PORT
  common: [--checksum] [--scheduler NAME] [--cc NAME] [--max-subflows N] [--announce ADDR ...] [--backup ADDR ...]
          [--no-mptcp] [--pcap FILE] [--timeout SECONDS] [--json] [--loss P]
  --once       exit after the first connection ended (status 0 if it ended in order)
  --timeout S  stop after S seconds (default: none; 60 with --once)
  --json       one JSON line per connection: ok, mptcp, tcp (the TCP peer), bytesSent / bytesReceived
               (over MPTCP), seconds, subflows, counters, error
  Over --udp the client side opens new UDP sockets (one port, on every path) per connection: with
  TCP-in-UDP a socket's port is the TCP port of all its subflows. Over --tun one stack carries all.`;

/** Bytes queued on either side of a pair before that side's reader is paused. */
const HIGH = 256 * 1024;
const LOW = 64 * 1024;
const READ_CHUNK = 64 * 1024;

export interface ProxyOptions {
  /** The MPTCP side's options, as `mptcp server` (side "server") or `mptcp client` ("client"). */
  mptcp: ServerOptions | ClientOptions;
  side: "server" | "client";
  /** Server side: the plain TCP server. */
  to?: { host: string; port: number };
  /** Client side: where plain TCP clients connect. */
  listen?: { host: string; port: number };
  once: boolean;
}

/** "HOST:PORT", "[V6]:PORT" (HOST may be a name: the OS resolves it). */
function parseTcpTarget(s: string, what: string, portOnlyHost?: string): { host: string; port: number } {
  // --listen-tcp (portOnlyHost given) takes port 0: the OS picks one, printed on stderr.
  const port = (p: string): number => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < (portOnlyHost !== undefined ? 0 : 1) || n > 65535) throw new UsageError(`${what}: bad port "${p}"`);
    return n;
  };
  if (portOnlyHost !== undefined && /^\d+$/.test(s)) return { host: portOnlyHost, port: port(s) };
  const b = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (b) return { host: b[1]!, port: port(b[2]!) };
  const m = /^([^:[\]]+):(\d+)$/.exec(s);
  if (!m) throw new UsageError(`${what}: expected HOST:PORT or [V6]:PORT, got "${s}"`);
  return { host: m[1]!, port: port(m[2]!) };
}

/** Parses `mptcp proxy` arguments (without "proxy"); throws UsageError. */
export function parseProxyArgs(argv: string[]): ProxyOptions {
  let to: { host: string; port: number } | undefined;
  let listen: { host: string; port: number } | undefined;
  let once = false;
  const rest: string[] = [];
  const notHere = new Set(["--echo", "--sink", "--source", "--send", "--in", "--out"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--to") to = parseTcpTarget(val(), "--to");
    else if (a === "--listen-tcp") listen = parseTcpTarget(val(), "--listen-tcp", "127.0.0.1");
    else if (a === "--once") once = true;
    else if (notHere.has(a)) throw new UsageError(`${a} is not a proxy option (the proxy relays what the TCP side sends)`);
    else rest.push(a);
  }
  if (to && listen) throw new UsageError("choose one side: --to HOST:PORT (server side, with --port) or --listen-tcp PORT (client side, with --connect)");
  if (!to && !listen) throw new UsageError("proxy needs --to HOST:PORT (server side, with --port) or --listen-tcp [ADDR:]PORT (client side, with --connect)");
  if (to) {
    if (rest.includes("--connect")) throw new UsageError("--connect goes with --listen-tcp (client side); the server side takes --port and --to");
    const o = parseArgs(["server", ...rest]);
    if (o.command !== "server") throw new UsageError("internal: expected server options");
    return { mptcp: o, side: "server", to, once };
  }
  if (rest.includes("--port")) throw new UsageError("--port goes with --to (server side); the client side takes --listen-tcp and --connect");
  const o = parseArgs(["client", ...rest]);
  return { mptcp: o, side: "client", listen, once };
}

/** One relayed connection's summary (the --json line). */
export interface ProxyResult {
  ok: boolean;
  mptcp: boolean;
  /** The plain TCP peer ("ADDR:PORT"), or the target that could not be reached. */
  tcp: string;
  /** Bytes carried TCP -> MPTCP and MPTCP -> TCP. */
  bytesSent: number;
  bytesReceived: number;
  seconds: number;
  subflows: SubflowSummary[];
  counters: Record<string, number>;
  error?: string;
}

/** An MPTCP connection and its OS TCP socket, relayed both ways. */
export class RelayPair {
  private sock: TcpSocket | undefined;
  /** TCP -> MPTCP queue. */
  private readonly up: Uint8Array[] = [];
  private upHead = 0; // offset into up[0]
  private upBytes = 0;
  private paused = false;
  private tcpEnded = false; // the TCP peer's FIN
  private mpShut = false; // our DATA_FIN queued
  private tcpFinSent = false; // our FIN queued
  private tcpClosed = false;
  private tcpFailure: string | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  result: ProxyResult | undefined;

  constructor(
    readonly conn: AppConnection,
    private tcpLabel: string,
    private readonly startUs: number,
    /** Asks the stack for a pass over the pairs at the current time (after a TCP event). */
    private readonly kick: () => void,
  ) {}

  /** The OS socket is ready (connected or accepted): start relaying it. */
  attach(sock: TcpSocket): void {
    this.sock = sock;
    this.tcpLabel = sock.remote;
    sock.setHandlers({
      onData: (b) => {
        this.up.push(b);
        this.upBytes += b.length;
        if (this.upBytes >= HIGH && !this.paused) {
          this.paused = true;
          sock.pause();
        }
        this.kick();
      },
      onEnd: () => {
        this.tcpEnded = true;
        this.kick();
      },
      onDrain: () => this.kick(),
      onClose: (failure: TcpFailure | undefined, message: string | undefined) => {
        this.tcpClosed = true;
        if (failure !== undefined && !this.result) this.tcpFailure = `tcp ${failure}${message ? `: ${message}` : ""}`;
        this.kick();
      },
    });
    sock.resume();
  }

  /** The OS side could not be opened (refused connect...): the MPTCP side is aborted. */
  tcpFailed(why: string): void {
    this.tcpFailure = why;
    this.kick();
  }

  /** One relay pass (called from the stack's onProgress with the current time). */
  step(now: number): void {
    if (this.result) return;
    const c = this.conn;
    const sock = this.sock;
    if (c.failed) {
      sock?.reset();
      return this.finish(now, false, `mptcp connection ${c.failed}`);
    }
    if (this.tcpFailure) {
      c.abort();
      return this.finish(now, false, this.tcpFailure);
    }
    if (!c.established) return;
    // TCP -> MPTCP.
    while (this.up.length > 0) {
      const head = this.up[0]!;
      const n = c.write(this.upHead === 0 ? head : head.subarray(this.upHead));
      if (n === 0) break;
      this.bytesSent += n;
      this.upBytes -= n;
      this.upHead += n;
      if (this.upHead === head.length) {
        this.up.shift();
        this.upHead = 0;
      }
    }
    if (this.paused && this.upBytes < LOW && sock) {
      this.paused = false;
      sock.resume();
    }
    if (this.tcpEnded && this.upBytes === 0 && !this.mpShut) {
      this.mpShut = true;
      c.shutdown();
    }
    // MPTCP -> TCP (only once the socket exists: until then the bytes wait in the MPTCP buffer).
    if (sock && !this.tcpClosed && sock.writable) {
      while (c.readable > 0 && sock.writeBuffered < HIGH) {
        const b = new Uint8Array(Math.min(READ_CHUNK, c.readable));
        const n = c.read(b);
        if (n === 0) break;
        this.bytesReceived += n;
        sock.write(n === b.length ? b : b.subarray(0, n));
      }
      if (c.peerDone && !this.tcpFinSent) {
        this.tcpFinSent = true;
        sock.end();
      }
    }
    if (this.mpShut && this.tcpFinSent && this.tcpClosed && c.sendDone && c.peerDone) this.finish(now, true);
  }

  /** Ends the pair now (timeout, signal): both sides reset. */
  abort(now: number, why: string): void {
    if (this.result) return;
    this.sock?.reset();
    this.conn.abort();
    this.finish(now, false, why);
  }

  private finish(now: number, ok: boolean, error?: string): void {
    if (this.result) return;
    const c = this.conn;
    this.up.length = 0;
    this.upBytes = 0;
    this.result = {
      ok,
      mptcp: c.mptcp,
      tcp: this.tcpLabel,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      seconds: Math.round((now - this.startUs) / 1000) / 1000,
      subflows: c.subflows(),
      counters: c.counters(),
      ...(error ? { error } : {}),
    };
  }
}

/** "host:port", "[v6]:port". */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function summaryLine(r: ProxyResult): string {
  const sf = r.subflows.map((s) => `${s.local} -> ${s.remote}`).join(", ");
  return `proxy: ${r.tcp}: ${r.ok ? "completed" : "FAILED" + (r.error ? ` (${r.error})` : "")}; ${r.mptcp ? "MPTCP" : "TCP"}; ${r.bytesSent} B to MPTCP, ${r.bytesReceived} B from MPTCP in ${r.seconds} s; ${sf}`;
}

const defaultIo: RunIo = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

/** One MPTCP stack with its ports and driver, and the pairs it carries. */
interface Instance {
  stack: AppStack;
  driver: Driver;
  pairs: RelayPair[];
  labels: string;
  /** Asks for a pass over this instance's pairs (after a TCP event). */
  kick: () => void;
  close(): Promise<void>;
}

/** Opens the paths and builds the stack; `onProgress(inst, now)` runs after every input. */
async function openInstance(mo: ServerOptions | ClientOptions, tap: PcapFileTap | undefined, onError: (e: unknown) => void, onProgress: (inst: Instance, now: number) => void): Promise<Instance> {
  const opened = await openPorts(mo);
  const rnd = new CryptoRandomSource();
  const u32 = new Uint32Array(1);
  const ports: PacketPort[] =
    mo.loss > 0
      ? opened.ports.map(
          (p) =>
            new LossyPort(p, mo.loss, () => {
              rnd.fill(new Uint8Array(u32.buffer));
              return u32[0]! / 2 ** 32;
            }),
        )
      : opened.ports;
  const paths: StackPath[] = ports.map((p) => ({ address: p.address, localPort: p.localPort, backup: mo.backup.some((b) => formatIp(b) === formatIp(p.address)) }));
  let stack: AppStack;
  try {
    const mtus = ports.map((p) => p.mtu).filter((m): m is number => m !== undefined);
    stack = buildStack(mo, paths, mtus.length === ports.length ? Math.min(...mtus) : undefined);
  } catch (e) {
    await opened.close();
    throw e;
  }
  const driver = new Driver({ host: stack, ports, clock: new PerformanceClock(), timers: globalTimers, tap, onError });
  let kickQueued = false;
  let closed = false;
  const inst: Instance = {
    stack,
    driver,
    pairs: [],
    labels: ports.map((p) => p.label).join(", "),
    // The stack runs onProgress whenever it has nothing left to send, so an empty command
    // through the driver is a pass; several TCP events in one turn share one pass.
    kick: () => {
      if (kickQueued || closed) return;
      kickQueued = true;
      queueMicrotask(() => {
        kickQueued = false;
        if (!closed) driver.act(() => undefined);
      });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await driver.stop();
      await opened.close();
    },
  };
  stack.onProgress = (now) => onProgress(inst, now);
  driver.start();
  return inst;
}

/** Runs `mptcp proxy ARGS`; resolves with the exit status (0: every connection relayed in order). */
export async function runProxy(argv: string[], io: RunIo = defaultIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stderr(PROXY_USAGE);
    return 0;
  }
  let opts: ProxyOptions;
  try {
    opts = parseProxyArgs(argv);
    if (opts.mptcp.mptcp) mptcpConfig(opts.mptcp);
    else tcpConfig(opts.mptcp);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`mptcp proxy: ${e.message}\n${PROXY_USAGE}`);
      return 2;
    }
    throw e;
  }
  const mo = opts.mptcp;
  // Over UDP a client stack has one port for all its paths (TCP-in-UDP), and a finished
  // connection keeps its 4-tuples (TIME-WAIT): the client side opens a stack with fresh sockets
  // per connection there. Over TUN one stack carries every connection.
  const perConnection = opts.side === "client" && mo.paths[0]!.kind === "udp";
  const tap = mo.pcap ? new PcapFileTap(mo.pcap) : undefined;
  let failure: unknown;
  let wake!: () => void;
  const crashed = new Promise<void>((r) => (wake = r));
  const onError = (e: unknown): void => {
    failure = e;
    wake();
  };
  const instances = new Set<Instance>();
  let served = 0;
  let allOk = true;
  let firstResult: ProxyResult | undefined;
  let firstDone!: () => void;
  const first = new Promise<"first">((r) => (firstDone = () => r("first")));
  let rejectNew = false;
  const report = (p: RelayPair): void => {
    const r = p.result!;
    served++;
    allOk &&= r.ok;
    io.stderr(summaryLine(r));
    if (mo.json) io.stdout(JSON.stringify(r));
    firstResult ??= r;
    firstDone();
  };
  const onProgress = (inst: Instance, now: number): void => {
    if (opts.side === "server") {
      let c: AppConnection | undefined;
      while ((c = inst.stack.pollAccept()) !== undefined) {
        if (rejectNew) {
          c.abort();
          continue;
        }
        const p = new RelayPair(c, hostPort(opts.to!.host, opts.to!.port), now, inst.kick);
        inst.pairs.push(p);
        tcpConnect(opts.to!.host, opts.to!.port, { timeoutMs: 10_000 }).then(
          (s) => {
            if (p.result) s.reset();
            else p.attach(s);
          },
          (e: unknown) => p.tcpFailed(e instanceof Error ? e.message : String(e)),
        );
      }
    }
    for (let i = inst.pairs.length - 1; i >= 0; i--) {
      const p = inst.pairs[i]!;
      p.step(now);
      if (p.result) {
        inst.pairs.splice(i, 1);
        report(p);
        if (perConnection) {
          // Its own stack: let the last ACKs leave, then release the sockets.
          setTimeout(() => {
            instances.delete(inst);
            void inst.close();
          }, 500);
        }
      }
    }
  };

  let shared: Instance | undefined;
  try {
    if (!perConnection) shared = await openInstance(mo, tap, onError, onProgress);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(`mptcp proxy: ${msg}`);
    if (mo.json) io.stdout(JSON.stringify({ ok: false, error: msg }));
    tap?.close();
    return 1;
  }
  if (shared) instances.add(shared);

  let listener: TcpListener | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopSignal!: (sig: string) => void;
  const signalled = new Promise<string>((r) => (stopSignal = r));
  const sigint = (): void => stopSignal("SIGINT");
  const sigterm = (): void => stopSignal("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  let status = 1;
  try {
    if (opts.side === "server") {
      const so = mo as ServerOptions;
      shared!.driver.act(() => shared!.stack.listen(so.port));
      io.stderr(`mptcp proxy: MPTCP port ${so.port} (${shared!.labels}) -> TCP ${hostPort(opts.to!.host, opts.to!.port)}`);
    } else {
      const co = mo as ClientOptions;
      const remote: IpAddress = co.remote;
      const carry = (inst: Instance, s: TcpSocket): void => {
        inst.driver.act((now) => {
          let c: AppConnection;
          try {
            c = inst.stack.connect(now, remote, co.remotePort);
          } catch (e) {
            io.stderr(`mptcp proxy: ${s.remote}: cannot open an MPTCP connection: ${e instanceof Error ? e.message : String(e)}`);
            s.reset();
            return;
          }
          const p = new RelayPair(c, s.remote, now, inst.kick);
          inst.pairs.push(p);
          p.attach(s);
        });
      };
      listener = await tcpListen(opts.listen!.host, opts.listen!.port, (s) => {
        if (rejectNew) return s.reset();
        if (shared) return carry(shared, s);
        openInstance(mo, tap, onError, onProgress).then(
          (inst) => {
            if (rejectNew) {
              s.reset();
              void inst.close();
              return;
            }
            instances.add(inst);
            carry(inst, s);
          },
          (e: unknown) => {
            io.stderr(`mptcp proxy: ${s.remote}: cannot open the paths: ${e instanceof Error ? e.message : String(e)}`);
            s.reset();
          },
        );
      });
      io.stderr(`mptcp proxy: TCP ${hostPort(listener.address, listener.port)} -> MPTCP ${hostPort(formatIp(remote), co.remotePort)} (${shared ? shared.labels : `${mo.paths.map((p) => p.text).join(", ")}, new UDP sockets per connection`})`);
    }
    const limitS = mo.timeoutS ?? (opts.once ? 60 : 0);
    const timedOut = new Promise<"timeout">((resolve) => {
      if (limitS > 0) timer = setTimeout(() => resolve("timeout"), limitS * 1000);
    });
    const r = await Promise.race([opts.once ? first : new Promise<never>(() => {}), timedOut, signalled, crashed]);
    rejectNew = true;
    const why = failure ? `internal error: ${String(failure)}` : r === "first" ? "--once: another connection ended first" : r === "timeout" ? `timeout after ${limitS} s` : `stopped by ${r}`;
    let open = 0;
    for (const inst of instances) {
      open += inst.pairs.length;
      inst.driver.act((now) => {
        for (const p of inst.pairs.splice(0)) {
          p.abort(now, why);
          report(p);
        }
      });
      inst.driver.flush();
    }
    // --once: the first connection decides; otherwise (stopped by a signal or --timeout) every
    // connection must have ended in order, none still open, at least one served.
    if (opts.once) status = !failure && r === "first" && firstResult?.ok === true ? 0 : 1;
    else status = !failure && open === 0 && served > 0 && allOk ? 0 : 1;
    if (served === 0 && mo.json) io.stdout(JSON.stringify({ ok: false, error: `no connection (${why})` }));
    await new Promise((res) => setTimeout(res, 20));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
    await listener?.close();
    await Promise.all([...instances].map((i) => i.close()));
    tap?.close();
  }
  if (failure) {
    io.stderr(`mptcp proxy: internal error: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    return 1;
  }
  return status;
}
