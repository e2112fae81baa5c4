// BLEST (Ferlin, Alay, Mehani, Boreli: "BLEST: Blocking Estimation-based MPTCP Scheduler for
// Heterogeneous Networks", IFIP Networking 2016). Lowest RTT first; a slower subflow x_s is
// used only if the data it would take does not block the connection-level send window while
// the fastest subflow x_f could have sent it: with ratio = rtt_s / rtt_f,
//   X = MSS_f * (cwnd_f + (ratio - 1) / 2) * ratio          (bytes x_f can send during rtt_s)
// and x_s is skipped (the scheduler waits for x_f) when
//   X * lambda > W - MSS_s * (inflight_s + 1),
// W the connection-level send window (the peer's window; mptcp_blest.c uses snd_wnd).
//
// lambda corrects the estimate and adapts (the paper; mptcp_blest.c of the multipath-tcp.org
// kernel): at most once per smoothed RTT of the fast subflow, it goes up by a step (0.04) if the
// fast subflow was blocked by the connection-level window since the last update (it had
// congestion window and data to send, but the peer's window was full: head-of-line blocking the
// slow subflow's data caused), and down by a smaller step (0.01) otherwise, within [1.0, 1.3],
// starting at 1.2 (mptcp_blest.c: lambda 12, min_lambda 10, max_lambda 13, dyn_lambda_bad 40,
// dyn_lambda_good 10, in tenths and thousandths). mptcp_blest.c takes a meta-level retransmission
// as its signal of blocking; here the scheduler sees the blocking itself, when the fast subflow
// asks for data with the window full. Without a clock in the connection view (hand-made views),
// every observation of the fast subflow is one step.
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { fastestOfRank, mssOf, RankRttOrder, rankAllows, slowerSubflowCase } from "./common.ts";

export interface BlestOptions {
  /** Starting lambda (1.2). */
  lambda?: number;
  /** Bounds of lambda (1.0, 1.3). */
  minLambda?: number;
  maxLambda?: number;
  /** Step up after an RTT with window blocking (0.04), step down after one without (0.01). */
  stepUp?: number;
  stepDown?: number;
}

export class BlestScheduler implements Scheduler {
  readonly name: string = "blest";
  /** Times a slower subflow was held back (for tests and stats). */
  skipped = 0;
  /** The current scaling factor of the fast subflow's estimate. */
  lambda: number;
  readonly minLambda: number;
  readonly maxLambda: number;
  readonly stepUp: number;
  readonly stepDown: number;
  /** The fast subflow found the connection-level window full since the last update. */
  private blocked = false;
  private lastUpdateUs = -Infinity;

  constructor(opts: BlestOptions = {}) {
    this.minLambda = opts.minLambda ?? 1.0;
    this.maxLambda = opts.maxLambda ?? 1.3;
    this.stepUp = opts.stepUp ?? 0.04;
    this.stepDown = opts.stepDown ?? 0.01;
    this.lambda = Math.min(this.maxLambda, Math.max(this.minLambda, opts.lambda ?? 1.2));
  }

  private readonly ord = new RankRttOrder();

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    return this.ord.of(subflows);
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean {
    if (conn !== undefined && all.length > 1 && rankAllows(sf, all)) this.observe(sf, all, conn);
    const c = slowerSubflowCase(sf, all, conn);
    if (typeof c === "boolean") return c;
    if (blestBlocks(c, sf, conn!.sendWindow ?? conn!.sendWindowFree, this.lambda)) {
      this.skipped++;
      return false;
    }
    return true;
  }

  /** Notes window blocking of the fast subflow, and moves lambda at most once per fast-subflow RTT. */
  private observe<T extends SchedSubflow>(sf: T, all: readonly T[], conn: SchedConnection): void {
    const fast = fastestOfRank(sf, all);
    if (sf === fast && conn.unsentBytes > 0 && conn.sendWindowFree < mssOf(sf)) this.blocked = true;
    const now = conn.nowUs;
    if (now !== undefined) {
      const rtt = fast.tcp.srttUs;
      if (!(rtt > 0) || now - this.lastUpdateUs < rtt) return;
      this.lastUpdateUs = now;
    } else if (sf !== fast) {
      return; // no clock: one step per look at the fast subflow
    }
    this.lambda = adaptLambda(this.lambda, this.blocked, this);
    this.blocked = false;
  }
}

/** One BLEST lambda update: up by stepUp after blocking, down by stepDown otherwise, kept within [minLambda, maxLambda]. */
export function adaptLambda(
  lambda: number,
  blocked: boolean,
  o: { minLambda: number; maxLambda: number; stepUp: number; stepDown: number },
): number {
  const next = blocked ? lambda + o.stepUp : lambda - o.stepDown;
  // Rounded to thousandths as mptcp_blest.c's lambda_1000 (no drift from repeated float steps).
  return Math.min(o.maxLambda, Math.max(o.minLambda, Math.round(next * 1000) / 1000));
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
