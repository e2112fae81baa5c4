// RFC 6298: SRTT, RTTVAR and RTO, exponential backoff; Karn's rule is applied by the caller
// (samples only from segments that were never retransmitted). Minimum RTO configurable.

/** Clock granularity G of RFC 6298 (we run on microseconds; 1 ms like Linux jiffies at 1000 Hz). */
const G_US = 1000;

export class RttEstimator {
  srttUs = 0;
  rttvarUs = 0;
  minRttUs = 0;
  latestUs = 0;
  /** Number of consecutive backoffs (RTO expiries without a new sample). */
  backoff = 0;
  private baseRtoUs: number;

  constructor(
    initialRtoUs: number,
    private readonly minRtoUs: number,
    private readonly maxRtoUs: number,
  ) {
    this.baseRtoUs = initialRtoUs;
  }

  /** RFC 6298 section 2.2 / 2.3. */
  sample(rttUs: number): void {
    const r = Math.max(1, Math.round(rttUs));
    this.latestUs = r;
    if (this.minRttUs === 0 || r < this.minRttUs) this.minRttUs = r;
    if (this.srttUs === 0) {
      this.srttUs = r;
      this.rttvarUs = r / 2;
    } else {
      this.rttvarUs = 0.75 * this.rttvarUs + 0.25 * Math.abs(this.srttUs - r);
      this.srttUs = 0.875 * this.srttUs + 0.125 * r;
    }
    this.baseRtoUs = Math.min(this.maxRtoUs, Math.max(this.minRtoUs, Math.round(this.srttUs + Math.max(G_US, 4 * this.rttvarUs))));
    this.backoff = 0;
  }

  /** The current RTO including backoff (RFC 6298 section 5.5), capped at the maximum. */
  get rtoUs(): number {
    return Math.min(this.maxRtoUs, this.baseRtoUs * 2 ** Math.min(this.backoff, 30));
  }

  /** RFC 6298 section 5.5. */
  backOff(): void {
    this.backoff++;
  }

  get hasSample(): boolean {
    return this.srttUs > 0;
  }
}
