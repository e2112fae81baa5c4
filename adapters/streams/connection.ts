// One MPTCP connection as Web Streams (see index.ts for the contract). The core connection is
// driven by the stack's Driver; this object only reads and writes it through `host.act()` and
// is woken by the stack after every input (`service()`), so nothing here touches a socket.
//
// Backpressure, both ways, without unbounded buffering in JS:
// - readable: a pull source. Bytes leave the connection's receive buffer only when the stream
//   wants more (its queue below `readableHighWaterMark` bytes); until then they stay in the
//   core's buffer, which shrinks the advertised connection-level window, so the peer stops.
// - writable: a sink whose write() resolves only once the whole chunk is in the connection's
//   send buffer (config.sendBufferSize). The stream queues at most `writableHighWaterMark`
//   bytes ahead of it, so `writer.ready` / `desiredSize` follow the send buffer's free space.
import { setImmediate } from "node:timers";
import { InvalidStateError, MptcpError } from "../../core/errors.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { MptcpCloseReason, MptcpEvent, MptcpStats } from "../../core/mptcp/types.ts";
import { formatIp } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";

/** The connection ended abnormally: reset, fast close, timeout, or aborted locally. */
export class ConnectionError extends MptcpError {
  override name = "ConnectionError";
  constructor(
    message: string,
    readonly reason: MptcpCloseReason | "refused" | "stopped",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a StreamConnection needs from the stack that drives it. */
export interface ConnectionHost {
  /** Runs a command on the core at the current time, then sends what it produced. */
  act<T>(fn: (now: number) => T): T;
  /** The connection reached CLOSED (the stack may stop once it has no other). */
  finished(conn: StreamConnection): void;
}

/** How a connection ended (`closed` resolves with it; it never rejects). */
export interface CloseInfo {
  /** "normal": both directions closed and acknowledged. */
  reason: MptcpCloseReason | "stopped";
  error?: ConnectionError;
}

/** A snapshot of the connection: the core's stats plus its addresses. */
export interface ConnectionInfo extends MptcpStats {
  local: string;
  remote: string;
  role: "client" | "server";
}

export type EventType = MptcpEvent["type"];

/**
 * A ReadableStream of bytes, typed as async-iterable too (`for await (const chunk of
 * conn.readable)`): Node >= 18 and Deno implement it; TypeScript's DOM lib types it only with
 * "DOM.AsyncIterable".
 */
export type ByteReadable = ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>;
export type EventListener<T extends EventType> = (event: Extract<MptcpEvent, { type: T }>) => void;

export interface StreamOptions {
  /** Bytes the readable stream pulls ahead of its reader (default 64 KiB). */
  readableHighWaterMark?: number;
  /** Bytes the writable stream queues ahead of the send buffer (default 16 KiB). */
  writableHighWaterMark?: number;
}

const READ_CHUNK = 64 * 1024;
const HISTORY = 256;

function endpointText(a: IpAddress, port: number): string {
  return a.length === 16 ? `[${formatIp(a)}]:${port}` : `${formatIp(a)}:${port}`;
}

export class StreamConnection {
  /** Received bytes; closes at the peer's DATA_FIN (FIN after fallback), errors on reset. */
  readonly readable: ByteReadable;
  /** Bytes to send; close() sends DATA_FIN after them, abort() resets the connection. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the connection is over (never rejects). */
  readonly closed: Promise<CloseInfo>;
  /**
   * Control events so far (everything but "readable" / "writable"), at most the last 256:
   * events that happened before a listener could subscribe (MP_CAPABLE, fallback, joins).
   */
  readonly history: MptcpEvent[] = [];

  private readonly listeners = new Map<string, Set<(e: MptcpEvent) => void>>();
  private readWaiter: (() => void) | undefined;
  private writeWaiter: (() => void) | undefined;
  private readCtl!: ReadableStreamDefaultController<Uint8Array>;
  private writeCtl!: WritableStreamDefaultController;
  private readDone = false;
  private writeDone = false;
  private discard = false;
  private failure: ConnectionError | undefined;
  private over = false;
  private inPull = false;
  /** Bytes taken from a connection that closed before they were read. */
  private readonly tail: Uint8Array[] = [];
  private resolveClosed!: (c: CloseInfo) => void;
  private readonly scratch = new Uint8Array(READ_CHUNK);

  constructor(
    /** The core connection (for what this wrapper does not expose). */
    readonly core: MptcpConnection,
    private readonly host: ConnectionHost,
    opts: StreamOptions = {},
    private readonly onEvent?: (e: MptcpEvent, c: StreamConnection) => void,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    const rhwm = opts.readableHighWaterMark ?? 64 * 1024;
    const whwm = opts.writableHighWaterMark ?? 16 * 1024;
    // Queues count bytes (a string written counts its UTF-16 length, close enough for a bound).
    const size = (c: Uint8Array): number => (c as { byteLength?: number }).byteLength ?? (c as unknown as string).length ?? 1;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (ctl) => {
          this.readCtl = ctl;
        },
        pull: (ctl) => this.pull(ctl),
        cancel: () => this.cancelRead(),
      },
      { highWaterMark: rhwm, size },
    ) as ByteReadable;
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (ctl) => {
          this.writeCtl = ctl;
        },
        write: (chunk) => this.write(chunk),
        close: () => this.shutdownWrite(),
        abort: () => this.abort(),
      },
      { highWaterMark: whwm, size },
    );
  }

  /** Local and remote address of the initial subflow ("198.18.0.2:40000"). */
  get localAddress(): string {
    const sf = this.core.subflows[0];
    return endpointText(this.core.localAddress, sf ? sf.localPort : 0);
  }
  get remoteAddress(): string {
    return endpointText(this.core.remoteAddress, this.core.remotePort);
  }

  /** MPTCP in use (false for plain TCP and after fallback). */
  get mptcp(): boolean {
    return this.core.isMptcp;
  }

  info(): ConnectionInfo {
    return { ...this.core.stats(), local: this.localAddress, remote: this.remoteAddress, role: this.core.role };
  }

  /**
   * Calls `fn` for every future event of this type ("*": all of them, "readable" and
   * "writable" included). Returns the function that unsubscribes.
   */
  on<T extends EventType>(type: T, fn: EventListener<T>): () => void;
  on(type: "*", fn: (e: MptcpEvent) => void): () => void;
  on(type: string, fn: (e: never) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const f = fn as (e: MptcpEvent) => void;
    set.add(f);
    return () => void set.delete(f);
  }

  /**
   * Graceful close: DATA_FIN after everything written (the writable is closed; a write still
   * queued in it goes first when the writable is not locked, else it fails). When no one reads
   * the readable, what still arrives is discarded so the close can complete. Resolves with
   * `closed`.
   */
  async close(): Promise<CloseInfo> {
    if (!this.over) {
      if (!this.writable.locked && !this.writeDone) await this.writable.close().catch(() => {});
      else this.shutdownWrite();
      if (!this.readable.locked) {
        this.discard = true;
        this.host.act((now) => this.drainDiscard(now));
      }
    }
    return this.closed;
  }

  /** Abort: RST (MP_FASTCLOSE when MPTCP is in use) on every subflow; both streams error. */
  abort(): void {
    if (this.over) return;
    this.host.act((now) => this.core.abort(now));
    this.service();
  }

  /**
   * Runs a command of the core connection at the current time and sends what it produced, e.g.
   * `conn.act((now) => conn.core.setBackup(now, 1, true))` (openSubflow, announceAddress,
   * removeAddress, setBackup...). Events it causes are dispatched before it returns.
   */
  act<T>(fn: (now: number) => T): T {
    const r = this.host.act(fn);
    this.service();
    return r;
  }

  // ------------------------------------------------------------------ driven by the stack

  /** @internal After every input: events, wake-ups, end of the connection. */
  service(): void {
    const c = this.core;
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) this.dispatch(e);
    if (this.discard && c.readable > 0) this.host.act((now) => this.drainDiscard(now));
    if (c.state === "CLOSED" && !this.failure && c.closedReason !== "normal") {
      const r = c.closedReason ?? "reset";
      this.failure = new ConnectionError(`connection ${r === "aborted" ? "aborted" : r === "fastclose" ? "closed by the peer (MP_FASTCLOSE)" : r === "timeout" ? "timed out" : "reset by the peer"}`, r);
    }
    if (this.readWaiter && (c.readable > 0 || c.peerClosed || this.failure)) {
      const w = this.readWaiter;
      this.readWaiter = undefined;
      // On the next event-loop turn: the datagrams already received are fed to the core first,
      // so one read takes them all (a read per 1.4 KB segment doubled the CPU of an echo).
      if (this.failure || c.peerClosed) w();
      else setImmediate(w);
    }
    if (this.writeWaiter && (c.writable > 0 || this.failure || c.state === "CLOSED")) {
      const w = this.writeWaiter;
      this.writeWaiter = undefined;
      w();
    }
    if (c.state === "CLOSED") this.finish();
  }

  /** @internal The stack stopped under the connection (listener closed with abort, driver error). */
  stopped(why: ConnectionError): void {
    if (this.over) return;
    this.failure ??= why;
    this.readWaiter?.();
    this.writeWaiter?.();
    this.finish();
  }

  private dispatch(e: MptcpEvent): void {
    if (e.type !== "readable" && e.type !== "writable") {
      this.history.push(e);
      if (this.history.length > HISTORY) this.history.shift();
      this.onEvent?.(e, this);
    }
    for (const key of [e.type, "*"]) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const f of [...set]) {
        try {
          f(e);
        } catch (err) {
          // A listener's bug must not break the driver: report it asynchronously.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  }

  private drainDiscard(now: number): void {
    while (this.core.readable > 0 && this.core.read(now, this.scratch) > 0);
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    const f = this.failure;
    if (!this.readDone) {
      this.readDone = true;
      try {
        if (f) this.readCtl.error(f);
        else if (this.core.readable === 0 && !this.inPull) this.readCtl.close();
        else {
          // Closed with bytes not yet read (the core may report CLOSED once both DATA_FINs are
          // acknowledged): take them now, since the Endpoint frees a forgotten connection's
          // buffers; pull() hands them out, then closes.
          this.readDone = false;
          this.saveTail();
        }
      } catch {
        // the stream was cancelled or already closed
      }
    }
    // The writable errors at once too (writer.ready / writer.closed reject), not only at the
    // next write.
    if (f && !this.writeDone) {
      try {
        this.writeCtl.error(f);
      } catch {
        // already closed or errored
      }
    }
    this.resolveClosed(f ? { reason: f.reason === "refused" ? "reset" : f.reason, error: f } : { reason: this.core.closedReason ?? "normal" });
    this.host.finished(this);
  }

  private saveTail(): void {
    const c = this.core;
    while (c.readable > 0) {
      const b = new Uint8Array(Math.min(c.readable, READ_CHUNK));
      const n = this.host.act((now) => c.read(now, b));
      if (n === 0) break;
      this.tail.push(n === b.length ? b : b.subarray(0, n));
    }
  }

  private waitRead(): Promise<void> {
    return new Promise((r) => (this.readWaiter = r));
  }

  private waitWrite(): Promise<void> {
    return new Promise((r) => (this.writeWaiter = r));
  }

  private async pull(ctl: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const t = this.tail.shift();
      if (t) {
        ctl.enqueue(t);
        if (this.tail.length === 0 && this.core.readable === 0) this.closeRead(ctl);
        return;
      }
      if (this.failure) throw this.failure;
      const c = this.core;
      const avail = c.readable;
      if (avail > 0) {
        const want = Math.min(avail, Math.max(ctl.desiredSize ?? READ_CHUNK, 1460), READ_CHUNK);
        const buf = new Uint8Array(want);
        // Reading may end the connection (our read lets the peer's DATA_FIN be acknowledged):
        // finish() then leaves closing the stream to us, after this chunk.
        this.inPull = true;
        let n: number;
        try {
          n = this.host.act((now) => c.read(now, buf));
        } finally {
          this.inPull = false;
        }
        if (this.failure) throw this.failure;
        if (n > 0) ctl.enqueue(n === want ? buf : buf.subarray(0, n));
        if (c.readable === 0 && this.tail.length === 0 && (c.peerClosed || this.over)) this.closeRead(ctl);
        return;
      }
      if (c.peerClosed || this.over) return this.closeRead(ctl);
      await this.waitRead();
    }
  }

  private closeRead(ctl: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.readDone) return;
    this.readDone = true;
    try {
      ctl.close();
    } catch {
      // already closed
    }
  }

  private cancelRead(): void {
    this.readDone = true;
    // The reader gave up: a connection still delivering is aborted (as a socket closed with
    // unread data); one whose peer already finished is left to close normally.
    if (this.over) return;
    if (this.core.peerClosed && this.core.readable === 0) return;
    if (this.writeDone) {
      this.discard = true;
      this.host.act((now) => this.drainDiscard(now));
      return;
    }
    this.abort();
  }

  private async write(input: unknown): Promise<void> {
    let chunk: Uint8Array;
    if (input instanceof Uint8Array) chunk = input;
    else if (typeof input === "string") chunk = new TextEncoder().encode(input);
    else if (ArrayBuffer.isView(input)) chunk = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    else if (input instanceof ArrayBuffer) chunk = new Uint8Array(input);
    else throw new TypeError("write: a Uint8Array (or another ArrayBufferView, an ArrayBuffer or a string)");
    let off = 0;
    const c = this.core;
    while (off < chunk.length) {
      if (this.failure) throw this.failure;
      if (this.writeDone || c.state === "CLOSED") throw new InvalidStateError("write after close");
      if (c.writable > 0) {
        const rest = off === 0 ? chunk : chunk.subarray(off);
        off += this.host.act((now) => c.write(now, rest));
      }
      if (off < chunk.length) await this.waitWrite();
    }
  }

  private shutdownWrite(): void {
    if (this.writeDone) return;
    this.writeDone = true;
    if (this.core.state !== "CLOSED") this.host.act((now) => this.core.shutdown(now));
  }
}
