// The deterministic network driver: a virtual clock, one event queue (binary heap keyed by
// time then insertion order), hosts with one armed timer each, and links between host
// interfaces. Same seed and same inputs: the same packet trace, on every runtime.
import { EventQueue } from "./heap.ts";
import type { SimEvent } from "./heap.ts";
import { Link } from "./link.ts";
import type { CapturePoint, LinkClock, LinkEnd } from "./link.ts";
import type { PcapWriter } from "../../core/pcap/writer.ts";
import { SeededRandom } from "./random.ts";
import type { Direction, LinkParams, Micros, SimHost } from "./types.ts";

export interface SimulatorOptions {
  /** Seed of every random stream in the run (links, middleboxes, `random(label)`). Default 1. */
  seed?: number;
  /** Initial virtual time in µs (default 0). */
  startUs?: Micros;
  /**
   * Guard against a host whose `pollTimeout()` keeps returning a time that is not in the
   * future after `handleTimeout`: more than this many timer firings at one instant throws.
   */
  maxTimerFiresPerInstant?: number;
}

interface HostState {
  host: SimHost;
  name: string;
  /** iface index -> link and the direction this host sends in. */
  ifaces: Map<number, { link: Link; dir: Direction }>;
  timerAt: Micros | undefined;
  timerEvent: SimEvent | undefined;
  firesAtInstant: number;
  lastFireTime: Micros;
}

/** Link parameters for `connect`: one set for both directions, or one per direction. */
export type LinkSpec = Partial<LinkParams> | { ab?: Partial<LinkParams>; ba?: Partial<LinkParams> };

/** Run counters of the simulator itself. */
export interface SimulatorStats {
  events: number;
  timerFires: number;
  /** Packets a host sent on an interface with no link attached. */
  unattached: number;
}

export class Simulator {
  readonly seed: number;
  private clockNow: Micros;
  private readonly queue = new EventQueue();
  private readonly hostStates = new Map<SimHost, HostState>();
  private readonly linkList: Link[] = [];
  private readonly tickHooks: ((now: Micros) => void)[] = [];
  private readonly maxFires: number;
  readonly stats: SimulatorStats = { events: 0, timerFires: 0, unattached: 0 };
  private readonly clock: LinkClock;

  constructor(options: SimulatorOptions = {}) {
    this.seed = (options.seed ?? 1) >>> 0;
    this.clockNow = options.startUs ?? 0;
    this.maxFires = options.maxTimerFiresPerInstant ?? 10_000;
    const self = this;
    this.clock = {
      get now(): Micros {
        return self.clockNow;
      },
      schedule: (time: Micros, run: () => void): void => {
        this.queue.push(time, run);
      },
      deliver: (to: LinkEnd, packet: Uint8Array): void => {
        const st = this.hostStates.get(to.host);
        if (!st) return;
        st.host.handlePacket(this.clockNow, packet, to.iface);
        this.drain(st);
      },
    };
  }

  /** Current virtual time (µs). */
  get now(): Micros {
    return this.clockNow;
  }

  get links(): readonly Link[] {
    return this.linkList;
  }

  /**
   * Registers a host (idempotent; `connect` registers hosts too). Its first drain (transmit,
   * arm the timer) is an event at the current time, so it runs after the topology is built.
   */
  addHost(host: SimHost, name?: string): SimHost {
    if (!this.hostStates.has(host)) {
      const st: HostState = {
        host,
        name: name ?? `host${this.hostStates.size}`,
        ifaces: new Map(),
        timerAt: undefined,
        timerEvent: undefined,
        firesAtInstant: 0,
        lastFireTime: -1,
      };
      this.hostStates.set(host, st);
      // The host starts when the run starts, after the whole topology is built.
      this.queue.push(this.clockNow, () => this.drain(st));
    }
    return host;
  }

  /** The name a host was registered with. */
  hostName(host: SimHost): string | undefined {
    return this.hostStates.get(host)?.name;
  }

  /**
   * Connects interface `a.iface` of `a.host` with `b.iface` of `b.host` by a new link. An
   * interface carries at most one link.
   */
  connect(a: LinkEnd, b: LinkEnd, spec: LinkSpec = {}, name?: string): Link {
    this.addHost(a.host);
    this.addHost(b.host);
    const sa = this.hostStates.get(a.host)!;
    const sb = this.hostStates.get(b.host)!;
    if (sa.ifaces.has(a.iface)) throw new Error(`${sa.name} iface ${a.iface} already has a link`);
    if (sb.ifaces.has(b.iface)) throw new Error(`${sb.name} iface ${b.iface} already has a link`);
    const perDir = "ab" in spec || "ba" in spec;
    const ab = perDir ? ((spec as { ab?: Partial<LinkParams> }).ab ?? {}) : (spec as Partial<LinkParams>);
    const ba = perDir ? ((spec as { ba?: Partial<LinkParams> }).ba ?? {}) : (spec as Partial<LinkParams>);
    const linkName = name ?? `link${this.linkList.length}`;
    const link = new Link(this.clock, linkName, a, b, { ab, ba }, this.seed);
    sa.ifaces.set(a.iface, { link, dir: 0 });
    sb.ifaces.set(b.iface, { link, dir: 1 });
    this.linkList.push(link);
    return link;
  }

  /**
   * Starts a pcap tap on every link existing now (both directions), keyed by link name. The
   * bytes come from `writer.bytes()`; writing files is the runtime adapter's job.
   */
  captureAll(point: CapturePoint = "delivery"): Map<string, PcapWriter> {
    const out = new Map<string, PcapWriter>();
    for (const l of this.linkList) out.set(l.name, l.capture({ point }));
    return out;
  }

  /** A seeded random stream for a label (hosts, workloads), independent of the links'. */
  random(label: string): SeededRandom {
    return SeededRandom.stream(this.seed, `user/${label}`);
  }

  /**
   * Runs `fn` at virtual time `timeUs` (not before now), then lets every host transmit and
   * re-arms its timer, so `fn` may give hosts commands (write, close, open a path...).
   */
  at(timeUs: Micros, fn: (now: Micros) => void): void {
    this.queue.push(Math.max(timeUs, this.clockNow), () => {
      fn(this.clockNow);
      for (const st of this.hostStates.values()) this.drain(st);
    });
  }

  /** `at(now + delayUs, fn)`. */
  after(delayUs: Micros, fn: (now: Micros) => void): void {
    this.at(this.clockNow + delayUs, fn);
  }

  /** Calls `hook(now)` after all the events of each instant have run. */
  onTick(hook: (now: Micros) => void): void {
    this.tickHooks.push(hook);
  }

  /** Drains one host now (after a command given outside an `at` callback). */
  poke(host: SimHost): void {
    const st = this.hostStates.get(host);
    if (st) this.drain(st);
  }

  /** Runs every event up to and including `deadlineUs`, then sets the clock to it. */
  runUntil(deadlineUs: Micros): void {
    this.run(deadlineUs, undefined);
    if (this.clockNow < deadlineUs) this.clockNow = deadlineUs;
  }

  /**
   * Runs until no event is left (no packet in flight, no armed timer, no scheduled action) or
   * the next event lies after `deadlineUs`. Returns true when idle; the clock stays at the
   * last event run when idle, else it is set to the deadline.
   */
  runUntilIdle(deadlineUs: Micros): boolean {
    this.run(deadlineUs, undefined);
    if (this.queue.size === 0) return true;
    if (this.clockNow < deadlineUs) this.clockNow = deadlineUs;
    return false;
  }

  /**
   * Runs until `done()` holds (checked after each instant) or the deadline passes. Returns
   * whether `done()` held; the clock stays at the instant it became true.
   */
  runUntilTrue(done: () => boolean, deadlineUs: Micros): boolean {
    if (done()) return true;
    const ok = this.run(deadlineUs, done);
    if (!ok && this.clockNow < deadlineUs) this.clockNow = deadlineUs;
    return ok;
  }

  private run(deadlineUs: Micros, done: (() => boolean) | undefined): boolean {
    for (;;) {
      const ev = this.queue.peek();
      if (!ev || ev.time > deadlineUs) return false;
      this.queue.pop();
      this.clockNow = ev.time;
      this.stats.events++;
      ev.run();
      const next = this.queue.peek();
      if (!next || next.time !== this.clockNow) {
        for (const h of this.tickHooks) h(this.clockNow);
        if (done && done()) return true;
      }
    }
  }

  /** Sends everything the host has to send, then re-arms its timer. */
  private drain(st: HostState): void {
    const now = this.clockNow;
    for (;;) {
      const t = st.host.pollTransmit(now);
      if (!t) break;
      const att = st.ifaces.get(t.iface);
      if (!att) {
        this.stats.unattached++;
        continue;
      }
      att.link.send(att.dir, t.packet);
    }
    const at = st.host.pollTimeout();
    if (at === st.timerAt && st.timerEvent) return;
    if (st.timerEvent) this.queue.cancel(st.timerEvent);
    st.timerEvent = undefined;
    st.timerAt = at;
    if (at === undefined) return;
    st.timerEvent = this.queue.push(Math.max(at, now), () => {
      st.timerAt = undefined;
      st.timerEvent = undefined;
      if (st.lastFireTime === this.clockNow) {
        if (++st.firesAtInstant > this.maxFires) {
          throw new Error(`${st.name}: timer fired ${st.firesAtInstant} times at ${this.clockNow} µs without progress`);
        }
      } else {
        st.lastFireTime = this.clockNow;
        st.firesAtInstant = 1;
      }
      this.stats.timerFires++;
      st.host.handleTimeout(this.clockNow);
      this.drain(st);
    });
  }
}
