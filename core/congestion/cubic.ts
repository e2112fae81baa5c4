// CUBIC, RFC 9438: §4.2 window function and K, §4.3 Reno-friendly region (W_est), §4.4-4.5
// concave/convex growth toward W_cubic(t + RTT), §4.6 multiplicative decrease (beta = 0.7),
// §4.7 fast convergence, §4.8 timeout, §4.9 spurious congestion events, §4.10 slow start
// (HyStart++, RFC 9406, on by default), §5.8 application-limited periods (t stands still).
// Windows are kept in bytes; the formulas count segments of the current MSS.

import { WindowController } from "./base.ts";
import type { WindowOptions, WindowSnapshot } from "./base.ts";
import type { CongestionAckSample, CongestionContext, CongestionController, CongestionFactory } from "./types.ts";

export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;

export interface CubicOptions extends WindowOptions {
  /** C in segments / s^3 (default 0.4). */
  c?: number;
  /** beta_cubic, the multiplicative decrease factor (default 0.7). */
  beta?: number;
  /** §4.7 fast convergence (default on). */
  fastConvergence?: boolean;
}

/** alpha_cubic = 3 (1 - beta) / (1 + beta): the Reno-friendly additive increase (§4.3). */
export function cubicAlpha(beta: number = CUBIC_BETA): number {
  return (3 * (1 - beta)) / (1 + beta);
}

/** K in seconds (§4.2, Figure 2): the time the window takes to grow back to W_max. */
export function cubicK(wMaxSegments: number, cwndEpochSegments: number, c: number = CUBIC_C): number {
  const d = wMaxSegments - cwndEpochSegments;
  return d > 0 ? Math.cbrt(d / c) : 0;
}

/** W_cubic(t) = C (t - K)^3 + W_max in segments, t and K in seconds (§4.2, Figure 1). */
export function cubicWindow(tSeconds: number, kSeconds: number, wMaxSegments: number, c: number = CUBIC_C): number {
  const d = tSeconds - kSeconds;
  return c * d * d * d + wMaxSegments;
}

interface CubicSnapshot extends WindowSnapshot {
  wMax: number;
  cwndPrior: number;
  k: number;
  epochStart: number;
  origin: number;
  wEst: number;
  afterTimeout: boolean;
}

export class CubicController extends WindowController {
  readonly name: string = "cubic";
  private readonly c: number;
  private readonly beta: number;
  private readonly fastConvergence: boolean;
  /** W_max in bytes: the window before the last reduction (after fast convergence). */
  private wMaxBytes = 0;
  /** cwnd_prior in bytes: the window when the last congestion event happened. */
  private cwndPriorBytes = 0;
  private kSeconds = 0;
  /** Start of the current congestion-avoidance epoch (microseconds), -1 when none. */
  private epochStart = -1;
  /** The plateau of the current epoch's curve, in bytes (W_max, or cwnd_epoch when above it). */
  private origin = 0;
  private wEstBytes = 0;
  private afterTimeout = false;
  private lastAckAt = -1;

  constructor(ctx: CongestionContext, opts: CubicOptions = {}) {
    super(ctx, { ...opts, hystart: opts.hystart ?? true });
    const c = opts.c ?? CUBIC_C;
    const beta = opts.beta ?? CUBIC_BETA;
    this.c = Number.isFinite(c) && c > 0 ? c : CUBIC_C;
    this.beta = Number.isFinite(beta) && beta > 0 && beta < 1 ? beta : CUBIC_BETA;
    this.fastConvergence = opts.fastConvergence ?? true;
  }

  /** K of the current epoch, seconds. */
  get k(): number {
    return this.kSeconds;
  }
  /** W_max in bytes. */
  get wMax(): number {
    return this.wMaxBytes;
  }
  /** W_est (the Reno-friendly estimate) in bytes. */
  get wEst(): number {
    return this.wEstBytes;
  }
  /** cwnd_prior in bytes. */
  get cwndPrior(): number {
    return this.cwndPriorBytes;
  }
  /** Start of the current epoch in microseconds (shifted by app-limited time), -1 when none. */
  get epochStartUs(): number {
    return this.epochStart;
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    this.lastAckAt = now;
    const w = this.w;
    // §4.8: in the first congestion avoidance after a timeout, K = 0 and W_max = cwnd.
    if (this.afterTimeout) {
      this.wMaxBytes = w;
      this.afterTimeout = false;
    }
    if (this.wMaxBytes > w) {
      this.origin = this.wMaxBytes;
      this.kSeconds = cubicK(this.wMaxBytes / this.mss, w / this.mss, this.c);
    } else {
      this.origin = w;
      this.kSeconds = 0;
    }
    this.wEstBytes = w;
  }

  /** W_cubic(t) in bytes for the current epoch. */
  private wCubicBytes(tSeconds: number): number {
    const d = tSeconds - this.kSeconds;
    return this.c * d * d * d * this.mss + this.origin;
  }

  protected congestionAvoidance(s: CongestionAckSample, acked: number): void {
    if (this.epochStart < 0) this.startEpoch(s.now);
    this.lastAckAt = Math.max(this.lastAckAt, s.now);
    const w = Math.max(this.w, this.mss);
    const t = Math.max(0, s.now - this.epochStart) / 1e6;
    const rttUs = this.srttUs > 0 ? this.srttUs : this.minRttUs;
    // §4.3: W_est grows like Reno with alpha_cubic until it reaches cwnd_prior, then with 1.
    const alpha = this.wEstBytes >= this.cwndPriorBytes ? 1 : cubicAlpha(this.beta);
    this.wEstBytes += (alpha * acked * this.mss) / w;
    if (this.wCubicBytes(t) < this.wEstBytes) {
      // Reno-friendly region.
      this.w = Math.max(w, this.wEstBytes);
      return;
    }
    // §4.4 / §4.5: move toward W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd].
    const target = Math.min(Math.max(this.wCubicBytes(t + rttUs / 1e6), w), 1.5 * w);
    this.w = Math.min(target, w + ((target - w) * acked) / w);
  }

  /** §5.8: time spent application-limited does not count in t. */
  protected override onAppLimitedAck(s: CongestionAckSample): void {
    if (this.epochStart >= 0 && this.lastAckAt >= 0 && s.now > this.lastAckAt) {
      this.epochStart += s.now - this.lastAckAt;
    }
    this.lastAckAt = Math.max(this.lastAckAt, s.now);
  }

  /** §4.6-4.7 (the reduction applies beta to cwnd, as Linux and Windows do; §4.6 allows it). */
  private lowerThreshold(): void {
    const w = this.w;
    this.cwndPriorBytes = w;
    this.wMaxBytes = this.fastConvergence && w < this.wMaxBytes ? (w * (1 + this.beta)) / 2 : w;
    this.ssthreshBytes = Math.max(Math.floor(w * this.beta), 2 * this.mss);
    this.epochStart = -1;
  }

  protected reduceOnCongestion(_now: number, _inFlight: number): void {
    this.lowerThreshold();
    this.w = this.ssthreshBytes;
  }

  protected reduceOnRto(_now: number, _inFlight: number): void {
    this.lowerThreshold();
  }

  protected override afterRto(_now: number): void {
    this.afterTimeout = true;
    this.epochStart = -1;
  }

  protected override onMssChange(): void {
    // K is counted in segments of the MSS: start a new epoch with the new one.
    this.epochStart = -1;
  }

  protected override snapshot(): CubicSnapshot {
    return {
      ...super.snapshot(),
      wMax: this.wMaxBytes,
      cwndPrior: this.cwndPriorBytes,
      k: this.kSeconds,
      epochStart: this.epochStart,
      origin: this.origin,
      wEst: this.wEstBytes,
      afterTimeout: this.afterTimeout,
    };
  }

  /** §4.9: a spurious congestion event restores the state from before it. */
  protected override restore(u: WindowSnapshot, now: number): void {
    super.restore(u, now);
    const c = u as CubicSnapshot;
    this.wMaxBytes = c.wMax;
    this.cwndPriorBytes = c.cwndPrior;
    this.kSeconds = c.k;
    this.epochStart = c.epochStart;
    this.origin = c.origin;
    this.wEstBytes = c.wEst;
    this.afterTimeout = c.afterTimeout;
    this.lastAckAt = now;
  }
}

export function cubicFactory(opts: CubicOptions = {}): CongestionFactory {
  return {
    name: "cubic",
    create(ctx: CongestionContext): CongestionController {
      return new CubicController(ctx, opts);
    },
  };
}
