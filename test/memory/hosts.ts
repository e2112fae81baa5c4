// Simple hosts for the in-memory network tests: a source of numbered UDP packets (paced by
// its own timer) and a sink that records what arrives. Packets are real IPv4 / IPv6 + UDP with
// valid checksums, so corruption is detectable and tshark decodes the pcaps.
import { fixIpv4HeaderChecksum, fixTransportChecksum, ipVersion, parseAddress } from "../../adapters/memory/packet.ts";
import type { Micros, SimHost, Transmit } from "../../adapters/memory/types.ts";

/** An IPv4 or IPv6 UDP packet (version from the address syntax) with valid checksums. */
export function udpPacket(src: string, dst: string, sport: number, dport: number, payload: Uint8Array, ttl = 64): Uint8Array {
  const s = parseAddress(src);
  const d = parseAddress(dst);
  const udpLen = 8 + payload.length;
  const v6 = s.length === 16;
  const hl = v6 ? 40 : 20;
  const p = new Uint8Array(hl + udpLen);
  if (v6) {
    p[0] = 0x60;
    p[4] = udpLen >> 8;
    p[5] = udpLen & 0xff;
    p[6] = 17;
    p[7] = ttl;
    p.set(s, 8);
    p.set(d, 24);
  } else {
    p[0] = 0x45;
    p[2] = p.length >> 8;
    p[3] = p.length & 0xff;
    p[8] = ttl;
    p[9] = 17;
    p.set(s, 12);
    p.set(d, 16);
    fixIpv4HeaderChecksum(p);
  }
  p[hl] = sport >> 8;
  p[hl + 1] = sport & 0xff;
  p[hl + 2] = dport >> 8;
  p[hl + 3] = dport & 0xff;
  p[hl + 4] = udpLen >> 8;
  p[hl + 5] = udpLen & 0xff;
  p.set(payload, hl + 8);
  fixTransportChecksum(p);
  return p;
}

/** True when the IPv4 header checksum (if any) and the UDP/TCP checksum are valid. */
export function checksumsValid(p: Uint8Array): boolean {
  const copy = p.slice();
  if (ipVersion(copy) === 4) fixIpv4HeaderChecksum(copy);
  if (!fixTransportChecksum(copy)) return false;
  return copy.every((b, i) => b === p[i]);
}

export interface SourceOptions {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  iface?: number;
  count: number;
  /** Total IP packet size in bytes (>= 32 for IPv4, 52 for IPv6). */
  size: number;
  /** Time of the first packet. */
  startUs?: Micros;
  /** Gap between packets; 0 sends them all at once. */
  intervalUs?: Micros;
}

/** Sends `count` UDP packets numbered 0.. (the number in the first 4 payload bytes). */
export class SourceHost implements SimHost {
  sent = 0;
  private readonly o: Required<SourceOptions>;
  private next: Micros;
  constructor(options: SourceOptions) {
    this.o = { sport: 5000, dport: 6000, iface: 0, startUs: 0, intervalUs: 0, ...options };
    this.next = this.o.startUs;
  }
  handlePacket(): void {}
  pollTransmit(now: Micros): Transmit | undefined {
    if (this.sent >= this.o.count || now < this.next) return undefined;
    const hl = parseAddress(this.o.src).length === 16 ? 40 : 20;
    const payload = new Uint8Array(this.o.size - hl - 8);
    new DataView(payload.buffer).setUint32(0, this.sent);
    for (let i = 4; i < payload.length; i++) payload[i] = (this.sent + i) & 0xff;
    const packet = udpPacket(this.o.src, this.o.dst, this.o.sport, this.o.dport, payload);
    this.sent++;
    if (this.o.intervalUs > 0) this.next += this.o.intervalUs;
    return { packet, iface: this.o.iface };
  }
  pollTimeout(): Micros | undefined {
    return this.sent < this.o.count ? this.next : undefined;
  }
  handleTimeout(): void {}
}

export interface Arrival {
  time: Micros;
  iface: number;
  /** The number in the first 4 payload bytes, or -1. */
  seq: number;
  sport: number;
  size: number;
  valid: boolean;
  packet: Uint8Array;
}

/** Records every packet it receives; sends nothing. */
export class SinkHost implements SimHost {
  readonly arrivals: Arrival[] = [];
  handlePacket(now: Micros, packet: Uint8Array, iface: number): void {
    const hl = ipVersion(packet) === 6 ? 40 : 20;
    const seq = packet.length >= hl + 12 ? new DataView(packet.buffer, packet.byteOffset).getUint32(hl + 8) : -1;
    const sport = packet.length >= hl + 2 ? (packet[hl]! << 8) | packet[hl + 1]! : -1;
    this.arrivals.push({ time: now, iface, seq, sport, size: packet.length, valid: checksumsValid(packet), packet });
  }
  pollTransmit(): Transmit | undefined {
    return undefined;
  }
  pollTimeout(): Micros | undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

/** Sends scripted packets at given times on given interfaces, and records what it receives. */
export class ScriptHost implements SimHost {
  readonly received: { time: Micros; packet: Uint8Array; iface: number }[] = [];
  private readonly script: { time: Micros; packet: Uint8Array; iface: number }[];
  /** Called for each received packet; may return packets to send back at once. */
  onPacket?: (now: Micros, packet: Uint8Array, iface: number) => Uint8Array[];
  private readonly replies: Transmit[] = [];
  constructor(script: { time: Micros; packet: Uint8Array; iface?: number }[] = []) {
    this.script = script.map((s) => ({ iface: 0, ...s })).sort((x, y) => x.time - y.time);
  }
  handlePacket(now: Micros, packet: Uint8Array, iface: number): void {
    this.received.push({ time: now, packet, iface });
    for (const r of this.onPacket?.(now, packet, iface) ?? []) this.replies.push({ packet: r, iface });
  }
  pollTransmit(now: Micros): Transmit | undefined {
    const r = this.replies.shift();
    if (r) return r;
    if (this.script.length > 0 && this.script[0]!.time <= now) {
      const s = this.script.shift()!;
      return { packet: s.packet, iface: s.iface };
    }
    return undefined;
  }
  pollTimeout(): Micros | undefined {
    return this.script[0]?.time;
  }
  handleTimeout(): void {}
}
