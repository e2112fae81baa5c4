// Packet schedulers of the MPTCP connection (PROTOCOL.md "Linux's default scheduler").
//
// The subflows pull data when their congestion window has room (TcpUpperLayer.pullData), so a
// scheduler here decides (a) the order in which subflows are offered data and (b) which
// subflows may take data at all. Every scheduler keeps the tiers: active regular subflows,
// backup subflows only when no regular subflow is active, stale subflows (RTOs without progress)
// only when nothing else is left. "default" is Linux's (core/scheduler/linger.ts: the subflow
// whose queue drains first at its pacing rate, in bursts of up to 64 KiB); "lowrtt" is the
// older multipath-tcp.org default (lowest smoothed RTT with free congestion window).
import { InvalidArgumentError } from "../errors.ts";
import { BlestScheduler } from "./blest.ts";
import { rankAllows } from "./common.ts";
import { EcfScheduler } from "./ecf.ts";
import { LingerScheduler } from "./linger.ts";
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
    /**
     * Bytes handed to the subflow and not yet cumulatively acknowledged: its queue (Linux
     * sk_wmem_queued; the default scheduler's linger time). Bytes in flight when absent.
     */
    readonly unacked?: number;
    /**
     * The peer's TCP send window on this subflow (SND.WND), as its last segment here said: 0 means
     * closed (the subflow only probes until a window update arrives on it), so it cannot take a
     * burst (default scheduler). Unknown when absent.
     */
    readonly sendWindow?: number;
    /** Its congestion controller, for the pacing rate in bytes/s (default scheduler; 1.2 cwnd / srtt when absent). */
    readonly congestion?: { pacingRate?(srttUs: number): number | undefined } | undefined;
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
  /** The connection's current time in µs (BLEST adapts lambda at most once per RTT of the fast subflow). */
  readonly nowUs?: number;
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

/** Linux's default scheduler (linger time, bursts of 64 KiB): see core/scheduler/linger.ts. */
export class DefaultScheduler extends LingerScheduler {}

/** Round robin among the allowed subflows (for comparisons). */
export class RoundRobinScheduler implements Scheduler {
  readonly name: string = "roundrobin";
  private turn = 0;
  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    this.turn = (this.turn + 1) % subflows.length;
    return subflows.slice(this.turn).concat(subflows.slice(0, this.turn));
  }
  allowed<T extends SchedSubflow>(sf: T, all: readonly T[]): boolean {
    return rankAllows(sf, all);
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
