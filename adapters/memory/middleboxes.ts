// Middlebox models for the in-memory network (the behaviours RFC 8684 section 3.7 and the
// MPTCP middlebox studies worry about): option stripping, sequence-number rewriting, segment
// splitting and coalescing, payload rewriting (an ALG), proxy ACKs, and NAT. Each works on the
// packet bytes, passes through whatever it does not understand, and leaves the IPv4 header and
// TCP checksums valid (a packet that arrived with a bad checksum keeps a bad one).
import { fillIpv4HeaderChecksum, fillUdpChecksum, verifyUdpChecksum } from "../../core/wire/checksum.ts";
import { IPPROTO_TCP, IPPROTO_UDP, ipDst, ipSrc, ipVersion, parseAddress, ports } from "./packet.ts";
import { finishTcp, put16, put32, rebuildTcp, tcpChecksumOk, tcpInfo, tcpOptions, u16, u32 } from "./tcpbytes.ts";
import type { TcpInfo } from "./tcpbytes.ts";
import type { Direction, Micros, Middlebox, MiddleboxContext } from "./types.ts";

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;
const TCPOPT_SACK = 5;
const TCPOPT_TIMESTAMP = 8;
const TCPOPT_MPTCP = 30;

function flowKey(p: Uint8Array, info: TcpInfo): string {
  return `${Array.from(ipSrc(p)!).join(".")}:${info.srcPort}>${Array.from(ipDst(p)!).join(".")}:${info.dstPort}`;
}

function reverseKey(p: Uint8Array, info: TcpInfo): string {
  return `${Array.from(ipDst(p)!).join(".")}:${info.dstPort}>${Array.from(ipSrc(p)!).join(".")}:${info.srcPort}`;
}

// ---------------------------------------------------------------------------------------------
// Segment classes (for selective stripping)

/**
 * "syn": SYN without ACK; "synack": SYN+ACK; "ack3": the first segment without SYN from the
 * side that sent the SYN, after a SYN/ACK was seen (the third ACK, with or without data);
 * "data": any segment with payload; "ack": any other segment.
 */
export type SegmentClass = "syn" | "synack" | "ack3" | "data" | "ack";

/** Tracks handshakes to classify segments; one per middlebox. */
export class HandshakeTracker {
  private readonly state = new Map<string, "syn" | "synack">();

  classify(p: Uint8Array, info: TcpInfo): Set<SegmentClass> {
    const out = new Set<SegmentClass>();
    const f = info.flags;
    if (f & SYN) {
      if (f & ACK) {
        out.add("synack");
        const k = reverseKey(p, info);
        if (this.state.get(k) === "syn") this.state.set(k, "synack");
      } else {
        out.add("syn");
        this.state.set(flowKey(p, info), "syn");
      }
      return out;
    }
    const k = flowKey(p, info);
    if (this.state.get(k) === "synack" && !(f & RST)) {
      out.add("ack3");
      this.state.delete(k);
    }
    if (info.payloadLen > 0) out.add("data");
    else if (!out.has("ack3")) out.add("ack");
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Option stripping

export interface StripOptionsConfig {
  /** "mptcp": only kind 30; "all": every option. Default "mptcp". */
  options?: "mptcp" | "all";
  /** Segment classes to strip on (default all five). */
  on?: SegmentClass[];
  /** Only in this direction (default both). */
  dir?: Direction;
  /** "remove" shrinks the header (default); "nop" overwrites the options with NOPs. */
  how?: "remove" | "nop";
  /** Probability of acting on a matching segment (default 1). */
  probability?: number;
}

/** Removes TCP options (all, or MPTCP only) on selected segment classes. */
export class StripOptions implements Middlebox {
  readonly name: string;
  stripped = 0;
  private readonly tracker = new HandshakeTracker();
  private readonly c: Required<Omit<StripOptionsConfig, "dir">>;
  private readonly dirOnly: Direction | undefined;

  constructor(config: StripOptionsConfig = {}) {
    const { dir, ...rest } = config;
    this.c = { options: "mptcp", on: ["syn", "synack", "ack3", "data", "ack"], how: "remove", probability: 1, ...rest };
    this.dirOnly = dir;
    this.name = `strip-${this.c.options}-${this.c.on.join("+")}`;
  }

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    const info = tcpInfo(packet);
    if (!info) return [packet];
    const classes = this.tracker.classify(packet, info);
    if (this.dirOnly !== undefined && ctx.dir !== this.dirOnly) return [packet];
    if (!this.c.on.some((k) => classes.has(k))) return [packet];
    if (this.c.probability < 1 && ctx.random() >= this.c.probability) return [packet];
    const opts = tcpOptions(packet, info);
    if (!opts) return [packet];
    const strip = (kind: number): boolean => kind !== 1 && (this.c.options === "all" || kind === TCPOPT_MPTCP);
    if (!opts.some((o) => strip(o.kind))) return [packet];
    const ok = tcpChecksumOk(packet, info);
    this.stripped++;
    if (this.c.how === "nop") {
      for (const o of opts) if (strip(o.kind)) packet.fill(1, o.off, o.off + o.len);
      finishTcp(packet, info, ok);
      return [packet];
    }
    const keep: number[] = [];
    for (const o of opts) if (!strip(o.kind)) for (let i = 0; i < o.len; i++) keep.push(packet[o.off + i]!);
    const out = rebuildTcp(packet, info, Uint8Array.from(keep), packet.subarray(info.payloadOff, info.end), ok);
    return [out ?? packet];
  }
}

// ---------------------------------------------------------------------------------------------
// Sequence number rewriting

/**
 * Adds an offset to the sequence numbers of each direction (as some firewalls randomise the
 * ISN), and subtracts the other direction's offset from ACK numbers and SACK blocks, so the
 * connection still works at the TCP level while MPTCP's relative subflow sequence numbers
 * must be computed from what each side sees.
 */
export class SeqRewrite implements Middlebox {
  readonly name = "seq-rewrite";
  rewritten = 0;
  private readonly offsets: [number, number];

  constructor(offsetAB: number, offsetBA: number = offsetAB) {
    this.offsets = [offsetAB >>> 0, offsetBA >>> 0];
  }

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    const info = tcpInfo(packet);
    if (!info) return [packet];
    const opts = tcpOptions(packet, info);
    if (!opts) return [packet];
    const ok = tcpChecksumOk(packet, info);
    const mine = this.offsets[ctx.dir];
    const theirs = this.offsets[ctx.dir === 0 ? 1 : 0];
    put32(packet, info.tcpOff + 4, (info.seq + mine) >>> 0);
    if (info.flags & ACK) put32(packet, info.tcpOff + 8, (info.ack - theirs) >>> 0);
    for (const o of opts) {
      if (o.kind !== TCPOPT_SACK) continue;
      for (let b = o.off + 2; b + 4 <= o.off + o.len; b += 4) put32(packet, b, (u32(packet, b) - theirs) >>> 0);
    }
    finishTcp(packet, info, ok);
    this.rewritten++;
    return [packet];
  }
}

// ---------------------------------------------------------------------------------------------
// Splitting and coalescing

export interface SplitConfig {
  /** Payload bytes in the first part (default: half, rounded down). */
  firstBytes?: number;
  /** Probability of splitting a data segment (default 1). */
  probability?: number;
  /** Only in this direction (default both). */
  dir?: Direction;
}

/**
 * Splits a data segment into two (as TSO or a resegmenting proxy does): both parts carry the
 * original options; FIN and PSH stay on the second part only.
 */
export class SplitSegments implements Middlebox {
  readonly name = "split";
  splits = 0;
  constructor(private readonly config: SplitConfig = {}) {}

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    if (this.config.dir !== undefined && ctx.dir !== this.config.dir) return [packet];
    const info = tcpInfo(packet);
    if (!info || info.payloadLen < 2 || info.flags & (SYN | RST)) return [packet];
    if ((this.config.probability ?? 1) < 1 && ctx.random() >= this.config.probability!) return [packet];
    const k = Math.min(Math.max(1, this.config.firstBytes ?? info.payloadLen >> 1), info.payloadLen - 1);
    const ok = tcpChecksumOk(packet, info);
    const options = packet.subarray(info.tcpOff + 20, info.tcpOff + info.hdrLen);
    const payload = packet.subarray(info.payloadOff, info.end);
    const first = rebuildTcp(packet, info, options, payload.subarray(0, k), ok);
    const second = rebuildTcp(packet, info, options, payload.subarray(k), ok);
    if (!first || !second) return [packet];
    const i1 = tcpInfo(first)!;
    first[i1.tcpOff + 13] = info.flags & ~(FIN | PSH);
    finishTcp(first, i1, ok);
    const i2 = tcpInfo(second)!;
    put32(second, i2.tcpOff + 4, (info.seq + k) >>> 0);
    finishTcp(second, i2, ok);
    this.splits++;
    return [first, second];
  }
}

export interface CoalesceConfig {
  /** How long a data segment may be held waiting for its successor (default 1000 µs). */
  holdUs?: Micros;
  /** Largest coalesced payload (default 65000). */
  maxPayload?: number;
  /** Only in this direction (default both). */
  dir?: Direction;
}

interface Held {
  packet: Uint8Array;
  info: TcpInfo;
  key: string;
  id: number;
}

/**
 * Coalesces adjacent data segments of a flow (as LRO/GRO or a proxy does): a data segment is
 * held up to `holdUs`; if the next segment of the same flow continues it exactly and carries
 * the same flags (PSH and FIN aside), the two become one segment with the FIRST segment's
 * header and options (the second's options are lost, as with real coalescing of segments
 * whose options differ). Anything else releases the held segment first, preserving order.
 */
export class CoalesceSegments implements Middlebox {
  readonly name = "coalesce";
  merged = 0;
  private readonly held: [Held | undefined, Held | undefined] = [undefined, undefined];
  private nextId = 0;
  constructor(private readonly config: CoalesceConfig = {}) {}

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    const dir = ctx.dir;
    if (this.config.dir !== undefined && dir !== this.config.dir) return [packet];
    const info = tcpInfo(packet);
    const out: Uint8Array[] = [];
    const h = this.held[dir];
    if (info && h && info.payloadLen > 0 && !(info.flags & (SYN | RST)) && flowKey(packet, info) === h.key &&
      info.seq === ((h.info.seq + h.info.payloadLen) >>> 0) && (info.flags & ~(PSH | FIN)) === (h.info.flags & ~(PSH | FIN)) &&
      !(h.info.flags & FIN) && h.info.payloadLen + info.payloadLen <= (this.config.maxPayload ?? 65000)) {
      const ok = tcpChecksumOk(h.packet, h.info) && tcpChecksumOk(packet, info);
      const payload = new Uint8Array(h.info.payloadLen + info.payloadLen);
      payload.set(h.packet.subarray(h.info.payloadOff, h.info.end), 0);
      payload.set(packet.subarray(info.payloadOff, info.end), h.info.payloadLen);
      const m = rebuildTcp(h.packet, h.info, h.packet.subarray(h.info.tcpOff + 20, h.info.payloadOff), payload, ok);
      if (m) {
        const mi = tcpInfo(m)!;
        m[mi.tcpOff + 13] = h.info.flags | (info.flags & (PSH | FIN));
        put32(m, mi.tcpOff + 8, info.ack); // the later segment's ACK and window are the current ones
        put16(m, mi.tcpOff + 14, info.window);
        finishTcp(m, mi, ok);
        this.merged++;
        this.held[dir] = undefined;
        this.hold(m, tcpInfo(m)!, ctx);
        return [];
      }
    }
    if (h) {
      this.held[dir] = undefined;
      out.push(h.packet);
    }
    if (info && info.payloadLen > 0 && !(info.flags & (SYN | RST))) {
      this.hold(packet, info, ctx);
      return out;
    }
    out.push(packet);
    return out;
  }

  private hold(packet: Uint8Array, info: TcpInfo, ctx: MiddleboxContext): void {
    const id = ++this.nextId;
    const dir = ctx.dir;
    this.held[dir] = { packet, info, key: flowKey(packet, info), id };
    ctx.schedule(this.config.holdUs ?? 1000, (later) => {
      const h = this.held[dir];
      if (h && h.id === id) {
        this.held[dir] = undefined;
        later.inject(dir, h.packet);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Payload rewriting (an application-level gateway)

/**
 * Rewrites TCP payload bytes and fixes the TCP checksum, keeping the length (so sequence
 * numbers stay valid, but an MPTCP DSS checksum no longer matches). `rewrite` gets a copy of
 * the payload and returns the new bytes (same length) or undefined to leave it.
 */
export class RewritePayload implements Middlebox {
  readonly name = "rewrite-payload";
  rewritten = 0;
  constructor(
    private readonly rewrite: (payload: Uint8Array, dir: Direction) => Uint8Array | undefined,
    private readonly dirOnly?: Direction,
  ) {}

  /** Replaces every occurrence of `find` by `replace` (same length) in the payload. */
  static replace(find: Uint8Array, replace: Uint8Array, dir?: Direction): RewritePayload {
    if (find.length !== replace.length || find.length === 0) throw new Error("find and replace must have the same, non-zero length");
    return new RewritePayload((payload) => {
      let changed = false;
      for (let i = 0; i + find.length <= payload.length; i++) {
        let j = 0;
        while (j < find.length && payload[i + j] === find[j]) j++;
        if (j === find.length) {
          payload.set(replace, i);
          i += find.length - 1;
          changed = true;
        }
      }
      return changed ? payload : undefined;
    }, dir);
  }

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    if (this.dirOnly !== undefined && ctx.dir !== this.dirOnly) return [packet];
    const info = tcpInfo(packet);
    if (!info || info.payloadLen === 0) return [packet];
    const ok = tcpChecksumOk(packet, info);
    const next = this.rewrite(packet.slice(info.payloadOff, info.end), ctx.dir);
    if (!next || next.length !== info.payloadLen) return [packet];
    packet.set(next, info.payloadOff);
    finishTcp(packet, info, ok);
    this.rewritten++;
    return [packet];
  }
}

// ---------------------------------------------------------------------------------------------
// Proxy ACK (a performance-enhancing proxy that acknowledges data before the receiver does)

/**
 * For every data segment (or FIN) it forwards, sends a pure ACK back to the sender that
 * acknowledges the data in order received so far, as if it were the receiver. The receiver's
 * own ACKs still pass. The ACK copies the receiver's last window and, when the data segment
 * carries a timestamp, answers with one (TSval = the receiver's last TSval, TSecr = the
 * segment's TSval). It carries no MPTCP option: data-level acknowledgement stays end to end.
 */
export class ProxyAck implements Middlebox {
  readonly name = "proxy-ack";
  acksSent = 0;
  /** Per flow (data direction): next in-order sequence number expected. */
  private readonly rcvNxt = new Map<string, number>();
  /** Per flow (as sent by that side): last seq end, ack, window and TSval seen. */
  private readonly last = new Map<string, { sndNxt: number; window: number; tsVal: number | undefined }>();
  constructor(private readonly dirOnly?: Direction) {}

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    const info = tcpInfo(packet);
    if (!info) return [packet];
    const key = flowKey(packet, info);
    const opts = tcpOptions(packet, info) ?? [];
    const ts = opts.find((o) => o.kind === TCPOPT_TIMESTAMP && o.len === 10);
    const tsVal = ts ? u32(packet, ts.off + 2) : undefined;
    const segLen = info.payloadLen + (info.flags & SYN ? 1 : 0) + (info.flags & FIN ? 1 : 0);
    const prev = this.last.get(key);
    const sndNxt = (info.seq + segLen) >>> 0;
    this.last.set(key, {
      sndNxt: prev && ((prev.sndNxt - sndNxt) | 0) > 0 ? prev.sndNxt : sndNxt,
      window: info.window,
      tsVal,
    });
    if (info.flags & SYN) {
      this.rcvNxt.set(key, (info.seq + 1) >>> 0);
      return [packet];
    }
    if (info.flags & RST || segLen === 0) return [packet];
    if (this.dirOnly !== undefined && ctx.dir !== this.dirOnly) return [packet];
    let nxt = this.rcvNxt.get(key);
    if (nxt === undefined) return [packet];
    const end = (info.seq + segLen) >>> 0;
    // Advance over in-order (or overlapping) data only.
    if (((info.seq - nxt) | 0) <= 0 && ((end - nxt) | 0) > 0) nxt = end;
    this.rcvNxt.set(key, nxt);
    const peer = this.last.get(reverseKey(packet, info));
    if (!peer) return [packet];
    const optBytes: number[] = [];
    if (tsVal !== undefined && peer.tsVal !== undefined) {
      optBytes.push(1, 1, TCPOPT_TIMESTAMP, 10);
      for (const v of [peer.tsVal, tsVal]) optBytes.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
    ctx.inject(ctx.dir === 0 ? 1 : 0, buildTcp(ipDst(packet)!, ipSrc(packet)!, info.dstPort, info.srcPort, peer.sndNxt, nxt, ACK, peer.window, Uint8Array.from(optBytes), new Uint8Array(0)));
    this.acksSent++;
    return [packet];
  }
}

/** Builds a TCP/IP packet (IPv4 if the addresses have 4 bytes, else IPv6) with valid checksums. */
export function buildTcp(
  src: Uint8Array,
  dst: Uint8Array,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  options: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const v6 = src.length === 16;
  const ipLen = v6 ? 40 : 20;
  const optLen = (options.length + 3) & ~3;
  const hdr = 20 + optLen;
  const p = new Uint8Array(ipLen + hdr + payload.length);
  if (v6) {
    p[0] = 0x60;
    put16(p, 4, hdr + payload.length);
    p[6] = IPPROTO_TCP;
    p[7] = 64;
    p.set(src, 8);
    p.set(dst, 24);
  } else {
    p[0] = 0x45;
    put16(p, 2, p.length);
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = IPPROTO_TCP;
    p.set(src, 12);
    p.set(dst, 16);
  }
  const t = ipLen;
  put16(p, t, srcPort);
  put16(p, t + 2, dstPort);
  put32(p, t + 4, seq >>> 0);
  put32(p, t + 8, ack >>> 0);
  p[t + 12] = (hdr / 4) << 4;
  p[t + 13] = flags;
  put16(p, t + 14, window);
  p.set(options, t + 20);
  p.set(payload, t + hdr);
  finishTcp(p, tcpInfo(p)!, true);
  return p;
}

// ---------------------------------------------------------------------------------------------
// NAT

export interface NatConfig {
  /** The side the private hosts are on: packets from it travel in direction 0 if "a". */
  inside: "a" | "b";
  /** The public address (same IP version as the inside hosts). */
  publicAddress: string;
  /** Rewrite source ports too (NAPT, default true), allocating from `portBase` upwards. */
  rewritePorts?: boolean;
  portBase?: number;
}

/**
 * Source NAT (NAPT) for TCP and UDP: outbound packets get the public address (and a mapped
 * port); inbound packets to a mapped public address:port get the private ones back; inbound
 * packets with no mapping are dropped. Checksums fixed (the addresses are in the
 * pseudo-header). MPTCP's ADD_ADDR contents are not touched, like a real NAT.
 */
export class Nat implements Middlebox {
  readonly name = "nat";
  private readonly pub: Uint8Array;
  private readonly outDir: Direction;
  private nextPort: number;
  private readonly out = new Map<string, number>();
  private readonly back = new Map<string, { addr: Uint8Array; port: number }>();
  translated = 0;
  droppedInbound = 0;

  constructor(private readonly config: NatConfig) {
    this.pub = parseAddress(config.publicAddress);
    this.outDir = config.inside === "a" ? 0 : 1;
    this.nextPort = config.portBase ?? 20000;
  }

  /** The public port a private (address, port, protocol) is mapped to, if any. */
  mappedPort(addr: string, port: number, proto: number = IPPROTO_TCP): number | undefined {
    return this.out.get(`${proto}/${Array.from(parseAddress(addr)).join(".")}:${port}`);
  }

  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    const pt = ports(packet);
    if (!pt || ipVersion(packet) !== (this.pub.length === 4 ? 4 : 6)) return [packet];
    const tcp = pt.proto === IPPROTO_TCP ? tcpInfo(packet) : undefined;
    if (pt.proto === IPPROTO_TCP && !tcp) return [packet];
    const ok = tcp ? tcpChecksumOk(packet, tcp) : this.udpOk(packet, pt.offset);
    const v4 = ipVersion(packet) === 4;
    if (ctx.dir === this.outDir) {
      const src = ipSrc(packet)!;
      const k = `${pt.proto}/${Array.from(src).join(".")}:${pt.src}`;
      let port = this.out.get(k);
      if (port === undefined) {
        port = this.config.rewritePorts === false ? pt.src : this.nextPort++;
        this.out.set(k, port);
        this.back.set(`${pt.proto}/${port}`, { addr: src.slice(), port: pt.src });
      }
      packet.set(this.pub, v4 ? 12 : 8);
      put16(packet, pt.offset, port);
    } else {
      const dst = ipDst(packet)!;
      if (!dst.every((b, i) => b === this.pub[i])) return [packet];
      const m = this.back.get(`${pt.proto}/${pt.dst}`);
      if (!m) {
        this.droppedInbound++;
        return [];
      }
      packet.set(m.addr, v4 ? 16 : 24);
      put16(packet, pt.offset + 2, m.port);
    }
    if (tcp) finishTcp(packet, tcp, ok);
    else this.finishUdp(packet, pt.offset, ok);
    this.translated++;
    return [packet];
  }

  private udpLen(packet: Uint8Array, off: number): number {
    return Math.min(u16(packet, off + 4), packet.length - off);
  }

  private udpOk(packet: Uint8Array, off: number): boolean {
    if (u16(packet, off + 6) === 0) return true;
    return verifyUdpChecksum(ipSrc(packet)!, ipDst(packet)!, packet, off, this.udpLen(packet, off));
  }

  private finishUdp(packet: Uint8Array, off: number, ok: boolean): void {
    if (ipVersion(packet) === 4) fillIpv4HeaderChecksum(packet, 0);
    if (ipVersion(packet) === 4 && u16(packet, off + 6) === 0) return;
    const c = fillUdpChecksum(ipSrc(packet)!, ipDst(packet)!, packet, off, this.udpLen(packet, off));
    if (!ok) put16(packet, off + 6, c ^ 0x0100);
  }
}

// ---------------------------------------------------------------------------------------------
// Generic boxes

/** A middlebox from a function (drop by predicate, count, rewrite ad hoc). */
export class FunctionBox implements Middlebox {
  constructor(
    readonly name: string,
    private readonly fn: (packet: Uint8Array, ctx: MiddleboxContext) => Uint8Array[],
  ) {}
  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[] {
    return this.fn(packet, ctx);
  }
}

