// Helpers of the multipath experiments (test/sim/exp_*.test.ts): topologies over the in-memory
// simulator and bulk / message workloads that measure goodput per flow and per subflow.
// Every flow's receiver reads everything at once (no application limit) unless told otherwise.
import { Router } from "../../adapters/memory/router.ts";
import { Simulator } from "../../adapters/memory/simulator.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import type { Link } from "../../adapters/memory/link.ts";
import { SimMptcpHost } from "../../adapters/memory/mptcp_host.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfig } from "../../core/mptcp/types.ts";

export const MBPS = 1e6;
export const SERVER_ADDR = new Uint8Array([198, 18, 100, 1]);

/** Client address of path i of host h: 198.18.(10*h + i + 1).1 */
export function hostAddr(h: number, i: number): Uint8Array {
  return new Uint8Array([198, 18, 10 * h + i + 1, 1]);
}

/** A sender flow: a connection from a client host to the server on its own port. */
export interface Flow {
  name: string;
  port: number;
  client: SimMptcpHost;
  conn: MptcpConnection | undefined;
  server: MptcpConnection | undefined;
  /** Bytes the server application read. */
  rx: number;
  /** rx sampled at every sample tick (index k: time k * sampleUs). */
  samples: number[];
  /** Time of each read that returned bytes, and the bytes (for stall measurement), if recorded. */
  reads: Array<[number, number]> | undefined;
}

export interface Net {
  sim: Simulator;
  server: SimMptcpHost;
  flows: Flow[];
  links: Record<string, Link>;
}

const WRITE_CHUNK = new Uint8Array(1 << 16);

/** One flow of `bulkFlows`: from `client` (address `local`) to `server` (default: the net's) on `port`. */
export interface FlowSpec {
  name: string;
  client: SimMptcpHost;
  local: Uint8Array;
  port: number;
  config?: Partial<MptcpConfig>;
  startUs?: number;
  recordReads?: boolean;
  server?: SimMptcpHost;
  serverAddr?: Uint8Array;
}

/**
 * Installs bulk-transfer applications: each client keeps its connection's send buffer full,
 * the server reads everything. Flows start at `startUs` (default 0) with the given config.
 */
export function bulkFlows(net: { sim: Simulator; server?: SimMptcpHost }, specs: FlowSpec[], sampleUs = 100_000): Flow[] {
  const flows: Flow[] = [];
  const byClient = new Map<SimMptcpHost, Flow[]>();
  const byServer = new Map<SimMptcpHost, Map<number, Flow>>();
  for (const s of specs) {
    const f: Flow = { name: s.name, port: s.port, client: s.client, conn: undefined, server: undefined, rx: 0, samples: [], reads: s.recordReads ? [] : undefined };
    flows.push(f);
    const srv = s.server ?? net.server;
    if (!srv) throw new Error("bulkFlows: no server host");
    if (!byServer.has(srv)) byServer.set(srv, new Map());
    byServer.get(srv)!.set(s.port, f);
    if (!byClient.has(s.client)) byClient.set(s.client, []);
    byClient.get(s.client)!.push(f);
    srv.endpoint.listen(s.port);
    net.sim.at(s.startUs ?? 0, (now) => {
      f.conn = s.client.endpoint.connect(now, s.serverAddr ?? SERVER_ADDR, s.port, { localAddress: s.local, ...(s.config ? { config: s.config } : {}) });
    });
  }
  for (const [host, fs] of byClient) {
    host.app = (now) => {
      for (const f of fs) {
        const c = f.conn;
        if (!c) continue;
        while (c.pollEvent() !== undefined) {
          // events are not needed here
        }
        if (c.state !== "ESTABLISHED") continue;
        while (c.writable > 0) {
          const n = c.write(now, c.writable < WRITE_CHUNK.length ? WRITE_CHUNK.subarray(0, c.writable) : WRITE_CHUNK);
          if (n === 0) break;
        }
      }
    };
  }
  const buf = new Uint8Array(1 << 20);
  for (const [srv, byPort] of byServer) {
    const accepted: Array<[MptcpConnection, Flow]> = [];
    srv.app = (now) => {
      let a: MptcpConnection | undefined;
      while ((a = srv.endpoint.pollAccept()) !== undefined) {
        const f = byPort.get(a.subflows[0]!.localPort);
        if (f) {
          f.server = a;
          accepted.push([a, f]);
        }
      }
      for (const [c, f] of accepted) {
        while (c.pollEvent() !== undefined) {
          // drain
        }
        let n: number;
        while ((n = c.read(now, buf)) > 0) {
          f.rx += n;
          f.reads?.push([now, n]);
        }
      }
    };
  }
  const tick = (now: number): void => {
    for (const f of flows) f.samples.push(f.rx);
    net.sim.at(now + sampleUs, tick);
  };
  net.sim.at(0, tick);
  return flows;
}

/** Goodput of a flow in bit/s between two sample indices (times k * sampleUs). */
export function goodput(f: Flow, fromUs: number, toUs: number, sampleUs = 100_000): number {
  const a = f.samples[Math.round(fromUs / sampleUs)] ?? 0;
  const b = f.samples[Math.min(f.samples.length - 1, Math.round(toUs / sampleUs))] ?? f.rx;
  return ((b - a) * 8) / ((toUs - fromUs) / 1e6);
}

/** Data bytes each of the client's subflows carried (pulled from the connection, reinjections included). */
export function subflowBytes(f: Flow): number[] {
  return f.conn ? f.conn.stats().subflows.map((s) => s.dataBytesSent) : [];
}

/**
 * Two (or more) disjoint paths between one client and the server: client iface i -- path i --
 * router -- fast link -- server. Returns the client host and the path links.
 */
export function multiPath(o: {
  paths: LinkSpec[];
  seed?: number;
  clientConfig?: Partial<MptcpConfig>;
  serverConfig?: Partial<MptcpConfig>;
  clientFlags?: Array<Partial<LocalAddressSpec>>;
}): { sim: Simulator; client: SimMptcpHost; server: SimMptcpHost; paths: Link[]; router: Router } {
  const seed = o.seed ?? 1;
  const sim = new Simulator({ seed });
  const addrs: LocalAddressSpec[] = o.paths.map((_, i) => ({ address: hostAddr(0, i), iface: i, subflow: i > 0, id: i + 1, ...(o.clientFlags?.[i] ?? {}) }));
  const client = new SimMptcpHost({ addresses: addrs, random: new SeededRandomSource(seed * 7 + 1), config: o.clientConfig, trustChecksums: true });
  const server = new SimMptcpHost({ addresses: [{ address: SERVER_ADDR, iface: 0 }], random: new SeededRandomSource(seed * 7 + 2), config: o.serverConfig, trustChecksums: true });
  const router = new Router("r", seed, false);
  const paths: Link[] = [];
  o.paths.forEach((p, i) => {
    router.addRoute(`198.18.${i + 1}.0/24`, i);
    paths.push(sim.connect({ host: client, iface: i }, { host: router, iface: i }, p, `path${i}`));
  });
  const n = o.paths.length;
  router.addRoute("198.18.100.0/24", n);
  sim.connect({ host: router, iface: n }, { host: server, iface: 0 }, {}, "server");
  return { sim, client, server, paths, router };
}

/** Per-direction link spec: the bottleneck parameters on the way to the server, a clean return path. */
export function forward(p: Partial<import("../../adapters/memory/types.ts").LinkParams>): LinkSpec {
  const { lossRate: _l, queueBytes: _q, rateBps: _r, ...back } = p;
  return { ab: p, ba: back };
}

/** Formats bit/s as Mbit/s with 2 decimals. */
export function mbit(bps: number): string {
  return (bps / 1e6).toFixed(2);
}

/** Wall-clock milliseconds (test code, not core). */
export function wallMs(): number {
  return performance.now();
}

/**
 * A shared bottleneck: an MPTCP client with `mpPaths` addresses (each its own access link) and
 * `tcpHosts` single-address hosts, all behind router r1; r1 -- bottleneck -- r2 -- server.
 */
export function sharedBottleneck(o: {
  mpPaths: number;
  tcpHosts: number;
  bottleneck: LinkSpec;
  access?: LinkSpec;
  seed?: number;
  clientConfig?: Partial<MptcpConfig>;
  serverConfig?: Partial<MptcpConfig>;
}): { sim: Simulator; client: SimMptcpHost; tcp: SimMptcpHost[]; server: SimMptcpHost; bottleneck: Link } {
  const seed = o.seed ?? 1;
  const sim = new Simulator({ seed });
  const access = o.access ?? { rateBps: 100e6, delayUs: 1000, jitterUs: 500 };
  const addrs: LocalAddressSpec[] = Array.from({ length: o.mpPaths }, (_, i) => ({ address: hostAddr(0, i), iface: i, subflow: i > 0, id: i + 1 }));
  const client = new SimMptcpHost({ addresses: addrs, random: new SeededRandomSource(seed * 7 + 1), config: o.clientConfig, trustChecksums: true });
  const server = new SimMptcpHost({ addresses: [{ address: SERVER_ADDR, iface: 0 }], random: new SeededRandomSource(seed * 7 + 2), config: o.serverConfig, trustChecksums: true });
  const r1 = new Router("r1", seed, false);
  const r2 = new Router("r2", seed, false);
  let iface = 0;
  for (let i = 0; i < o.mpPaths; i++) {
    r1.addRoute(`198.18.${i + 1}.0/24`, iface);
    sim.connect({ host: client, iface: i }, { host: r1, iface }, access, `mp${i}`);
    iface++;
  }
  const tcp: SimMptcpHost[] = [];
  for (let h = 0; h < o.tcpHosts; h++) {
    const host = new SimMptcpHost({ addresses: [{ address: hostAddr(h + 1, 0), iface: 0, id: 1 }], random: new SeededRandomSource(seed * 7 + 3 + h), config: { ...o.clientConfig, mptcp: false }, trustChecksums: true });
    r1.addRoute(`198.18.${10 * (h + 1) + 1}.0/24`, iface);
    sim.connect({ host, iface: 0 }, { host: r1, iface }, access, `tcp${h}`);
    tcp.push(host);
    iface++;
  }
  r1.addRoute("198.18.100.0/24", iface);
  r2.addRoute("198.18.100.0/24", 1);
  r2.addRoute("198.18.0.0/16", 0);
  const bottleneck = sim.connect({ host: r1, iface }, { host: r2, iface: 0 }, o.bottleneck, "bottleneck");
  sim.connect({ host: r2, iface: 1 }, { host: server, iface: 0 }, {}, "server");
  return { sim, client, tcp, server, bottleneck };
}

/**
 * A two-pod slice of a k=4 fat tree: pod A and pod B each have two edge switches (two hosts
 * each) and two aggregation switches; four core switches, aggregation switch j of each pod
 * uplinks to cores 2j and 2j+1. Every link has the same spec. Upward hops choose among
 * equal-cost uplinks by the routers' seeded 5-tuple hash (ECMP), so flows can collide.
 * Host i of pod A is 198.18.(i+1).1, host i of pod B 198.18.(65+i).1.
 */
export function fatTreeSlice(o: { link: LinkSpec; seed?: number; config?: Partial<MptcpConfig> }): { sim: Simulator; podA: SimMptcpHost[]; podB: SimMptcpHost[]; addrA: Uint8Array[]; addrB: Uint8Array[]; cores: Router[] } {
  const seed = o.seed ?? 1;
  const sim = new Simulator({ seed });
  const addrA = [0, 1, 2, 3].map((i) => new Uint8Array([198, 18, i + 1, 1]));
  const addrB = [0, 1, 2, 3].map((i) => new Uint8Array([198, 18, 65 + i, 1]));
  const mk = (a: Uint8Array, k: number): SimMptcpHost =>
    new SimMptcpHost({ addresses: [{ address: a, iface: 0, id: 1 }], random: new SeededRandomSource(seed * 31 + k), config: o.config, trustChecksums: true });
  const podA = addrA.map((a, i) => mk(a, i));
  const podB = addrB.map((a, i) => mk(a, 10 + i));
  const cores = [0, 1, 2, 3].map((c) => new Router(`core${c}`, seed, false));
  // Core c: iface 0 to pod A's aggregation switch c>>1, iface 1 to pod B's.
  for (const c of cores) c.addRoute("198.18.0.0/18", 0).addRoute("198.18.64.0/18", 1);
  const pod = (name: string, hosts: SimMptcpHost[], base: number, local: string, remote: string, coreSide: number): void => {
    const edges = [0, 1].map((e) => new Router(`${name}e${e}`, seed, false));
    const aggs = [0, 1].map((g) => new Router(`${name}a${g}`, seed, false));
    edges.forEach((e, ei) => {
      // Edge: ifaces 0, 1 to its hosts, 2, 3 up to aggregation switches 0, 1.
      for (let h = 0; h < 2; h++) {
        const hi = ei * 2 + h;
        e.addRoute(`198.18.${base + hi}.0/24`, h);
        sim.connect({ host: hosts[hi]!, iface: 0 }, { host: e, iface: h }, o.link, `${name}h${hi}`);
      }
      e.addRoute(remote, [2, 3]);
      aggs.forEach((g, gi) => sim.connect({ host: e, iface: 2 + gi }, { host: g, iface: ei }, o.link, `${name}e${ei}a${gi}`));
    });
    aggs.forEach((g, gi) => {
      // Aggregation: ifaces 0, 1 down to the edges, 2, 3 up to cores 2gi, 2gi+1.
      for (let hi = 0; hi < 4; hi++) g.addRoute(`198.18.${base + hi}.0/24`, hi >> 1);
      g.addRoute(remote, [2, 3]);
      for (let k = 0; k < 2; k++) sim.connect({ host: g, iface: 2 + k }, { host: cores[2 * gi + k]!, iface: coreSide }, o.link, `${name}a${gi}c${2 * gi + k}`);
    });
    void local;
  };
  pod("A", podA, 1, "198.18.0.0/18", "198.18.64.0/18", 0);
  pod("B", podB, 65, "198.18.64.0/18", "198.18.0.0/18", 1);
  return { sim, podA, podB, addrA, addrB, cores };
}

/** Prints one result line for humans and for scripts/experiments.mjs (which parses `[exp] {json}`). */
export function record(r: { exp: number; name: string; goal: string; value: string; pass: boolean; wallMs?: number; detail?: string }): void {
  console.log(`[exp] ${JSON.stringify(r)}`);
}

/** The path-manager settings of the experiments (up to 8 subflows). */
export const PM_WIDE = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 } as const;
