// The stack under the streams API: one MPTCP Endpoint (through adapters/cli/mptcp_stack.ts,
// which maps paths to local addresses, subflow/signal/backup flags and the TCP-in-UDP port) run
// by the runtime-neutral Driver over the transport's ports, with the real clock and timers of
// adapters/runtime. connect() makes a client stack owned by its one connection; listen() makes
// a server stack owned by its Listener. The stack stops (ports closed) once its owner is done
// and every connection on it has ended.
import { InvalidArgumentError, InvalidStateError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/crypto/random.ts";
import type { MptcpConfigInput, MptcpEvent } from "../../core/mptcp/types.ts";
import { DEFAULT_MPTCP_CONFIG } from "../../core/mptcp/types.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import { formatIp, ipEquals } from "../../core/wire/ip.ts";
import { MptcpStack } from "../cli/mptcp_stack.ts";
import { Driver } from "../driver.ts";
import type { PacketTap } from "../driver.ts";
import { CryptoRandomSource, globalTimers, PerformanceClock } from "../runtime/index.ts";
import type { Clock, Timers } from "../runtime/index.ts";
import { ConnectionError, StreamConnection } from "./connection.ts";
import type { ConnectionHost, StreamOptions } from "./connection.ts";
import { openTransport, parseHostPort } from "./transport.ts";
import type { OpenedTransport, TransportOption } from "./transport.ts";

/** Options shared by connect() and listen(). */
export interface StackOptions extends StreamOptions {
  /** The paths: UDP sockets, TUN devices, or ready PacketPorts (see TransportOption). */
  transport: TransportOption;
  /**
   * The core's MptcpConfig, passed through (scheduler, congestion, checksum, maxSubflows,
   * sendBufferSize, receiveBufferSize, pathManager, mptcp: false for plain TCP, ...). Defaults
   * as core/mptcp except pathManager.subflows = addAddrAccepted = 2 (joins and ADD_ADDR on).
   */
  config?: MptcpConfigInput;
  /** Local addresses whose subflows are backup (MP_PRIO / the join's B bit). */
  backup?: string[];
  /** Every event of every connection, from its first one (before connect() resolves). */
  onEvent?: (event: MptcpEvent, conn: StreamConnection) => void;
  /** Randomness for keys, nonces, ISNs (default: crypto.getRandomValues). */
  random?: RandomSource;
  /** Clock and timers (default: performance.now and setTimeout/setImmediate). */
  clock?: Clock;
  timers?: Timers;
  /** A copy of every packet in and out (e.g. adapters/node/pcap_stream.ts PcapFileTap). */
  tap?: PacketTap;
}

export interface ConnectOptions extends StackOptions {
  /** The server, "198.18.0.1:5000" or "[2001:2::1]:5000" (an IP literal; no name lookup). */
  remote: string;
  /** Gives up on the handshake (e.g. AbortSignal.timeout(5000)); the connection is aborted. */
  signal?: AbortSignal;
}

export interface ListenOptions extends StackOptions {
  /**
   * The TCP port to accept on. UDP: also the sockets' port (0 or absent: one ephemeral port,
   * see Listener.port); an address of transport.udp may fix its own. Required for TUN/ports.
   */
  port?: number;
  /** Addresses to announce (ADD_ADDR); default every path's address but the first. */
  announce?: string[];
  /** Connections accepted but not yet taken by accept(); more are aborted (default 128). */
  backlog?: number;
}

const LINGER_MS = 300;

function effectiveConfig(c: MptcpConfigInput | undefined): MptcpConfigInput {
  const pathManager = { ...DEFAULT_MPTCP_CONFIG.pathManager, subflows: 2, addAddrAccepted: 2, ...(c?.pathManager ?? {}) };
  return { ...(c ?? {}), pathManager };
}

function addresses(list: string[] | undefined, what: string): IpAddress[] {
  return (list ?? []).map((a) => parseHostPort(a, what).address);
}

class StreamStack implements ConnectionHost {
  readonly conns: Set<StreamConnection> = new Set<StreamConnection>();
  /** The owner (connection or listener) is done: stop once no connection is left. */
  private released = false;
  private stopping: Promise<void> | undefined;
  private resolveStopped!: () => void;
  private readonly stopped: Promise<void> = new Promise((r) => (this.resolveStopped = r));
  onAccept: ((c: StreamConnection) => void) | undefined;

  private constructor(
    readonly mptcp: MptcpStack,
    readonly driver: Driver,
    private readonly transport: OpenedTransport,
    private readonly opts: StackOptions,
  ) {}

  static async open(role: "client" | "server", opts: StackOptions, fixedPort: number | undefined, announce: IpAddress[] | undefined): Promise<StreamStack> {
    const transport = await openTransport(opts.transport, fixedPort);
    try {
      const backup = addresses(opts.backup, "backup");
      const paths = transport.ports.map((p) => ({ address: p.address, localPort: p.localPort, backup: backup.some((b) => ipEquals(b, p.address)) }));
      const mptcp = new MptcpStack({ role, paths, random: opts.random ?? new CryptoRandomSource(), config: effectiveConfig(opts.config), announce: announce ?? paths.slice(1).map((p) => p.address) });
      let self: StreamStack | undefined;
      const driver = new Driver({
        host: mptcp,
        ports: transport.ports,
        clock: opts.clock ?? new PerformanceClock(),
        timers: opts.timers ?? globalTimers,
        tap: opts.tap,
        onError: (e) => self?.crash(e),
      });
      self = new StreamStack(mptcp, driver, transport, opts);
      mptcp.onProgress = () => self!.progress();
      driver.start();
      return self;
    } catch (e) {
      await Promise.all(transport.ports.map((p) => p.close()));
      await transport.release();
      throw e;
    }
  }

  act<T>(fn: (now: number) => T): T {
    return this.driver.act(fn);
  }

  finished(conn: StreamConnection): void {
    this.conns.delete(conn);
    this.maybeStop();
  }

  /** The owner is done with the stack: it stops once its connections have ended. */
  release(): void {
    this.released = true;
    this.maybeStop();
  }

  wrap(core: ReturnType<MptcpStack["endpoint"]["connect"]>): StreamConnection {
    const c = new StreamConnection(core, this, this.opts, this.opts.onEvent);
    this.conns.add(c);
    return c;
  }

  private progress(): void {
    const ep = this.mptcp.endpoint;
    let core;
    while ((core = ep.pollAccept()) !== undefined) {
      const c = this.wrap(core);
      if (this.onAccept) this.onAccept(c);
      else c.abort();
    }
    // A Set may lose its current element while iterated (a connection that ends here).
    for (const c of this.conns) c.service();
  }

  private maybeStop(): void {
    if (!this.released || this.conns.size > 0 || this.stopping) return;
    this.stopping = this.stop();
  }

  /**
   * Lets the last segments (ACKs, FINs, RSTs) leave, then closes the ports: a socket closed
   * right after send() may drop the datagram, and the core may still retransmit a FIN.
   */
  private async stop(): Promise<void> {
    const until = Date.now() + LINGER_MS;
    await new Promise((r) => setTimeout(r, 30));
    while (this.mptcp.endpoint.connections.length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    try {
      await this.driver.stop();
      // Connections still lingering (TIME-WAIT, a FIN never acknowledged) hold WASM memory
      // that only the stopped driver's timers would have freed.
      this.mptcp.endpoint.dispose();
      await this.transport.release();
    } finally {
      this.resolveStopped();
    }
  }

  /** Resolves once the stack has stopped (after release() and the last connection). */
  get done(): Promise<void> {
    return this.stopped;
  }

  /** Aborts every open connection (MP_FASTCLOSE / RST). */
  abortAll(): void {
    for (const c of [...this.conns]) c.abort();
  }

  /** Stops now: every connection fails with `why` (used on a driver error). */
  async kill(why: ConnectionError): Promise<void> {
    for (const c of [...this.conns]) c.stopped(why);
    this.released = true;
    this.stopping ??= this.stop();
    await this.stopping;
  }

  private crash(e: unknown): void {
    void this.kill(new ConnectionError(`internal error: ${e instanceof Error ? e.message : String(e)}`, "stopped", { cause: e }));
  }
}

/** Opens a connection on `stack` and waits for its handshake (see connect()). */
async function dial(stack: StreamStack, remote: string, signal: AbortSignal | undefined): Promise<StreamConnection> {
  const r = parseHostPort(remote, "remote");
  if (r.port === undefined || r.port === 0) throw new InvalidArgumentError(`remote: "${remote}" needs a port`);
  signal?.throwIfAborted();
  const first = stack.driver.ports[0]!.address;
  const conn = stack.act((now) => stack.wrap(stack.mptcp.endpoint.connect(now, r.address, r.port!, { localAddress: first })));
  const core = conn.core;
  const settled = (): boolean => core.state !== "SYN_SENT";
  if (!settled()) {
    await new Promise<void>((resolve) => {
      const off = conn.on("*", () => {
        if (!settled()) return;
        off();
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = (): void => {
        off();
        conn.abort();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  if (core.state === "CLOSED") {
    const info = await conn.closed;
    const why = signal?.aborted ? "aborted" : info.reason;
    throw new ConnectionError(`connect to ${remote}: ${why === "reset" ? "refused (reset)" : why === "timeout" ? "timed out" : why}`, why === "normal" ? "reset" : why);
  }
  return conn;
}

/**
 * Opens an MPTCP connection to `remote` over `transport` (the first path carries the initial
 * subflow; the others join). Resolves once the handshake completed (MPTCP or fallback to TCP),
 * rejects with a ConnectionError when it fails (refused: "reset"; "timeout"; "aborted" by the
 * signal). The transport's ports belong to the connection and close after it ends.
 */
export async function connect(opts: ConnectOptions): Promise<StreamConnection> {
  const r = parseHostPort(opts.remote, "remote");
  if (r.port === undefined || r.port === 0) throw new InvalidArgumentError(`remote: "${opts.remote}" needs a port`);
  opts.signal?.throwIfAborted();
  const stack = await StreamStack.open("client", opts, undefined, undefined);
  const conn = dial(stack, opts.remote, opts.signal);
  // The stack ends with its connection (or at once if none was made).
  stack.release();
  return conn;
}

/**
 * Several outgoing connections on one stack (one Endpoint over the same ports): for transports
 * that cannot be opened twice, like TUN devices. Over UDP every path has the one port of the
 * client, so two connections to the same remote address and port cannot coexist.
 */
export class MptcpClient {
  private closing = false;

  /** @internal */
  constructor(private readonly stack: StreamStack) {}

  /** As connect(), on this client's stack. */
  connect(remote: string, opts: { signal?: AbortSignal } = {}): Promise<StreamConnection> {
    if (this.closing) return Promise.reject(new InvalidStateError("connect() on a closed MptcpClient"));
    return dial(this.stack, remote, opts.signal);
  }

  /**
   * No more connections; resolves once the open ones have ended and the ports are closed.
   * `abort: true` aborts the open ones first.
   */
  async close(opts: { abort?: boolean } = {}): Promise<void> {
    this.closing = true;
    if (opts.abort) this.stack.abortAll();
    this.stack.release();
    await this.stack.done;
  }
}

/** Opens the transport for several connect() calls (MptcpClient). */
export async function openClient(opts: StackOptions): Promise<MptcpClient> {
  return new MptcpClient(await StreamStack.open("client", opts, undefined, undefined));
}

/** Accepts MPTCP (and plain TCP, served through fallback) connections. */
export class Listener implements AsyncIterable<StreamConnection> {
  private readonly queue: StreamConnection[] = [];
  private readonly waiters: Array<(c: StreamConnection | undefined) => void> = [];
  private closing = false;

  /** @internal */
  constructor(
    private readonly stack: StreamStack,
    /** The TCP port accepted on (for UDP also the sockets' port). */
    readonly port: number,
    private readonly backlog: number,
  ) {
    stack.onAccept = (c) => this.incoming(c);
  }

  /** "address:port" of every path. */
  get addresses(): string[] {
    return this.stack.driver.ports.map((p) => (p.address.length === 16 ? `[${formatIp(p.address)}]:${this.port}` : `${formatIp(p.address)}:${this.port}`));
  }

  /** The next connection (established: MPTCP or fallback), or undefined once closed. */
  accept(): Promise<StreamConnection | undefined> {
    const c = this.queue.shift();
    if (c) return Promise.resolve(c);
    if (this.closing) return Promise.resolve(undefined);
    return new Promise((r) => this.waiters.push(r));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamConnection> {
    for (;;) {
      const c = await this.accept();
      if (!c) return;
      yield c;
    }
  }

  /**
   * Stops accepting (new connections are reset; those not yet accepted are aborted). Resolves
   * once every accepted connection has ended and the ports are closed; `abort: true` aborts them.
   */
  async close(opts: { abort?: boolean } = {}): Promise<void> {
    if (opts.abort) this.stack.abortAll();
    if (!this.closing) {
      this.closing = true;
      for (const w of this.waiters.splice(0)) w(undefined);
      for (const c of this.queue.splice(0)) c.abort();
      this.stack.release();
    }
    await this.stack.done;
  }

  private incoming(c: StreamConnection): void {
    if (this.closing || this.queue.length >= this.backlog) {
      c.abort();
      return;
    }
    const w = this.waiters.shift();
    if (w) w(c);
    else this.queue.push(c);
  }
}

/**
 * Listens on `port` over `transport`. Over UDP the sockets bind that port on every address
 * (TCP-in-UDP: the UDP port is the TCP port). Resolves once the ports are open.
 */
export async function listen(opts: ListenOptions): Promise<Listener> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`listen: bad port ${port}`);
  const isUdp = "udp" in opts.transport;
  if (!isUdp && port === 0) throw new InvalidArgumentError("listen: a port is needed (only UDP picks one)");
  const announce = opts.announce !== undefined ? addresses(opts.announce, "announce") : undefined;
  const stack = await StreamStack.open("server", opts, isUdp ? port : undefined, announce);
  const p = isUdp ? stack.driver.ports[0]!.localPort! : port;
  try {
    if (isUdp && stack.driver.ports.some((x) => x.localPort !== p)) throw new InvalidStateError("listen: the UDP paths must share one port");
    stack.act(() => stack.mptcp.listen(p));
  } catch (e) {
    stack.release();
    await stack.done;
    throw e;
  }
  return new Listener(stack, p, opts.backlog ?? 128);
}
