// The simulator harness: two MPTCP hosts over N paths on the deterministic in-memory network
// (adapters/memory/), and `runOps`, which plays an operation sequence (ops.ts) on them and
// returns what each side wrote and read, whether every byte read was the right one, and the
// counters. Topology (`scenario`): path i joins client interface i (198.18.(i+1).1, endpoint id
// i+1) to router interface i; router interface N joins the server (198.18.100.1) over a fast
// link. Same seed, same run, on Node and Deno.
import { Router } from "../memory/router.ts";
import { Simulator } from "../memory/simulator.ts";
import type { LinkSpec } from "../memory/simulator.ts";
import type { Link } from "../memory/link.ts";
import type { LinkCounters } from "../memory/types.ts";
import { SimMptcpHost } from "../memory/mptcp_host.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import { InvalidArgumentError, MptcpError } from "../../core/errors.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfigInput, MptcpEvent, MptcpStats } from "../../core/mptcp/types.ts";
import { createMiddlebox } from "./network.ts";
import type { MiddleboxSpec } from "./network.ts";
import type { Op, Side } from "./ops.ts";

/** The server's address (198.18.100.1). */
export const SERVER: Uint8Array = new Uint8Array([198, 18, 100, 1]);
/** The server's IPv6 address (2001:2:0:100::1). */
export const SERVER6: Uint8Array = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/** The port the server listens on. */
export const PORT = 5001;

/** The client's address on path `i`: 198.18.(i+1).1, or 2001:2:0:(i+1)::1. */
export function clientAddr(i: number, v6: boolean = false): Uint8Array {
  if (v6) return Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, i + 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  return new Uint8Array([198, 18, i + 1, 1]);
}

export interface Scenario {
  sim: Simulator;
  client: SimMptcpHost;
  server: SimMptcpHost;
  router: Router;
  /** paths[i]: the link of path i (side A: the client). */
  paths: Link[];
  serverLink: Link;
  serverAddress: Uint8Array;
  v6: boolean;
}

export interface ScenarioOptions {
  paths: LinkSpec[];
  seed?: number;
  /** Client addresses beyond the first are "subflow" endpoints unless said otherwise. */
  clientFlags?: Array<Partial<LocalAddressSpec>>;
  clientConfig?: MptcpConfigInput;
  serverConfig?: MptcpConfigInput;
  serverLink?: LinkSpec;
  trust?: boolean;
  /** Paths whose client address is added later (not at start). */
  latePaths?: number[];
  /** Extra server addresses (routed over the server link; 198.18.101.0/24 routes there too). */
  serverExtra?: Array<Partial<LocalAddressSpec> & { address: Uint8Array }>;
  /** IPv6 addresses (2001:2:0:<path+1>::1 for the client, 2001:2:0:100::1 for the server). */
  v6?: boolean;
}

/** Builds the topology; the server listens on `PORT`. Nothing runs until `sim.run*`. */
export function scenario(o: ScenarioOptions): Scenario {
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

// ---------------------------------------------------------------------------------------------
// runOps

/** The server's second address, which "announce" advertises (ADD_ADDR id 10). */
export const SERVER_EXTRA: Uint8Array = new Uint8Array([198, 18, 101, 1]);
const SERVER_EXTRA_ID = 10;

export interface HarnessOptions {
  /** One entry per path [two paths of 50 Mbit/s, 3 ms, 200 kB queue]. */
  paths?: LinkSpec[];
  /** Middleboxes on path links (the NAT's public address is 198.18.(path+1).99). */
  middleboxes?: Array<{ path: number; box: MiddleboxSpec }>;
  /** Seed of the simulator, the hosts' keys and nonces, and the bytes sent [1]. */
  seed?: number;
  /** Configuration of each side (the path managers default to 4 subflows, 2 ADD_ADDR accepted). */
  clientConfig?: MptcpConfigInput;
  serverConfig?: MptcpConfigInput;
  /**
   * When every link comes back up and both sides read again, so that the run can end with all
   * bytes delivered [100 ms after the last operation].
   */
  healAtUs?: number;
  /** How long after the heal the run may take to deliver everything [20 s of virtual time]. */
  settleUs?: number;
}

/** What one side's application did. */
export interface SideResult {
  /** Bytes the application asked to send (sum of its "write" operations). */
  wanted: number;
  /** Bytes the connection accepted from it (`write()` return values). */
  written: number;
  /** Bytes it read (sent by the other side). */
  read: number;
  /** It closed its sending direction (`shutdown()` was called). */
  closed: boolean;
  /** The connection's stats at the end (counters as Linux `MPTcpExt*`), if it had one. */
  stats: MptcpStats | undefined;
  /** Its events, `readable` and `writable` left out. */
  events: MptcpEvent[];
}

export interface HarnessResult {
  client: SideResult;
  server: SideResult;
  /** Every byte read, on both sides, was the byte written at that offset of the stream. */
  intact: boolean;
  /** The first offset read with a wrong byte, per direction ("up": client to server). */
  mismatch: { up: number | undefined; down: number | undefined };
  /** Both directions delivered all that was written (read === the other side's written). */
  complete: boolean;
  /**
   * Both connections exist, neither is CLOSED at the end, and each still has a subflow that is
   * not CLOSED (when every subflow was reset, a connection waits up to closeTimeoutUs for a new
   * one, as Linux does, and delivers nothing meanwhile).
   */
  open: boolean;
  /** Operations the connection refused with an MptcpError (API misuse in that state). */
  refused: Array<{ op: Op; error: string }>;
  /** Operations that had no connection to act on yet (or an unknown path). */
  skipped: Op[];
  /** Virtual time at the end of the run (µs). */
  endUs: number;
  /** Per path link counters, direction A→B (client to router) and B→A. */
  links: Array<{ ab: LinkCounters; ba: LinkCounters }>;
}

const DEFAULT_PATH: LinkSpec = Object.freeze({ rateBps: 50e6, delayUs: 3_000, queueBytes: 200_000 });
const DEFAULT_PM = Object.freeze({ subflows: 4, addAddrAccepted: 2, addAddrTimeoutUs: 2_000_000, addAddrRetries: 3 });

/**
 * Runs `ops` on a fresh `scenario`: the client connects (at the first "open", or at 0), the
 * server accepts, and each side's application writes what its "write" operations ask (as
 * buffer space opens), reads unless told not to, and closes when told (after its wanted bytes
 * are written). At `healAtUs` every link is brought up and both sides read; the run ends when
 * both directions are complete or `settleUs` later. Network input never throws by contract,
 * so any exception other than an `MptcpError` from a command propagates: it is a bug.
 */
export function runOps(ops: readonly Op[], o: HarnessOptions = {}): HarnessResult {
  const seed = o.seed ?? 1;
  const pathSpecs = o.paths ?? [DEFAULT_PATH, DEFAULT_PATH];
  if (pathSpecs.length < 1) throw new InvalidArgumentError("runOps: at least one path");
  const pm = (c: MptcpConfigInput | undefined): MptcpConfigInput => ({ ...c, pathManager: { ...DEFAULT_PM, ...c?.pathManager } });
  const sc = scenario({
    paths: pathSpecs,
    seed,
    clientFlags: pathSpecs.map((_, i) => (i > 0 ? { subflow: false } : {})),
    clientConfig: pm(o.clientConfig),
    serverConfig: pm(o.serverConfig),
    serverExtra: [{ address: SERVER_EXTRA, id: SERVER_EXTRA_ID }],
  });
  for (const m of o.middleboxes ?? []) {
    const link = sc.paths[m.path];
    if (!link) throw new InvalidArgumentError(`runOps: no path ${m.path} for a middlebox`);
    link.addMiddlebox(createMiddlebox(m.box, { publicAddress: `198.18.${m.path + 1}.99` }));
  }

  // Each direction's stream is the same seeded byte sequence, grown on demand.
  let source = new Uint8Array(0);
  const streamBytes = (n: number): Uint8Array => {
    if (source.length < n) {
      const next = new Uint8Array(Math.max(n, source.length * 2, 1 << 16));
      next.set(source);
      const tail = next.subarray(source.length);
      new SeededRandomSource(seed * 7 + 3 + source.length).fill(tail);
      source = next;
    }
    return source;
  };

  type S = { conn: MptcpConnection | undefined; wanted: number; written: number; read: number; reading: boolean; closeWanted: boolean; closed: boolean; mismatch: number | undefined; events: MptcpEvent[] };
  const mk = (): S => ({ conn: undefined, wanted: 0, written: 0, read: 0, reading: true, closeWanted: false, closed: false, mismatch: undefined, events: [] });
  const sides: Record<Side, S> = { client: mk(), server: mk() };
  const other = (s: Side): Side => (s === "client" ? "server" : "client");
  const refused: HarnessResult["refused"] = [];
  const skipped: Op[] = [];
  const buf = new Uint8Array(65536);

  const guard = (op: Op, f: () => void): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof MptcpError)) throw e;
      refused.push({ op, error: `${e.name}: ${e.message}` });
    }
  };

  const pump = (now: number, side: Side): void => {
    const s = sides[side];
    const c = s.conn;
    if (!c) return;
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) if (e.type !== "readable" && e.type !== "writable") s.events.push(e);
    if (!s.closed && c.state !== "CLOSED") {
      while (s.written < s.wanted) {
        const src = streamBytes(s.wanted);
        let n = 0;
        try {
          n = c.write(now, src.subarray(s.written, Math.min(s.wanted, s.written + 65536)));
        } catch (err) {
          if (!(err instanceof MptcpError)) throw err;
        }
        if (n === 0) break;
        s.written += n;
      }
      if (s.closeWanted && s.written === s.wanted) {
        s.closed = true;
        c.shutdown(now);
      }
    }
    if (!s.reading) return;
    const peer = sides[other(side)];
    let n: number;
    while ((n = c.read(now, buf)) > 0) {
      if (s.mismatch === undefined) {
        const src = streamBytes(s.read + n);
        for (let j = 0; j < n; j++) {
          if (buf[j] !== src[s.read + j]) {
            s.mismatch = s.read + j;
            break;
          }
        }
      }
      // More than the peer wrote is a mismatch too (a byte delivered twice or invented).
      if (s.mismatch === undefined && s.read + n > peer.written) s.mismatch = peer.written;
      s.read += n;
    }
  };

  sc.client.app = (now) => pump(now, "client");
  sc.server.app = (now) => {
    sides.server.conn ??= sc.server.endpoint.pollAccept();
    pump(now, "server");
  };
  const open = (now: number): void => {
    if (sides.client.conn) return;
    sides.client.conn = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0) });
  };
  if (!ops.some((x) => x.op === "open")) sc.sim.at(0, open);

  const apply = (now: number, op: Op): void => {
    const cc = sides.client.conn;
    const path = "path" in op ? sc.paths[op.path] : undefined;
    if ("path" in op && !path) return void skipped.push(op);
    switch (op.op) {
      case "open":
        if (cc) return void skipped.push(op);
        open(now);
        break;
      case "join":
        if (!cc) return void skipped.push(op);
        guard(op, () => cc.openSubflow(now, clientAddr(op.path)));
        break;
      case "write":
        if (sides[op.side].closeWanted) return void skipped.push(op);
        sides[op.side].wanted += op.bytes;
        break;
      case "read":
        sides[op.side].reading = op.on;
        break;
      case "close":
        sides[op.side].closeWanted = true;
        break;
      case "announce": {
        const c = sides.server.conn;
        if (!c) return void skipped.push(op);
        guard(op, () => c.announceAddress(now, SERVER_EXTRA_ID, SERVER_EXTRA));
        break;
      }
      case "remove": {
        const c = sides[op.side].conn;
        if (!c) return void skipped.push(op);
        const id = op.side === "client" ? op.path + 1 : SERVER_EXTRA_ID;
        guard(op, () => c.removeAddress(now, id));
        break;
      }
      case "setBackup": {
        if (!cc) return void skipped.push(op);
        const ids = cc.stats().subflows.filter((f) => f.localId === op.path + 1 && f.state !== "CLOSED").map((f) => f.id);
        if (ids.length === 0) return void skipped.push(op);
        for (const id of ids) guard(op, () => cc.setBackup(now, id, op.backup));
        break;
      }
      case "link":
        path!.setUp(op.up);
        break;
      case "conditions":
        path!.set(op.params);
        break;
    }
  };
  for (const op of ops) {
    sc.sim.at(op.at, (now) => {
      apply(now, op);
      sc.sim.poke(sc.client);
      sc.sim.poke(sc.server);
    });
  }
  const lastAt = ops.reduce((m, x) => Math.max(m, x.at), 0);
  const healAt = o.healAtUs ?? lastAt + 100_000;
  sc.sim.at(healAt, () => {
    for (const l of sc.paths) l.setUp(true);
    sides.client.reading = sides.server.reading = true;
    sc.sim.poke(sc.client);
    sc.sim.poke(sc.server);
  });
  const complete = (): boolean =>
    sides.client.written === sides.client.wanted && sides.server.written === sides.server.wanted &&
    sides.server.read === sides.client.written && sides.client.read === sides.server.written;
  sc.sim.runUntil(healAt);
  sc.sim.runUntilTrue(complete, healAt + (o.settleUs ?? 20_000_000));
  pump(sc.sim.now, "client");
  pump(sc.sim.now, "server");

  const side = (s: S): SideResult => ({ wanted: s.wanted, written: s.written, read: s.read, closed: s.closed, stats: s.conn?.stats(), events: s.events });
  const cs = sides.client.conn;
  const ss = sides.server.conn;
  const stillOpen = [cs, ss].every((c) => c !== undefined && c.state !== "CLOSED" && c.stats().subflows.some((f) => f.state !== "CLOSED"));
  const result: HarnessResult = {
    client: side(sides.client),
    server: side(sides.server),
    intact: sides.client.mismatch === undefined && sides.server.mismatch === undefined,
    mismatch: { up: sides.server.mismatch, down: sides.client.mismatch },
    complete: complete(),
    open: stillOpen,
    refused,
    skipped,
    endUs: sc.sim.now,
    links: sc.paths.map((l) => ({ ab: structuredClone(l.ab.counters), ba: structuredClone(l.ba.counters) })),
  };
  // The run is over: connections still open keep WASM memory until disposed (one module
  // instance serves every endpoint of the process, so thousands of runs would exhaust it).
  sc.client.endpoint.dispose();
  sc.server.endpoint.dispose();
  return result;
}
