// BLEST (Ferlin, Alay, Mehani, Boreli: "BLEST: Blocking Estimation-based MPTCP Scheduler for
// Heterogeneous Networks", IFIP Networking 2016). Lowest RTT first; a slower subflow x_s is
// used only if the data it would take does not block the connection-level send window while
// the fastest subflow x_f could have sent it: with ratio = rtt_s / rtt_f,
//   X = MSS_f * (cwnd_f + (ratio - 1) / 2) * ratio          (bytes x_f can send during rtt_s)
// and x_s is skipped (the scheduler waits for x_f) when
//   X * lambda > W - MSS_s * (inflight_s + 1),
// W the connection-level send window (the peer's window; mptcp_blest.c uses snd_wnd).
// lambda is a fixed scaling factor here (the paper adapts it between 1 and more on observed
// head-of-line blocking; 1.0 is its starting value).
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { cwndRoom, fastestOfRank, mssOf, rankAllows, schedRank } from "./common.ts";

export class BlestScheduler implements Scheduler {
  readonly name: string = "blest";
  /** Times a slower subflow was held back (for tests and stats). */
  skipped = 0;

  constructor(readonly lambda: number = 1.0) {}

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    return subflows.slice().sort((a, b) => schedRank(a) - schedRank(b) || a.tcp.srttUs - b.tcp.srttUs);
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean {
    if (!rankAllows(sf, all)) return false;
    if (conn === undefined) return true;
    const fast = fastestOfRank(sf, all);
    if (fast === sf || !(fast.tcp.srttUs > 0) || !(sf.tcp.srttUs > fast.tcp.srttUs)) return true;
    const mssF = mssOf(fast);
    // The fastest subflow can take it now: wait for it (it is polled first).
    if (cwndRoom(fast) >= mssF) return false;
    if (blestBlocks(fast, sf, conn.sendWindow ?? conn.sendWindowFree, this.lambda)) {
      this.skipped++;
      return false;
    }
    return true;
  }
}

/** BLEST's test: would sending on `slow` now risk blocking the window while `fast` could send? */
export function blestBlocks(fast: SchedSubflow, slow: SchedSubflow, sendWindow: number, lambda: number): boolean {
  const mssF = mssOf(fast);
  const mssS = mssOf(slow);
  const ratio = slow.tcp.srttUs / fast.tcp.srttUs;
  const cwndF = (fast.tcp.cwndBytes ?? mssF) / mssF;
  const x = mssF * (cwndF + (ratio - 1) / 2) * ratio;
  const inflightS = (slow.tcp.bytesInFlight ?? 0) / mssS;
  const room = sendWindow - mssS * (inflightS + 1);
  return Number.isFinite(x) && x * lambda > room;
}
