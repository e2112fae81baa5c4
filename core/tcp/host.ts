// A TCP host (RFC 9293 section 3.10.7.1 for segments to closed ports, section 3.6.1 and
// RFC 6191 for TIME-WAIT reuse, RFC 6056 for ephemeral ports): owns the connections of one
// host, demultiplexes by 4-tuple, listens and accepts, and does the byte-level I/O: parses
// IP packets, verifies checksums, encodes outgoing segments with the core/wire codecs.
//
// Driver order: handlePacket / handleTimeout / a command, then pollTransmit(now) until
// undefined, then pollEvent() / pollAccept(), then re-arm one timer at pollTimeout().
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum, verifyTcpChecksum } from "../wire/checksum.ts";
import { ipHeaderFor } from "../wire/ip.ts";
import { emitPacket, parsePacket } from "../wire/packet.ts";
import { seqAdd } from "../wire/seq.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/types.ts";
import type { IpAddress, TcpSegment } from "../wire/types.ts";
import { TcpConnection } from "./connection.ts";
import type { TcpConnectionOptions } from "./connection.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { TcpConfig, TcpEvent } from "./types.ts";

export type TcpHostDropReason = "Malformed" | "BadChecksum" | "NotForUs" | "NoListener" | "Backlog" | "NoAck";

export interface TcpHostOptions {
  /** The host's address (IPv4 or IPv6 bytes). */
  address: IpAddress;
  random: RandomSource;
  config?: Partial<TcpConfig>;
  /** Ephemeral port range (RFC 6056; Linux default 32768-60999). */
  ephemeralLow?: number;
  ephemeralHigh?: number;
  /** Skip checksum verification (for trusted in-memory links in benchmarks). */
  trustChecksums?: boolean;
  /** Most connections accepted but not yet taken by pollAccept(), per listener. */
  backlog?: number;
}

export interface TcpHostStats {
  packetsIn: number;
  packetsOut: number;
  rstSent: number;
  accepted: number;
  timeWaitReused: number;
  drops: Partial<Record<TcpHostDropReason, number>>;
}

/** One connection of the host with its remote address. */
export interface TcpHostConnection {
  conn: TcpConnection;
  remoteAddress: IpAddress;
  remotePort: number;
  localPort: number;
  /** Events drained from the connection by the host, for the application. */
  events: TcpEvent[];
}

interface Listener {
  port: number;
  config: Partial<TcpConfig> | undefined;
  ready: TcpHostConnection[];
}

function keyOf(addr: IpAddress, rport: number, lport: number): string {
  let k = "";
  for (let i = 0; i < addr.length; i++) k += String.fromCharCode(addr[i]!);
  return k + ":" + rport + ":" + lport;
}

export class TcpHost {
  readonly address: IpAddress;
  private readonly random: RandomSource;
  private readonly config: Partial<TcpConfig>;
  private readonly conns = new Map<string, TcpHostConnection>();
  private readonly listeners = new Map<number, Listener>();
  private readonly rsts: Array<{ dst: IpAddress; seg: TcpSegment }> = [];
  private readonly lo: number;
  private readonly hi: number;
  private nextEphemeral: number;
  private readonly trust: boolean;
  private readonly backlog: number;
  private rr: TcpHostConnection[] = [];
  private rrIdx = 0;
  private readonly h: TcpHostStats = { packetsIn: 0, packetsOut: 0, rstSent: 0, accepted: 0, timeWaitReused: 0, drops: {} };

  constructor(opts: TcpHostOptions) {
    if (opts.address.length !== 4 && opts.address.length !== 16) throw new InvalidArgumentError("address must be 4 or 16 bytes");
    this.address = opts.address;
    this.random = opts.random;
    this.config = { ipv6: opts.address.length === 16, ...(opts.config ?? {}) };
    this.lo = opts.ephemeralLow ?? 32768;
    this.hi = opts.ephemeralHigh ?? 60999;
    const b = new Uint8Array(2);
    this.random.fill(b);
    this.nextEphemeral = this.lo + (((b[0]! << 8) | b[1]!) % (this.hi - this.lo + 1));
    this.trust = opts.trustChecksums ?? false;
    this.backlog = opts.backlog ?? 128;
  }

  stats(): TcpHostStats {
    return { ...this.h, drops: { ...this.h.drops } };
  }

  get connections(): TcpHostConnection[] {
    return [...this.conns.values()];
  }

  // ------------------------------------------------------------------------------ commands

  listen(port: number, config?: Partial<TcpConfig>): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`bad port ${port}`);
    if (this.listeners.has(port)) throw new InvalidStateError(`port ${port} already listening`);
    this.listeners.set(port, { port, config, ready: [] });
  }

  /** Active open to remote:port from an ephemeral (or given) local port. */
  connect(now: number, remote: IpAddress, remotePort: number, opts: { localPort?: number; config?: Partial<TcpConfig>; upper?: TcpConnectionOptions["upper"] } = {}): TcpHostConnection {
    if (remote.length !== this.address.length) throw new InvalidArgumentError("address family mismatch");
    let lport = opts.localPort;
    if (lport === undefined) {
      for (let i = 0; i <= this.hi - this.lo; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p >= this.hi ? this.lo : p + 1;
        if (!this.conns.has(keyOf(remote, remotePort, p)) && !this.listeners.has(p)) {
          lport = p;
          break;
        }
      }
      if (lport === undefined) throw new InvalidStateError("no ephemeral port left");
    } else if (this.conns.has(keyOf(remote, remotePort, lport))) throw new InvalidStateError("4-tuple in use");
    const conn = new TcpConnection({ localPort: lport, remotePort, random: this.random, config: { ...this.config, ...opts.config }, upper: opts.upper });
    const hc: TcpHostConnection = { conn, remoteAddress: remote, remotePort, localPort: lport, events: [] };
    this.add(hc);
    conn.connect(now);
    return hc;
  }

  /** A connection accepted on a listening port (established), or undefined. */
  pollAccept(port?: number): TcpHostConnection | undefined {
    for (const l of this.listeners.values()) {
      if (port !== undefined && l.port !== port) continue;
      const c = l.ready.shift();
      if (c) return c;
    }
    return undefined;
  }

  private add(hc: TcpHostConnection): void {
    this.conns.set(keyOf(hc.remoteAddress, hc.remotePort, hc.localPort), hc);
    this.rr.push(hc);
  }

  // ------------------------------------------------------------------------------ input

  handlePacket(now: number, packet: Uint8Array): void {
    this.h.packetsIn++;
    const r = parsePacket(packet);
    if (!r.ok) return this.drop("Malformed");
    const { ip, tcp, tcpOffset, tcpLength } = r.value;
    if (ip.dst.length !== this.address.length || !sameAddr(ip.dst, this.address)) return this.drop("NotForUs");
    if (!this.trust && !verifyTcpChecksum(ip.src, ip.dst, packet, tcpOffset, tcpLength)) return this.drop("BadChecksum");
    const h = tcp.header;
    const key = keyOf(ip.src, h.srcPort, h.dstPort);
    let hc = this.conns.get(key);
    let iss: number | undefined;
    if (hc && hc.conn.timeWaitAcceptsSyn(tcp)) {
      // RFC 9293 3.6.1 / RFC 6191: a new SYN beyond the old connection's sequence space (or
      // with a newer timestamp) reuses the 4-tuple in TIME-WAIT; our new ISN starts above the
      // old connection's SND.NXT (Linux: tw_snd_nxt + 65535 + 2), so old duplicates stay old.
      iss = seqAdd(hc.conn.sendNext, 65537);
      this.conns.delete(key);
      hc.conn.abortSilently(); // its "closed" event reaches hc.events; collect() then drops it
      this.h.timeWaitReused++;
      hc = undefined;
    }
    if (hc && hc.conn.state !== "CLOSED") {
      hc.conn.handleSegment(now, tcp);
      return;
    }
    if (hc) this.conns.delete(key);
    const l = this.listeners.get(h.dstPort);
    if (l && h.flags & TCP_SYN && !(h.flags & (TCP_ACK | TCP_RST))) {
      if (l.ready.length >= this.backlog) return this.drop("Backlog");
      const conn = new TcpConnection({ localPort: h.dstPort, remotePort: h.srcPort, random: this.random, config: { ...this.config, ...l.config }, initialSeq: iss });
      const nc: TcpHostConnection = { conn, remoteAddress: ip.src, remotePort: h.srcPort, localPort: h.dstPort, events: [] };
      conn.listen();
      conn.handleSegment(now, tcp);
      if (conn.state === "SYN_RECEIVED") this.add(nc);
      return;
    }
    // RFC 9293 3.10.7.1: a segment to a closed port gets a RST (unless it is one).
    if (!l) this.drop("NoListener");
    if (h.flags & TCP_RST) return;
    // RFC 9293 3.10.7.2 (LISTEN): only an ACK earns a RST; other segments without SYN are dropped.
    if (l && !(h.flags & TCP_ACK)) return this.drop("NoAck");
    const seg: TcpSegment = {
      header: { srcPort: h.dstPort, dstPort: h.srcPort, seq: 0, ack: 0, flags: TCP_RST, window: 0, checksum: 0, urgent: 0, options: { mptcp: [] } },
      payload: new Uint8Array(0),
    };
    if (h.flags & TCP_ACK) seg.header.seq = h.ack;
    else {
      const len = tcp.payload.length + (h.flags & TCP_SYN ? 1 : 0) + (h.flags & TCP_FIN ? 1 : 0);
      seg.header.ack = seqAdd(h.seq, len);
      seg.header.flags = TCP_RST | TCP_ACK;
    }
    this.rsts.push({ dst: ip.src, seg });
  }

  handleTimeout(now: number): void {
    for (const hc of this.rr) {
      const t = hc.conn.pollTimeout();
      if (t !== undefined && t <= now) hc.conn.handleTimeout(now);
    }
  }

  // ------------------------------------------------------------------------------ output

  /** The next outgoing IP packet (a new buffer), or undefined. */
  pollTransmit(now: number): Uint8Array | undefined {
    const r = this.rsts.shift();
    if (r) {
      this.h.rstSent++;
      return this.encode(r.dst, r.seg);
    }
    const n = this.rr.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rrIdx + i) % n;
      const hc = this.rr[idx]!;
      const seg = hc.conn.pollTransmit(now);
      if (seg) {
        this.rrIdx = (idx + 1) % n;
        return this.encode(hc.remoteAddress, seg);
      }
    }
    this.collect();
    return undefined;
  }

  /** Drains connection events into each connection's `events` and moves accepted ones. */
  private collect(): void {
    let removed = false;
    for (const hc of this.rr) {
      let e: TcpEvent | undefined;
      while ((e = hc.conn.pollEvent()) !== undefined) {
        hc.events.push(e);
        if (e.type === "connected" && this.listeners.has(hc.localPort)) {
          const l = this.listeners.get(hc.localPort)!;
          if (!hc.conn.activeOpen) {
            l.ready.push(hc);
            this.h.accepted++;
          }
        }
      }
      if (hc.conn.state === "CLOSED" && hc.conn.pollTimeout() === undefined) removed = true;
    }
    if (removed) {
      this.rr = this.rr.filter((hc) => {
        if (hc.conn.state !== "CLOSED") return true;
        const k = keyOf(hc.remoteAddress, hc.remotePort, hc.localPort);
        if (this.conns.get(k) === hc) this.conns.delete(k);
        return false;
      });
      this.rrIdx = 0;
    }
  }

  pollTimeout(): number | undefined {
    let m = Infinity;
    for (const hc of this.rr) {
      const t = hc.conn.pollTimeout();
      if (t !== undefined && t < m) m = t;
    }
    return m === Infinity ? undefined : m;
  }

  private encode(dst: IpAddress, seg: TcpSegment): Uint8Array {
    const ip = ipHeaderFor(this.address, dst);
    const out = new Uint8Array((ip.version === 4 ? 20 : 40) + 60 + seg.payload.length);
    let r = emitPacket(ip, seg, out, 0);
    if (!r.ok) {
      // Options did not fit: drop the MPTCP ones, then SACK blocks (never more than 40 bytes).
      seg.header.options.mptcp = [];
      r = emitPacket(ip, seg, out, 0);
      if (!r.ok) {
        seg.header.options.sack = undefined;
        r = emitPacket(ip, seg, out, 0);
      }
      if (!r.ok) throw new InvalidStateError("segment options do not fit");
    }
    const l = r.value;
    fillTcpChecksum(this.address, dst, out, l.tcpOffset, l.tcpLength);
    if (ip.version === 4) fillIpv4HeaderChecksum(out, l.ipOffset);
    this.h.packetsOut++;
    return l.length === out.length ? out : out.subarray(0, l.length);
  }

  private drop(r: TcpHostDropReason): void {
    this.h.drops[r] = (this.h.drops[r] ?? 0) + 1;
  }
}

function sameAddr(a: IpAddress, b: IpAddress): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
