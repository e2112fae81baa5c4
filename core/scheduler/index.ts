// Packet schedulers of the MPTCP connection (PROTOCOL.md "Linux's default scheduler").
//
// The subflows pull data when their congestion window has room (TcpUpperLayer.pullData), so a
// scheduler here decides (a) the order in which subflows are offered data and (b) which
// subflows may take data at all. The default mirrors Linux: active non-backup subflows first,
// fastest first (the subflow whose queue drains first: lowest smoothed RTT, i.e. BLEST's linger
// time with the congestion window as the pacing budget), backup subflows only when no regular
// subflow is active, stale subflows (RTOs without progress) only when nothing else is left.
import { InvalidArgumentError } from "../errors.ts";
import { BlestScheduler } from "./blest.ts";
import { EcfScheduler } from "./ecf.ts";
import { LowestRttScheduler } from "./lowrtt.ts";
import { RedundantScheduler } from "./redundant.ts";

/** What a scheduler sees of a subflow. */
export interface SchedSubflow {
  readonly backup: boolean;
  readonly stale: boolean;
  readonly usable: boolean;
  readonly tcp: {
    readonly srttUs: number;
    /** Congestion window, bytes in flight, MSS and RTT variation (BLEST, ECF; optional). */
    readonly cwndBytes?: number;
    readonly bytesInFlight?: number;
    readonly mss?: number;
    readonly rttvarUs?: number;
  };
}

/** What a scheduler may know of the connection (BLEST, ECF). */
export interface SchedConnection {
  /** Bytes the peer's connection-level receive window still allows beyond what was sent. */
  readonly sendWindowFree: number;
  /** The peer's whole connection-level window (from DATA_ACK), if known (BLEST). */
  readonly sendWindow?: number;
  /** Bytes the application wrote that were not sent yet. */
  readonly unsentBytes: number;
}

export interface Scheduler {
  readonly name: string;
  /** The order in which subflows are polled for transmission (all of them, every time). */
  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[];
  /** May `sf` take data now? */
  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean;
  /** New data [dsn, dsn + len) went out on `sf` (redundant scheduling). */
  sent?<T extends SchedSubflow>(sf: T, dsn: bigint, len: number, all: readonly T[]): void;
  /** Data `sf` should send again before new data (redundant scheduling), at most maxBytes. */
  duplicate?<T extends SchedSubflow>(sf: T, una: bigint, maxBytes: number): { dsn: bigint; len: number } | undefined;
}

function rank(s: SchedSubflow): number {
  if (!s.usable) return 3;
  if (s.stale) return 2;
  return s.backup ? 1 : 0;
}

/** Linux's default: regular before backup, lowest RTT first; backups only when no regular subflow is active. */
export class DefaultScheduler implements Scheduler {
  readonly name: string = "default";
  private cache: readonly SchedSubflow[] = [];

  private calls = 0;
  private cachedLen = -1;

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    // Re-rank every 32 calls (or when the set changes): RTTs move slowly against packet rate.
    if (this.cachedLen === subflows.length && (++this.calls & 31) !== 0) return this.cache as readonly T[];
    const out = subflows.slice();
    out.sort((a, b) => rank(a) - rank(b) || a.tcp.srttUs - b.tcp.srttUs);
    this.cache = out;
    this.cachedLen = subflows.length;
    return out;
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[]): boolean {
    const r = rank(sf);
    if (r === 0) return true;
    if (r === 3) return false;
    let best = 3;
    for (const s of all) best = Math.min(best, rank(s));
    return r <= best;
  }
}

/** Round robin among the allowed subflows (for comparisons). */
export class RoundRobinScheduler extends DefaultScheduler {
  override readonly name: string = "roundrobin";
  private turn = 0;
  override order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    this.turn = (this.turn + 1) % subflows.length;
    return subflows.slice(this.turn).concat(subflows.slice(0, this.turn));
  }
}

/** Schedulers selectable by name (MptcpConfig.scheduler). */
export type SchedulerName = "default" | "roundrobin" | "lowrtt" | "redundant" | "blest" | "ecf";

export function createScheduler(name: SchedulerName): Scheduler {
  if (name === "default") return new DefaultScheduler();
  if (name === "roundrobin") return new RoundRobinScheduler();
  if (name === "lowrtt") return new LowestRttScheduler();
  if (name === "redundant") return new RedundantScheduler();
  if (name === "blest") return new BlestScheduler();
  if (name === "ecf") return new EcfScheduler();
  throw new InvalidArgumentError(`unknown scheduler ${String(name)}`);
}
