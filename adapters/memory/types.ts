// The contract between the deterministic in-memory network (adapters/memory/) and whatever
// runs on it: a test host, a router, or later the TCP engine / MPTCP connection wrapped as a
// host. Everything is sans-IO and driven by virtual time: integer microseconds, passed in.
// Packets are raw IP packets (IPv4 or IPv6, carrying TCP or anything else), exactly what a
// TUN device carries, so the same hosts later run over TUN.

/** Virtual time in integer microseconds. */
export type Micros = number;

/** One packet a host wants to send, and the interface (path) it leaves on. */
export interface Transmit {
  /** A raw IP packet. Ownership passes to the simulator: the host must not reuse the buffer. */
  packet: Uint8Array;
  /** Index of the host interface, 0-based; each interface is attached to at most one link. */
  iface: number;
}

/**
 * A host the simulator runs. The driver calls, in this order, after every input:
 *
 * 1. one input: `handlePacket(now, packet, iface)` (a packet arrived on `iface`) or
 *    `handleTimeout(now)` (the deadline last returned by `pollTimeout()` was reached; an
 *    early or spurious call must be a harmless no-op), or a scheduled user action;
 * 2. `pollTransmit(now)` repeatedly until it returns `undefined`; each packet enters the link
 *    attached to its interface at `now` (no link attached: counted as a drop);
 * 3. `pollTimeout()`: the absolute time (µs) of the host's next timer, or `undefined` for
 *    none. The driver arms exactly one timer per host, re-armed after every input.
 *
 * Inputs arrive in non-decreasing time order. A host never reads a clock, never throws on
 * network input (bad packets are dropped and counted by the host), and takes its randomness
 * from a seeded source so that a run is reproducible from its seed.
 */
export interface SimHost {
  handlePacket(now: Micros, packet: Uint8Array, iface: number): void;
  pollTransmit(now: Micros): Transmit | undefined;
  pollTimeout(): Micros | undefined;
  handleTimeout(now: Micros): void;
}

/** Identifies a link direction: 0 = from the link's side A to side B, 1 = B to A. */
export type Direction = 0 | 1;

/** Why a link direction dropped a packet. */
export type DropReason =
  | "queue" // drop-tail queue full
  | "loss" // random loss
  | "mtu" // larger than the direction's MTU
  | "down" // the direction was down when the packet entered or while it was in flight
  | "middlebox"; // a middlebox consumed the packet and emitted nothing

/** Parameters of one direction of a link. Every field may be changed during a run. */
export interface LinkParams {
  /** Bits per second; serialisation delay = size * 8 / rate. Infinity (default) = none. */
  rateBps: number;
  /** One-way propagation delay in µs (default 0). */
  delayUs: Micros;
  /** Extra uniformly random delay in [0, jitterUs] µs; arrival order is kept (default 0). */
  jitterUs: Micros;
  /**
   * Drop-tail limit: bytes of packets accepted but not yet fully serialised (including the
   * one being serialised). A packet that would exceed it is dropped. Default Infinity.
   */
  queueBytes: number;
  /** Probability that a packet is lost on the wire (after serialisation). Default 0. */
  lossRate: number;
  /** Probability that a packet is held back by `reorderDelayUs`, letting later ones pass. */
  reorderRate: number;
  /** Extra delay of a reordered packet (default 0: reordering disabled in effect). */
  reorderDelayUs: Micros;
  /** Probability that a delivered packet is delivered twice. Default 0. */
  duplicateRate: number;
  /** Probability that one byte of a delivered packet is flipped (checksums catch it). */
  corruptRate: number;
  /** Packets larger than this (bytes of IP packet) are dropped and counted. Default 65535. */
  mtu: number;
  /** A direction that is down drops everything entering it and everything in flight. */
  up: boolean;
}

/** Counters of one link direction. */
export interface LinkCounters {
  /** Packets / bytes offered to the direction by the sending side (before middleboxes). */
  sentPackets: number;
  sentBytes: number;
  /** Packets / bytes handed to the receiving side. */
  deliveredPackets: number;
  deliveredBytes: number;
  /** Drops by reason. */
  dropped: Record<DropReason, number>;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Packets emitted into this direction by middleboxes beyond one per input (splits, ACKs). */
  middleboxInjected: number;
}

/** What a middlebox sees alongside each packet. */
export interface MiddleboxContext {
  readonly now: Micros;
  /** The direction the packet is travelling. */
  readonly dir: Direction;
  /** A seeded random number in [0, 1), for boxes that act probabilistically. */
  random(): number;
  /**
   * Emits a packet from this box's position into a direction: into `dir` it continues through
   * the boxes after this one; into the other direction it travels back through the boxes
   * before this one (a proxy ACK to the sender, a RST, ...).
   */
  inject(dir: Direction, packet: Uint8Array): void;
  /**
   * Runs `fn` `delayUs` later with a fresh context at that time (same direction, same box
   * position): for boxes that hold packets back (coalescing) and release them with `inject`.
   */
  schedule(delayUs: Micros, fn: (ctx: MiddleboxContext) => void): void;
}

/**
 * A middlebox on a link. Boxes on a link form a chain from side A to side B: a packet going
 * A→B passes boxes[0], boxes[1], ...; a packet going B→A passes them in reverse. Each box
 * returns the packets that continue in the same direction (zero, one or several); it may
 * return the input array unchanged, modified in place, or new arrays. Boxes must not throw on
 * packets they do not understand: they pass them through.
 */
export interface Middlebox {
  readonly name: string;
  process(packet: Uint8Array, ctx: MiddleboxContext): Uint8Array[];
}

/** A deterministic source of random numbers (uniform in [0, 1) and 32-bit words). */
export interface SimRandom {
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** A uniform number in [0, 1). */
  next(): number;
}
