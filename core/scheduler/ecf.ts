// ECF, Earliest Completion First (Lim, Nahum, Towsley, Gibbens: "ECF: An MPTCP Path Scheduler
// to Manage Heterogeneous Paths", CoNEXT 2017). Lowest RTT first; when the fastest subflow x_f
// has no free window, a slower x_s with room is used only if waiting for x_f would not finish
// the queued data sooner. With k the unsent bytes in segments, n = 1 + k / cwnd_f,
// delta = max(rttvar_f, rttvar_s) and beta = 0.25:
//   if n * rtt_f < (1 + waiting * beta) * (rtt_s + delta):
//     if (k / cwnd_s) * rtt_s >= 2 * rtt_f + delta: wait (waiting = 1), do not use x_s
//     else use x_s
//   else use x_s (waiting = 0)
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { mssOf, RankRttOrder, slowerSubflowCase } from "./common.ts";

export class EcfScheduler implements Scheduler {
  readonly name: string = "ecf";
  /** The hysteresis flag of the paper (set while ECF is waiting for the fast subflow). */
  waiting = false;
  skipped = 0;

  constructor(readonly beta: number = 0.25) {}

  private readonly ord = new RankRttOrder();

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    return this.ord.of(subflows);
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean {
    const c = slowerSubflowCase(sf, all, conn);
    if (typeof c === "boolean") return c;
    const wait = ecfWaits(c, sf, conn!.unsentBytes, this.waiting, this.beta);
    this.waiting = wait;
    if (wait) this.skipped++;
    return !wait;
  }
}

/** ECF's decision: true = wait for `fast` rather than send on `slow`. */
export function ecfWaits(fast: SchedSubflow, slow: SchedSubflow, unsentBytes: number, waiting: boolean, beta: number): boolean {
  const mssF = mssOf(fast);
  const k = Math.max(0, unsentBytes) / mssF;
  const cwndF = Math.max(1, (fast.tcp.cwndBytes ?? mssF) / mssF);
  const cwndS = Math.max(1, (slow.tcp.cwndBytes ?? mssOf(slow)) / mssOf(slow));
  const rttF = fast.tcp.srttUs;
  const rttS = slow.tcp.srttUs;
  const delta = Math.max(fast.tcp.rttvarUs ?? rttF / 8, slow.tcp.rttvarUs ?? rttS / 8);
  const n = 1 + k / cwndF;
  if (n * rttF < (1 + (waiting ? beta : 0)) * (rttS + delta)) {
    return (k / cwndS) * rttS >= 2 * rttF + delta;
  }
  return false;
}
