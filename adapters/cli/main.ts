// `mptcp server` / `mptcp client`: opens the paths (TUN devices or UDP sockets), builds the
// stack (plain TCP with --no-mptcp; MPTCP once core/mptcp lands), runs it with the driver and
// an application (client send/receive; server echo/sink/source), prints a human summary on
// stderr and, with --json, one JSON object as the last line of stdout.
// Exit status: 0 only when the transfer completed; 1 on failure or timeout; 2 on bad usage or
// when the requested feature is not available.
import process from "node:process";
import { openSync, closeSync, readFileSync, writeSync } from "node:fs";
import { formatIp } from "../../core/wire/ip.ts";
import { congestionFactory } from "../../core/congestion/index.ts";
import type { CongestionAlgorithm } from "../../core/congestion/index.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";
import { Driver, LossyPort } from "../driver.ts";
import type { PacketPort } from "../driver.ts";
import { CryptoRandomSource, globalTimers, PerformanceClock } from "../runtime/index.ts";
import { PcapFileTap } from "../node/pcap_stream.ts";
import { UdpPort } from "../udp/udp.ts";
import type { UdpPathPort } from "../udp/udp.ts";
import { TunGroup } from "../tun/tun.ts";
import { BufferSource, ClientApp, PatternSource, ServerApp } from "./app.ts";
import type { ByteSource, TransferResult } from "./app.ts";
import { parseArgs, USAGE, UsageError } from "./args.ts";
import type { ClientOptions, CommonOptions, ServerOptions } from "./args.ts";
import type { AppStack, StackPath } from "./stack.ts";
import { TcpStack } from "./tcp_stack.ts";
import { MptcpStack } from "./mptcp_stack.ts";
import type { MptcpConfigInput } from "../../core/mptcp/types.ts";

/** True once the core/mptcp Endpoint is wired in (the interop MPTCP cases key on it). */
export const MPTCP_AVAILABLE = true;

/** Thrown when a requested feature is not available in this build. */
export class NotAvailableError extends Error {
  override name = "NotAvailableError";
}

export interface RunIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const defaultIo: RunIo = {
  stdout: (l) => process.stdout.write(l + "\n"),
  stderr: (l) => process.stderr.write(l + "\n"),
};

export async function openPorts(o: CommonOptions): Promise<{ ports: PacketPort[]; close: () => Promise<void> }> {
  if (o.paths[0]!.kind === "tun") {
    const g = await TunGroup.open(
      o.paths.map((p) => ({ device: p.kind === "tun" ? p.device : "", address: p.address })),
      { gso: o.gso },
    );
    return { ports: g.ports, close: () => g.close() };
  }
  // TCP-in-UDP: a socket's port is the TCP port of the subflows on its path. Client paths
  // without a port all get the port the first socket was given (bound on each address), so
  // the MPTCP Endpoint can use that one port on every path.
  const udp = o.paths.filter((p) => p.kind === "udp");
  for (let attempt = 0; ; attempt++) {
    const ports: UdpPathPort[] = [];
    let shared = 0;
    try {
      for (const p of udp) {
        const port = p.port !== 0 ? p.port : shared;
        const u = await UdpPort.open({ address: formatIp(p.address), port });
        if (p.port === 0 && shared === 0) shared = u.localPort;
        ports.push(u);
      }
      return { ports, close: async () => void (await Promise.all(ports.map((p) => p.close()))) };
    } catch (e) {
      await Promise.all(ports.map((p) => p.close()));
      // The shared ephemeral port was taken on another address: try another one.
      if (shared !== 0 && attempt < 8) continue;
      throw e;
    }
  }
}

/** Largest MSS the TCP engine takes (65535 - 40). */
const MAX_MSS = 65495;
/**
 * TCP settings from the options; `mtu` is the smallest MTU of the paths when the ports know it
 * (TUN devices): the MSS we announce and send follows it, so a TUN device with a large MTU
 * (ip link set tun0 mtu 65535) carries segments of up to 64 KiB, as the kernel does on it.
 */
export function tcpConfig(o: CommonOptions, mtu?: number): Partial<TcpConfig> {
  const c: Partial<TcpConfig> = {};
  if (mtu !== undefined && mtu >= 576) {
    c.mtu = mtu;
    c.mss = Math.min(MAX_MSS, mtu - 40);
  }
  if (o.cc) {
    const name = o.cc.toLowerCase() as CongestionAlgorithm;
    if (!["reno", "cubic", "lia", "olia", "balia"].includes(name)) throw new UsageError(`--cc: unknown algorithm "${o.cc}" (reno, cubic, lia, olia, balia)`);
    c.congestion = congestionFactory(name);
  }
  return c;
}

export function mptcpConfig(o: CommonOptions, mtu?: number): MptcpConfigInput {
  const tcp = tcpConfig(o, mtu);
  const c: MptcpConfigInput = { checksum: o.checksum, tcp };
  const cc = o.cc?.toLowerCase();
  if (cc === "lia" || cc === "olia" || cc === "balia") {
    // Coupled: one shared state per connection, so the connection makes the factory (a shared
    // tcp.congestion factory would couple every connection of a server together).
    delete tcp.congestion;
    (c as { congestion?: CongestionAlgorithm }).congestion = cc;
  }
  if (o.scheduler !== undefined) {
    if (o.scheduler !== "default" && o.scheduler !== "roundrobin") throw new UsageError(`--scheduler: unknown scheduler "${o.scheduler}" (default, roundrobin)`);
    c.scheduler = o.scheduler;
  }
  const n = o.maxSubflows ?? 2;
  if (n > 8) throw new UsageError("--max-subflows: at most 8 (the kernel's hard cap)");
  c.pathManager = { subflows: n, addAddrAccepted: n, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
  return c;
}

export function buildStack(o: ServerOptions | ClientOptions, paths: StackPath[], mtu: number | undefined): AppStack {
  if (!o.mptcp) return new TcpStack(paths, new CryptoRandomSource(), tcpConfig(o, mtu));
  if (!MPTCP_AVAILABLE) throw new NotAvailableError("MPTCP is not yet available in this build; use --no-mptcp for plain TCP");
  return new MptcpStack({ role: o.command, paths, random: new CryptoRandomSource(), config: mptcpConfig(o, mtu), announce: o.announce });
}

function summaryLine(r: TransferResult, role: string): string {
  const sf = r.subflows.map((s) => `${s.local} -> ${s.remote} rtt ${s.rttMs} ms`).join(", ");
  return `${role}: ${r.ok ? "completed" : "FAILED" + (r.error ? ` (${r.error})` : "")}; ${r.mptcp ? "MPTCP" : "TCP"}; sent ${r.bytesSent} B, received ${r.bytesReceived} B in ${r.seconds} s; ${sf}`;
}

/** Runs one CLI invocation; resolves with the exit status. */
export async function run(argv: string[], io: RunIo = defaultIo): Promise<number> {
  if (argv[0] === "proxy") return (await import("./proxy.ts")).runProxy(argv.slice(1), io);
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h") || argv[0] === "help") {
    io.stderr(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  let opts: ServerOptions | ClientOptions;
  try {
    opts = parseArgs(argv);
    if (opts.mptcp) mptcpConfig(opts); // usage errors before touching the network
    else tcpConfig(opts);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`mptcp: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof NotAvailableError) {
      io.stderr(`mptcp: ${e.message}`);
      if (argv.includes("--json")) io.stdout(JSON.stringify({ ok: false, error: e.message }));
      return 2;
    }
    throw e;
  }
  let source: ByteSource | undefined;
  if (opts.command === "client") {
    if (opts.inFile !== undefined) source = new BufferSource(readFileSync(opts.inFile));
    else if (opts.send !== undefined) source = new PatternSource(opts.send);
  }
  let opened: { ports: PacketPort[]; close: () => Promise<void> };
  try {
    opened = await openPorts(opts);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(`mptcp: ${msg}`);
    if (opts.json) io.stdout(JSON.stringify({ ok: false, error: msg }));
    return 1;
  }
  const rnd = new CryptoRandomSource();
  const u32 = new Uint32Array(1);
  const ports: PacketPort[] =
    opts.loss > 0
      ? opened.ports.map(
          (p) =>
            new LossyPort(p, opts.loss, () => {
              rnd.fill(new Uint8Array(u32.buffer));
              return u32[0]! / 2 ** 32;
            }),
        )
      : opened.ports;
  const paths: StackPath[] = ports.map((p) => ({ address: p.address, localPort: p.localPort, backup: opts.backup.some((b) => formatIp(b) === formatIp(p.address)) }));
  let stack: AppStack;
  try {
    const mtus = ports.map((p) => p.mtu).filter((m): m is number => m !== undefined);
    stack = buildStack(opts, paths, mtus.length === ports.length ? Math.min(...mtus) : undefined);
  } catch (e) {
    await opened.close();
    throw e;
  }
  if (!opts.mptcp && ports.length > 1) io.stderr(`mptcp: --no-mptcp uses the first path only (${ports[0]!.label})`);
  const tap = opts.pcap ? new PcapFileTap(opts.pcap) : undefined;
  let failure: unknown;
  const clock = new PerformanceClock();
  let wake!: () => void;
  const crashed = new Promise<void>((r) => (wake = r));
  const driver = new Driver({
    host: stack,
    ports,
    clock,
    timers: globalTimers,
    tap,
    onError: (e) => {
      failure = e;
      wake();
    },
  });
  const outFd = opts.command === "client" && opts.outFile !== undefined ? openSync(opts.outFile, "w") : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    const s = opts.timeoutS ?? (opts.command === "client" || opts.once ? 60 : 0);
    if (s > 0) timer = setTimeout(() => resolve("timeout"), s * 1000);
  });
  let stopSignal!: (sig: string) => void;
  const signalled = new Promise<string>((r) => (stopSignal = r));
  const onSig = (sig: string) => () => stopSignal(sig);
  const sigint = onSig("SIGINT");
  const sigterm = onSig("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  let status = 1;
  let last: TransferResult | undefined;
  try {
    driver.start();
    if (opts.command === "client") {
      const app = new ClientApp(stack, {
        remote: opts.remote,
        port: opts.remotePort,
        source,
        onData:
          outFd !== undefined
            ? (b) => {
                let w = 0;
                while (w < b.length) w += writeSync(outFd, b, w, b.length - w);
              }
            : undefined,
      });
      driver.act((now) => app.start(now));
      const r = await Promise.race([app.done, timedOut, signalled, crashed]);
      if (typeof r === "object") last = r;
      else last = driver.act((now) => app.abort(now, failure ? `internal error: ${String(failure)}` : r === "timeout" ? `timeout after ${opts.timeoutS ?? 60} s` : `stopped by ${r}`));
      status = last.ok ? 0 : 1;
      io.stderr(summaryLine(last, "client"));
    } else {
      const so = opts;
      let allOk = true;
      let count = 0;
      const app = new ServerApp(stack, {
        port: so.port,
        mode: so.mode,
        once: so.once,
        onResult: (r) => {
          count++;
          allOk &&= r.ok;
          last = r;
          io.stderr(summaryLine(r, "server"));
          if (so.json && !so.once) io.stdout(JSON.stringify(r));
        },
      });
      driver.act((now) => app.start(now));
      io.stderr(`mptcp server: listening on port ${so.port} (${ports.map((p) => p.label).join(", ")})`);
      const r = await Promise.race([so.once ? app.first : new Promise<never>(() => {}), timedOut, signalled, crashed]);
      if (typeof r !== "object") {
        const partial = driver.act((now) => app.abortAll(now, failure ? `internal error: ${String(failure)}` : r === "timeout" ? "timeout" : `stopped by ${r}`));
        if (partial.length) last = partial[partial.length - 1];
        // A server without --once that served its connections and was stopped: success.
        status = !so.once && !failure && partial.length === 0 && count > 0 && allOk ? 0 : 1;
      } else status = r.ok ? 0 : 1;
      if (so.once && last && so.json) io.stdout(JSON.stringify(last));
      else if (!so.once && so.json && !last) io.stdout(JSON.stringify({ ok: false, error: "no connection" }));
    }
    if (opts.command === "client" && opts.json && last) io.stdout(JSON.stringify(last));
    // Give the last ACK / FIN a moment to leave before closing the ports.
    driver.flush();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
    await driver.stop();
    await opened.close();
    tap?.close();
    if (outFd !== undefined) closeSync(outFd);
  }
  if (failure) {
    io.stderr(`mptcp: internal error: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    return 1;
  }
  return status;
}
