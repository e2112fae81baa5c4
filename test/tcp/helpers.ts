// Segment-level test harness: two TcpConnections back to back over a simulated link per
// direction (delay, rate + drop-tail queue, loss, reordering, duplication), on a virtual clock.
import { TcpConnection } from "../../core/tcp/connection.ts";
import type { TcpConnectionOptions } from "../../core/tcp/connection.ts";
import type { TcpConfig, TcpEvent } from "../../core/tcp/types.ts";
import type { TcpSegment } from "../../core/wire/types.ts";

/** Small deterministic PRNG (mulberry32) for the tests' links and data. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  fill(b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) b[i] = (this.next() * 256) | 0;
  }
}

export interface LinkOpts {
  delayUs?: number;
  rateBps?: number;
  queueBytes?: number;
  loss?: number;
  reorder?: number;
  reorderDelayUs?: number;
  dup?: number;
}

export function copySeg(s: TcpSegment): TcpSegment {
  return {
    header: {
      ...s.header,
      options: {
        ...s.header.options,
        sack: s.header.options.sack?.map((b) => ({ ...b })),
        timestamp: s.header.options.timestamp ? { ...s.header.options.timestamp } : undefined,
        mptcp: [...s.header.options.mptcp],
      },
    },
    payload: s.payload.slice(),
  };
}

interface InFlight {
  at: number;
  order: number;
  seg: TcpSegment;
}

export class SegLink {
  q: InFlight[] = [];
  busyUntil = 0;
  sent = 0;
  dropped = 0;
  private order = 0;
  /** Optional tap: return false to drop the segment. */
  filter: ((seg: TcpSegment, now: number) => boolean) | undefined;
  constructor(public o: LinkOpts, private rng: Prng) {}
  send(now: number, seg: TcpSegment): void {
    this.sent++;
    if (this.filter && !this.filter(seg, now)) {
      this.dropped++;
      return;
    }
    const size = seg.payload.length + 52;
    let t = now;
    if (this.o.rateBps) {
      const start = Math.max(now, this.busyUntil);
      const backlogBytes = ((start - now) * this.o.rateBps) / 8e6;
      if (this.o.queueBytes !== undefined && backlogBytes + size > this.o.queueBytes) {
        this.dropped++;
        return;
      }
      this.busyUntil = start + Math.ceil((size * 8e6) / this.o.rateBps);
      t = this.busyUntil;
    }
    if (this.o.loss && this.rng.next() < this.o.loss) {
      this.dropped++;
      return;
    }
    t += this.o.delayUs ?? 0;
    if (this.o.reorder && this.rng.next() < this.o.reorder) t += this.o.reorderDelayUs ?? 0;
    this.insert({ at: t, order: this.order++, seg: copySeg(seg) });
    if (this.o.dup && this.rng.next() < this.o.dup) this.insert({ at: t + 1, order: this.order++, seg: copySeg(seg) });
  }
  private insert(f: InFlight): void {
    let i = this.q.length;
    while (i > 0 && (this.q[i - 1]!.at > f.at || (this.q[i - 1]!.at === f.at && this.q[i - 1]!.order > f.order))) i--;
    this.q.splice(i, 0, f);
  }
  nextAt(): number {
    return this.q.length ? this.q[0]!.at : Infinity;
  }
}

export interface Side {
  conn: TcpConnection;
  events: TcpEvent[];
  received: Uint8Array[];
  receivedBytes: number;
}

export class Pair {
  now = 0;
  a: Side;
  b: Side;
  ab: SegLink;
  ba: SegLink;
  rng: Prng;
  /** Called after every step: application behaviour. */
  app: ((p: Pair) => void) | undefined;
  autoRead = true;
  private readBuf = new Uint8Array(256 * 1024);

  constructor(opts: { seed?: number; link?: LinkOpts; ab?: LinkOpts; ba?: LinkOpts; config?: Partial<TcpConfig>; configA?: Partial<TcpConfig>; configB?: Partial<TcpConfig>; a?: Partial<TcpConnectionOptions>; b?: Partial<TcpConnectionOptions> } = {}) {
    this.rng = new Prng(opts.seed ?? 1);
    const mk = (lp: number, rp: number, cfg: Partial<TcpConfig> | undefined, extra: Partial<TcpConnectionOptions> | undefined, seed: number): Side => ({
      conn: new TcpConnection({ localPort: lp, remotePort: rp, random: new Prng(seed), config: { ...opts.config, ...cfg }, ...extra }),
      events: [],
      received: [],
      receivedBytes: 0,
    });
    this.a = mk(40000, 80, opts.configA, opts.a, (opts.seed ?? 1) * 7 + 1);
    this.b = mk(80, 40000, opts.configB, opts.b, (opts.seed ?? 1) * 7 + 2);
    this.ab = new SegLink(opts.ab ?? opts.link ?? {}, this.rng);
    this.ba = new SegLink(opts.ba ?? opts.link ?? {}, this.rng);
  }

  /** Drains outputs and events of both sides. */
  flush(): void {
    for (let guard = 0; guard < 1000; guard++) {
      let any = false;
      if (this.app) this.app(this);
      for (const [side, link] of [[this.a, this.ab], [this.b, this.ba]] as const) {
        let seg: TcpSegment | undefined;
        while ((seg = side.conn.pollTransmit(this.now)) !== undefined) {
          link.send(this.now, seg);
          any = true;
        }
        let e: TcpEvent | undefined;
        while ((e = side.conn.pollEvent()) !== undefined) side.events.push(e);
        if (this.autoRead) this.drainRead(side);
      }
      if (!any) return;
    }
  }

  drainRead(side: Side): void {
    let n: number;
    while ((n = side.conn.read(this.readBuf)) > 0) {
      side.received.push(this.readBuf.slice(0, n));
      side.receivedBytes += n;
    }
  }

  /** One step: the earliest arrival or timer. Returns false when nothing is scheduled. */
  step(limit = Infinity): boolean {
    this.flush();
    const ta = this.a.conn.pollTimeout() ?? Infinity;
    const tb = this.b.conn.pollTimeout() ?? Infinity;
    const t = Math.min(ta, tb, this.ab.nextAt(), this.ba.nextAt());
    if (t === Infinity || t > limit) return false;
    this.now = Math.max(this.now, t);
    while (this.ab.nextAt() <= this.now) this.b.conn.handleSegment(this.now, this.ab.q.shift()!.seg);
    while (this.ba.nextAt() <= this.now) this.a.conn.handleSegment(this.now, this.ba.q.shift()!.seg);
    if ((this.a.conn.pollTimeout() ?? Infinity) <= this.now) this.a.conn.handleTimeout(this.now);
    if ((this.b.conn.pollTimeout() ?? Infinity) <= this.now) this.b.conn.handleTimeout(this.now);
    this.flush();
    return true;
  }

  runUntil(done: () => boolean, maxUs: number): boolean {
    const end = this.now + maxUs;
    while (!done()) {
      if (!this.step(end)) {
        if (done()) return true;
        this.now = Math.max(this.now, end);
        return done();
      }
    }
    return true;
  }

  /** Runs until time `t` (everything scheduled before it happens). */
  runFor(us: number): void {
    const end = this.now + us;
    while (this.step(end)) {
      /* keep going */
    }
    this.now = Math.max(this.now, end);
  }

  connect(): boolean {
    this.b.conn.listen();
    this.a.conn.connect(this.now);
    return this.runUntil(() => this.a.conn.state === "ESTABLISHED" && this.b.conn.state === "ESTABLISHED", 200_000_000);
  }
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  new Prng(seed).fill(b);
  return b;
}

/** Feeds `data` into side's connection as the send buffer allows (call from app hooks). */
export class Writer {
  off = 0;
  constructor(public data: Uint8Array, public shutdownWhenDone = true) {}
  pump(c: TcpConnection): void {
    const st = c.state;
    if (!(st === "ESTABLISHED" || st === "CLOSE_WAIT" || st === "SYN_SENT" || st === "SYN_RECEIVED")) return;
    while (this.off < this.data.length) {
      const n = c.write(this.data.subarray(this.off, Math.min(this.data.length, this.off + (1 << 20))));
      if (n === 0) break;
      this.off += n;
    }
    if (this.off === this.data.length && this.shutdownWhenDone && (st === "ESTABLISHED" || st === "CLOSE_WAIT")) {
      c.shutdown();
      this.shutdownWhenDone = false;
    }
  }
}

/** Transfers `data` from a to b and b.close; returns when b has everything and both closed. */
export function transfer(p: Pair, data: Uint8Array, maxUs: number): boolean {
  const w = new Writer(data);
  p.app = (pp) => {
    w.pump(pp.a.conn);
    if (pp.b.conn.peerFinReceived && pp.b.conn.state === "CLOSE_WAIT") pp.b.conn.shutdown();
  };
  return p.runUntil(() => p.b.receivedBytes >= data.length && p.b.conn.peerFinReceived, maxUs);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
