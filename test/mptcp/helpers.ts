// MPTCP scenarios over the in-memory simulator: a client with one address per path, a router,
// and a server behind a fast link. Path i: client iface i (198.18.(i+1).1) <-> router iface i;
// router iface N <-> server (198.18.100.1, plus optional extra server addresses).
import { Router } from "../../adapters/memory/router.ts";
import { Simulator } from "../../adapters/memory/simulator.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import type { Link } from "../../adapters/memory/link.ts";
import { SimMptcpHost } from "../../adapters/memory/mptcp_host.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfig, MptcpEvent } from "../../core/mptcp/types.ts";
import { sourceBytes } from "../tcp/sim_helpers.ts";

export { sourceBytes };
export const SERVER = new Uint8Array([198, 18, 100, 1]);
export const PORT = 5001;

export function clientAddr(i: number, v6 = false): Uint8Array {
  if (v6) return Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, i + 1, 0, 0, 0, 0, 0, 0, 0, 1]); // 2001:2:0:<i+1>::1
  return new Uint8Array([198, 18, i + 1, 1]);
}

/** 2001:2:0:100::1 */
export const SERVER6 = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

export interface Scenario {
  sim: Simulator;
  client: SimMptcpHost;
  server: SimMptcpHost;
  router: Router;
  paths: Link[];
  serverLink: Link;
  serverAddress: Uint8Array;
  v6: boolean;
}

export function scenario(o: {
  paths: LinkSpec[];
  seed?: number;
  /** Client addresses beyond the first are "subflow" endpoints unless said otherwise. */
  clientFlags?: Array<Partial<LocalAddressSpec>>;
  clientConfig?: Partial<MptcpConfig>;
  serverConfig?: Partial<MptcpConfig>;
  serverLink?: LinkSpec;
  trust?: boolean;
  /** Paths whose client address is added later (not at start). */
  latePaths?: number[];
  /** Extra server addresses (routed over the server link), e.g. announced with ADD_ADDR. */
  serverExtra?: Array<Partial<LocalAddressSpec> & { address: Uint8Array }>;
  /** IPv6 addresses (2001:2:0:<path+1>::1 for the client, 2001:2:0:100::1 for the server). */
  v6?: boolean;
}): Scenario {
  const v6 = o.v6 ?? false;
  const serverAddress = v6 ? SERVER6 : SERVER;
  const seed = o.seed ?? 1;
  const sim = new Simulator({ seed });
  const n = o.paths.length;
  const addrs: LocalAddressSpec[] = [];
  for (let i = 0; i < n; i++) {
    if (o.latePaths?.includes(i)) continue;
    addrs.push({ address: clientAddr(i, v6), iface: i, subflow: i > 0, id: i + 1, ...(o.clientFlags?.[i] ?? {}) });
  }
  const client = new SimMptcpHost({ addresses: addrs, random: new SeededRandomSource(seed * 7 + 1), config: o.clientConfig, trustChecksums: o.trust });
  const server = new SimMptcpHost({ addresses: [{ address: serverAddress, iface: 0 }, ...(o.serverExtra ?? []).map((a) => ({ iface: 0, ...a }))], random: new SeededRandomSource(seed * 7 + 2), config: o.serverConfig, trustChecksums: o.trust });
  const router = new Router("r", seed, false);
  const paths: Link[] = [];
  for (let i = 0; i < n; i++) {
    router.addRoute(v6 ? `2001:2:0:${i + 1}::/64` : `198.18.${i + 1}.0/24`, i);
    paths.push(sim.connect({ host: client, iface: i }, { host: router, iface: i }, o.paths[i]!, `path${i}`));
  }
  router.addRoute(v6 ? "2001:2:0:100::/64" : "198.18.100.0/24", n);
  router.addRoute("198.18.101.0/24", n);
  const serverLink = sim.connect({ host: router, iface: n }, { host: server, iface: 0 }, o.serverLink ?? {}, "server");
  server.endpoint.listen(PORT);
  return { sim, client, server, router, paths, serverLink, serverAddress, v6 };
}

export interface TransferResult {
  okA: boolean;
  okB: boolean;
  receivedA: number;
  receivedB: number;
  doneUs: number;
  clientConn: MptcpConnection | undefined;
  serverConn: MptcpConnection | undefined;
  clientEvents: MptcpEvent[];
  serverEvents: MptcpEvent[];
  /** Longest gap between two deliveries to the server app (µs), with its start time. */
  maxGapUs: number;
  maxGapAt: number;
  finished: boolean;
}

/**
 * Client sends `up` bytes, server sends `down` bytes, both close after writing; checks every
 * byte. `hooks.onTick` runs after each host input (time-driven scenario changes go in sim.at).
 */
export function transfer(sc: Scenario, o: { up: number; down: number; deadlineUs?: number; connectConfig?: Partial<MptcpConfig> }): TransferResult {
  const { sim, client, server } = sc;
  const dataUp = sourceBytes(Math.max(o.up, o.down, 1));
  const dataDown = dataUp; // same source, both directions
  let cc: MptcpConnection | undefined;
  let sc2: MptcpConnection | undefined;
  let offA = 0;
  let offB = 0;
  let rcvA = 0; // bytes the server received from the client
  let rcvB = 0; // bytes the client received from the server
  let badA = -1;
  let badB = -1;
  let closedA = false;
  let closedB = false;
  let lastRx = 0;
  let maxGap = 0;
  let maxGapAt = 0;
  const clientEvents: MptcpEvent[] = [];
  const serverEvents: MptcpEvent[] = [];
  const buf = new Uint8Array(1 << 18);
  const pump = (now: number, c: MptcpConnection, isClient: boolean): void => {
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) if (e.type !== "readable" && e.type !== "writable") (isClient ? clientEvents : serverEvents).push(e);
    const total = isClient ? o.up : o.down;
    let off = isClient ? offA : offB;
    if (c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT") {
      while (off < total) {
        const n = c.write(now, dataUp.subarray(off, Math.min(total, off + (1 << 18))));
        if (n === 0) break;
        off += n;
      }
      if (off === total) {
        if (isClient && !closedA) {
          closedA = true;
          c.shutdown(now);
        } else if (!isClient && !closedB) {
          closedB = true;
          c.shutdown(now);
        }
      }
    }
    if (isClient) offA = off;
    else offB = off;
    let n: number;
    while ((n = c.read(now, buf)) > 0) {
      const src = isClient ? dataDown : dataUp;
      const base = isClient ? rcvB : rcvA;
      let bad = isClient ? badB : badA;
      if (bad < 0) {
        for (let i = 0; i < n; i++) {
          if (buf[i] !== src[base + i]) {
            bad = base + i;
            break;
          }
        }
      }
      if (isClient) {
        rcvB += n;
        badB = bad;
      } else {
        rcvA += n;
        badA = bad;
        if (now - lastRx > maxGap && rcvA > n) {
          maxGap = now - lastRx;
          maxGapAt = lastRx;
        }
        lastRx = now;
      }
    }
  };
  client.app = (now) => {
    if (cc) pump(now, cc, true);
  };
  server.app = (now) => {
    sc2 ??= server.endpoint.pollAccept();
    if (sc2) pump(now, sc2, false);
  };
  sim.at(0, (now) => {
    cc = client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0, sc.v6), config: o.connectConfig });
  });
  const done = (): boolean => rcvA >= o.up && rcvB >= o.down && !!cc && !!sc2 && cc.peerClosed && sc2.peerClosed;
  const finished = sim.runUntilTrue(done, o.deadlineUs ?? 600_000_000);
  // Let the close handshakes finish.
  sim.runUntil(sim.now + 2_000_000);
  if (cc) pump(sim.now, cc, true);
  if (sc2) pump(sim.now, sc2, false);
  return {
    okA: badA < 0 && rcvA === o.up,
    okB: badB < 0 && rcvB === o.down,
    receivedA: rcvA,
    receivedB: rcvB,
    doneUs: sim.now,
    clientConn: cc,
    serverConn: sc2,
    clientEvents,
    serverEvents,
    maxGapUs: maxGap,
    maxGapAt,
    finished,
  };
}
