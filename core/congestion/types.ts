// The congestion-control interface of a TCP subflow (RFC 5681 vocabulary). One controller per
// subflow, made by a factory; coupled controllers (LIA, OLIA, BALIA) share state through the
// `coupling` object the factory hands to every subflow of one MPTCP connection.
// All sizes in bytes, all times in integer microseconds.

export interface CongestionAckSample {
  now: number;
  /** Bytes newly acknowledged by this ACK (cumulatively or by SACK). */
  ackedBytes: number;
  /** Bytes in flight after this ACK was processed. */
  inFlight: number;
  /** An RTT sample taken from this ACK, if any (Karn's rule applied by the caller). */
  rttUs?: number;
  /** The subflow's smoothed RTT, 0 before the first sample. */
  srttUs: number;
  /** Smallest RTT seen on the subflow, 0 before the first sample. */
  minRttUs: number;
  /** True while the sender is in fast recovery (no window growth then). */
  inRecovery: boolean;
  /** True when the sender could not fill the window (application- or rwnd-limited). */
  appLimited: boolean;
}

export interface CongestionController {
  readonly name: string;
  /** Congestion window in bytes (never below one MSS). */
  readonly cwnd: number;
  /** Slow-start threshold in bytes (Infinity until the first congestion event). */
  readonly ssthresh: number;
  /** New data was acknowledged. */
  onAck(sample: CongestionAckSample): void;
  /** Loss detected by fast retransmit / SACK / RACK: enter recovery (once per window). */
  onCongestionEvent(now: number, inFlight: number): void;
  /** Fast recovery is over (all data outstanding at its start is acknowledged). */
  onRecoveryExit(now: number): void;
  /** The retransmission timer expired. */
  onRto(now: number, inFlight: number): void;
  /** A previous congestion response was spurious (e.g. DSACK or Eifel): undo it if supported. */
  onSpurious?(now: number): void;
  /** Pacing rate in bytes per second, or undefined for no pacing. */
  pacingRate?(srttUs: number): number | undefined;
  /** The MSS changed (path MTU). */
  setMss(mss: number): void;
  /**
   * The subflow is gone (closed or reset): coupled controllers drop it from the connection's
   * shared state. Uncoupled controllers may omit this. No other call follows it.
   */
  release?(): void;
}

export interface CongestionContext {
  /** Sender MSS in bytes. */
  mss: number;
  now: number;
  /** Initial window in segments (RFC 6928: 10). */
  initialWindowSegments?: number;
}

/** Makes one controller per subflow. Coupled algorithms keep shared state in the factory. */
export interface CongestionFactory {
  readonly name: string;
  create(ctx: CongestionContext): CongestionController;
}
