// A simple router / switch node for shared bottlenecks and multipath topologies (an ECMP
// fat-tree slice): it forwards each packet by longest-prefix match on the destination address,
// choosing among equal-cost interfaces by a seeded hash of the flow's 5-tuple, so one flow
// always takes one path. It is a SimHost, so the queues that matter are those of the links it
// sends on. IPv4 TTL / IPv6 hop limit are decremented (IPv4 header checksum updated); a packet
// whose TTL runs out is dropped (no ICMP).
import { fixIpv4HeaderChecksum, inPrefix, ipDst, ipSrc, ipVersion, parseAddress, ports, transport } from "./packet.ts";
import { hashLabel } from "./random.ts";
import type { Micros, SimHost, Transmit } from "./types.ts";

export interface Route {
  prefix: Uint8Array;
  prefixLen: number;
  /** Equal-cost output interfaces (one or more). */
  ifaces: number[];
}

export interface RouterCounters {
  forwarded: number;
  noRoute: number;
  ttlExpired: number;
  malformed: number;
}

export class Router implements SimHost {
  private readonly routes: Route[] = [];
  private readonly out: Transmit[] = [];
  private outHead = 0;
  readonly counters: RouterCounters = { forwarded: 0, noRoute: 0, ttlExpired: 0, malformed: 0 };
  private readonly salt: number;

  /** `hashSeed` varies the ECMP choice between routers (like a per-switch hash seed). */
  constructor(readonly name: string = "router", hashSeed: number = 0, private readonly decrementTtl: boolean = true) {
    this.salt = (hashLabel(name) ^ hashSeed) >>> 0;
  }

  /** Adds a route: "198.18.1.0/24" (or an address for a /32, /128) to one or several interfaces. */
  addRoute(cidr: string, ifaces: number | number[]): this {
    const [addr, len] = cidr.split("/");
    const prefix = parseAddress(addr!);
    const prefixLen = len === undefined ? prefix.length * 8 : Number(len);
    const list = Array.isArray(ifaces) ? ifaces : [ifaces];
    if (list.length === 0) throw new Error("a route needs at least one interface");
    this.routes.push({ prefix, prefixLen, ifaces: list });
    // Longest prefix first; stable among equals.
    this.routes.sort((x, y) => y.prefixLen - x.prefixLen);
    return this;
  }

  /** The output interface for a packet, or undefined when no route matches. */
  lookup(packet: Uint8Array): number | undefined {
    const dst = ipDst(packet);
    if (!dst) return undefined;
    for (const r of this.routes) {
      if (!inPrefix(dst, r.prefix, r.prefixLen)) continue;
      if (r.ifaces.length === 1) return r.ifaces[0];
      return r.ifaces[this.flowHash(packet) % r.ifaces.length];
    }
    return undefined;
  }

  /** A seeded FNV-1a hash over source and destination address, protocol and ports. */
  flowHash(packet: Uint8Array): number {
    let h = (0x811c9dc5 ^ this.salt) >>> 0;
    const mix = (b: number): void => {
      h ^= b & 0xff;
      h = Math.imul(h, 0x01000193);
    };
    for (const b of ipSrc(packet) ?? []) mix(b);
    for (const b of ipDst(packet) ?? []) mix(b);
    const t = transport(packet);
    mix(t?.proto ?? 0);
    const p = ports(packet);
    if (p) {
      mix(p.src >> 8);
      mix(p.src);
      mix(p.dst >> 8);
      mix(p.dst);
    }
    // Final avalanche so the low bits used by `%` depend on every input byte.
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h >>> 0;
  }

  handlePacket(_now: Micros, packet: Uint8Array, _iface: number): void {
    const v = ipVersion(packet);
    if (v === 0) {
      this.counters.malformed++;
      return;
    }
    const iface = this.lookup(packet);
    if (iface === undefined) {
      this.counters.noRoute++;
      return;
    }
    if (this.decrementTtl) {
      const at = v === 4 ? 8 : 7;
      if (packet[at]! <= 1) {
        this.counters.ttlExpired++;
        return;
      }
      packet[at]!--;
      if (v === 4) fixIpv4HeaderChecksum(packet);
    }
    this.counters.forwarded++;
    this.out.push({ packet, iface });
  }

  pollTransmit(_now: Micros): Transmit | undefined {
    if (this.outHead >= this.out.length) {
      this.out.length = 0;
      this.outHead = 0;
      return undefined;
    }
    return this.out[this.outHead++];
  }

  pollTimeout(): Micros | undefined {
    return undefined;
  }

  handleTimeout(_now: Micros): void {}
}
