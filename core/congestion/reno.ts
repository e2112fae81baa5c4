// NewReno window arithmetic: RFC 5681 (slow start, congestion avoidance, RTO) with RFC 3465 byte
// counting and RFC 6582's response to a loss (ssthresh = max(FlightSize / 2, 2 MSS), once per
// window); RFC 6928 initial window. The sender's recovery logic (which segment to retransmit,
// partial ACKs, PRR) lives in core/tcp: the window is not inflated here.

import { WindowController } from "./base.ts";
import type { WindowOptions } from "./base.ts";
import type { CongestionAckSample, CongestionContext, CongestionController, CongestionFactory } from "./types.ts";

export type RenoOptions = WindowOptions;

export class RenoController extends WindowController {
  readonly name: string = "reno";
  /** Bytes acknowledged in congestion avoidance not yet turned into window (RFC 3465 bytes_acked). */
  private credit = 0;

  constructor(ctx: CongestionContext, opts: RenoOptions = {}) {
    super(ctx, opts);
  }

  /** RFC 3465 §2.1: one MSS per cwnd's worth of acknowledged bytes (about one MSS per RTT). */
  protected congestionAvoidance(_s: CongestionAckSample, acked: number): void {
    this.credit += acked;
    const w = Math.max(this.w, this.mss);
    if (this.credit >= w) {
      const n = Math.floor(this.credit / w);
      this.credit -= n * w;
      this.w += n * this.mss;
    }
  }

  /** RFC 5681 eq. (4): half the flight size (bounded by cwnd; cwnd if nothing is in flight). */
  private halfFlight(inFlight: number): number {
    const base = inFlight > 0 ? Math.min(inFlight, this.w) : this.w;
    return Math.max(Math.floor(base / 2), 2 * this.mss);
  }

  protected reduceOnCongestion(_now: number, inFlight: number): void {
    this.ssthreshBytes = this.halfFlight(inFlight);
    this.w = this.ssthreshBytes;
    this.credit = 0;
  }

  protected reduceOnRto(_now: number, inFlight: number): void {
    this.ssthreshBytes = this.halfFlight(inFlight);
    this.credit = 0;
  }

  protected override onSlowStartExit(_now: number): void {
    this.credit = 0;
  }
}

export function renoFactory(opts: RenoOptions = {}): CongestionFactory {
  return {
    name: "reno",
    create(ctx: CongestionContext): CongestionController {
      return new RenoController(ctx, opts);
    },
  };
}
