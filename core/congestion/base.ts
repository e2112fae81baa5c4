// Window arithmetic shared by the loss-based controllers: RFC 5681 slow start with RFC 3465
// byte counting (L = 2 MSS), RFC 6928 initial window, the once-per-window congestion response,
// the RTO loss window (RFC 5681 §3.1), undo of a spurious response, pacing rate. Subclasses
// supply the congestion-avoidance increase and the reductions.
// Invariants after every call: 1 MSS <= cwnd, cwnd finite; ssthresh is Infinity or >= 2 MSS.

import { InvalidArgumentError } from "../errors.ts";
import { HyStartPlusPlus } from "./hystart.ts";
import { pacingRateFor } from "./pacing.ts";
import type { PacingRatios } from "./pacing.ts";
import type { CongestionAckSample, CongestionContext, CongestionController } from "./types.ts";

export const DEFAULT_INITIAL_WINDOW_SEGMENTS = 10;
/** RFC 3465 limit L on the slow-start increase per ACK, in segments. */
export const ABC_LIMIT_SEGMENTS = 2;

/** Options every window-based controller takes. */
export interface WindowOptions {
  /** RFC 3465 L: most the window grows per ACK in slow start, in segments (default 2). */
  abcLimitSegments?: number;
  /** Use HyStart++ (RFC 9406) in the initial slow start. */
  hystart?: boolean;
  /** Pacing multipliers (defaults 2.0 in slow start, 1.2 after). */
  pacing?: PacingRatios;
}

/**
 * Initial window in bytes (RFC 6928 for 10 segments: min(10*MSS, max(2*MSS, 14600)); other
 * segment counts are taken literally: n*MSS).
 */
export function initialWindowBytes(mss: number, segments: number = DEFAULT_INITIAL_WINDOW_SEGMENTS): number {
  const n = Number.isFinite(segments) && segments >= 1 ? Math.floor(segments) : DEFAULT_INITIAL_WINDOW_SEGMENTS;
  if (n === 10) return Math.min(10 * mss, Math.max(2 * mss, 14600));
  return n * mss;
}

export function checkMss(mss: number): number {
  if (!Number.isInteger(mss) || mss <= 0 || mss > 0xffff) {
    throw new InvalidArgumentError(`congestion control: MSS must be an integer in 1..65535, got ${mss}`);
  }
  return mss;
}

function nonNegative(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

/** What an undo (spurious congestion response) restores; subclasses add their own fields. */
export interface WindowSnapshot {
  w: number;
  ssthresh: number;
}

export abstract class WindowController implements CongestionController {
  abstract readonly name: string;
  protected mss: number;
  /** Congestion window in bytes; may carry a fraction (cwnd exposes the whole bytes). */
  protected w: number;
  protected ssthreshBytes: number = Infinity;
  /** Between onCongestionEvent and the end of recovery (by onRecoveryExit or an ACK out of it). */
  protected recovering = false;
  /** After an RTO until new data is acknowledged: a repeated RTO does not lower ssthresh again. */
  protected lossState = false;
  /** Latest smoothed RTT from the ACK samples, 0 before the first. */
  protected srttUs = 0;
  protected minRttUs = 0;
  protected readonly abcLimit: number;
  protected readonly hystart: HyStartPlusPlus | undefined;
  private readonly pacingRatios: PacingRatios;
  private undo: WindowSnapshot | undefined = undefined;

  constructor(ctx: CongestionContext, opts: WindowOptions = {}) {
    this.mss = checkMss(ctx.mss);
    this.w = initialWindowBytes(this.mss, ctx.initialWindowSegments);
    const l = opts.abcLimitSegments ?? ABC_LIMIT_SEGMENTS;
    this.abcLimit = Number.isFinite(l) && l >= 1 ? l : ABC_LIMIT_SEGMENTS;
    this.hystart = opts.hystart ? new HyStartPlusPlus() : undefined;
    this.pacingRatios = opts.pacing ?? {};
  }

  get cwnd(): number {
    return Math.max(this.mss, Math.floor(this.w));
  }

  get ssthresh(): number {
    return this.ssthreshBytes;
  }

  /** True while cwnd < ssthresh (slow start, including HyStart++'s conservative phase). */
  get inSlowStart(): boolean {
    return this.w < this.ssthreshBytes;
  }

  /** Sender MSS the controller counts with. */
  get maxSegmentSize(): number {
    return this.mss;
  }

  onAck(s: CongestionAckSample): void {
    if (s.srttUs > 0 && Number.isFinite(s.srttUs)) this.srttUs = s.srttUs;
    else if (this.srttUs === 0 && s.rttUs !== undefined && s.rttUs > 0 && Number.isFinite(s.rttUs)) this.srttUs = s.rttUs;
    if (s.minRttUs > 0 && Number.isFinite(s.minRttUs)) this.minRttUs = s.minRttUs;
    const acked = nonNegative(s.ackedBytes);
    if (acked > 0) this.lossState = false;
    this.observeAck(s, acked);
    // The sender has left recovery without telling us: finish it the same way.
    if (this.recovering && !s.inRecovery) this.finishRecovery(s.now);
    if (acked === 0 || s.inRecovery) return;
    if (s.appLimited) {
      this.onAppLimitedAck(s);
      return;
    }
    let rest = acked;
    if (this.w < this.ssthreshBytes) rest = this.slowStart(s, acked);
    if (rest > 0 && this.w >= this.ssthreshBytes) this.congestionAvoidance(s, rest);
    this.clamp();
  }

  /** Slow start with byte counting; returns the acknowledged bytes left over for congestion avoidance. */
  protected slowStart(s: CongestionAckSample, acked: number): number {
    let grow = Math.min(acked, this.abcLimit * this.mss);
    if (this.hystart && this.ssthreshBytes === Infinity && !this.hystart.finished) {
      const r = this.hystart.onAck(acked, nonNegative(s.inFlight), s.rttUs, grow);
      grow = r.increase;
      if (r.verdict === "exit") {
        this.w += grow;
        this.ssthreshBytes = Math.max(Math.floor(this.w), 2 * this.mss);
        this.onSlowStartExit(s.now);
        return 0;
      }
    }
    const room = this.ssthreshBytes - this.w;
    if (grow < room) {
      this.w += grow;
      return 0;
    }
    this.w = this.ssthreshBytes;
    this.onSlowStartExit(s.now);
    return Math.max(0, acked - room);
  }

  onCongestionEvent(now: number, inFlight: number): void {
    if (this.recovering) return;
    this.undo = this.snapshot();
    this.hystart?.stop();
    this.reduceOnCongestion(now, nonNegative(inFlight));
    this.recovering = true;
    this.clamp();
  }

  onRecoveryExit(now: number): void {
    if (!this.recovering) return;
    this.finishRecovery(now);
    this.clamp();
  }

  onRto(now: number, inFlight: number): void {
    this.hystart?.stop();
    if (!this.lossState && !this.recovering) {
      this.undo = this.snapshot();
      this.reduceOnRto(now, nonNegative(inFlight));
    }
    // RFC 5681 §3.1: the loss window is one segment.
    this.w = this.mss;
    this.recovering = false;
    this.lossState = true;
    this.afterRto(now);
    this.clamp();
  }

  onSpurious(now: number): void {
    const u = this.undo;
    if (u === undefined) return;
    this.undo = undefined;
    this.recovering = false;
    this.lossState = false;
    this.restore(u, now);
    this.clamp();
  }

  pacingRate(srttUs: number): number | undefined {
    return pacingRateFor(this.cwnd, this.ssthreshBytes, srttUs > 0 ? srttUs : this.srttUs, this.pacingRatios);
  }

  setMss(mss: number): void {
    this.mss = checkMss(mss);
    this.onMssChange();
    this.clamp();
  }

  // Hooks.

  /** Every ACK, before any window change (bookkeeping such as OLIA's inter-loss bytes). */
  protected observeAck(_s: CongestionAckSample, _acked: number): void {}
  /** An ACK arrived while the sender was application-limited: the window does not grow. */
  protected onAppLimitedAck(_s: CongestionAckSample): void {}
  /** Slow start ended (cwnd reached ssthresh, or HyStart++ ended it). */
  protected onSlowStartExit(_now: number): void {}
  protected abstract congestionAvoidance(s: CongestionAckSample, acked: number): void;
  /** Set ssthresh and the reduced window for a loss detected by fast retransmit / SACK / RACK. */
  protected abstract reduceOnCongestion(now: number, inFlight: number): void;
  /** Set ssthresh for the first RTO of a series (the window becomes 1 MSS afterwards). */
  protected abstract reduceOnRto(now: number, inFlight: number): void;
  protected afterRto(_now: number): void {}
  protected onMssChange(): void {}

  protected finishRecovery(_now: number): void {
    this.recovering = false;
    if (Number.isFinite(this.ssthreshBytes)) this.w = this.ssthreshBytes;
  }

  protected snapshot(): WindowSnapshot {
    return { w: this.w, ssthresh: this.ssthreshBytes };
  }

  /** Undo (Linux `tcp_undo_cwnd_reduction`): back to at least the window and ssthresh before. */
  protected restore(u: WindowSnapshot, _now: number): void {
    this.w = Math.max(this.w, u.w);
    this.ssthreshBytes = Math.max(this.ssthreshBytes, u.ssthresh);
  }

  /** Keep the invariants (called after every change). */
  protected clamp(): void {
    if (!Number.isFinite(this.w) || this.w < this.mss) this.w = this.mss;
    if (Number.isNaN(this.ssthreshBytes)) this.ssthreshBytes = Infinity;
    if (this.ssthreshBytes !== Infinity && this.ssthreshBytes < 2 * this.mss) this.ssthreshBytes = 2 * this.mss;
  }
}
