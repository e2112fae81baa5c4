// Public types of the sans-IO TCP engine: configuration, events, counters, drop reasons and the
// "upper layer" hooks through which an MPTCP connection drives a subflow (RFC 8684 section 3).
import type { CongestionFactory } from "../congestion/types.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { KernelImpl } from "../kernels/types.ts";
import type { MptcpOption, TcpSegment } from "../wire/types.ts";

/** The injected random source: core/crypto/random.ts's RandomSource (this alias is kept for old imports). */
export type TcpRandom = RandomSource;

/** RFC 9293 section 3.3.2 states. */
export type TcpState =
  | "CLOSED"
  | "LISTEN"
  | "SYN_SENT"
  | "SYN_RECEIVED"
  | "ESTABLISHED"
  | "FIN_WAIT_1"
  | "FIN_WAIT_2"
  | "CLOSE_WAIT"
  | "CLOSING"
  | "LAST_ACK"
  | "TIME_WAIT";

/** Why an incoming segment was dropped (counted in `stats().drops`). */
export type TcpDropReason =
  | "Closed" // the connection is CLOSED
  | "NoAck" // synchronized state, ACK flag missing
  | "BadAck" // ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 section 5), or bad SYN/ACK
  | "OutOfWindow" // sequence number not acceptable (RFC 9293 section 3.10.7.4)
  | "PawsFailed" // RFC 7323 section 5: timestamp older than TS.Recent
  | "BadRst" // RST not exactly at RCV.NXT (RFC 5961 section 3): challenge ACK or drop
  | "BadSyn" // SYN in a synchronized state (RFC 5961 section 4): challenge ACK
  | "Malformed" // contradictory flags (SYN+RST, SYN+FIN in LISTEN, ...)
  | "TooManyHoles" // out-of-order data refused by the reassembly buffer
  | "BufferFull" // data beyond the receive buffer
  | "UpperVeto"; // the upper layer (MPTCP) refused the segment

/** Why a connection reached CLOSED. */
export type TcpCloseReason =
  | "normal" // orderly close (TIME-WAIT expired, LAST-ACK acked, or closed before connecting)
  | "reset" // the peer sent an acceptable RST
  | "refused" // RST in answer to our SYN
  | "timeout" // retransmission limit, user timeout or keepalive
  | "aborted"; // local abort() (we sent RST)

export type TcpEvent =
  | { type: "connected" }
  | { type: "readable" }
  | { type: "writable" }
  | { type: "peerFin" }
  | { type: "reset" }
  | { type: "closed"; reason: TcpCloseReason };

export interface TcpConfig {
  /** MSS we announce and the upper bound of what we send (bytes of payload, no options). */
  mss: number;
  /** Path MTU (bytes of IP packet): both MSS values are clamped to it. */
  mtu: number;
  /** IPv6 (40-byte IP header) rather than IPv4 (20). */
  ipv6: boolean;
  /** Largest send buffer (Linux tcp_wmem[2]): what write() takes at most beyond SND.UNA. */
  sendBufferSize: number;
  /**
   * Send-buffer autotuning (Linux, default on): write() takes up to 2 * max(cwnd, 10) segments of
   * Linux's per-segment buffer memory (tcp_sndbuf_expand: 87040 bytes at MSS 1460 and IW10),
   * grown as the congestion window grows, never above sendBufferSize. false: sendBufferSize.
   */
  sendBufferAutotune?: boolean;
  /**
   * Largest receive buffer (Linux tcp_rmem[2]; the window scale is chosen for it). A connection
   * starts with min(128 KiB, this) (tcp_rmem[1]) and receive-buffer autotuning grows it with the
   * rate the application reads at; the window is the share of the buffer Linux leaves after its
   * per-segment overhead (about 5/8 for full segments, 1/2 before the first one), and the byte
   * ring behind it starts at 16 KiB and grows with what the window lets in.
   */
  receiveBufferSize: number;
  windowScaling: boolean;
  sack: boolean;
  timestamps: boolean;
  /** RFC 6928 initial window in segments (10). */
  initialWindowSegments: number;
  minRtoUs: number;
  initialRtoUs: number;
  maxRtoUs: number;
  delayedAckUs: number;
  /**
   * Most data segments acknowledged immediately after the first one, or after an idle sender
   * (Linux TCP_MAX_QUICKACKS; fewer with a small window); each segment that grows the window
   * is ACKed at once too, and none while the connection is interactive ("pingpong").
   */
  quickAckSegments: number;
  timeWaitUs: number;
  /**
   * How long a connection closed with close() waits in FIN_WAIT_2 for the peer's FIN before it
   * is dropped (Linux tcp_fin_timeout, 60 s); 0 = forever. Not used after shutdown() alone.
   */
  finWait2TimeoutUs: number;
  keepalive: boolean;
  keepaliveIdleUs: number;
  keepaliveIntervalUs: number;
  keepaliveProbes: number;
  /** RFC 5482 / RFC 9293 user timeout: unacknowledged data older than this aborts (0 = off). */
  userTimeoutUs: number;
  /**
   * SYN (or SYN/ACK) retransmissions before giving up (Linux tcp_syn_retries = 6). An active
   * open adds `synLinearTimeouts` to it (Linux tcp_write_timeout since 6.7).
   */
  synRetries: number;
  /**
   * Retransmissions of an active open's SYN that keep the initial RTO instead of doubling it
   * (Linux tcp_syn_linear_timeouts = 4: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, ... s); 0 = RFC 6298
   * exponential backoff from the first. The passive side's SYN/ACK always backs off.
   */
  synLinearTimeouts: number;
  /** Data retransmissions (RTO expiries in a row) before giving up (Linux tcp_retries2 = 15). */
  retries: number;
  /** Disable Nagle's algorithm. */
  noDelay: boolean;
  /** RACK-TLP (RFC 8985) loss detection and tail loss probes. */
  rack: boolean;
  tlp: boolean;
  /** RFC 6937 Proportional Rate Reduction of the sending rate during fast recovery (Linux). */
  prr: boolean;
  /** RFC 5961 challenge ACKs per second (per connection). */
  challengeAckLimit: number;
  /**
   * Least time between two ACKs answering unacceptable segments that carry no data (out of
   * window, or PAWS-failed): Linux's tcp_invalid_ratelimit (500 ms). 0 = no limit.
   */
  oowAckIntervalUs: number;
  /** Congestion controller factory; one controller per connection. */
  congestion: CongestionFactory | undefined;
  /**
   * Data-plane kernel of the receive buffer (core/kernels): "wasm" (default build variant), a
   * named WASM variant, or "ts" for the pure-TS twin.
   */
  kernel: KernelImpl;
}

/** Everything an MPTCP layer may want to know about an outgoing segment. */
export interface TcpOutgoingInfo {
  /** TCP_* flag bits of the segment. */
  flags: number;
  seq: number;
  /** Payload bytes. */
  length: number;
  /** Opaque meta of the data (the DSS mapping handed out with pullData). */
  meta: unknown;
  retransmission: boolean;
}

/** Verdict of the upper layer on an incoming segment. */
export type TcpVerdict = "accept" | "drop" | "reset";

/**
 * Hooks that let an MPTCP connection drive this TCP connection as a subflow. Every hook is
 * optional; plain TCP uses none. The connection calls them synchronously from inside its own
 * handle* / poll* methods; hooks must not re-enter the connection's state-changing methods.
 */
export interface TcpUpperLayer {
  /** (b) Before TCP processing of an incoming segment. "drop" discards it, "reset" answers RST. */
  inspectIncoming?(seg: TcpSegment, state: TcpState): TcpVerdict;
  /** (b) After TCP processing of an incoming segment that was not dropped. */
  afterIncoming?(seg: TcpSegment, state: TcpState): void;
  /** (a) MPTCP options to add to an outgoing segment, at most `budget` bytes once encoded. */
  outgoingOptions?(info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined;
  /** (c) Receive window to advertise, in bytes (connection level, relative to DATA_ACK). */
  receiveWindow?(): number;
  /**
   * (c') The window (bytes) to put in the header of a segment, given the one this TCP would
   * offer (`own`, already capped, SWS-avoided and scaled down to `wscale` units). When present
   * and it answers, it replaces TCP's own never-shrink rule (MPTCP: the right edge is kept per
   * connection, Linux mptcp_set_rwin); undefined keeps TCP's rule.
   */
  advertiseWindow?(own: number, wscale: number): number | undefined;
  /**
   * (d) In-order subflow payload starting at `seq`. When present, payload bypasses the
   * connection's own receive buffer and read() returns nothing. The bytes are only valid
   * during the call.
   */
  deliver?(seq: number, data: Uint8Array): void;
  /**
   * (e) Pull up to `maxBytes` of new data to send. Returning undefined (or empty data) means
   * nothing to send now. `meta` is kept with the segment and passed back in TcpOutgoingInfo
   * on every (re)transmission and in `acked`. When present, write() is not used.
   */
  pullData?(maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined;
  /** Subflow-level cumulative acknowledgement of a segment that carried `meta`. */
  acked?(meta: unknown): void;
  /**
   * (a') Option bytes the upper layer will need on an outgoing segment (flags, payload length),
   * reserved before SACK blocks are added (Linux computes the MPTCP option size first). Also
   * asked, with the send MSS as the length, before new data is pulled: that segment's payload
   * is reduced by it (and by its SACK blocks) so that it fits the path MTU (Linux
   * tcp_current_mss). For data the answer may depend on `length > 0` only, not on the length.
   */
  optionSpace?(flags: number, length: number): number;
}

/** Per-connection counters (plain snapshot). */
export interface TcpStats {
  state: TcpState;
  segmentsIn: number;
  segmentsOut: number;
  dataSegmentsOut: number;
  bytesSent: number;
  bytesReceived: number;
  bytesAcked: number;
  /** Payload bytes delivered in order (to read() or the upper layer). */
  bytesDelivered: number;
  retransSegments: number;
  retransBytes: number;
  fastRetransmits: number;
  rtoExpiries: number;
  tlpProbes: number;
  rackMarkedLost: number;
  recoveries: number;
  dupAcksIn: number;
  sackBlocksIn: number;
  dsacksIn: number;
  dsacksOut: number;
  /** Recovery episodes undone because every retransmission was DSACKed (spurious). */
  spuriousRecoveries: number;
  /** Retransmissions the peer reported as duplicates (DSACK). */
  spuriousRetransmits: number;
  challengeAcks: number;
  /**
   * ACKs not sent to unacceptable segments without data (rate limit `oowAckIntervalUs`): Linux's
   * TCPACKSkippedSeq + TCPACKSkippedPAWS.
   */
  oowAcksSkipped: number;
  outOfOrderSegments: number;
  zeroWindowProbes: number;
  keepaliveProbes: number;
  delayedAcks: number;
  srttUs: number;
  rttvarUs: number;
  minRttUs: number;
  rtoUs: number;
  cwnd: number;
  ssthresh: number;
  inFlight: number;
  sndWnd: number;
  rcvWnd: number;
  /** Receive buffer as autotuned (Linux sk_rcvbuf, `ss -m` rb): the window is a share of it. */
  rcvBuf: number;
  /** Most the window may grow to now (Linux tcpi_rcv_ssthresh). */
  rcvSsthresh: number;
  /** Bytes of byte ring allocated behind the receive window (0 once freed). */
  rcvRing: number;
  sndMss: number;
  drops: Partial<Record<TcpDropReason, number>>;
}
