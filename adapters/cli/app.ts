// The CLI's applications over any AppStack (plain TCP now, MPTCP later): a client that sends
// a byte stream (pseudo-random or a file), half-closes and reads to EOF; a server that echoes,
// sinks, or sources. Everything is driven from the stack's onProgress callback; no I/O here
// except the optional output sink passed in. SHA-256 through node:crypto (native on Node and
// Deno; the pure-JS @noble/hashes took a fifth of the CPU of a transfer).
import { createHash } from "node:crypto";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { AppConnection, AppStack, SubflowSummary } from "./stack.ts";

/** Seed of the deterministic `--send N` / `--source N` byte stream. */
export const PATTERN_SEED = 0x6d707463;
const BLOCK = 64 * 1024;

/** A byte stream to send. */
export interface ByteSource {
  readonly total: number;
  /** Up to `max` bytes at the current position (empty when done). */
  peek(max: number): Uint8Array;
  advance(n: number): void;
  readonly done: boolean;
}

/** N bytes of SeededRandomSource(PATTERN_SEED) output, generated 64 KiB at a time. */
export class PatternSource implements ByteSource {
  private readonly rng = new SeededRandomSource(PATTERN_SEED);
  private readonly block = new Uint8Array(BLOCK);
  private pos = 0; // bytes consumed
  private blockStart = -BLOCK;

  constructor(readonly total: number) {}

  get done(): boolean {
    return this.pos >= this.total;
  }

  peek(max: number): Uint8Array {
    if (this.done) return new Uint8Array(0);
    if (this.pos >= this.blockStart + BLOCK) {
      this.blockStart += BLOCK;
      this.rng.fill(this.block);
    }
    const off = this.pos - this.blockStart;
    const n = Math.min(max, BLOCK - off, this.total - this.pos);
    return this.block.subarray(off, off + n);
  }

  advance(n: number): void {
    this.pos += n;
  }
}

/** The first `n` bytes of the pattern stream (tests and the interop checks). */
export function patternBytes(n: number): Uint8Array {
  const s = new PatternSource(n);
  const out = new Uint8Array(n);
  let o = 0;
  while (!s.done) {
    const c = s.peek(BLOCK);
    out.set(c, o);
    o += c.length;
    s.advance(c.length);
  }
  return out;
}

/** Bytes held in memory (--in FILE). */
export class BufferSource implements ByteSource {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get total(): number {
    return this.bytes.length;
  }
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  peek(max: number): Uint8Array {
    return this.bytes.subarray(this.pos, Math.min(this.bytes.length, this.pos + max));
  }
  advance(n: number): void {
    this.pos += n;
  }
}

/** The result of one connection, the body of the --json line. */
export interface TransferResult {
  ok: boolean;
  mptcp: boolean;
  bytesSent: number;
  bytesReceived: number;
  sha256Sent: string;
  sha256Received: string;
  seconds: number;
  subflows: SubflowSummary[];
  counters: Record<string, number>;
  error?: string;
}

type EchoMode = { kind: "echo" } | { kind: "sink" } | { kind: "source"; bytes: number };

/** Moves bytes for one connection; `finished` once both directions closed (or it failed). */
class Transfer {
  sent = 0;
  received = 0;
  private readonly hs = createHash("sha256");
  private readonly hr = createHash("sha256");
  private shut = false;
  private pending: Uint8Array | undefined;
  result: TransferResult | undefined;
  private readonly buf = new Uint8Array(BLOCK);

  constructor(
    readonly conn: AppConnection,
    private readonly startUs: number,
    private readonly source: ByteSource | undefined,
    private readonly echo: boolean,
    /** Half-close only after the peer did (echo, sink). */
    private readonly waitPeer: boolean,
    private readonly onData: ((bytes: Uint8Array) => void) | undefined,
  ) {}

  private writeSome(bytes: Uint8Array): number {
    const n = this.conn.write(bytes);
    if (n > 0) {
      this.hs.update(bytes.subarray(0, n));
      this.sent += n;
    }
    return n;
  }

  step(now: number): void {
    if (this.result) return;
    const c = this.conn;
    if (c.failed) return this.finish(now, false, `connection ${c.failed}`);
    if (!c.established) return;
    // Send: the source, or the echo backlog.
    if (this.source) {
      while (!this.source.done) {
        const n = this.writeSome(this.source.peek(BLOCK));
        if (n === 0) break;
        this.source.advance(n);
      }
    }
    if (this.pending) {
      const n = this.writeSome(this.pending);
      this.pending = n < this.pending.length ? this.pending.subarray(n) : undefined;
    }
    // Receive (an echo reads only when its backlog is gone: backpressure).
    while (c.readable > 0 && !this.pending) {
      const n = c.read(this.buf);
      if (n === 0) break;
      const data = this.buf.subarray(0, n);
      this.hr.update(data);
      this.received += n;
      this.onData?.(data);
      if (this.echo) {
        const w = this.writeSome(data);
        if (w < n) this.pending = data.slice(w);
      }
    }
    const sendFinished = (!this.source || this.source.done) && !this.pending && (!this.waitPeer || c.peerDone);
    if (sendFinished && !this.shut) {
      this.shut = true;
      c.shutdown();
    }
    if (this.shut && c.sendDone && c.peerDone) this.finish(now, true);
  }

  finish(now: number, ok: boolean, error?: string): void {
    if (this.result) return;
    const c = this.conn;
    this.result = {
      ok,
      mptcp: c.mptcp,
      bytesSent: this.sent,
      bytesReceived: this.received,
      sha256Sent: this.hs.digest("hex"),
      sha256Received: this.hr.digest("hex"),
      seconds: Math.round((now - this.startUs) / 1000) / 1000,
      subflows: c.subflows(),
      counters: c.counters(),
      ...(error ? { error } : {}),
    };
  }
}

export interface ClientAppOptions {
  remote: IpAddress;
  port: number;
  source: ByteSource | undefined;
  onData?: (bytes: Uint8Array) => void;
}

/** Connects, sends its source, half-closes, reads to EOF. */
export class ClientApp {
  private t: Transfer | undefined;
  private resolve!: (r: TransferResult) => void;
  readonly done: Promise<TransferResult>;

  constructor(
    private readonly stack: AppStack,
    private readonly opts: ClientAppOptions,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  /** Opens the connection (call through Driver.act). */
  start(now: number): void {
    const conn = this.stack.connect(now, this.opts.remote, this.opts.port);
    this.t = new Transfer(conn, now, this.opts.source, false, false, this.opts.onData);
    this.stack.onProgress = (t) => this.step(t);
  }

  private step(now: number): void {
    const t = this.t;
    if (!t || t.result) return;
    t.step(now);
    if (t.result) this.resolve(t.result);
  }

  /** Gives up (timeout): the result so far, ok = false. */
  abort(now: number, why: string): TransferResult {
    const t = this.t!;
    if (!t.result) {
      t.conn.abort(); // first, so the summary counts the abort (MP_FASTCLOSE / RST)
      t.finish(now, false, why);
      this.resolve(t.result!);
    }
    return t.result!;
  }
}

export interface ServerAppOptions {
  port: number;
  mode: EchoMode;
  once: boolean;
  /** Called with each finished connection's result. */
  onResult: (r: TransferResult) => void;
}

/** Listens; echoes, sinks or sources on each accepted connection. */
export class ServerApp {
  private readonly conns: Transfer[] = [];
  private resolve!: (r: TransferResult) => void;
  /** Resolves with the first finished connection's result (for --once). */
  readonly first: Promise<TransferResult>;
  private firstDone = false;

  constructor(
    private readonly stack: AppStack,
    private readonly opts: ServerAppOptions,
  ) {
    this.first = new Promise((r) => (this.resolve = r));
  }

  start(now: number): void {
    this.stack.listen(this.opts.port);
    this.stack.onProgress = (t) => this.step(t);
    void now;
  }

  get active(): number {
    return this.conns.length;
  }

  private step(now: number): void {
    let c: AppConnection | undefined;
    while ((c = this.stack.pollAccept()) !== undefined) {
      if (this.opts.once && (this.firstDone || this.conns.length > 0)) {
        c.abort();
        continue;
      }
      const m = this.opts.mode;
      this.conns.push(new Transfer(c, now, m.kind === "source" ? new PatternSource(m.bytes) : undefined, m.kind === "echo", m.kind !== "source", undefined));
    }
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const t = this.conns[i]!;
      t.step(now);
      if (t.result) {
        this.conns.splice(i, 1);
        this.opts.onResult(t.result);
        if (!this.firstDone) {
          this.firstDone = true;
          this.resolve(t.result);
        }
      }
    }
  }

  /** Ends every open connection (timeout or signal); returns their partial results. */
  abortAll(now: number, why: string): TransferResult[] {
    const out: TransferResult[] = [];
    for (const t of this.conns) {
      t.conn.abort();
      t.finish(now, false, why);
      out.push(t.result!);
    }
    this.conns.length = 0;
    return out;
  }
}
