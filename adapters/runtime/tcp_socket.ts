// The operating system's TCP, runtime-neutral, for the MPTCP <-> TCP proxy (`mptcp proxy`):
// listen, connect, read with pause/resume (backpressure), write with a high-water mark and a
// drain callback, half-close (FIN), reset (RST), and the peer's FIN / RST reported as events.
//
// One implementation serves Node and Deno: node:net. Why not Deno.listen / Deno.connect on
// Deno: a Deno.TcpConn has no way to send a RST (no abort, no SO_LINGER), and the proxy must
// turn an MPTCP reset into a TCP reset (a FIN would tell the client that a truncated stream was
// complete). Deno's node:net does send one (resetAndDestroy: the peer gets ECONNRESET; checked on
// Deno 2.9) and moves 16.9 Gbit/s on loopback here (Deno.connect: 26.6; node:net on Node: 16.8),
// far above what the userspace MPTCP side carries, so it costs the proxy nothing measurable.
import net from "node:net";
import { InvalidStateError, MptcpError } from "../../core/errors.ts";

/** Why an OS TCP socket failed: a reset from the peer, a refused connect, a timeout, other. */
export type TcpFailure = "reset" | "refused" | "timeout" | "unreachable" | "other";

/** Thrown (rejected) when an OS TCP connect or listen fails; `kind` names the cause. */
export class TcpSocketError extends MptcpError {
  override name = "TcpSocketError";
  constructor(
    message: string,
    readonly kind: TcpFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function failureOf(e: unknown): TcpFailure {
  const code = (e as { code?: string } | undefined)?.code ?? "";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ETIMEDOUT") return "timeout";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "EADDRNOTAVAIL") return "unreachable";
  return "other";
}

/** What a TcpSocket reports. Every callback runs on its own event-loop turn (never re-entered). */
export interface TcpSocketHandlers {
  /** Received bytes; the array is the receiver's to keep. */
  onData(bytes: Uint8Array): void;
  /** The peer's FIN: no more data will come. */
  onEnd(): void;
  /** The write buffer emptied after write() returned false. */
  onDrain(): void;
  /**
   * The socket is gone: after an orderly close both ways (our end() flushed, the peer's FIN
   * read), `failure` undefined; otherwise the reason (a RST from the peer is "reset").
   */
  onClose(failure: TcpFailure | undefined, message: string | undefined): void;
}

/** One OS TCP connection. Starts paused: call setHandlers(), then resume(). */
export interface TcpSocket {
  /** "ADDR:PORT" of each end ("[V6]:PORT" for IPv6). */
  readonly local: string;
  readonly remote: string;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly writeBuffered: number;
  setHandlers(h: TcpSocketHandlers): void;
  /** False once the socket is gone (reset, error, closed), possibly before onClose runs. */
  readonly writable: boolean;
  /**
   * Queues bytes; false once writeBuffered reaches the high-water mark (onDrain follows). On a
   * socket already gone (not `writable`) the bytes are dropped and false returned: onClose
   * reports why. Throws InvalidStateError after end().
   */
  write(bytes: Uint8Array): boolean;
  /** Half-close: a FIN after everything written. */
  end(): void;
  /** Abort: RST, queued bytes dropped. Idempotent. */
  reset(): void;
  /** Stop / restart delivering onData (the kernel's receive window then closes). */
  pause(): void;
  resume(): void;
}

export interface TcpListener {
  /** The bound address and port (the port the kernel chose for port 0). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface TcpSocketOptions {
  /** write() returns false from this many buffered bytes on (default 256 KiB). */
  highWaterMark?: number;
}

const DEFAULT_HWM = 256 * 1024;

function hostPort(addr: string | undefined, port: number | undefined): string {
  const a = addr ?? "?";
  return a.includes(":") ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

class NetTcpSocket implements TcpSocket {
  private h: TcpSocketHandlers | undefined;
  private ended = false; // peer FIN seen
  private finished = false; // our FIN flushed
  private endCalled = false;
  private closed = false;
  private failure: { kind: TcpFailure; message: string } | undefined;
  private readonly hwm: number;
  readonly local: string;
  readonly remote: string;

  constructor(
    private readonly s: net.Socket,
    opts: TcpSocketOptions,
  ) {
    this.hwm = opts.highWaterMark ?? DEFAULT_HWM;
    this.local = hostPort(s.localAddress, s.localPort);
    this.remote = hostPort(s.remoteAddress, s.remotePort);
    s.setNoDelay(true);
    s.pause();
    s.on("data", (d: Uint8Array) => this.h?.onData(d));
    s.on("end", () => {
      this.ended = true;
      this.h?.onEnd();
      this.maybeDone();
    });
    s.on("finish", () => {
      this.finished = true;
      this.maybeDone();
    });
    s.on("drain", () => this.h?.onDrain());
    s.on("error", (e: Error) => {
      this.failure ??= { kind: failureOf(e), message: e.message };
    });
    s.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      // Closed before both FINs: something went wrong even without an error event.
      if (!this.failure && !(this.ended && this.finished)) this.failure = { kind: "other", message: "closed before both directions ended" };
      this.h?.onClose(this.failure?.kind, this.failure?.message);
    });
  }

  private maybeDone(): void {
    // allowHalfOpen: the socket stays open until both directions ended; then release it.
    if (this.ended && this.finished && !this.s.destroyed) this.s.destroy();
  }

  get writeBuffered(): number {
    return this.s.writableLength;
  }

  setHandlers(h: TcpSocketHandlers): void {
    this.h = h;
  }

  get writable(): boolean {
    return !this.s.destroyed && !this.endCalled;
  }

  write(bytes: Uint8Array): boolean {
    if (this.endCalled) throw new InvalidStateError("write() after end()");
    if (this.s.destroyed) return false;
    this.s.write(bytes);
    return this.s.writableLength < this.hwm;
  }

  end(): void {
    if (this.endCalled || this.s.destroyed) return;
    this.endCalled = true;
    this.s.end();
  }

  reset(): void {
    if (this.s.destroyed) return;
    this.failure ??= { kind: "reset", message: "reset by us" };
    this.s.resetAndDestroy();
  }

  pause(): void {
    this.s.pause();
  }

  resume(): void {
    if (!this.s.destroyed) this.s.resume();
  }
}

/** Connects to HOST:PORT (a name, IPv4 or IPv6 literal). Rejects with a TcpSocketError. */
export function tcpConnect(host: string, port: number, opts: TcpSocketOptions & { timeoutMs?: number } = {}): Promise<TcpSocket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (e: Error & { code?: string }): void => {
      if (timer !== undefined) clearTimeout(timer);
      s.destroy();
      reject(new TcpSocketError(`connect to ${hostPort(host, port)}: ${e.message}`, failureOf(e), { cause: e }));
    };
    s.once("error", fail);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => fail(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), opts.timeoutMs);
    }
    s.once("connect", () => {
      if (timer !== undefined) clearTimeout(timer);
      s.off("error", fail);
      resolve(new NetTcpSocket(s, opts));
    });
  });
}

/** Listens on ADDR:PORT (port 0: any); each accepted connection is handed over paused. */
export function tcpListen(address: string, port: number, onConnection: (s: TcpSocket) => void, opts: TcpSocketOptions = {}): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      // A connection reset before it was handed over has no addresses: drop it.
      if (s.remoteAddress === undefined) {
        s.destroy();
        return;
      }
      onConnection(new NetTcpSocket(s, opts));
    });
    srv.once("error", (e: Error & { code?: string }) => reject(new TcpSocketError(`listen on ${hostPort(address, port)}: ${e.message}`, failureOf(e), { cause: e })));
    srv.listen({ host: address, port }, () => {
      const a = srv.address() as net.AddressInfo;
      resolve({
        address: a.address,
        port: a.port,
        close: () => new Promise<void>((r) => srv.close(() => r())),
      });
    });
  });
}
