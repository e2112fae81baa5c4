// A point-to-point link: two independent directions, each with rate (serialisation), a
// drop-tail byte queue, propagation delay, jitter, random loss, reordering, duplication,
// corruption, MTU and up/down, all seeded and changeable during a run; plus a chain of
// middleboxes and optional pcap taps. Driven by the Simulator's virtual clock.
import { PcapWriter } from "../../core/pcap/writer.ts";
import { SeededRandom } from "./random.ts";
import type {
  Direction,
  DropReason,
  LinkCounters,
  LinkParams,
  Micros,
  Middlebox,
  MiddleboxContext,
  SimHost,
} from "./types.ts";

/** The defaults: an ideal link (no rate limit, no delay, no impairment, MTU 65535, up). */
export const DEFAULT_LINK_PARAMS: Readonly<LinkParams> = Object.freeze({
  rateBps: Infinity,
  delayUs: 0,
  jitterUs: 0,
  queueBytes: Infinity,
  lossRate: 0,
  reorderRate: 0,
  reorderDelayUs: 0,
  duplicateRate: 0,
  corruptRate: 0,
  mtu: 65535,
  up: true,
});

/** One side of a link: a host and the interface index on it. */
export interface LinkEnd {
  host: SimHost;
  iface: number;
}

/** What a Link needs from the simulator that owns it. */
export interface LinkClock {
  readonly now: Micros;
  schedule(time: Micros, run: () => void): void;
  deliver(to: LinkEnd, packet: Uint8Array): void;
}

/** Where a pcap tap records: as the sender put it on the link, or as the receiver gets it. */
export type CapturePoint = "send" | "delivery";

function emptyCounters(): LinkCounters {
  return {
    sentPackets: 0,
    sentBytes: 0,
    deliveredPackets: 0,
    deliveredBytes: 0,
    dropped: { queue: 0, loss: 0, mtu: 0, down: 0, middlebox: 0 },
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    middleboxInjected: 0,
  };
}

/** One direction of a link. */
export class LinkDirection {
  readonly params: LinkParams;
  readonly counters: LinkCounters = emptyCounters();
  /** Time (µs, fractional) at which the transmitter finishes its last accepted packet. */
  private busyUntil = 0;
  /** Accepted packets not yet fully serialised: finish times and sizes (FIFO). */
  private backlogEnd: number[] = [];
  private backlogSize: number[] = [];
  private backlogHead = 0;
  private backlogBytes = 0;
  private lastArrival = 0;
  /** Bumped whenever the direction goes down: packets in flight from an older epoch are lost. */
  private epoch = 0;
  private readonly rng: SeededRandom;

  constructor(
    private readonly clock: LinkClock,
    readonly dir: Direction,
    private readonly to: LinkEnd,
    params: Partial<LinkParams>,
    rng: SeededRandom,
    private readonly taps: { point: CapturePoint; dir: Direction | "both"; writer: PcapWriter }[],
  ) {
    this.params = { ...DEFAULT_LINK_PARAMS, ...params };
    this.rng = rng;
  }

  /**
   * Changes parameters now. Packets already accepted keep their computed times, except that
   * taking the direction down loses its queue and everything in flight.
   */
  set(params: Partial<LinkParams>): void {
    const wasUp = this.params.up;
    Object.assign(this.params, params);
    if (wasUp && !this.params.up) {
      this.epoch++;
      this.backlogEnd = [];
      this.backlogSize = [];
      this.backlogHead = 0;
      this.backlogBytes = 0;
      this.busyUntil = this.clock.now;
      this.lastArrival = this.clock.now;
    }
  }

  /** Bytes accepted and not yet fully serialised at `now`. */
  queuedBytes(now: Micros = this.clock.now): number {
    this.purge(now);
    return this.backlogBytes;
  }

  private purge(now: Micros): void {
    while (this.backlogHead < this.backlogEnd.length && this.backlogEnd[this.backlogHead]! <= now) {
      this.backlogBytes -= this.backlogSize[this.backlogHead]!;
      this.backlogHead++;
    }
    if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlogEnd.length) {
      this.backlogEnd = this.backlogEnd.slice(this.backlogHead);
      this.backlogSize = this.backlogSize.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  private drop(reason: DropReason): void {
    this.counters.dropped[reason]++;
  }

  /** @internal A packet (after middleboxes) enters the transmitter of this direction. */
  transmit(packet: Uint8Array): void {
    const now = this.clock.now;
    const p = this.params;
    const size = packet.length;
    if (!p.up) return this.drop("down");
    if (size > p.mtu) return this.drop("mtu");
    this.purge(now);
    if (this.backlogBytes + size > p.queueBytes) return this.drop("queue");
    for (const t of this.taps) if (t.point === "send" && (t.dir === "both" || t.dir === this.dir)) t.writer.write(now, packet);

    // A fixed number of draws per accepted packet, so that one impairment's setting does not
    // shift the random pattern of another.
    const rLoss = this.rng.next();
    const rReorder = this.rng.next();
    const rDup = this.rng.next();
    const rCorrupt = this.rng.next();
    const rJitter = this.rng.next();

    const start = Math.max(now, this.busyUntil);
    const end = Number.isFinite(p.rateBps) && p.rateBps > 0 ? start + (size * 8 * 1e6) / p.rateBps : start;
    this.busyUntil = end;
    if (end > now) {
      this.backlogEnd.push(end);
      this.backlogSize.push(size);
      this.backlogBytes += size;
    }
    if (rLoss < p.lossRate) return this.drop("loss");

    let arrival = end + p.delayUs + (p.jitterUs > 0 ? rJitter * p.jitterUs : 0);
    const reordered = rReorder < p.reorderRate && p.reorderDelayUs > 0;
    if (reordered) {
      arrival += p.reorderDelayUs;
      this.counters.reordered++;
    } else {
      arrival = Math.max(arrival, this.lastArrival);
      this.lastArrival = arrival;
    }
    let data = packet;
    if (rCorrupt < p.corruptRate && size > 0) {
      data = packet.slice();
      const at = this.rng.nextInt(size);
      data[at]! ^= 1 + this.rng.nextInt(255);
      this.counters.corrupted++;
    }
    const when = Math.ceil(arrival);
    const epoch = this.epoch;
    this.clock.schedule(when, () => this.arrive(data, epoch));
    if (rDup < p.duplicateRate) {
      this.counters.duplicated++;
      const copy = data.slice();
      this.clock.schedule(when, () => this.arrive(copy, epoch));
    }
  }

  private arrive(packet: Uint8Array, epoch: number): void {
    if (epoch !== this.epoch || !this.params.up) return this.drop("down");
    this.counters.deliveredPackets++;
    this.counters.deliveredBytes += packet.length;
    for (const t of this.taps) {
      if (t.point === "delivery" && (t.dir === "both" || t.dir === this.dir)) t.writer.write(this.clock.now, packet);
    }
    this.clock.deliver(this.to, packet);
  }
}

/** A point-to-point link between side A and side B, with its middlebox chain. */
export class Link {
  /** dirs[0]: A→B, dirs[1]: B→A. */
  readonly dirs: readonly [LinkDirection, LinkDirection];
  private readonly boxes: Middlebox[] = [];
  private readonly taps: { point: CapturePoint; dir: Direction | "both"; writer: PcapWriter }[] = [];
  private readonly boxRng: SeededRandom;

  constructor(
    private readonly clock: LinkClock,
    readonly name: string,
    readonly a: LinkEnd,
    readonly b: LinkEnd,
    params: { ab: Partial<LinkParams>; ba: Partial<LinkParams> },
    seed: number,
  ) {
    this.dirs = [
      new LinkDirection(clock, 0, b, params.ab, SeededRandom.stream(seed, `${name}/ab`), this.taps),
      new LinkDirection(clock, 1, a, params.ba, SeededRandom.stream(seed, `${name}/ba`), this.taps),
    ];
    this.boxRng = SeededRandom.stream(seed, `${name}/middleboxes`);
  }

  /** A→B. */
  get ab(): LinkDirection {
    return this.dirs[0];
  }

  /** B→A. */
  get ba(): LinkDirection {
    return this.dirs[1];
  }

  /** Changes the parameters of one direction, or of both. */
  set(params: Partial<LinkParams>, dir: Direction | "both" = "both"): void {
    if (dir === "both" || dir === 0) this.dirs[0].set(params);
    if (dir === "both" || dir === 1) this.dirs[1].set(params);
  }

  /** Takes both directions (or one) down or up. */
  setUp(up: boolean, dir: Direction | "both" = "both"): void {
    this.set({ up }, dir);
  }

  /** Appends a middlebox to the chain (nearest side B), or inserts it at `index` (0 = nearest A). */
  addMiddlebox(box: Middlebox, index: number = this.boxes.length): void {
    this.boxes.splice(index, 0, box);
  }

  get middleboxes(): readonly Middlebox[] {
    return this.boxes;
  }

  /**
   * Starts a pcap tap on this link (both directions by default, LINKTYPE_RAW). "delivery"
   * records packets as the receiver gets them at their arrival time; "send" records what
   * enters the transmitter (after middleboxes) at its entry time.
   */
  capture(options: { point?: CapturePoint; dir?: Direction | "both"; snapLen?: number } = {}): PcapWriter {
    const writer = new PcapWriter({ snapLen: options.snapLen ?? 65535 });
    this.taps.push({ point: options.point ?? "delivery", dir: options.dir ?? "both", writer });
    return writer;
  }

  /** The side a host's interface is on, or undefined. */
  directionFrom(host: SimHost, iface: number): Direction | undefined {
    if (this.a.host === host && this.a.iface === iface) return 0;
    if (this.b.host === host && this.b.iface === iface) return 1;
    return undefined;
  }

  /** @internal A packet sent by the host on side `dir === 0 ? A : B`. */
  send(dir: Direction, packet: Uint8Array): void {
    const c = this.dirs[dir].counters;
    c.sentPackets++;
    c.sentBytes += packet.length;
    if (!this.dirs[dir].params.up) {
      c.dropped.down++;
      return;
    }
    this.chain(dir, packet, dir === 0 ? 0 : this.boxes.length - 1);
  }

  private boxContext(dir: Direction, i: number): MiddleboxContext {
    const ctx: MiddleboxContext = {
      now: this.clock.now,
      dir,
      random: () => this.boxRng.next(),
      inject: (d: Direction, q: Uint8Array): void => {
        this.dirs[d].counters.middleboxInjected++;
        this.chain(d, q, i + (d === 0 ? 1 : -1));
      },
      schedule: (delayUs: Micros, fn: (c: MiddleboxContext) => void): void => {
        this.clock.schedule(this.clock.now + Math.max(0, delayUs), () => fn(this.boxContext(dir, i)));
      },
    };
    return ctx;
  }

  /** Passes a packet through the boxes from index `start` onwards in direction `dir`. */
  private chain(dir: Direction, packet: Uint8Array, start: number): void {
    const step = dir === 0 ? 1 : -1;
    let pkts = [packet];
    for (let i = start; i >= 0 && i < this.boxes.length && pkts.length > 0; i += step) {
      const box = this.boxes[i]!;
      const ctx = this.boxContext(dir, i);
      const next: Uint8Array[] = [];
      for (const p of pkts) {
        const out = box.process(p, ctx);
        if (out.length === 0) this.dirs[dir].counters.dropped.middlebox++;
        else if (out.length > 1) this.dirs[dir].counters.middleboxInjected += out.length - 1;
        for (const o of out) next.push(o);
      }
      pkts = next;
    }
    for (const p of pkts) this.dirs[dir].transmit(p);
  }
}
