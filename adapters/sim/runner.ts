// The experiment runner behind `mptcp sim` and `npm start`: builds N paths in the in-memory
// Simulator (client iface i -- path i -- router -- fast link -- server), runs an MPTCP
// download (the server sends, the client reads and checks every byte, like a phone fetching a
// file) for a byte count or a time, applies timed path events, samples per-subflow throughput,
// congestion window and RTT every 100 ms of virtual time, and records a timeline of events.
// Runtime-neutral: virtual time only, randomness from the seed; the caller advances it in
// slices (`runFor`) so a live view can render between them.
//
// Path "down" / "up" events model a phone's interface going away and coming back: the link
// stops carrying packets AND the client's address on it is removed (Endpoint.removeAddress:
// its subflows close, REMOVE_ADDR goes to the server); on "up" the address is added back
// (Endpoint.addAddress with the "subflow" flag), and the Endpoint's path manager opens a new
// subflow from it, as Linux's in-kernel path manager does when a connection manager re-adds an
// endpoint. (The runner gives these commands, like a connection manager would; the Endpoint
// does not watch links.)
import { Router } from "../memory/router.ts";
import { Simulator } from "../memory/simulator.ts";
import type { Link } from "../memory/link.ts";
import { SimMptcpHost } from "../memory/mptcp_host.ts";
import type { PcapWriter } from "../../core/pcap/writer.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfigInput, MptcpCounters, MptcpEvent, SubflowStats } from "../../core/mptcp/types.ts";
import type { CongestionAlgorithm } from "../../core/congestion/index.ts";
import type { PathManagerKind } from "../../core/path_manager/index.ts";
import type { SchedulerName } from "../../core/scheduler/index.ts";
import { defaultQueueBytes, formatRate } from "./spec.ts";
import type { EventSpec, PathParams, PathSpec } from "./spec.ts";

export const SERVER_ADDRESS: Uint8Array = new Uint8Array([198, 18, 100, 1]);
export const SERVER_PORT = 5001;
/** Client address of path i: 198.18.(i+1).1 (the benchmarking range, RFC 2544). */
export function pathAddress(i: number): Uint8Array {
  return new Uint8Array([198, 18, i + 1, 1]);
}

export type { SchedulerName } from "../../core/scheduler/index.ts";

export interface ExperimentOptions {
  paths: PathSpec[];
  events?: EventSpec[];
  /** Bulk transfer of this many bytes (the run ends when the client has them all). */
  bytes?: number;
  /** Timed run: the server sends for this many seconds (default 10 when `bytes` is not set). */
  seconds?: number;
  /** Deadline of a `bytes` run in virtual seconds (default 600). */
  maxSeconds?: number;
  cc?: CongestionAlgorithm;
  scheduler?: SchedulerName;
  pathManager?: PathManagerKind;
  /** Subflows per path (default 1; at most 8 subflows in all). */
  subflowsPerPath?: number;
  /** Connection-level receive buffer of both hosts (bytes). */
  rcvbuf?: number;
  checksum?: boolean;
  seed?: number;
  /** Sampling period (virtual µs, default 100 ms). */
  sampleUs?: number;
  /** Record a pcap of the server link (both directions, first `snapLen` bytes of each packet). */
  capture?: boolean;
  snapLen?: number;
}

/** One line of the chart legend: a subflow slot (a path, or path.k with several per path). */
export interface SeriesInfo {
  key: string;
  path: string;
  pathIndex: number;
  slot: number;
}

export interface TimelineEvent {
  tUs: number;
  /** path: a path change from the scenario; subflow / connection: what the MPTCP stack reported. */
  kind: "path" | "subflow" | "connection";
  /** Series key (subflow events) or path name (path events), if any. */
  subject?: string;
  text: string;
}

/** Samples at times tUs[k] = (k + 1) * sampleUs; per series, null while no subflow is in that slot. */
export interface Samples {
  tUs: number[];
  /** Payload arriving at the client on the subflow in the sample period (Mbit/s). */
  mbps: Record<string, (number | null)[]>;
  /** Sender's (server's) congestion window, bytes. */
  cwnd: Record<string, (number | null)[]>;
  /** Sender's smoothed RTT, ms. */
  rttMs: Record<string, (number | null)[]>;
  /** Goodput delivered to the client application in the period (Mbit/s). */
  goodputMbps: number[];
}

export interface SubflowSummary {
  path: string;
  /** Payload bytes that arrived at the client on this path's subflows. */
  bytes: number;
  /** bytes / the sum over all paths (0..1). */
  share: number;
  /** Segments the sender retransmitted on them. */
  retransmits: number;
}

/** What `--json` prints (keys of the issue first, then context). */
export interface ExperimentSummary {
  ok: boolean;
  simSeconds: number;
  bytes: number;
  goodputMbps: number;
  maxStallMs: number;
  /** When the longest stall began (virtual seconds). */
  maxStallAtS: number;
  subflows: SubflowSummary[];
  counters: Partial<MptcpCounters>;
  interrupted: boolean;
  /** Why ok is false, if it is. */
  error?: string;
  seed: number;
  cc: CongestionAlgorithm;
  /** Per phase (between consecutive path events): each path's share of the bytes. */
  phases: PhaseSummary[];
}

export interface PhaseSummary {
  fromS: number;
  toS: number;
  /** What started the phase ("start" or the event texts). */
  label: string;
  goodputMbps: number;
  /** Mbit/s per path in the phase. */
  mbps: Record<string, number>;
  /** Share per path of the bytes that arrived in the phase (0..1). */
  share: Record<string, number>;
}

export interface ExperimentResult {
  summary: ExperimentSummary;
  options: Required<Pick<ExperimentOptions, "cc" | "scheduler" | "pathManager" | "subflowsPerPath" | "seed" | "sampleUs">> & { paths: PathSpec[]; events: EventSpec[]; bytes?: number; seconds?: number; checksum: boolean; rcvbuf?: number };
  series: SeriesInfo[];
  samples: Samples;
  events: TimelineEvent[];
}

/** What the live view shows between slices. */
export interface LiveSnapshot {
  tUs: number;
  /** 0..1 (time-based for timed runs, bytes-based for transfers). */
  progress: number;
  endUs: number | undefined;
  bytes: number;
  targetBytes: number | undefined;
  series: Array<{ key: string; mbps: number; history: number[]; cwnd: number | null; rttMs: number | null; live: boolean; maxMbps: number }>;
  goodputMbps: number;
  lastEvent: TimelineEvent | undefined;
  done: boolean;
}

const PATTERN_PERIOD = 65521; // prime: the pattern never lines up with buffer or segment sizes
const PATTERN = (() => {
  const p = new Uint8Array(2 * PATTERN_PERIOD);
  for (let i = 0; i < p.length; i++) {
    const j = i % PATTERN_PERIOD;
    p[i] = (j * 131 + (j >>> 7) * 7 + 17) & 255;
  }
  return p;
})();

interface SlotState {
  info: SeriesInfo;
  /** Client-side subflow id in the slot now, if any. */
  sfId: number | undefined;
}

function addrKey(s: string): string {
  return s;
}

export class Experiment {
  readonly sim: Simulator;
  readonly client: SimMptcpHost;
  readonly server: SimMptcpHost;
  readonly links: Link[];
  readonly serverLink: Link;
  readonly options: ExperimentResult["options"];
  private readonly endUs: number | undefined;
  private readonly deadlineUs: number;
  private readonly target: number | undefined;
  private cconn: MptcpConnection | undefined;
  private sconn: MptcpConnection | undefined;
  private sent = 0;
  private rx = 0;
  private badAt = -1;
  private firstRxUs = -1;
  private lastRxUs = 0;
  private maxGapUs = 0;
  private maxGapAtUs = 0;
  private doneAtUs: number | undefined;
  private failed: string | undefined;
  private interruptedFlag = false;
  private serverClosed = false;
  private readonly pathUp: boolean[];
  private readonly pathParams: PathParams[];
  private readonly slots: SlotState[] = [];
  /** Client subflow id -> slot index. */
  private readonly sfSlot = new Map<number, number>();
  /** Client subflow id -> bytes received / path index (kept after it closes). */
  private readonly events: TimelineEvent[] = [];
  private readonly samples: Samples = { tUs: [], mbps: {}, cwnd: {}, rttMs: {}, goodputMbps: [] };
  private lastSfRx = new Map<number, number>();
  private lastRxSample = 0;
  private readonly readBuf = new Uint8Array(1 << 18);
  private readonly pcapWriter: PcapWriter | undefined;
  private finalSummary: ExperimentSummary | undefined;

  constructor(o: ExperimentOptions) {
    if (o.paths.length === 0) throw new RangeError("an experiment needs at least one path");
    const perPath = o.subflowsPerPath ?? 1;
    if (!Number.isInteger(perPath) || perPath < 1 || perPath * o.paths.length > 8) {
      throw new RangeError(`subflows per path must be an integer >= 1 with at most 8 subflows in all (${o.paths.length} paths)`);
    }
    const seed = (o.seed ?? 1) >>> 0;
    const seconds = o.bytes === undefined ? (o.seconds ?? 10) : o.seconds;
    this.options = {
      paths: o.paths,
      events: [...(o.events ?? [])].sort((a, b) => a.atUs - b.atUs),
      cc: o.cc ?? "olia",
      scheduler: o.scheduler ?? "default",
      pathManager: o.pathManager ?? "fullmesh",
      subflowsPerPath: perPath,
      seed,
      sampleUs: o.sampleUs ?? 100_000,
      checksum: o.checksum ?? false,
      ...(o.bytes !== undefined ? { bytes: o.bytes } : {}),
      ...(seconds !== undefined ? { seconds } : {}),
      ...(o.rcvbuf !== undefined ? { rcvbuf: o.rcvbuf } : {}),
    };
    const opt = this.options;
    this.target = o.bytes;
    this.endUs = seconds !== undefined ? Math.round(seconds * 1e6) : undefined;
    this.deadlineUs = this.endUs ?? Math.round((o.maxSeconds ?? 600) * 1e6);
    for (const e of opt.events) {
      if (!opt.paths.some((p) => p.name === e.path)) throw new RangeError(`event "${e.text}": unknown path "${e.path}"`);
    }

    const n = opt.paths.length;
    const total = n * perPath;
    const config: MptcpConfigInput = {
      congestion: opt.cc,
      scheduler: opt.scheduler,
      checksum: opt.checksum,
      pathManager: {
        subflows: Math.min(7, Math.max(2, total - 1)),
        addAddrAccepted: 0,
        addAddrTimeoutUs: 120_000_000,
        addAddrRetries: 3,
        kind: opt.pathManager,
        ndiffports: perPath,
      },
      ...(opt.rcvbuf !== undefined ? { receiveBufferSize: opt.rcvbuf } : {}),
    };
    this.sim = new Simulator({ seed });
    // Every address is a "subflow" endpoint (the path manager never joins from the initial
    // address itself); it also lets the connection outlive a moment with no path at all.
    const addrs: LocalAddressSpec[] = opt.paths.map((_, i) => ({ address: pathAddress(i), iface: i, subflow: true, id: i + 1 }));
    this.client = new SimMptcpHost({ addresses: addrs, random: new SeededRandomSource(seed * 7 + 1), config, trustChecksums: true });
    this.server = new SimMptcpHost({ addresses: [{ address: SERVER_ADDRESS, iface: 0 }], random: new SeededRandomSource(seed * 7 + 2), config, trustChecksums: true });
    const router = new Router("r", seed, false);
    this.links = [];
    this.pathUp = opt.paths.map(() => true);
    this.pathParams = opt.paths.map((p) => ({ ...p.params }));
    opt.paths.forEach((p, i) => {
      router.addRoute(`198.18.${i + 1}.0/24`, i);
      this.links.push(this.sim.connect({ host: this.client, iface: i }, { host: router, iface: i }, { ...p.params }, p.name));
      for (let k = 0; k < perPath; k++) {
        const key = perPath === 1 ? p.name : `${p.name}.${k + 1}`;
        this.slots.push({ info: { key, path: p.name, pathIndex: i, slot: k }, sfId: undefined });
        this.samples.mbps[key] = [];
        this.samples.cwnd[key] = [];
        this.samples.rttMs[key] = [];
      }
    });
    router.addRoute("198.18.100.0/24", n);
    this.serverLink = this.sim.connect({ host: router, iface: n }, { host: this.server, iface: 0 }, {}, "server");
    if (o.capture) this.pcapWriter = this.serverLink.capture({ point: "delivery", snapLen: o.snapLen ?? 256 });
    this.server.endpoint.listen(SERVER_PORT);

    this.client.app = (now) => this.clientApp(now);
    this.server.app = (now) => this.serverApp(now);
    this.sim.at(0, (now) => {
      this.cconn = this.client.endpoint.connect(now, SERVER_ADDRESS, SERVER_PORT, { localAddress: pathAddress(0) });
    });
    for (const e of opt.events) this.sim.at(e.atUs, (now) => this.applyEvent(now, e));
    const tick = (now: number): void => {
      this.sample(now);
      if (!this.done) this.sim.at(now + opt.sampleUs, tick);
    };
    this.sim.at(opt.sampleUs, tick);
  }

  // ------------------------------------------------------------------ driving

  /** Virtual time now (µs). */
  get nowUs(): number {
    return this.sim.now;
  }

  /** The run is over (time reached, all bytes delivered, failure, or interrupted). */
  get done(): boolean {
    return this.interruptedFlag || this.failed !== undefined || this.doneAtUs !== undefined || this.sim.now >= this.deadlineUs;
  }

  /** Advances virtual time by up to `us` (less when the run ends first). */
  runFor(us: number): void {
    if (this.done) return;
    const to = Math.min(this.sim.now + us, this.deadlineUs);
    if (this.target !== undefined) {
      this.sim.runUntilTrue(() => this.done, to);
    } else {
      this.sim.runUntil(to);
    }
    if (this.target === undefined && this.endUs !== undefined && this.sim.now >= this.endUs && this.doneAtUs === undefined) this.doneAtUs = this.endUs;
  }

  /** Runs to the end in one go. */
  runToEnd(): ExperimentResult {
    while (!this.done) this.runFor(1_000_000);
    return this.result();
  }

  /** Stops the run where it is (Ctrl-C): the result says interrupted. */
  interrupt(): void {
    if (!this.done) this.interruptedFlag = true;
  }

  /** The pcap of the server link (if `capture` was set). */
  pcap(): Uint8Array | undefined {
    return this.pcapWriter?.bytes();
  }

  // ------------------------------------------------------------------ applications

  private clientApp(now: number): void {
    const c = this.cconn;
    if (!c) return;
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) this.onEvent(now, e, "client", c);
    let n: number;
    while ((n = c.read(now, this.readBuf)) > 0) {
      if (this.badAt < 0) {
        let off = this.rx % PATTERN_PERIOD;
        for (let i = 0; i < n; i++) {
          if (this.readBuf[i] !== PATTERN[off]) {
            this.badAt = this.rx + i;
            this.failed = `data mismatch at byte ${this.badAt}`;
            break;
          }
          if (++off === PATTERN_PERIOD) off = 0;
        }
      }
      if (this.firstRxUs < 0) this.firstRxUs = now;
      else if (now - this.lastRxUs > this.maxGapUs) {
        this.maxGapUs = now - this.lastRxUs;
        this.maxGapAtUs = this.lastRxUs;
      }
      this.lastRxUs = now;
      this.rx += n;
    }
    if (this.target !== undefined && this.rx >= this.target && this.doneAtUs === undefined) this.doneAtUs = now;
    if (c.state === "CLOSED" && this.doneAtUs === undefined && this.failed === undefined) {
      const why = this.pathUp.some((u) => u) ? "" : ": its last path went down (nothing left to carry a subflow)";
      this.failed = `connection closed (${c.closedReason ?? "?"}) after ${this.rx} bytes${why}`;
    }
  }

  private serverApp(now: number): void {
    let a: MptcpConnection | undefined;
    while ((a = this.server.endpoint.pollAccept()) !== undefined) this.sconn ??= a;
    const c = this.sconn;
    if (!c) return;
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) this.onEvent(now, e, "server", c);
    if (c.state !== "ESTABLISHED" && c.state !== "CLOSE_WAIT") return;
    const limit = this.target ?? Infinity;
    while (this.sent < limit) {
      const w = c.writable;
      if (w <= 0) break;
      const off = this.sent % PATTERN_PERIOD;
      const len = Math.min(w, PATTERN_PERIOD, limit - this.sent);
      const k = c.write(now, PATTERN.subarray(off, off + len));
      if (k === 0) break;
      this.sent += k;
    }
    if (this.target !== undefined && this.sent >= this.target && !this.serverClosed) {
      this.serverClosed = true;
      c.shutdown(now);
    }
  }

  // ------------------------------------------------------------------ events

  private slotOfClientSubflow(sfId: number): SeriesInfo | undefined {
    const i = this.sfSlot.get(sfId);
    return i === undefined ? undefined : this.slots[i]!.info;
  }

  private onEvent(now: number, e: MptcpEvent, side: "client" | "server", c: MptcpConnection): void {
    switch (e.type) {
      case "readable":
      case "writable":
        return;
      case "subflowEstablished":
        if (side === "client") {
          const info = this.assignSlot(c, e.subflow);
          this.log(now, "subflow", `${info?.key ?? "?"}: subflow ${e.subflow} established${e.backup ? " (backup)" : ""}`, info?.key);
        }
        return;
      case "subflowClosed":
        if (side === "client") {
          const info = this.slotOfClientSubflow(e.subflow);
          const slot = this.sfSlot.get(e.subflow);
          if (slot !== undefined && this.slots[slot]!.sfId === e.subflow) this.slots[slot]!.sfId = undefined;
          this.log(now, "subflow", `${info?.key ?? "?"}: subflow ${e.subflow} closed (${e.reason})`, info?.key);
        }
        return;
      case "established":
        if (side === "client") this.log(now, "connection", e.mptcp ? "MPTCP connection established" : "connection established as plain TCP");
        return;
      case "fallback":
        this.log(now, "connection", `${side}: fallback to TCP (${e.reason})`);
        return;
      case "mpFail":
        this.log(now, "connection", `${side}: MP_FAIL`);
        return;
      case "fastclose":
        this.log(now, "connection", `${side}: MP_FASTCLOSE`);
        return;
      case "closed":
        this.log(now, "connection", `${side}: connection closed (${e.reason})`);
        return;
      case "priorityChanged":
        if (side === "client") this.log(now, "subflow", `subflow ${e.subflow} ${e.backup ? "backup" : "regular"}`, this.slotOfClientSubflow(e.subflow)?.key);
        return;
      default:
        return;
    }
  }

  /** Puts a new client subflow in the first free slot of its path. */
  private assignSlot(c: MptcpConnection, sfId: number): SeriesInfo | undefined {
    const st = c.stats().subflows.find((s) => s.id === sfId);
    if (!st) return undefined;
    const pi = this.pathOfAddress(st.localAddress);
    if (pi < 0) return undefined;
    const idx = this.slots.findIndex((s) => s.info.pathIndex === pi && s.sfId === undefined);
    if (idx < 0) return undefined;
    this.slots[idx]!.sfId = sfId;
    this.sfSlot.set(sfId, idx);
    return this.slots[idx]!.info;
  }

  private pathOfAddress(a: string): number {
    const m = /^198\.18\.(\d+)\.1:/.exec(a);
    if (!m) return -1;
    const i = Number(m[1]) - 1;
    return i >= 0 && i < this.options.paths.length ? i : -1;
  }

  private log(tUs: number, kind: TimelineEvent["kind"], text: string, subject?: string): void {
    this.events.push(subject !== undefined ? { tUs, kind, subject, text } : { tUs, kind, text });
  }

  private applyEvent(now: number, e: EventSpec): void {
    const i = this.options.paths.findIndex((p) => p.name === e.path);
    const link = this.links[i]!;
    const spec = this.options.paths[i]!;
    const ch = e.change;
    if (ch.kind === "set") {
      const p = { ...ch.params };
      if (p.rateBps !== undefined && p.queueBytes === undefined && !spec.queueSet) p.queueBytes = defaultQueueBytes(p.rateBps);
      Object.assign(this.pathParams[i]!, p);
      link.set(p);
      const parts: string[] = [];
      if (ch.params.rateBps !== undefined) parts.push(`rate ${formatRate(ch.params.rateBps)}`);
      if (ch.params.delayUs !== undefined) parts.push(`delay ${ch.params.delayUs / 1000} ms`);
      if (ch.params.lossRate !== undefined) parts.push(`loss ${Number((ch.params.lossRate * 100).toFixed(3))}%`);
      if (ch.params.jitterUs !== undefined) parts.push(`jitter ${ch.params.jitterUs / 1000} ms`);
      if (ch.params.queueBytes !== undefined) parts.push(`queue ${ch.params.queueBytes} B`);
      this.log(now, "path", `${e.path}: ${parts.join(", ")}`, e.path);
    } else if (ch.kind === "down") {
      if (!this.pathUp[i]) return;
      this.pathUp[i] = false;
      link.setUp(false);
      const addr = pathAddress(i);
      if (this.client.endpoint.addresses.some((a) => a.address.every((b, j) => b === addr[j]))) this.client.endpoint.removeAddress(now, addr);
      this.log(now, "path", `${e.path}: down`, e.path);
    } else {
      if (this.pathUp[i]) return;
      this.pathUp[i] = true;
      link.setUp(true);
      this.log(now, "path", `${e.path}: up`, e.path);
      const addr = pathAddress(i);
      if (!this.client.endpoint.addresses.some((a) => a.address.every((b, j) => b === addr[j]))) {
        this.client.endpoint.addAddress(now, { address: addr, iface: i, subflow: true, id: i + 1 });
      }
      this.ensureSubflows(now);
    }
  }

  /** With several subflows per path and the fullmesh manager: opens the missing ones on each up path. */
  private ensureSubflows(now: number): void {
    const c = this.cconn;
    const per = this.options.subflowsPerPath;
    if (!c || per <= 1 || this.options.pathManager !== "fullmesh" || !c.isMptcp || c.state !== "ESTABLISHED") return;
    const live = c.stats().subflows.filter((s) => s.state !== "CLOSED");
    for (let i = 0; i < this.options.paths.length; i++) {
      if (!this.pathUp[i]) continue;
      const have = live.filter((s) => this.pathOfAddress(s.localAddress) === i).length;
      for (let k = have; k < per; k++) {
        try {
          c.openSubflow(now, pathAddress(i), SERVER_ADDRESS, SERVER_PORT);
        } catch {
          return; // limit reached or connection not ready: nothing more to open
        }
      }
    }
  }

  // ------------------------------------------------------------------ sampling

  private sample(now: number): void {
    const opt = this.options;
    const dt = opt.sampleUs / 1e6;
    const c = this.cconn;
    const s = this.sconn;
    if (c && c.state === "ESTABLISHED" && !this.ensured) {
      this.ensured = true;
      this.ensureSubflows(now);
    }
    const cs = c ? c.stats().subflows : [];
    const ss = s ? s.stats().subflows : [];
    const bySrvRemote = new Map<string, SubflowStats>();
    for (const x of ss) bySrvRemote.set(addrKey(x.remoteAddress), x);
    const perSlotBytes = new Map<number, number>();
    for (const x of cs) {
      const prev = this.lastSfRx.get(x.id) ?? 0;
      this.lastSfRx.set(x.id, x.bytesReceived);
      const slot = this.sfSlot.get(x.id);
      if (slot === undefined) continue;
      perSlotBytes.set(slot, (perSlotBytes.get(slot) ?? 0) + (x.bytesReceived - prev));
    }
    this.samples.tUs.push(now);
    this.slots.forEach((slot, idx) => {
      const key = slot.info.key;
      const bytes = perSlotBytes.get(idx);
      const cur = slot.sfId !== undefined ? cs.find((x) => x.id === slot.sfId) : undefined;
      const srv = cur ? bySrvRemote.get(addrKey(cur.localAddress)) : undefined;
      const live = cur !== undefined && cur.state !== "CLOSED";
      // Bytes of a subflow that closed in this period still count; an empty slot is a gap.
      this.samples.mbps[key]!.push(live || (bytes !== undefined && bytes > 0) ? ((bytes ?? 0) * 8) / dt / 1e6 : null);
      this.samples.cwnd[key]!.push(live && srv && srv.state !== "CLOSED" ? srv.cwnd : null);
      this.samples.rttMs[key]!.push(live && srv && srv.state !== "CLOSED" && srv.srttUs > 0 ? srv.srttUs / 1000 : null);
      // The sender marks a subflow stale after RTOs without progress (no event for it: polled).
      const stale = live && srv !== undefined && srv.stale;
      if (stale !== (this.staleSlots.get(idx) ?? false)) {
        this.staleSlots.set(idx, stale);
        if (stale || live) this.log(now, "subflow", `${key}: subflow ${cur!.id} ${stale ? "stale (RTOs without progress: no new data)" : "recovered from stale"}`, key);
      }
    });
    this.samples.goodputMbps.push(((this.rx - this.lastRxSample) * 8) / dt / 1e6);
    this.lastRxSample = this.rx;
  }
  private ensured = false;
  private readonly staleSlots = new Map<number, boolean>();

  // ------------------------------------------------------------------ results

  /** A view for the live terminal display (cheap; call between slices). */
  snapshot(historyLen = 40): LiveSnapshot {
    const sm = this.samples;
    const k = sm.tUs.length;
    const series = this.slots.map((slot) => {
      const key = slot.info.key;
      const m = sm.mbps[key]!;
      const hist = m.slice(Math.max(0, k - historyLen)).map((v) => v ?? 0);
      let max = 0;
      for (const v of m) if (v !== null && v > max) max = v;
      return {
        key,
        // The last 500 ms (100 ms samples are too jumpy to read).
        mbps: avg(m.slice(Math.max(0, k - 5))),
        history: hist,
        cwnd: k > 0 ? (sm.cwnd[key]![k - 1] ?? null) : null,
        rttMs: k > 0 ? (sm.rttMs[key]![k - 1] ?? null) : null,
        live: slot.sfId !== undefined,
        maxMbps: max,
      };
    });
    const pathEvents = this.events.filter((e) => e.kind === "path");
    const progress = this.target !== undefined ? Math.min(1, this.rx / Math.max(1, this.target)) : this.endUs !== undefined ? Math.min(1, this.sim.now / this.endUs) : 0;
    return {
      tUs: this.sim.now,
      progress,
      endUs: this.endUs,
      bytes: this.rx,
      targetBytes: this.target,
      series,
      goodputMbps: avg(sm.goodputMbps.slice(Math.max(0, k - 5))),
      lastEvent: pathEvents[pathEvents.length - 1],
      done: this.done,
    };
  }

  /** Bytes that arrived per series between two times (sample granularity). */
  bytesBetween(fromUs: number, toUs: number): Record<string, number> {
    const out: Record<string, number> = {};
    const dt = this.options.sampleUs / 1e6;
    for (const slot of this.slots) {
      const m = this.samples.mbps[slot.info.key]!;
      let b = 0;
      this.samples.tUs.forEach((t, k) => {
        if (t > fromUs && t <= toUs) b += ((m[k] ?? 0) * 1e6 * dt) / 8;
      });
      out[slot.info.path] = (out[slot.info.path] ?? 0) + b;
    }
    return out;
  }

  private phases(endUs: number): PhaseSummary[] {
    const marks: Array<{ t: number; label: string }> = [{ t: 0, label: "start" }];
    for (const e of this.events) {
      if (e.kind !== "path") continue;
      const last = marks[marks.length - 1]!;
      if (e.tUs === last.t) last.label = last.label === "start" ? e.text : `${last.label}; ${e.text}`;
      else if (e.tUs < endUs) marks.push({ t: e.tUs, label: e.text });
    }
    const out: PhaseSummary[] = [];
    marks.forEach((m, i) => {
      const to = i + 1 < marks.length ? marks[i + 1]!.t : endUs;
      if (to <= m.t) return;
      const b = this.bytesBetween(m.t, to);
      const sum = Object.values(b).reduce((a, x) => a + x, 0);
      const secs = (to - m.t) / 1e6;
      const mbps: Record<string, number> = {};
      const share: Record<string, number> = {};
      for (const [p, v] of Object.entries(b)) {
        mbps[p] = round((v * 8) / secs / 1e6, 3);
        share[p] = sum > 0 ? round(v / sum, 4) : 0;
      }
      let gp = 0;
      this.samples.tUs.forEach((t, k) => {
        if (t > m.t && t <= to) gp += this.samples.goodputMbps[k]! * (this.options.sampleUs / 1e6);
      });
      out.push({ fromS: m.t / 1e6, toS: to / 1e6, label: m.label, goodputMbps: round(gp / secs, 3), mbps, share });
    });
    return out;
  }

  /** The result so far (final once `done`). */
  result(): ExperimentResult {
    const now = this.sim.now;
    const c = this.cconn;
    const s = this.sconn;
    const cst = c?.stats();
    const sst = s?.stats();
    // Per path: bytes that arrived at the client, and the sender's retransmissions.
    const per = new Map<string, SubflowSummary>();
    for (const slot of this.slots) if (!per.has(slot.info.path)) per.set(slot.info.path, { path: slot.info.path, bytes: 0, share: 0, retransmits: 0 });
    for (const x of cst?.subflows ?? []) {
      const pi = this.pathOfAddress(x.localAddress);
      if (pi >= 0) per.get(this.options.paths[pi]!.name)!.bytes += x.bytesReceived;
    }
    for (const x of sst?.subflows ?? []) {
      const pi = this.pathOfAddress(x.remoteAddress);
      if (pi >= 0) per.get(this.options.paths[pi]!.name)!.retransmits += x.retransSegments;
    }
    const totalSf = [...per.values()].reduce((a, x) => a + x.bytes, 0);
    for (const v of per.values()) v.share = totalSf > 0 ? round(v.bytes / totalSf, 4) : 0;
    const counters: Partial<MptcpCounters> = {};
    for (const st of [cst, sst]) {
      if (!st) continue;
      for (const [k, v] of Object.entries(st.counters) as Array<[keyof MptcpCounters, number]>) if (v !== 0) counters[k] = (counters[k] ?? 0) + v;
    }
    const end = this.doneAtUs ?? now;
    const start = 0;
    const elapsed = Math.max(1, end - start);
    // A stall still going on at the end counts too (nothing arrived for the last seconds).
    const tailGap = this.doneAtUs === undefined || this.target === undefined ? end - (this.firstRxUs < 0 ? 0 : this.lastRxUs) : 0;
    const maxGap = Math.max(this.maxGapUs, tailGap);
    const maxGapAt = tailGap > this.maxGapUs ? this.lastRxUs : this.maxGapAtUs;
    let error = this.failed;
    if (!error && this.target !== undefined && this.rx < this.target) error = this.interruptedFlag ? "interrupted" : `deadline: ${this.rx} of ${this.target} bytes after ${round(now / 1e6, 3)} s`;
    if (!error && this.interruptedFlag) error = "interrupted";
    if (!error && this.rx === 0) error = "no byte delivered";
    if (!this.finalSummary || !this.done) {
      this.finalSummary = {
        ok: error === undefined && this.badAt < 0,
        simSeconds: round(end / 1e6, 3),
        bytes: this.rx,
        goodputMbps: round((this.rx * 8) / (elapsed / 1e6) / 1e6, 3),
        maxStallMs: round(maxGap / 1000, 1),
        maxStallAtS: round(maxGapAt / 1e6, 3),
        subflows: [...per.values()],
        counters,
        interrupted: this.interruptedFlag,
        ...(error !== undefined ? { error } : {}),
        seed: this.options.seed,
        cc: this.options.cc,
        phases: this.phases(end),
      };
    }
    return {
      summary: this.finalSummary,
      options: this.options,
      series: this.slots.map((s) => s.info),
      samples: this.samples,
      events: this.events,
    };
  }
}

function avg(v: readonly (number | null)[]): number {
  let s = 0;
  for (const x of v) s += x ?? 0;
  return v.length > 0 ? s / v.length : 0;
}

function round(v: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(v * m) / m;
}
