// RFC 6298 SRTT / RTTVAR / RTO as Linux computes them (tcp_rtt_estimator, __tcp_set_rto):
// exponential backoff (RFC 6298 5.5); Karn's rule is applied by the caller (samples only from
// segments that were never retransmitted).
//
// Linux differs from RFC 6298 2.3 in two ways that move the RTO, and we follow it (the
// corpus's scripts are checked against Linux): the minimum RTO floors the variance term, not
// the sum (RTO = SRTT + max(4 * RTTVAR, rto_min), so a 10 ms path gets 210 ms), and the variance
// term only decays once per round trip (towards the largest deviation seen in the last one),
// while it grows at once. A decreasing RTT moves the deviation with weight 1/32, not 1/4.
import { seqGt } from "../wire/seq.ts";

export class RttEstimator {
  /** SRTT (µs). */
  srttUs = 0;
  minRttUs = 0;
  latestUs = 0;
  /** Number of consecutive backoffs (RTO expiries without a new sample). */
  backoff = 0;
  /** 4 * mean deviation (Linux mdev_us). */
  private mdev4Us = 0;
  /** Largest mdev4Us of this round trip, at least the minimum RTO (Linux mdev_max_us). */
  private mdevMaxUs = 0;
  /** The variance term of the RTO (Linux rttvar_us, 4 * RTTVAR floored at the minimum RTO). */
  private varTermUs = 0;
  /** snd_nxt when this round trip started (Linux rtt_seq). */
  private rttSeq = 0;
  private baseRtoUs: number;

  constructor(
    initialRtoUs: number,
    private readonly minRtoUs: number,
    private readonly maxRtoUs: number,
  ) {
    this.baseRtoUs = initialRtoUs;
  }

  /** Mean deviation of the RTT (µs; what Linux reports as tcpi_rttvar). */
  get rttvarUs(): number {
    return this.mdev4Us / 4;
  }

  /**
   * One RTT sample (RFC 6298 section 2.2 / 2.3, Linux tcp_rtt_estimator). `sndUna` and `sndNxt`
   * are the send sequence variables after the acknowledgment that produced the sample: a new
   * round trip starts when SND.UNA passes the SND.NXT of the previous one.
   */
  sample(rttUs: number, sndUna: number, sndNxt: number): void {
    const m = Math.max(1, Math.round(rttUs));
    this.latestUs = m;
    if (this.minRttUs === 0 || m < this.minRttUs) this.minRttUs = m;
    if (this.srttUs === 0) {
      this.srttUs = m;
      this.mdev4Us = 2 * m; // RTO = 3 * RTT
      this.varTermUs = Math.max(this.mdev4Us, this.minRtoUs);
      this.mdevMaxUs = this.varTermUs;
      this.rttSeq = sndNxt;
    } else {
      const err = m - this.srttUs;
      this.srttUs = Math.max(1, this.srttUs + err / 8);
      let d = Math.abs(err) - this.mdev4Us / 4;
      if (err < 0 && d > 0) d /= 8; // a falling RTT barely raises the deviation
      this.mdev4Us += d;
      if (this.mdev4Us > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdev4Us;
        if (this.mdevMaxUs > this.varTermUs) this.varTermUs = this.mdevMaxUs;
      }
      if (seqGt(sndUna, this.rttSeq)) {
        if (this.mdevMaxUs < this.varTermUs) this.varTermUs -= (this.varTermUs - this.mdevMaxUs) / 4;
        this.rttSeq = sndNxt;
        this.mdevMaxUs = this.minRtoUs;
      }
    }
    this.baseRtoUs = Math.min(this.maxRtoUs, Math.round(this.srttUs + this.varTermUs));
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
