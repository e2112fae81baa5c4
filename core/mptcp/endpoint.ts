// The MPTCP Endpoint (RFC 8684 sections 3.1-3.2; RFC 9293 section 3.10.7.1 for segments to
// closed ports): owns the connections of one host with several local addresses, parses and
// checksums IP packets, demultiplexes by 4-tuple and MP_JOIN SYNs by token, listens and
// accepts (MP_CAPABLE or plain TCP), answers unknown tokens with RST + MP_TCPRST, and encodes
// outgoing segments with the core/wire codecs.
//
// Driver order: handlePacket / handleTimeout / a command, then pollTransmit(now) until
// undefined, then pollAccept() and pollEvent() (or each connection's pollEvent()) until
// undefined, then re-arm one timer at pollTimeout(). Application reads and writes go between
// the event drain and the next pollTransmit drain.
import type { RandomSource } from "../crypto/random.ts";
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum, verifyTcpChecksum } from "../wire/checksum.ts";
import { ipEquals, ipHeaderFor, ipHeaderLength } from "../wire/ip.ts";
import type { IpHeader } from "../wire/ip.ts";
import { optionsLength, TCP_OPTIONS_MAX } from "../wire/segment.ts";
import { parsePacket, writePacket } from "../wire/packet.ts";
import { seqAdd } from "../wire/seq.ts";
import { MPC_FLAG_A, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/types.ts";
import { acceptableMpCapable, findMpCapable } from "./handshake.ts";
import type { IpAddress, MptcpOption, TcpSegment } from "../wire/types.ts";
import { MptcpConnection } from "./connection.ts";
import type { EndpointContext } from "./connection.ts";
import type { Subflow } from "./subflow.ts";
import { DEFAULT_MPTCP_CONFIG, mergeMptcpConfig } from "./types.ts";
import type { LocalAddressSpec, MptcpConfig, MptcpConfigInput, MptcpDropReason, MptcpEvent } from "./types.ts";

export interface EndpointOptions {
  addresses: LocalAddressSpec[];
  random: RandomSource;
  config?: MptcpConfigInput;
  /** Skip TCP checksum verification (trusted in-memory links, benchmarks). */
  trustChecksums?: boolean;
  ephemeralLow?: number;
  ephemeralHigh?: number;
}

export interface EndpointStats {
  packetsIn: number;
  packetsOut: number;
  rstSent: number;
  accepted: number;
  connections: number;
  MPJoinNoTokenFound: number;
  MPJoinSynRx: number;
  MPCapableSYNRX: number;
  MPRstTx: number;
  drops: Partial<Record<MptcpDropReason, number>>;
}

/** One outgoing packet and where it leaves. */
export interface EndpointTransmit {
  packet: Uint8Array;
  iface: number;
  localAddress: IpAddress;
}

interface LocalAddr {
  address: IpAddress;
  id: number;
  iface: number;
  signal: boolean;
  subflow: boolean;
  backup: boolean;
}

/** Key of the fast demultiplexing index: the port pair (a Smi: no number boxed per packet). */
function portKey(localPort: number, remotePort: number): number {
  return ((localPort & 0x3fff) << 16) | remotePort;
}

interface SubEntry {
  conn: MptcpConnection;
  sf: Subflow;
}

function key4(la: IpAddress, lp: number, ra: IpAddress, rp: number): string {
  let k = "";
  for (let i = 0; i < la.length; i++) k += String.fromCharCode(la[i]!);
  k += "|";
  for (let i = 0; i < ra.length; i++) k += String.fromCharCode(ra[i]!);
  return k + "|" + lp + "|" + rp;
}

export class Endpoint {
  readonly config: Readonly<MptcpConfig>;
  private readonly random: RandomSource;
  private readonly addrs: LocalAddr[] = [];
  private readonly listeners = new Set<number>();
  private readonly bySub = new Map<string, SubEntry>();
  /**
   * The entries of bySub by port pair, compared by address bytes: the per-packet lookup builds
   * no string key (bySub stays the registry; both change together in register / unregister).
   */
  private readonly byPorts = new Map<number, SubEntry[]>();
  /** IP headers of recent (source, destination) pairs, by identity of the address arrays. */
  private readonly ipHeaders: IpHeader[] = [];
  private ipNext = 0;
  private readonly byToken = new Map<number, MptcpConnection>();
  private conns: MptcpConnection[] = [];
  private readonly acceptQ: MptcpConnection[] = [];
  private readonly pendingAccept = new Set<MptcpConnection>();
  private readonly rsts: Array<{ src: IpAddress; dst: IpAddress; seg: TcpSegment }> = [];
  private readonly trust: boolean;
  private readonly lo: number;
  private readonly hi: number;
  private nextPort: number;
  private rr = 0;
  private readonly s: EndpointStats = { packetsIn: 0, packetsOut: 0, rstSent: 0, accepted: 0, connections: 0, MPJoinNoTokenFound: 0, MPJoinSynRx: 0, MPCapableSYNRX: 0, MPRstTx: 0, drops: {} };
  private readonly ctx: EndpointContext;
  /** Interfaces of removed addresses (their last RSTs still leave there). */
  private readonly removedIfaces = new Map<string, number>();

  constructor(opts: EndpointOptions) {
    if (opts.addresses.length === 0) throw new InvalidArgumentError("an endpoint needs at least one address");
    this.config = mergeMptcpConfig(DEFAULT_MPTCP_CONFIG, opts.config);
    this.random = opts.random;
    this.trust = opts.trustChecksums ?? false;
    this.lo = opts.ephemeralLow ?? 32768;
    this.hi = opts.ephemeralHigh ?? 60999;
    const b = new Uint8Array(2);
    this.random.fill(b);
    this.nextPort = this.lo + (((b[0]! << 8) | b[1]!) % (this.hi - this.lo + 1));
    for (const a of opts.addresses) this.addAddressSpec(a);
    const self = this;
    this.ctx = {
      random: this.random,
      allocPort: (l, r, rp) => self.allocPort(l, r, rp),
      register: (conn, sf) => {
        const e: SubEntry = { conn, sf };
        const k = key4(sf.localAddress, sf.localPort, sf.remoteAddress, sf.remotePort);
        const old = self.bySub.get(k);
        self.bySub.set(k, e);
        const pk = portKey(sf.localPort, sf.remotePort);
        const list = self.byPorts.get(pk);
        if (!list) self.byPorts.set(pk, [e]);
        else {
          const i = old ? list.indexOf(old) : -1;
          if (i >= 0) list[i] = e;
          else list.push(e);
        }
      },
      unregister: (_conn, sf) => {
        const k = key4(sf.localAddress, sf.localPort, sf.remoteAddress, sf.remotePort);
        const e = self.bySub.get(k);
        if (e?.sf !== sf) return;
        self.bySub.delete(k);
        const pk = portKey(sf.localPort, sf.remotePort);
        const list = self.byPorts.get(pk)!;
        list.splice(list.indexOf(e), 1);
        if (list.length === 0) self.byPorts.delete(pk);
      },
      localAddresses: () => self.addrs,
      tokenInUse: (t) => self.byToken.has(t),
      releaseToken: (t) => {
        self.byToken.delete(t);
      },
    };
  }

  private addAddressSpec(a: LocalAddressSpec): LocalAddr {
    if (a.address.length !== 4 && a.address.length !== 16) throw new InvalidArgumentError("address must be 4 or 16 bytes");
    if (this.addrs.some((x) => ipEquals(x.address, a.address))) throw new InvalidStateError("address already present");
    let id = a.id;
    if (id === undefined) {
      id = 1;
      while (this.addrs.some((x) => x.id === id)) id++;
    }
    if (!Number.isInteger(id) || id < 1 || id > 255) throw new InvalidArgumentError(`bad endpoint id ${id}`);
    const la: LocalAddr = { address: a.address, id, iface: a.iface ?? this.addrs.length, signal: a.signal ?? false, subflow: a.subflow ?? false, backup: a.backup ?? false };
    this.addrs.push(la);
    return la;
  }

  // ------------------------------------------------------------------------------ getters

  get connections(): readonly MptcpConnection[] {
    return this.conns;
  }

  get addresses(): ReadonlyArray<Readonly<LocalAddr>> {
    return this.addrs;
  }

  stats(): EndpointStats {
    return { ...this.s, connections: this.conns.length, drops: { ...this.s.drops } };
  }

  // ------------------------------------------------------------------------------ commands

  listen(port: number): void {
    if (this.disposed) throw new InvalidStateError("listen() on a disposed endpoint");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`bad port ${port}`);
    if (this.listeners.has(port)) throw new InvalidStateError(`port ${port} already listening`);
    this.listeners.add(port);
  }

  /** Opens an MPTCP connection (or plain TCP with config mptcp: false) from `local` (default: the first address). */
  connect(now: number, remote: IpAddress, remotePort: number, opts: { localAddress?: IpAddress; config?: MptcpConfigInput } = {}): MptcpConnection {
    if (this.disposed) throw new InvalidStateError("connect() on a disposed endpoint");
    const local = opts.localAddress ?? this.addrs.find((a) => a.address.length === remote.length)?.address;
    if (!local) throw new InvalidArgumentError("no local address of that family");
    if (!this.addrs.some((a) => ipEquals(a.address, local))) throw new InvalidArgumentError("not a local address");
    if (this.conns.length >= this.config.maxConnections) throw new InvalidStateError("connection limit reached");
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) throw new InvalidArgumentError(`bad port ${remotePort}`);
    const cfg = mergeMptcpConfig(this.config, opts.config);
    const conn = new MptcpConnection(this.ctx, cfg, "client", local, remote, remotePort);
    this.byToken.set(conn.localToken, conn);
    this.conns.push(conn);
    conn.initialSubflow(now, this.allocPort(local, remote, remotePort));
    return conn;
  }

  /** A connection accepted on a listening port (established), or undefined. */
  pollAccept(): MptcpConnection | undefined {
    return this.acceptQ.shift();
  }

  /**
   * The next event of any connection, with its connection (drains the connections' own
   * pollEvent queues: use either this or MptcpConnection.pollEvent, not both).
   */
  pollEvent(): { conn: MptcpConnection; event: MptcpEvent } | undefined {
    for (const conn of this.conns) {
      const event = conn.pollEvent();
      if (event) return { conn, event };
    }
    return undefined;
  }

  /** Adds a local address; the path manager may open subflows from it or announce it. */
  addAddress(now: number, spec: LocalAddressSpec): number {
    const la = this.addAddressSpec(spec);
    for (const c of this.conns) c.pm.localAddressAdded(now, c, la);
    return la.id;
  }

  /** Removes a local address: subflows on it close, peers get REMOVE_ADDR. */
  removeAddress(now: number, address: IpAddress): void {
    const i = this.addrs.findIndex((a) => ipEquals(a.address, address));
    if (i < 0) throw new InvalidArgumentError("not a local address");
    const la = this.addrs[i]!;
    this.addrs.splice(i, 1);
    this.removedIfaces.set(key4(la.address, 0, la.address, 0), la.iface);
    for (const c of this.conns) c.localAddressRemoved(now, la.address, la.id);
  }

  // ------------------------------------------------------------------------------ input

  /** One IP packet from the network. Never throws. */
  handlePacket(now: number, packet: Uint8Array, _iface?: number): void {
    this.s.packetsIn++;
    if (this.disposed) return this.drop("Disposed");
    // Addresses as views into the packet: copied below only where they are kept.
    const r = parsePacket(packet, 0, packet.length, true);
    if (!r.ok) return this.drop("Malformed");
    const { tcp, tcpOffset, tcpLength } = r.value;
    const la = this.localAddr(r.value.ip.dst);
    if (!la) return this.drop("NotForUs");
    if (!this.trust && !verifyTcpChecksum(r.value.ip.src, r.value.ip.dst, packet, tcpOffset, tcpLength)) return this.drop("BadChecksum");
    const h = tcp.header;
    const hit = this.lookup(r.value.ip.dst, h.dstPort, r.value.ip.src, h.srcPort);
    if (hit && hit.sf.tcp.state !== "CLOSED") {
      hit.conn.handleSegment(now, hit.sf, tcp);
      this.afterConn(hit.conn);
      return;
    }
    // Not an established subflow: the addresses may be kept (new connection, join, RST queue).
    const ip = { src: r.value.ip.src.slice(), dst: la.address };
    const syn = (h.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    if (syn) {
      const join = h.options.mptcp.find((o) => o.type === "mp_join_syn");
      if (join && join.type === "mp_join_syn") {
        this.s.MPJoinSynRx++;
        const conn = this.byToken.get(join.token);
        if (!conn || !this.config.mptcp) {
          this.s.MPJoinNoTokenFound++;
          this.drop("UnknownToken");
          return this.reset(ip.dst, ip.src, tcp, 1);
        }
        const sf = conn.acceptJoin(now, ip.dst, h.dstPort, ip.src, h.srcPort, tcp, join);
        if (!sf) return this.reset(ip.dst, ip.src, tcp, 2);
        this.afterConn(conn);
        return;
      }
      if (this.listeners.has(h.dstPort)) {
        if (this.conns.length >= this.config.maxConnections) return this.drop("TooManyConnections");
        const mpc = findMpCapable(h.options.mptcp);
        const ok = this.config.mptcp && acceptableMpCapable(mpc, "syn");
        if (ok) this.s.MPCapableSYNRX++;
        const cfg = ok ? this.config : Object.freeze({ ...this.config, mptcp: false });
        const conn = new MptcpConnection(this.ctx, cfg, "server", ip.dst, ip.src, h.srcPort);
        if (ok) {
          conn.count("MPCapableSYNRX");
          if (mpc!.flags & MPC_FLAG_A) conn.requireChecksum();
          this.byToken.set(conn.localToken, conn);
        }
        this.conns.push(conn);
        const sf = conn.initialSubflow(now, h.dstPort);
        conn.handleSegment(now, sf, tcp);
        this.pendingAccept.add(conn);
        this.afterConn(conn);
        return;
      }
    }
    this.drop("NoListener");
    if (h.flags & TCP_RST) return;
    this.reset(ip.dst, ip.src, tcp, undefined);
  }

  /** The local address with these bytes (no closure per packet), or undefined. */
  private localAddr(a: IpAddress): LocalAddr | undefined {
    const addrs = this.addrs;
    for (let i = 0; i < addrs.length; i++) if (ipEquals(addrs[i]!.address, a)) return addrs[i];
    return undefined;
  }

  /** The subflow of a 4-tuple (bySub's entry, found without building its string key). */
  private lookup(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number): SubEntry | undefined {
    const list = this.byPorts.get(portKey(localPort, remotePort));
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const sf = e.sf;
      if (sf.localPort === localPort && sf.remotePort === remotePort && ipEquals(sf.localAddress, local) && ipEquals(sf.remoteAddress, remote)) return e;
    }
    return undefined;
  }

  /** The IP header from src to dst (emitIp only reads it: one per address pair, kept). */
  private ipHeader(src: IpAddress, dst: IpAddress): IpHeader {
    const hs = this.ipHeaders;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i]!;
      if (h.src === src && h.dst === dst) return h;
    }
    const h = ipHeaderFor(src, dst);
    if (hs.length < 16) hs.push(h);
    else {
      hs[this.ipNext] = h;
      this.ipNext = (this.ipNext + 1) & 15;
    }
    return h;
  }

  private reset(src: IpAddress, dst: IpAddress, tcp: TcpSegment, reason: number | undefined): void {
    const h = tcp.header;
    const opts: MptcpOption[] = reason !== undefined && this.config.mptcp ? [{ type: "mp_tcprst", flags: 0, reason }] : [];
    if (opts.length) this.s.MPRstTx++;
    const seg: TcpSegment = {
      header: { srcPort: h.dstPort, dstPort: h.srcPort, seq: 0, ack: 0, flags: TCP_RST, window: 0, checksum: 0, urgent: 0, options: { mptcp: opts } },
      payload: new Uint8Array(0),
    };
    if (h.flags & TCP_ACK) seg.header.seq = h.ack;
    else {
      const len = tcp.payload.length + (h.flags & TCP_SYN ? 1 : 0) + (h.flags & TCP_FIN ? 1 : 0);
      seg.header.ack = seqAdd(h.seq, len);
      seg.header.flags = TCP_RST | TCP_ACK;
    }
    if (this.rsts.length < 1024) this.rsts.push({ src, dst, seg });
  }

  handleTimeout(now: number): void {
    for (const c of this.conns) {
      const t = c.pollTimeout();
      if (t !== undefined && t <= now) {
        c.handleTimeout(now);
        this.afterConn(c);
      }
    }
  }

  private afterConn(c: MptcpConnection): void {
    while (c.pendingRsts.length > 0) {
      const sf = c.pendingRsts.shift()!;
      const seg: TcpSegment = {
        header: { srcPort: sf.localPort, dstPort: sf.remotePort, seq: seqAdd(sf.tcp.initialSendSeq, 1), ack: 0, flags: TCP_RST, window: 0, checksum: 0, urgent: 0, options: { mptcp: [{ type: "mp_tcprst", flags: 0, reason: sf.rstReason ?? 1 }] } },
        payload: new Uint8Array(0),
      };
      this.s.MPRstTx++;
      this.rsts.push({ src: sf.localAddress, dst: sf.remoteAddress, seg });
    }
    if (this.pendingAccept.has(c) && c.state !== "SYN_RECEIVED") {
      this.pendingAccept.delete(c);
      if (c.state !== "CLOSED") {
        this.acceptQ.push(c);
        this.s.accepted++;
      }
    }
  }

  // ------------------------------------------------------------------------------ output

  /** The next outgoing packet (a new buffer) and its interface, or undefined. */
  pollTransmit(now: number): EndpointTransmit | undefined {
    return this.transmit(now, undefined);
  }

  /**
   * pollTransmit into a caller-owned buffer (DESIGN.md convention 6: no allocation per packet).
   * `out` must hold the largest packet: IP header + 60 + MSS bytes (65535 is always enough).
   * Returns the packet's length and where it leaves, or undefined.
   */
  pollTransmitInto(now: number, out: Uint8Array): { length: number; iface: number; localAddress: IpAddress } | undefined {
    const min = 100 + (this.config.tcp.mss ?? 1460);
    if (out.length < min) throw new InvalidArgumentError(`pollTransmitInto: the buffer needs at least ${min} bytes (got ${out.length})`);
    const t = this.transmit(now, out);
    return t ? { length: t.packet.length, iface: t.iface, localAddress: t.localAddress } : undefined;
  }

  private transmit(now: number, into: Uint8Array | undefined): EndpointTransmit | undefined {
    if (this.disposed) return undefined;
    const r = this.rsts.shift();
    if (r) {
      this.s.rstSent++;
      return this.encode(r.src, r.dst, r.seg, into);
    }
    const n = this.conns.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = this.conns[idx]!;
      const t = c.pollTransmit(now);
      this.afterConn(c);
      if (t) {
        this.rr = idx;
        return this.encode(t.sf.localAddress, t.sf.remoteAddress, t.seg, into);
      }
    }
    const r2 = this.rsts.shift();
    if (r2) {
      this.s.rstSent++;
      return this.encode(r2.src, r2.dst, r2.seg, into);
    }
    this.collect();
    return undefined;
  }

  private collect(): void {
    let gone = false;
    for (const c of this.conns) if (c.state === "CLOSED" && c.pollTimeout() === undefined && c.liveSubflows.length === 0) gone = true;
    if (!gone) return;
    this.conns = this.conns.filter((c) => {
      if (c.state === "CLOSED" && c.pollTimeout() === undefined && c.liveSubflows.length === 0) {
        if (this.byToken.get(c.localToken) === c) this.byToken.delete(c.localToken);
        for (const sf of c.subflows) this.ctx.unregister(c, sf);
        this.pendingAccept.delete(c);
        // WASM kernels hold memory outside the JS heap: free it (data-level buffers, DSS maps,
        // the subflows' TCP receive rings). Unread bytes stay readable for a caller holding `c`.
        c.dispose();
        return false;
      }
      return true;
    });
    this.rr = 0;
  }

  /**
   * Releases what every connection holds outside the JS heap (WASM buffers, DSS maps, receive
   * rings) without sending anything: for an endpoint that is being abandoned with connections
   * still open (the end of a simulation, a process shutting down). Unread bytes stay readable
   * from the connection objects. Afterwards the endpoint sends nothing, drops every packet
   * (counted as "disposed") and connect()/listen() throw InvalidStateError. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.conns) {
      for (const sf of c.subflows) this.ctx.unregister(c, sf);
      c.dispose();
    }
    this.conns = [];
    this.byToken.clear();
    this.pendingAccept.clear();
  }
  private disposed = false;

  pollTimeout(): number | undefined {
    let m = Infinity;
    for (const c of this.conns) {
      const t = c.pollTimeout();
      if (t !== undefined && t < m) m = t;
    }
    return m === Infinity ? undefined : m;
  }

  private allocPort(local: IpAddress, remote: IpAddress, remotePort: number): number {
    for (let i = 0; i <= this.hi - this.lo; i++) {
      const p = this.nextPort;
      this.nextPort = p >= this.hi ? this.lo : p + 1;
      if (!this.bySub.has(key4(local, p, remote, remotePort)) && !this.listeners.has(p)) return p;
    }
    throw new InvalidStateError("no ephemeral port left");
  }

  private encode(src: IpAddress, dst: IpAddress, seg: TcpSegment, into?: Uint8Array): EndpointTransmit {
    const ip = this.ipHeader(src, dst);
    const o = seg.header.options;
    let ol = optionsLength(o);
    if (ol > TCP_OPTIONS_MAX) {
      // Too many options (emitPacket would refuse them): the SACK blocks go first, then MPTCP's.
      o.sack = undefined;
      ol = optionsLength(o);
      if (ol > TCP_OPTIONS_MAX) {
        o.mptcp = [];
        ol = optionsLength(o);
      }
      if (ol > TCP_OPTIONS_MAX) throw new InvalidStateError("segment options do not fit");
    }
    // The exact packet length: a new packet is allocated at its size (no view on a larger buffer).
    const need = (ip.version === 4 ? 20 : 40) + 20 + ol + seg.payload.length;
    if (into && into.length < need) throw new InvalidArgumentError(`pollTransmitInto: buffer of ${into.length} bytes, ${need} needed`);
    const out = into ?? new Uint8Array(need);
    const length = writePacket(ip, seg, out, 0);
    if (length < 0) throw new InvalidStateError("segment options do not fit");
    const ihl = ipHeaderLength(ip);
    fillTcpChecksum(src, dst, out, ihl, length - ihl);
    if (ip.version === 4) fillIpv4HeaderChecksum(out, 0);
    this.s.packetsOut++;
    const la = this.localAddr(src);
    const iface = la?.iface ?? this.removedIfaces.get(key4(src, 0, src, 0)) ?? 0;
    return { packet: length === out.length ? out : out.subarray(0, length), iface, localAddress: src };
  }

  private drop(r: MptcpDropReason): void {
    this.s.drops[r] = (this.s.drops[r] ?? 0) + 1;
  }
}
