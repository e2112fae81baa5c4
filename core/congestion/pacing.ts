// Pacing (Linux-style): a rate derived from cwnd/srtt, and a token bucket that turns the rate into
// the earliest send time of the next segment. All times in integer microseconds, sizes in bytes.

/** Rate multiplier while cwnd < ssthresh / 2 (Linux `tcp_pacing_ss_ratio`, 200%). */
export const PACING_SS_RATIO = 2.0;
/** Rate multiplier otherwise (Linux `tcp_pacing_ca_ratio`, 120%). */
export const PACING_CA_RATIO = 1.2;

export interface PacingRatios {
  /** Multiplier in slow start (default 2.0). */
  slowStart?: number;
  /** Multiplier in congestion avoidance (default 1.2). */
  congestionAvoidance?: number;
}

/**
 * Pacing rate in bytes per second for a window: ratio * cwnd / srtt, where the ratio is the slow
 * start one while cwnd < ssthresh / 2 (as Linux does, so the rate leads the doubling window) and
 * the congestion-avoidance one after. Undefined before the first RTT sample (no pacing then).
 */
export function pacingRateFor(
  cwnd: number,
  ssthresh: number,
  srttUs: number,
  ratios: PacingRatios = {},
): number | undefined {
  if (!(srttUs > 0) || !Number.isFinite(srttUs) || !(cwnd > 0) || !Number.isFinite(cwnd)) return undefined;
  const ss = ratios.slowStart ?? PACING_SS_RATIO;
  const ca = ratios.congestionAvoidance ?? PACING_CA_RATIO;
  const ratio = cwnd < ssthresh / 2 ? ss : ca;
  return (ratio * cwnd * 1e6) / srttUs;
}

/** Time in whole microseconds (rounded up) that `bytes` take at `rateBytesPerSec`. */
export function pacingDelayUs(bytes: number, rateBytesPerSec: number): number {
  if (!(rateBytesPerSec > 0) || !Number.isFinite(rateBytesPerSec) || !(bytes > 0)) return 0;
  return Math.ceil((bytes * 1e6) / rateBytesPerSec);
}

export interface PacerOptions {
  /** Sender MSS: the default burst sizes are counted in it. */
  mss: number;
  /** Bucket depth in bytes: how much may leave back-to-back after a pause (default 2 MSS, like fq's quantum). */
  burstBytes?: number;
  /** Tokens available at the start (default 10 MSS, like fq's initial quantum and IW10). */
  initialBurstBytes?: number;
  /** Current time in microseconds (the bucket starts filling from here). */
  now?: number;
}

/**
 * Token bucket pacer. Tokens (bytes) accrue at the pacing rate up to `burstBytes`; a segment may
 * leave once enough tokens are there. Sending while short of tokens (retransmissions the engine
 * will not delay) leaves a debt that the next segments wait out. An undefined, zero, negative or
 * non-finite rate means "not paced": `nextSendTime` then returns `now`.
 *
 * Driver order: `setRate(controller.pacingRate(srtt))` after each ACK; before sending a segment
 * of `n` bytes, `t = nextSendTime(now, n)`; send when `now >= t` (arm a timer for `t` otherwise);
 * `onSend(now, n)` after sending.
 */
export class Pacer {
  private rate: number | undefined = undefined;
  private tokens: number;
  private last: number;
  private burst: number;
  constructor(opts: PacerOptions) {
    const mss = opts.mss > 0 && Number.isFinite(opts.mss) ? opts.mss : 1;
    this.burst = Math.max(1, opts.burstBytes ?? 2 * mss);
    this.tokens = Math.max(0, opts.initialBurstBytes ?? 10 * mss);
    this.last = opts.now ?? 0;
  }

  /** The rate in bytes per second, or undefined when not paced. */
  get rateBytesPerSec(): number | undefined {
    return this.rate;
  }

  /** Tokens in the bucket as of the last call (bytes; negative while in debt). */
  get availableBytes(): number {
    return this.tokens;
  }

  setRate(rateBytesPerSec: number | undefined): void {
    this.rate = rateBytesPerSec !== undefined && rateBytesPerSec > 0 && Number.isFinite(rateBytesPerSec)
      ? rateBytesPerSec
      : undefined;
  }

  setBurst(burstBytes: number): void {
    if (burstBytes > 0 && Number.isFinite(burstBytes)) this.burst = burstBytes;
  }

  private refill(now: number): void {
    if (now <= this.last) return;
    if (this.rate !== undefined && this.tokens < this.burst) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1e6);
    }
    this.last = now;
  }

  /** Earliest time (>= now, integer microseconds) at which a segment of `bytes` may leave. */
  nextSendTime(now: number, bytes: number): number {
    this.refill(now);
    if (this.rate === undefined) return now;
    // A segment larger than the bucket may leave once the bucket is full (else it never would).
    const need = Math.min(bytes, Math.max(this.burst, 0));
    if (this.tokens >= need) return now;
    return now + pacingDelayUs(need - this.tokens, this.rate);
  }

  /** A segment of `bytes` was sent at `now`. */
  onSend(now: number, bytes: number): void {
    this.refill(now);
    if (this.rate === undefined) return;
    if (bytes > 0 && Number.isFinite(bytes)) this.tokens -= bytes;
  }
}
