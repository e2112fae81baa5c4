// Helpers of the multipath experiments (test/sim/exp_*.test.ts): topologies over the in-memory
// simulator and bulk / message workloads that measure goodput per flow and per subflow.
// Every flow's receiver reads everything at once (no application limit) unless told otherwise.
import { Router } from "../../adapters/memory/router.ts";
import { Simulator } from "../../adapters/memory/simulator.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import type { Link, LinkEnd } from "../../adapters/memory/link.ts";
import type { SimHost } from "../../adapters/memory/types.ts";
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
  // A host may be a client and a server at once (a permutation traffic matrix): one app per
  // role, called in turn.
  const apps = new Map<SimMptcpHost, Array<(now: number) => void>>();
  const addApp = (host: SimMptcpHost, app: (now: number) => void): void => {
    if (!apps.has(host)) apps.set(host, []);
    apps.get(host)!.push(app);
  };
  for (const [host, fs] of byClient) {
    addApp(host, (now) => {
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
    });
  }
  const buf = new Uint8Array(1 << 20);
  for (const [srv, byPort] of byServer) {
    const accepted: Array<[MptcpConnection, Flow]> = [];
    addApp(srv, (now) => {
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
    });
  }
  for (const [host, list] of apps) {
    host.app = list.length === 1 ? list[0]! : (now) => {
      for (const app of list) app(now);
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

/** Prints one result line for humans and for scripts/experiments.mjs (which parses `[exp] {json}`). */
export function record(r: { exp: number; name: string; goal: string; value: string; pass: boolean; wallMs?: number; detail?: string }): void {
  console.log(`[exp] ${JSON.stringify(r)}`);
}

/** The path-manager settings of the experiments (up to 8 subflows). */
export const PM_WIDE = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 } as const;

/**
 * A whole k-ary fat tree (Al-Fares et al. 2008; k even, 4 <= k <= 16), the topology of Raiciu
 * et al. (SIGCOMM 2011): k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 core switches,
 * k^3/4 hosts, every link the same spec (full bisection bandwidth). Host h (pod p, edge e, index
 * i, h = p k^2/4 + e k/2 + i) is 198.18.(16 p + e).(i + 1). Edge and aggregation switches send
 * upward traffic over their k/2 uplinks by ECMP (each switch its own seeded 5-tuple hash);
 * aggregation switch g of every pod connects to cores g k/2 .. g k/2 + k/2 - 1, so two hosts in
 * different pods have (k/2)^2 shortest paths, two hosts of one pod on different edges k/2, and
 * two hosts on one edge 1. `links` holds every link (host links are named h<index>, host side a).
 */
export function fatTree(o: { k?: number; link: LinkSpec; seed?: number; config?: Partial<MptcpConfig> }): { sim: Simulator; hosts: SimMptcpHost[]; addrs: Uint8Array[]; links: Link[]; switches: Map<string, Router> } {
  const k = o.k ?? 4;
  if (!(Number.isInteger(k) && k >= 4 && k <= 16 && k % 2 === 0)) throw new Error(`fatTree: k must be even in 4..16, got ${k}`);
  const half = k / 2;
  const seed = o.seed ?? 1;
  const sim = new Simulator({ seed });
  const n = (k * k * k) / 4;
  const where = (h: number): { p: number; e: number; i: number } => ({ p: Math.floor(h / (half * half)), e: Math.floor(h / half) % half, i: h % half });
  const addrs = Array.from({ length: n }, (_, h) => {
    const { p, e, i } = where(h);
    return new Uint8Array([198, 18, 16 * p + e, i + 1]);
  });
  const hosts = addrs.map(
    (a, h) => new SimMptcpHost({ addresses: [{ address: a, iface: 0, id: 1 }], random: new SeededRandomSource(seed * 1031 + h), config: o.config, trustChecksums: true }),
  );
  const links: Link[] = [];
  const switches = new Map<string, Router>();
  // Core c: iface p to pod p's aggregation switch floor(c / half).
  const cores = Array.from({ length: half * half }, (_, c) => new Router(`core${c}`, seed, false));
  for (const c of cores) for (let p = 0; p < k; p++) c.addRoute(`198.18.${16 * p}.0/20`, p);
  for (let p = 0; p < k; p++) {
    const edges = Array.from({ length: half }, (_, e) => new Router(`p${p}e${e}`, seed, false));
    const aggs = Array.from({ length: half }, (_, g) => new Router(`p${p}a${g}`, seed, false));
    for (const r of [...edges, ...aggs]) switches.set(r.name, r);
    edges.forEach((e, ei) => {
      // Edge: ifaces 0 .. half-1 down to its hosts, half .. k-1 up to the aggregation switches.
      for (let i = 0; i < half; i++) {
        const h = p * half * half + ei * half + i;
        e.addRoute(`198.18.${16 * p + ei}.${i + 1}/32`, i);
        links.push(sim.connect({ host: hosts[h]!, iface: 0 }, { host: e, iface: i }, o.link, `h${h}`));
      }
      e.addRoute("198.18.0.0/16", Array.from({ length: half }, (_, g) => half + g));
      aggs.forEach((g, gi) => links.push(sim.connect({ host: e, iface: half + gi }, { host: g, iface: ei }, o.link, `p${p}e${ei}a${gi}`)));
    });
    aggs.forEach((g, gi) => {
      // Aggregation: ifaces 0 .. half-1 down to the edges, half .. k-1 up to its cores.
      for (let ei = 0; ei < half; ei++) g.addRoute(`198.18.${16 * p + ei}.0/24`, ei);
      g.addRoute("198.18.0.0/16", Array.from({ length: half }, (_, j) => half + j));
      for (let j = 0; j < half; j++) links.push(sim.connect({ host: g, iface: half + j }, { host: cores[gi * half + j]!, iface: p }, o.link, `p${p}a${gi}c${gi * half + j}`));
    });
  }
  for (const c of cores) switches.set(c.name, c);
  return { sim, hosts, addrs, links, switches };
}

/** A random permutation of 0..n-1 without fixed points (every host sends to another one), from a seeded stream. */
export function derangement(n: number, seed: number): number[] {
  const rng = new SeededRandomSource(seed);
  for (;;) {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.nextU32() % (i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    if (p.every((v, i) => v !== i)) return p;
  }
}

/**
 * The links a packet crosses from `from` (through its interface 0) to the first non-router host,
 * as "<link name>.ab" / ".ba", asking every Router on the way for its ECMP choice.
 */
export function tracePath(links: readonly Link[], from: SimHost, packet: Uint8Array): string[] {
  const out = new Map<SimHost, Map<number, { link: Link; dir: 0 | 1 }>>();
  const side = (h: SimHost, iface: number, link: Link, dir: 0 | 1): void => {
    if (!out.has(h)) out.set(h, new Map());
    out.get(h)!.set(iface, { link, dir });
  };
  for (const l of links) {
    side(l.a.host, l.a.iface, l, 0);
    side(l.b.host, l.b.iface, l, 1);
  }
  const path: string[] = [];
  let host: SimHost = from;
  let iface: number | undefined = 0;
  for (let hop = 0; hop < 64; hop++) {
    const o: { link: Link; dir: 0 | 1 } | undefined = iface === undefined ? undefined : out.get(host)?.get(iface);
    if (!o) throw new Error(`tracePath: no link from ${path.join(" ")}`);
    path.push(`${o.link.name}.${o.dir === 0 ? "ab" : "ba"}`);
    const to: LinkEnd = o.dir === 0 ? o.link.b : o.link.a;
    if (!(to.host instanceof Router)) return path;
    host = to.host;
    iface = to.host.lookup(packet);
  }
  throw new Error("tracePath: loop");
}

/** A minimal IPv4 + TCP header (enough for routing and ECMP hashing) of a segment src:sp -> dst:dp. */
export function probePacket(src: Uint8Array, dst: Uint8Array, sp: number, dp: number): Uint8Array {
  const p = new Uint8Array(40);
  p[0] = 0x45;
  p[3] = 40;
  p[8] = 64;
  p[9] = 6;
  p.set(src, 12);
  p.set(dst, 16);
  p[20] = sp >> 8;
  p[21] = sp & 0xff;
  p[22] = dp >> 8;
  p[23] = dp & 0xff;
  p[32] = 0x50;
  return p;
}

/**
 * Max-min fair rates of single-path flows over links of capacity 1 (progressive filling): what
 * TCP flows that share bottlenecks fairly get on fixed (ECMP-hashed) paths.
 */
export function maxMinRates(paths: readonly (readonly string[])[]): number[] {
  const rate = paths.map(() => 0);
  const frozen = paths.map((p) => p.length === 0);
  const cap = new Map<string, number>();
  for (const p of paths) for (const l of p) cap.set(l, 1);
  while (frozen.some((f) => !f)) {
    const users = new Map<string, number>();
    paths.forEach((p, i) => {
      if (!frozen[i]) for (const l of new Set(p)) users.set(l, (users.get(l) ?? 0) + 1);
    });
    let step = Infinity;
    for (const [l, n] of users) step = Math.min(step, cap.get(l)! / n);
    paths.forEach((p, i) => {
      if (frozen[i]) return;
      rate[i] += step;
      for (const l of new Set(p)) cap.set(l, cap.get(l)! - step);
    });
    paths.forEach((p, i) => {
      if (!frozen[i] && p.some((l) => cap.get(l)! < 1e-9)) frozen[i] = true;
    });
  }
  return rate;
}
