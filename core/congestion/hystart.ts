// HyStart++ (RFC 9406 §4): leaves the initial slow start when the per-round minimum RTT rises,
// through Conservative Slow Start (CSS). Rounds are counted in bytes: a round ends when as many
// bytes as were in flight at its start have been acknowledged (the controller sees no sequence
// numbers; this stands in for "the ACK of the first segment sent in the next round").

export const HYSTART_MIN_RTT_THRESH_US = 4_000;
export const HYSTART_MAX_RTT_THRESH_US = 16_000;
export const HYSTART_MIN_RTT_DIVISOR = 8;
export const HYSTART_N_RTT_SAMPLE = 8;
export const HYSTART_CSS_GROWTH_DIVISOR = 4;
export const HYSTART_CSS_ROUNDS = 5;

export type HyStartVerdict = "slow-start" | "css" | "exit";

export class HyStartPlusPlus {
  private roundBytesLeft = 0;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;
  private inCss = false;
  private done = false;

  /** True once HyStart++ has ended slow start (or was stopped by a loss). */
  get finished(): boolean {
    return this.done;
  }

  /** True while in Conservative Slow Start. */
  get conservative(): boolean {
    return this.inCss && !this.done;
  }

  /** Stop for good (a congestion event or RTO ended the initial slow start). */
  stop(): void {
    this.done = true;
    this.inCss = false;
  }

  /**
   * Feed one ACK taken in the initial slow start. Returns how many bytes the window may grow by
   * (the caller's slow-start increase, divided by CSS_GROWTH_DIVISOR in CSS) and the verdict.
   */
  onAck(ackedBytes: number, inFlight: number, rttUs: number | undefined, increase: number): {
    increase: number;
    verdict: HyStartVerdict;
  } {
    if (this.done) return { increase, verdict: "exit" };
    let verdict: HyStartVerdict = this.inCss ? "css" : "slow-start";
    // Round accounting first: the ACK that ends a round starts the next one.
    this.roundBytesLeft -= ackedBytes;
    if (this.roundBytesLeft <= 0) {
      if (this.inCss) {
        this.cssRounds++;
        if (this.cssRounds >= HYSTART_CSS_ROUNDS) {
          this.done = true;
          return { increase: increase / HYSTART_CSS_GROWTH_DIVISOR, verdict: "exit" };
        }
      }
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
      this.roundBytesLeft = Math.max(inFlight, 1);
    }
    if (rttUs !== undefined && rttUs > 0 && Number.isFinite(rttUs)) {
      this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, rttUs);
      this.rttSampleCount++;
    }
    if (!this.inCss) {
      if (
        this.rttSampleCount >= HYSTART_N_RTT_SAMPLE &&
        this.currentRoundMinRtt !== Infinity &&
        this.lastRoundMinRtt !== Infinity
      ) {
        const thresh = Math.max(
          HYSTART_MIN_RTT_THRESH_US,
          Math.min(this.lastRoundMinRtt / HYSTART_MIN_RTT_DIVISOR, HYSTART_MAX_RTT_THRESH_US),
        );
        if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.inCss = true;
          this.cssRounds = 0;
          verdict = "css";
        }
      }
    } else if (this.rttSampleCount >= HYSTART_N_RTT_SAMPLE && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // The RTT increase was spurious: back to standard slow start.
      this.cssBaselineMinRtt = Infinity;
      this.inCss = false;
      verdict = "slow-start";
    }
    return { increase: this.inCss ? increase / HYSTART_CSS_GROWTH_DIVISOR : increase, verdict };
  }
}
