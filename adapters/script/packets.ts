// Packets of a script: the builder for `<` lines (script spec -> IP packet bytes injected into
// the stack) and the matcher for `>` lines (the stack's packet against the spec, field by field).
//
// Conventions (as packetdrill's, plus the MPTCP ones of the issue):
// - Inbound sequence numbers are taken as written (the script side's ISN is what its SYN says);
//   inbound ACK numbers and SACK blocks are relative to the stack's ISN of that subflow.
//   Outbound sequence numbers are relative to the stack's ISN (captured from its SYN or
//   SYN/ACK); outbound ACK numbers and SACK blocks are compared as written.
// - TS: the first outbound TS val fixes the offset between the script's and the stack's TS
//   clock; later outbound vals are compared within the tolerance, ecr as written. An inbound
//   ecr is translated into the stack's clock with that offset.
// - `skey` is the stack's MPTCP key, `ckey` the script side's. `key[skey]` on an outbound line
//   captures the stack's key the first time; `ckey=N` sets the script side's key. DSN values
//   are relative to the IDSN of the data's sender, DATA_ACKs to the IDSN of the data they
//   acknowledge (dsn8=1 and dack8=1 are the first data byte). Tokens, HMACs and DSS checksums
//   written `auto` are computed from the keys and the nonces seen on the subflow.
// - An outbound line without `<...>` does not compare options; with a list, the option kinds
//   must come in the same order (NOP/EOL too, if the list names any), then each field.
import { addAddrHmac, joinAckHmac, joinSynAckHmac } from "../../core/crypto/hmac.ts";
import { keyMaterial } from "../../core/crypto/keys.ts";
import { dssChecksum, fillIpv4HeaderChecksum, fillTcpChecksum, verifyTcpChecksum } from "../../core/wire/checksum.ts";
import { formatIp, ipEquals, ipHeaderFor } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TCPOPT_MPTCP, MPC_FLAG_A } from "../../core/wire/types.ts";
import type { IpAddress, MptcpOption, TcpOptions, TcpSegment } from "../../core/wire/types.ts";
import type { AddrRef, KeyRef, OptionSpec, PacketSpec } from "./ast.ts";
import { addressPlus } from "./shell.ts";

const M64 = (1n << 64n) - 1n;

/** Thrown for a problem in the script itself (an unknown key, an address not defined, ...). */
export class ScriptError extends Error {
  override name = "ScriptError";
}

/** One subflow (4-tuple) seen by the script. */
export interface ScriptSubflow {
  scriptAddr: IpAddress;
  scriptPort: number;
  stackAddr: IpAddress;
  stackPort: number;
  /** The stack's ISN, from its SYN or SYN/ACK. */
  stackIsn?: number;
  /** The script side's ISN (the sequence number of its SYN or SYN/ACK). */
  scriptIsn?: number;
  /** MP_JOIN nonces (the script side's, the stack's). */
  scriptNonce?: number;
  stackNonce?: number;
}

export interface WorldOptions {
  stackAddress: IpAddress;
  scriptAddress: IpAddress;
  /** The stack's listening port (bind), the script side's source port, the port connect() targets. */
  bindPort: number;
  scriptPort: number;
  toleranceUsecs: number;
  /** Inbound window when a `<` line gives none. */
  defaultWindow: number;
}

/** What the script knows about the connection: addresses, subflows, keys, TS offset. */
export class ScriptWorld {
  readonly subflows: ScriptSubflow[] = [];
  skey: bigint | undefined;
  ckey: bigint | undefined;
  /** DSS checksums negotiated (A flag seen on a SYN or SYN/ACK). */
  checksum = false;
  /** stack TS val - script TS val, once known. */
  tsOffset: number | undefined;
  private lastScript: IpAddress;
  private lastStack: IpAddress;

  constructor(readonly o: WorldOptions) {
    this.lastScript = o.scriptAddress;
    this.lastStack = o.stackAddress;
  }

  addr(r: AddrRef): IpAddress {
    if ("literal" in r) return r.literal;
    return addressPlus(r.side === "s" ? this.o.stackAddress : this.o.scriptAddress, r.index);
  }

  key(name: "skey" | "ckey"): bigint {
    const k = name === "skey" ? this.skey : this.ckey;
    if (k === undefined) {
      throw new ScriptError(name === "skey" ? "skey is not known yet (capture it with key[skey] on an outbound line first)" : "ckey is not set (write ckey=N in a key[...] of an inbound line first)");
    }
    return k;
  }

  resolveKey(r: KeyRef, outboundCapture: bigint | undefined): bigint {
    if ("literal" in r) return r.literal;
    if (r.value !== undefined) {
      const cur = r.name === "skey" ? this.skey : this.ckey;
      if (cur !== undefined && cur !== r.value) throw new ScriptError(`${r.name} is already ${hex64(cur)}, cannot set it to ${hex64(r.value)}`);
      if (r.name === "skey") this.skey = r.value;
      else this.ckey = r.value;
      return r.value;
    }
    if (outboundCapture !== undefined && (r.name === "skey" ? this.skey : this.ckey) === undefined) {
      if (r.name === "skey") this.skey = outboundCapture;
      else this.ckey = outboundCapture;
    }
    return this.key(r.name);
  }

  idsn(name: "skey" | "ckey"): bigint {
    return keyMaterial(this.key(name)).idsn;
  }

  findByAddrs(scriptAddr: IpAddress, stackAddr: IpAddress): ScriptSubflow | undefined {
    for (let i = this.subflows.length - 1; i >= 0; i--) {
      const s = this.subflows[i]!;
      if (ipEquals(s.scriptAddr, scriptAddr) && ipEquals(s.stackAddr, stackAddr)) return s;
    }
    return undefined;
  }

  findByTuple(scriptAddr: IpAddress, scriptPort: number, stackAddr: IpAddress, stackPort: number): ScriptSubflow | undefined {
    for (let i = this.subflows.length - 1; i >= 0; i--) {
      const s = this.subflows[i]!;
      if (s.scriptPort === scriptPort && s.stackPort === stackPort && ipEquals(s.scriptAddr, scriptAddr) && ipEquals(s.stackAddr, stackAddr)) return s;
    }
    return undefined;
  }

  // ----------------------------------------------------------------------------- inbound

  /** Builds the IP packet of a `<` line. */
  buildInbound(p: PacketSpec): Uint8Array {
    const src = p.src ? this.addr(p.src) : this.lastScript;
    const dst = p.dst ? this.addr(p.dst) : this.lastStack;
    if (src.length !== dst.length) throw new ScriptError("source and destination address families differ");
    let sf = this.findByAddrs(src, dst);
    if (p.srcPort !== undefined || p.dstPort !== undefined || !sf) {
      const sp = p.srcPort ?? sf?.scriptPort ?? this.o.scriptPort;
      const dp = p.dstPort ?? sf?.stackPort ?? this.o.bindPort;
      sf = this.findByTuple(src, sp, dst, dp);
      if (!sf) {
        sf = { scriptAddr: src, scriptPort: sp, stackAddr: dst, stackPort: dp };
        this.subflows.push(sf);
      }
    }
    this.lastScript = src;
    this.lastStack = dst;

    const seq = p.seq ? p.seq.start >>> 0 : 0;
    const len = p.seq ? p.seq.len : 0;
    if (p.flags & TCP_SYN) sf.scriptIsn = seq;
    const payload = patternBytes(seq + ((p.flags & TCP_SYN) !== 0 ? 1 : 0), len, 0);
    let ack = 0;
    if (p.flags & TCP_ACK) {
      if (p.ack === undefined) throw new ScriptError("an inbound packet with the ACK flag needs 'ack N'");
      // Relative to the stack's ISN; absolute when the stack never sent a SYN on this 4-tuple.
      ack = ((sf.stackIsn ?? 0) + p.ack) >>> 0;
    }
    const options: TcpOptions = { mptcp: [] };
    if (p.options) {
      for (const o of p.options) this.inboundOption(o, options, sf, p, payload);
    }
    const seg: TcpSegment = {
      header: { srcPort: sf.scriptPort, dstPort: sf.stackPort, seq, ack, flags: p.flags, window: p.win ?? this.o.defaultWindow, checksum: 0, urgent: 0, options },
      payload,
    };
    const ip = ipHeaderFor(src, dst);
    const out = new Uint8Array(80 + 60 + payload.length);
    const r = emitPacket(ip, seg, out, 0);
    if (!r.ok) throw new ScriptError(`the options do not fit in 40 bytes: ${r.error.detail}`);
    const l = r.value;
    fillTcpChecksum(src, dst, out, l.tcpOffset, l.tcpLength);
    if (ip.version === 4) fillIpv4HeaderChecksum(out, l.ipOffset);
    return out.slice(0, l.length);
  }

  private inboundOption(o: OptionSpec, opts: TcpOptions, sf: ScriptSubflow, p: PacketSpec, payload: Uint8Array): void {
    const syn = (p.flags & TCP_SYN) !== 0;
    switch (o.kind) {
      case "nop":
      case "eol":
        return; // the layout is the codec's (Linux-like)
      case "mss":
        opts.mss = o.value;
        return;
      case "wscale":
        opts.wscale = o.value;
        return;
      case "sackOK":
        opts.sackPermitted = true;
        return;
      case "sack": {
        const isn = sf.stackIsn ?? 0;
        opts.sack = o.blocks.map(([a, b]) => ({ start: (isn + a) >>> 0, end: (isn + b) >>> 0 }));
        return;
      }
      case "TS":
        opts.timestamp = { val: o.val >>> 0, ecr: o.ecr === 0 || this.tsOffset === undefined ? o.ecr >>> 0 : (o.ecr + this.tsOffset) >>> 0 };
        return;
      case "mpcapable": {
        const keys = o.keys.map((k) => this.resolveKey(k, undefined));
        const m: MptcpOption = { type: "mp_capable", version: o.version, flags: o.flags };
        if (keys.length >= 1) m.senderKey = keys[0]!;
        if (keys.length >= 2) m.receiverKey = keys[1]!;
        if (syn && o.flags & MPC_FLAG_A) this.checksum = true;
        if (o.dataLength !== undefined) {
          m.dataLength = o.dataLength;
          const cs = o.checksum === undefined ? (this.checksum ? "auto" : "none") : o.checksum;
          if (cs === "auto") {
            const idsn = keyMaterial(keys[0]!).idsn;
            m.checksum = dssChecksum(BigInt.asUintN(64, idsn + 1n), 1, o.dataLength, payload, 0, Math.min(payload.length, o.dataLength));
          } else if (cs !== "none") m.checksum = cs;
        }
        opts.mptcp.push(m);
        return;
      }
      case "dss": {
        const d: MptcpOption = { type: "dss", dataFin: o.fin };
        if (o.dataAck) {
          d.ack64 = o.dataAck.width !== 4;
          d.dataAck = BigInt.asUintN(d.ack64 ? 64 : 32, this.idsn("skey") + o.dataAck.value);
        }
        if (o.dsn && o.ssn !== undefined && o.dll !== undefined) {
          const dsn = BigInt.asUintN(64, this.idsn("ckey") + o.dsn.value);
          const dsn64 = o.dsn.width !== 4;
          const mapping: NonNullable<typeof d.mapping> = { dsn: dsn64 ? dsn : BigInt.asUintN(32, dsn), dsn64, ssn: o.ssn >>> 0, length: o.dll };
          const cs = o.checksum === undefined ? (this.checksum ? "auto" : "none") : o.checksum;
          if (cs === "auto") {
            const dataLen = o.fin ? Math.max(0, o.dll - 1) : o.dll;
            // The mapped bytes, from the script side's deterministic stream (the byte at
            // sequence number x is patternBytes(x)), wherever the mapping's segments are.
            const bytes = patternBytes((sf.scriptIsn ?? 0) + o.ssn, dataLen, 0);
            mapping.checksum = dssChecksum(dsn, o.ssn >>> 0, o.dll, bytes, 0, bytes.length);
          } else if (cs !== "none") mapping.checksum = cs;
          d.mapping = mapping;
        }
        opts.mptcp.push(d);
        return;
      }
      case "mp_join_syn": {
        const token = "key" in o.token ? keyMaterial(this.key(o.token.key)).token : o.token.literal;
        sf.scriptNonce = o.rand ?? defaultNonce(this.subflows.indexOf(sf));
        opts.mptcp.push({ type: "mp_join_syn", backup: o.backup, addressId: o.addressId, token, nonce: sf.scriptNonce });
        return;
      }
      case "mp_join_syn_ack": {
        sf.scriptNonce = o.rand ?? defaultNonce(this.subflows.indexOf(sf));
        let hmac: Uint8Array;
        if (o.hmac === "auto") {
          if (sf.stackNonce === undefined) throw new ScriptError("mp_join_syn_ack sender_hmac=auto before the stack's MP_JOIN SYN (its nonce is unknown)");
          hmac = joinSynAckHmac(this.key("skey"), this.key("ckey"), sf.stackNonce, sf.scriptNonce);
        } else hmac = o.hmac;
        opts.mptcp.push({ type: "mp_join_synack", backup: o.backup, addressId: o.addressId, hmac, nonce: sf.scriptNonce });
        return;
      }
      case "mp_join_ack": {
        let hmac: Uint8Array;
        if (o.hmac === "auto") {
          if (sf.stackNonce === undefined || sf.scriptNonce === undefined) throw new ScriptError("mp_join_ack sender_hmac=auto needs both MP_JOIN nonces of this subflow");
          hmac = joinAckHmac(this.key("ckey"), this.key("skey"), sf.scriptNonce, sf.stackNonce);
        } else hmac = o.hmac;
        opts.mptcp.push({ type: "mp_join_ack", hmac });
        return;
      }
      case "add_address": {
        const address = this.addr(o.addr);
        const a: MptcpOption = { type: "add_addr", echo: o.hmac === "echo", addressId: o.addressId, address };
        if (o.port !== undefined) a.port = o.port;
        if (o.hmac === "auto") a.hmac = addAddrHmac(this.key("ckey"), this.key("skey"), o.addressId, address, o.port);
        else if (o.hmac !== "echo") a.hmac = o.hmac;
        opts.mptcp.push(a);
        return;
      }
      case "remove_address":
        opts.mptcp.push({ type: "remove_addr", addressIds: o.addressIds });
        return;
      case "mp_prio":
        opts.mptcp.push({ type: "mp_prio", backup: o.backup });
        return;
      case "mp_fail":
        opts.mptcp.push({ type: "mp_fail", dsn: BigInt.asUintN(64, this.idsn("skey") + o.dsn.value) });
        return;
      case "mp_fastclose":
        opts.mptcp.push({ type: "mp_fastclose", receiverKey: o.key ? this.resolveKey(o.key, undefined) : this.key("skey") });
        return;
      case "mp_tcprst":
        opts.mptcp.push({ type: "mp_tcprst", flags: o.flags ?? 0, reason: o.reason });
        return;
    }
  }

  // ----------------------------------------------------------------------------- outbound

  /**
   * Matches a packet the stack sent against a `>` line. Returns the list of differences
   * (empty when it matches). Captures what the line names (the stack's ISN, key, nonces).
   */
  matchOutbound(p: PacketSpec, bytes: Uint8Array, latenessUs = 0): string[] {
    const diffs: string[] = [];
    const r = parsePacket(bytes);
    if (!r.ok) return [`the stack sent a malformed packet: ${r.error.reason} (${r.error.detail})`];
    const { ip, tcp, tcpOffset, tcpLength } = r.value;
    if (!verifyTcpChecksum(ip.src, ip.dst, bytes, tcpOffset, tcpLength)) diffs.push("TCP checksum: wrong");
    const h = tcp.header;
    // Addresses and subflow.
    const expSrc = p.src ? this.addr(p.src) : this.lastStack;
    const expDst = p.dst ? this.addr(p.dst) : this.lastScript;
    if (!ipEquals(ip.src, expSrc)) diffs.push(`source address: expected ${formatIp(expSrc)}, actual ${formatIp(ip.src)}`);
    if (!ipEquals(ip.dst, expDst)) diffs.push(`destination address: expected ${formatIp(expDst)}, actual ${formatIp(ip.dst)}`);
    if (p.srcPort !== undefined && p.srcPort !== h.srcPort) diffs.push(`source port: expected ${p.srcPort}, actual ${h.srcPort}`);
    if (p.dstPort !== undefined && p.dstPort !== h.dstPort) diffs.push(`destination port: expected ${p.dstPort}, actual ${h.dstPort}`);
    let sf = this.findByTuple(ip.dst, h.dstPort, ip.src, h.srcPort);
    const isSyn = (h.flags & TCP_SYN) !== 0;
    if (!sf) {
      const known = this.findByAddrs(ip.dst, ip.src);
      if (!isSyn && known) diffs.push(`ports: expected ${known.stackPort} > ${known.scriptPort}, actual ${h.srcPort} > ${h.dstPort}`);
      sf = { scriptAddr: ip.dst, scriptPort: h.dstPort, stackAddr: ip.src, stackPort: h.srcPort };
      this.subflows.push(sf);
    }
    this.lastScript = ip.dst;
    this.lastStack = ip.src;

    // Flags.
    if (h.flags !== p.flags) diffs.push(`flags: expected ${p.flagsText}, actual ${flagText(h.flags)}`);
    // Sequence numbers.
    if (isSyn && (p.flags & TCP_SYN) !== 0) sf.stackIsn = (h.seq - (p.seq?.start ?? 0)) >>> 0;
    if (sf.stackIsn === undefined && (h.flags & TCP_RST) !== 0) {
      // A RST to a segment of an unknown connection: its numbers are absolute.
      if (p.seq && h.seq >>> 0 !== p.seq.start >>> 0) diffs.push(`sequence: expected ${p.seq.start}, actual ${h.seq >>> 0}`);
    } else if (sf.stackIsn === undefined) {
      if (p.seq) diffs.push("sequence: the stack's ISN on this subflow is unknown (no SYN seen)");
    } else if (p.seq) {
      const rel = (h.seq - sf.stackIsn) >>> 0;
      if (rel !== p.seq.start >>> 0) diffs.push(`sequence: expected ${p.seq.start}, actual ${rel}`);
    }
    if (p.seq && tcp.payload.length !== p.seq.len) diffs.push(`payload length: expected ${p.seq.len}, actual ${tcp.payload.length}`);
    if (p.ack !== undefined && (h.flags & TCP_ACK) !== 0 && h.ack >>> 0 !== p.ack >>> 0) diffs.push(`ack: expected ${p.ack}, actual ${h.ack >>> 0}`);
    if (p.win !== undefined && h.window !== p.win) diffs.push(`window: expected ${p.win}, actual ${h.window}`);
    if (p.options) this.matchOptions(p, p.options, bytes, tcpOffset, tcp, sf, diffs, latenessUs);
    return diffs;
  }

  private matchOptions(p: PacketSpec, spec: OptionSpec[], bytes: Uint8Array, tcpOffset: number, tcp: TcpSegment, sf: ScriptSubflow, diffs: string[], latenessUs: number): void {
    const h = tcp.header;
    const o = h.options;
    // Kind sequence (NOP/EOL only when the line names them).
    const layout = spec.some((s) => s.kind === "nop" || s.kind === "eol");
    const expKinds = spec.filter((s) => layout || (s.kind !== "nop" && s.kind !== "eol")).map((s) => specKindName(s));
    const actKinds = optionKinds(bytes, tcpOffset).filter((k) => layout || (k !== "nop" && k !== "eol"));
    if (layout) while (actKinds.length > 0 && actKinds[actKinds.length - 1] === "eol") actKinds.pop();
    if (expKinds.join(",") !== actKinds.join(",")) {
      diffs.push(`options: expected <${expKinds.join(", ")}>, actual <${actKinds.join(", ")}>`);
    }
    const mp = o.mptcp;
    let mi = 0;
    for (const s of spec) {
      switch (s.kind) {
        case "nop":
        case "eol":
        case "sackOK":
          break;
        case "mss":
          if (o.mss !== undefined && o.mss !== s.value) diffs.push(`mss: expected ${s.value}, actual ${o.mss}`);
          break;
        case "wscale":
          if (o.wscale !== undefined && o.wscale !== s.value) diffs.push(`wscale: expected ${s.value}, actual ${o.wscale}`);
          break;
        case "sack": {
          const act = (o.sack ?? []).map((b) => `${b.start >>> 0}:${b.end >>> 0}`).join(" ");
          const exp = s.blocks.map(([a, b]) => `${a >>> 0}:${b >>> 0}`).join(" ");
          if (o.sack && act !== exp) diffs.push(`sack: expected ${exp}, actual ${act}`);
          break;
        }
        case "TS": {
          const ts = o.timestamp;
          if (!ts) break;
          if (this.tsOffset === undefined) this.tsOffset = (ts.val - s.val) | 0;
          else {
            const rel = (ts.val - this.tsOffset) >>> 0;
            const tolMs = Math.ceil(this.o.toleranceUsecs / 1000) + 1;
            // A packet sent later than scripted (within the allowed lateness) has a later TS.
            const d = (rel - s.val - Math.round(latenessUs / 1000)) | 0;
            if (Math.abs(d) > tolMs) diffs.push(`TS val: expected ${s.val} (+-${tolMs} ms), actual ${rel}`);
          }
          if (ts.ecr >>> 0 !== s.ecr >>> 0) diffs.push(`TS ecr: expected ${s.ecr}, actual ${ts.ecr >>> 0}`);
          break;
        }
        default: {
          // An MPTCP option: the next one on the packet.
          const a = mp[mi++];
          if (!a) break; // the kind sequence already reported it
          this.matchMptcp(s, a, tcp, sf, diffs, p);
        }
      }
    }
  }

  private keyCheck(diffs: string[], what: string, r: KeyRef, actual: bigint | undefined): void {
    if (actual === undefined) {
      diffs.push(`${what}: expected a key, actual none`);
      return;
    }
    let exp: bigint;
    try {
      exp = this.resolveKey(r, actual);
    } catch (e) {
      diffs.push(`${what}: ${(e as Error).message}`);
      return;
    }
    if (exp !== actual) diffs.push(`${what}: expected ${hex64(exp)}${"name" in r ? ` (${r.name})` : ""}, actual ${hex64(actual)}`);
  }

  private matchMptcp(s: OptionSpec, a: MptcpOption, tcp: TcpSegment, sf: ScriptSubflow, diffs: string[], p: PacketSpec): void {
    const want = mpType(s.kind);
    if (a.type !== want) {
      diffs.push(`MPTCP option: expected ${s.kind}, actual ${a.type}`);
      return;
    }
    const n = s.kind;
    const syn = (p.flags & TCP_SYN) !== 0;
    const need = (cond: boolean, msg: string): void => {
      if (!cond) diffs.push(msg);
    };
    try {
      switch (s.kind) {
        case "mpcapable": {
          if (a.type !== "mp_capable") return;
          need(a.version === s.version, `${n} version: expected ${s.version}, actual ${a.version}`);
          need(a.flags === s.flags, `${n} flags: expected ${mpcFlagText(s.flags)}, actual ${mpcFlagText(a.flags)}`);
          if (syn && a.flags & MPC_FLAG_A) this.checksum = true;
          const nk = a.receiverKey !== undefined ? 2 : a.senderKey !== undefined ? 1 : 0;
          if (nk !== s.keys.length) diffs.push(`${n} keys: expected ${s.keys.length}, actual ${nk}`);
          else {
            if (nk >= 1) this.keyCheck(diffs, `${n} sender key`, s.keys[0]!, a.senderKey);
            if (nk >= 2) this.keyCheck(diffs, `${n} receiver key`, s.keys[1]!, a.receiverKey);
          }
          need(a.dataLength === s.dataLength, `${n} data-level length: expected ${s.dataLength ?? "none"}, actual ${a.dataLength ?? "none"}`);
          if (s.checksum === "none") need(a.checksum === undefined, `${n} checksum: expected none, actual 0x${a.checksum?.toString(16)}`);
          else if (s.checksum !== undefined) {
            if (a.checksum === undefined) diffs.push(`${n} checksum: expected one, actual none`);
            else {
              let exp = s.checksum;
              if (exp === "auto" && a.dataLength !== undefined && a.senderKey !== undefined) {
                exp = dssChecksum(BigInt.asUintN(64, keyMaterial(a.senderKey).idsn + 1n), 1, a.dataLength, tcp.payload, 0, Math.min(a.dataLength, tcp.payload.length));
              }
              need(exp === a.checksum, `${n} checksum: expected 0x${(exp as number).toString(16)}, actual 0x${a.checksum.toString(16)}`);
            }
          }
          return;
        }
        case "dss": {
          if (a.type !== "dss") return;
          if (s.dataAck) {
            if (a.dataAck === undefined) diffs.push(`dss DATA_ACK: expected dack${s.dataAck.width ?? ""}=${s.dataAck.value}, actual none`);
            else {
              const w = a.ack64 === false ? 4 : 8;
              const rel = relData(a.dataAck, this.idsn("ckey"), w);
              const exp = w === 4 ? s.dataAck.value & 0xffffffffn : s.dataAck.value;
              if ((s.dataAck.width !== undefined && w !== s.dataAck.width) || rel !== exp) diffs.push(`dss DATA_ACK: expected dack${s.dataAck.width ?? ""}=${s.dataAck.value}, actual dack${w}=${rel}`);
            }
          } else need(a.dataAck === undefined, `dss DATA_ACK: expected none, actual dack${a.ack64 === false ? 4 : 8}=${a.dataAck !== undefined ? relData(a.dataAck, this.idsnOr("ckey"), a.ack64 === false ? 4 : 8) : ""}`);
          const m = a.mapping;
          if (s.dsn) {
            if (!m) diffs.push(`dss mapping: expected dsn${s.dsn.width ?? ""}=${s.dsn.value} ssn=${s.ssn} dll=${s.dll}, actual none`);
            else {
              const w = m.dsn64 ? 8 : 4;
              const rel = relData(m.dsn, this.idsn("skey"), w);
              const exp = w === 4 ? s.dsn.value & 0xffffffffn : s.dsn.value;
              if ((s.dsn.width !== undefined && w !== s.dsn.width) || rel !== exp) diffs.push(`dss DSN: expected dsn${s.dsn.width ?? ""}=${s.dsn.value}, actual dsn${w}=${rel}`);
              need(m.ssn >>> 0 === s.ssn! >>> 0, `dss SSN: expected ${s.ssn}, actual ${m.ssn >>> 0}`);
              need(m.length === s.dll, `dss data-level length: expected ${s.dll}, actual ${m.length}`);
              if (s.checksum === "none") need(m.checksum === undefined, `dss checksum: expected none (nocs), actual 0x${m.checksum?.toString(16)}`);
              else if (s.checksum !== undefined) {
                if (m.checksum === undefined) diffs.push("dss checksum: expected one, actual none");
                else if (s.checksum === "auto") {
                  const dataLen = a.dataFin ? Math.max(0, m.length - 1) : m.length;
                  if (dataLen <= tcp.payload.length) {
                    const exp = dssChecksum(m.dsn, m.ssn, m.length, tcp.payload, 0, dataLen);
                    need(exp === m.checksum, `dss checksum: expected 0x${exp.toString(16)}, actual 0x${m.checksum.toString(16)}`);
                  }
                } else need(m.checksum === s.checksum, `dss checksum: expected 0x${s.checksum.toString(16)}, actual 0x${m.checksum.toString(16)}`);
              }
            }
          } else if (m) diffs.push(`dss mapping: expected none, actual dsn${m.dsn64 ? 8 : 4}=${relData(m.dsn, this.idsnOr("skey"), m.dsn64 ? 8 : 4)} ssn=${m.ssn} dll=${m.length}`);
          need(a.dataFin === s.fin, `dss DATA_FIN: expected ${s.fin ? "fin" : "none"}, actual ${a.dataFin ? "fin" : "none"}`);
          return;
        }
        case "mp_join_syn": {
          if (a.type !== "mp_join_syn") return;
          sf.stackNonce = a.nonce >>> 0;
          const exp = "key" in s.token ? keyMaterial(this.key(s.token.key)).token : s.token.literal;
          need(a.token >>> 0 === exp >>> 0, `${n} token: expected 0x${hex32(exp)}, actual 0x${hex32(a.token)}`);
          need(a.addressId === s.addressId, `${n} address_id: expected ${s.addressId}, actual ${a.addressId}`);
          need(a.backup === s.backup, `${n} backup: expected ${s.backup}, actual ${a.backup}`);
          if (s.rand !== undefined) need(a.nonce >>> 0 === s.rand >>> 0, `${n} rand: expected ${s.rand}, actual ${a.nonce >>> 0}`);
          return;
        }
        case "mp_join_syn_ack": {
          if (a.type !== "mp_join_synack") return;
          sf.stackNonce = a.nonce >>> 0;
          need(a.addressId === s.addressId, `${n} address_id: expected ${s.addressId}, actual ${a.addressId}`);
          need(a.backup === s.backup, `${n} backup: expected ${s.backup}, actual ${a.backup}`);
          if (s.rand !== undefined) need(a.nonce >>> 0 === s.rand >>> 0, `${n} rand: expected ${s.rand}, actual ${a.nonce >>> 0}`);
          let exp: Uint8Array;
          if (s.hmac === "auto") {
            if (sf.scriptNonce === undefined) throw new ScriptError("sender_hmac=auto on a SYN/ACK without the script's MP_JOIN SYN on this subflow");
            exp = joinSynAckHmac(this.key("ckey"), this.key("skey"), sf.scriptNonce, a.nonce >>> 0);
          } else exp = s.hmac;
          need(hexBytes(exp) === hexBytes(a.hmac), `${n} sender_hmac: expected ${hexBytes(exp)}, actual ${hexBytes(a.hmac)}`);
          return;
        }
        case "mp_join_ack": {
          if (a.type !== "mp_join_ack") return;
          let exp: Uint8Array;
          if (s.hmac === "auto") {
            if (sf.scriptNonce === undefined || sf.stackNonce === undefined) throw new ScriptError("sender_hmac=auto on the third ACK needs both MP_JOIN nonces of this subflow");
            exp = joinAckHmac(this.key("skey"), this.key("ckey"), sf.stackNonce, sf.scriptNonce);
          } else exp = s.hmac;
          need(hexBytes(exp) === hexBytes(a.hmac), `${n} sender_hmac: expected ${hexBytes(exp)}, actual ${hexBytes(a.hmac)}`);
          return;
        }
        case "add_address": {
          if (a.type !== "add_addr") return;
          const addr = this.addr(s.addr);
          need(a.addressId === s.addressId, `${n} address_id: expected ${s.addressId}, actual ${a.addressId}`);
          need(ipEquals(a.address, addr), `${n} address: expected ${formatIp(addr)}, actual ${formatIp(a.address)}`);
          need(a.port === s.port, `${n} port: expected ${s.port ?? "none"}, actual ${a.port ?? "none"}`);
          need(a.echo === (s.hmac === "echo"), `${n} echo: expected ${s.hmac === "echo"}, actual ${a.echo}`);
          if (s.hmac !== "echo" && a.hmac) {
            const exp = s.hmac === "auto" ? addAddrHmac(this.key("skey"), this.key("ckey"), a.addressId, a.address, a.port) : s.hmac;
            need(hexBytes(exp) === hexBytes(a.hmac), `${n} hmac: expected ${hexBytes(exp)}, actual ${hexBytes(a.hmac)}`);
          }
          return;
        }
        case "remove_address":
          if (a.type !== "remove_addr") return;
          need(a.addressIds.join(",") === s.addressIds.join(","), `${n} address_id: expected [${s.addressIds.join(", ")}], actual [${a.addressIds.join(", ")}]`);
          return;
        case "mp_prio":
          if (a.type !== "mp_prio") return;
          need(a.backup === s.backup, `${n} backup: expected ${s.backup}, actual ${a.backup}`);
          return;
        case "mp_fail": {
          if (a.type !== "mp_fail") return;
          const rel = relData(a.dsn, this.idsn("ckey"), 8);
          need(rel === s.dsn.value, `${n} dsn8: expected ${s.dsn.value}, actual ${rel}`);
          return;
        }
        case "mp_fastclose": {
          if (a.type !== "mp_fastclose") return;
          this.keyCheck(diffs, `${n} key`, s.key ?? { name: "ckey", pos: s.pos }, a.receiverKey);
          return;
        }
        case "mp_tcprst":
          if (a.type !== "mp_tcprst") return;
          need(a.reason === s.reason, `mp_reset reason: expected ${s.reason}, actual ${a.reason}`);
          if (s.flags !== undefined) need(a.flags === s.flags, `mp_reset flags: expected ${s.flags}, actual ${a.flags}`);
          return;
        default:
          return;
      }
    } catch (e) {
      if (e instanceof ScriptError) diffs.push(`${n}: ${e.message}`);
      else throw e;
    }
  }

  private idsnOr(name: "skey" | "ckey"): bigint {
    const k = name === "skey" ? this.skey : this.ckey;
    return k === undefined ? 0n : keyMaterial(k).idsn;
  }
}

// ------------------------------------------------------------------------------- helpers

/** Deterministic payload bytes of the script side: byte k of the stream (relative to ISN 0). */
export function patternBytes(start: number, len: number, salt: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = ((start + i) * 31 + 7 + salt) & 0xff;
  return out;
}

function defaultNonce(i: number): number {
  return (0x5c1e0000 + i) >>> 0;
}

function relData(v: bigint, idsn: bigint, width: 4 | 8): bigint {
  if (width === 4) return (v - (idsn & 0xffffffffn)) & 0xffffffffn;
  return (v - idsn) & M64;
}

function hex64(v: bigint): string {
  return "0x" + v.toString(16).padStart(16, "0");
}

function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

function hexBytes(b: Uint8Array): string {
  let s = "0x";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function flagText(f: number): string {
  let s = "";
  if (f & TCP_SYN) s += "S";
  if (f & TCP_FIN) s += "F";
  if (f & TCP_PSH) s += "P";
  if (f & TCP_RST) s += "R";
  if (f & TCP_URG) s += "U";
  if (f & TCP_ECE) s += "E";
  if (f & TCP_CWR) s += "W";
  if (f & TCP_ACK) s += ".";
  return s;
}

function mpcFlagText(f: number): string {
  const names = ["flag_a", "flag_b", "flag_c", "flag_d", "flag_e", "flag_f", "flag_g", "flag_h"];
  const out: string[] = [];
  for (let i = 0; i < 8; i++) if (f & (0x80 >> i)) out.push(names[i]!);
  return `[${out.join(", ")}]`;
}

function mpType(kind: OptionSpec["kind"]): MptcpOption["type"] | undefined {
  switch (kind) {
    case "mpcapable":
      return "mp_capable";
    case "dss":
      return "dss";
    case "mp_join_syn":
      return "mp_join_syn";
    case "mp_join_syn_ack":
      return "mp_join_synack";
    case "mp_join_ack":
      return "mp_join_ack";
    case "add_address":
      return "add_addr";
    case "remove_address":
      return "remove_addr";
    case "mp_prio":
      return "mp_prio";
    case "mp_fail":
      return "mp_fail";
    case "mp_fastclose":
      return "mp_fastclose";
    case "mp_tcprst":
      return "mp_tcprst";
    default:
      return undefined;
  }
}

const MPTCP_SUBTYPE_NAMES = ["mpcapable", "mp_join", "dss", "add_address", "remove_address", "mp_prio", "mp_fail", "mp_fastclose", "mp_tcprst"];

function specKindName(s: OptionSpec): string {
  switch (s.kind) {
    case "mp_join_syn":
    case "mp_join_syn_ack":
    case "mp_join_ack":
      return "mp_join";
    default:
      return s.kind;
  }
}

/** The option kinds on the wire, in order, named as in scripts. */
function optionKinds(bytes: Uint8Array, tcpOffset: number): string[] {
  const doff = (bytes[tcpOffset + 12]! >>> 4) * 4;
  const end = tcpOffset + doff;
  const out: string[] = [];
  let i = tcpOffset + 20;
  while (i < end) {
    const k = bytes[i]!;
    if (k === 0) {
      out.push("eol");
      break;
    }
    if (k === 1) {
      out.push("nop");
      i++;
      continue;
    }
    const len = bytes[i + 1] ?? 0;
    if (len < 2) {
      out.push(`bad(${k})`);
      break;
    }
    switch (k) {
      case 2:
        out.push("mss");
        break;
      case 3:
        out.push("wscale");
        break;
      case 4:
        out.push("sackOK");
        break;
      case 5:
        out.push("sack");
        break;
      case 8:
        out.push("TS");
        break;
      case TCPOPT_MPTCP:
        out.push(MPTCP_SUBTYPE_NAMES[(bytes[i + 2] ?? 0) >>> 4] ?? `mptcp(${(bytes[i + 2] ?? 0) >>> 4})`);
        break;
      default:
        out.push(`kind${k}`);
    }
    i += len;
  }
  return out;
}
