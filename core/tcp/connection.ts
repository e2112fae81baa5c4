// RFC 9293 section 3.10 (event processing) with RFC 5961 (sections 3-5, challenge ACKs),
// RFC 7323 (window scale, timestamps, PAWS), RFC 2018 + RFC 2883 (SACK, D-SACK), RFC 6675
// (SACK loss recovery), RFC 6582 (NewReno), RFC 6298 (RTO), RFC 8985 (RACK-TLP), RFC 1122
// 4.2.3.2 (delayed ACK), RFC 9293 3.8.6 (SWS avoidance, zero-window probes), RFC 5482 (user
// timeout), RFC 1122 4.2.3.6 (keepalive). State transitions: state.ts.
//
// Driver order (DESIGN.md convention 2): after each input (handleSegment / handleTimeout /
// a command), drain pollTransmit(now) until undefined, then pollEvent() until undefined, then
// re-arm one timer at pollTimeout().
import { cubicFactory } from "../congestion/cubic.ts";
import type { CongestionController } from "../congestion/types.ts";
import { randomU32 } from "../crypto/random.ts";
import type { RandomSource } from "../crypto/random.ts";
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { createReceiveBuffer } from "../kernels/factory.ts";
import { Refusal } from "../kernels/types.ts";
import { MAX_CAPACITY } from "../kernels/reassembly.ts";
import type { ReceiveBuffer } from "../kernels/types.ts";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from "../wire/seq.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from "../wire/types.ts";
import type { SackBlock, TcpOptions, TcpSegment } from "../wire/types.ts";
import { SendBytes, sndbufFor } from "./buffers.ts";
import { DEFAULT_TCP_CONFIG, windowScaleFor } from "./config.ts";
import { RttEstimator } from "./rtt.ts";
import { Scoreboard, TxSeg } from "./scoreboard.ts";
import { canReceiveData, isSynchronized, nextState } from "./state.ts";
import type { TcpTransition } from "./state.ts";
import type {
  TcpCloseReason,
  TcpConfig,
  TcpDropReason,
  TcpEvent,
  TcpState,
  TcpStats,
  TcpUpperLayer,
} from "./types.ts";

/** The closed table of timers (DESIGN.md convention 3). */
export const TcpTimer = {
  Rto: 0,
  DelayedAck: 1,
  Persist: 2,
  Keepalive: 3,
  TimeWait: 4,
  UserTimeout: 5,
  Tlp: 6,
  Pacing: 7,
  Reorder: 8,
  /** FIN_WAIT_2 after close() (no more reading): Linux tcp_fin_timeout. */
  FinWait2: 9,
} as const;
const NTIMERS = 10;
/**
 * The order in which handleTimeout fires due timers: a loss probe due no later than the RTO
 * goes first (it was armed at min(PTO, RTO), Linux tcp_schedule_loss_probe), and re-arms the RTO.
 */
const TIMER_ORDER: readonly number[] = [TcpTimer.Tlp, TcpTimer.Rto, 1, 2, 3, 4, 5, 7, 8, 9];
const OFF = Infinity;

export interface TcpConnectionOptions {
  localPort: number;
  remotePort: number;
  random: RandomSource;
  config?: Partial<TcpConfig>;
  upper?: TcpUpperLayer;
  /**
   * Our initial sequence number instead of a random one (the host's TIME-WAIT reuse puts the new
   * connection's sequence space above the old one's, as Linux: SND.NXT + 65537).
   */
  initialSeq?: number;
}

interface SackRange {
  start: number;
  end: number;
  stamp: number;
}

/**
 * Cap on out-of-order ranges held by the receive buffer (Linux has none). 10% reordering at
 * 1 Gbit/s needs ~60; at the kernels' default of 32, refused segments were retransmitted and the
 * retransmissions were reordered again (a storm), so the cap is far above what a path needs.
 */
const MAX_HOLES = 1024;
/**
 * First size of the receive buffer's ring: it grows (doubling) up to `receiveBufferSize` as the
 * peer fills the window, so an idle connection (or an MPTCP subflow that hands its bytes on at
 * once) holds 64 KiB, not the whole configured buffer. Growth is amortised, not per packet.
 */
const INITIAL_RCV_RING = 16 * 1024;
/** Linux tcp_rmem[1]: the receive buffer a connection starts with, before autotuning grows it. */
const INITIAL_RCV_BUF = 131072;
/** Linux TCP_RMEM_TO_WIN_SCALE: the scaling ratio is in 1/256ths. */
const RATIO_SHIFT = 8;
/** Linux TCP_DEFAULT_SCALING_RATIO: half the buffer is window until a segment is measured. */
const DEFAULT_SCALING_RATIO = 128;
/** Linux SOCK_MIN_RCVBUF: the least receive buffer (a smaller one could never open a window). */
const MIN_RCV_BUF = 2304;
/** Linux SOCK_MIN_RCVBUF / 2: the least window clamp. */
const MIN_WINDOW_CLAMP = MIN_RCV_BUF / 2;
/** Most delayed-ACK timeout in interactive ("pingpong") mode (Linux TCP_DELACK_MAX). */
const DELACK_MAX_US = 200_000;

/**
 * What Linux charges a received segment of `len` payload bytes against the receive buffer (its
 * skb truesize, as for a packet received over TUN): the packet with its headers and the
 * NET_SKB_PAD headroom plus skb_shared_info, rounded up to a kmalloc size class (pages above
 * 4 KiB), plus the sk_buff itself. This overhead is why a Linux window is a fraction of the
 * buffer (the scaling ratio: 1460 / 2304 for a full segment). Our ring holds bare bytes; the
 * model is kept so that the windows we advertise are Linux's.
 */
export function segmentTruesize(len: number): number {
  const n = len + 448;
  let size = 512;
  if (n <= 4096) while (size < n) size *= 2;
  else size = Math.ceil(n / 4096) * 4096;
  return size + 256;
}
const DUP_THRESH = 3;
/** RFC 8985 section 7.2: worst-case delayed-ACK time added to the PTO with one segment in flight. */
const WC_DEL_ACK_US = 200_000;

export class TcpConnection {
  readonly config: Readonly<TcpConfig>;
  readonly localPort: number;
  readonly remotePort: number;
  private readonly random: RandomSource;
  private readonly upper: TcpUpperLayer | undefined;
  private readonly issOpt: number | undefined;

  private st: TcpState = "CLOSED";
  private active = false;
  private closeReason: TcpCloseReason | undefined;
  private readonly timers: number[] = new Array<number>(NTIMERS).fill(OFF);
  private readonly events: TcpEvent[] = [];
  private evHead = 0;
  private readablePending = false;
  private writeBlocked = false;

  // ---- send sequence variables (RFC 9293 section 3.3.1)
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  private sndWscale = 0;
  private sndMss = 536;
  private readonly advMss: number;
  private readonly sendQ: SendBytes;
  /**
   * Linux sk_sndbuf: the send buffer autotuned with the congestion window (tcp_sndbuf_expand),
   * never shrinking, at most config.sendBufferSize. It bounds write() when
   * config.sendBufferAutotune is on (not for a subflow driven by pullData: its owner bounds the
   * data, and sums this over its subflows).
   */
  private sndBuf: number;
  private readonly sndBufAuto: boolean;
  private readonly sb = new Scoreboard();
  /** Bytes in sendQ already sent once (sendQ index of the next new byte). */
  private sentBytes = 0;
  private finQueued = false;
  private finSent = false;
  private finSeq = 0;
  private synPending = false;
  /** End of the last new-data segment shorter than the MSS (Linux snd_sml, Minshall's Nagle). */
  private sndSml = 0;
  private synRetrans = 0;
  private synSentAt = 0;
  private rstPending: { seq: number; ack: number; withAck: boolean; upper?: boolean } | undefined;
  /** The RST being built was asked for by the upper layer (it may carry its options). */
  private rstUpper = false;

  // ---- receive sequence variables
  private irs = 0;
  private rcvNxt = 0;
  private rcvAdv = 0;
  private rcvWscale = 0;
  private readonly ourWscale: number;
  /**
   * The receive buffer: a data-plane kernel (core/kernels, width 32, `config.kernel`). Made when
   * the peer's ISN is known; freed (dispose(), which returns its WASM memory) once no byte can
   * arrive or be read any more: see freeReceiveBufferIfDone() and dispose(). Views on it are
   * never kept across calls (the WASM view-validity rule): bytes leave it by read() copies.
   */
  private rcvBuf: ReceiveBuffer | undefined;
  private readClosed = false;
  private peerFin = false;
  private oooFin: number | undefined;
  private sackRanges: SackRange[] = [];
  private sackStamp = 0;
  private dsack: SackBlock | undefined;
  private ackPending = false;
  private segsSinceAck = 0;
  /** Linux icsk_ack.quick: ACKs still to send at once (quick-ACK mode). */
  private quick = 0;
  /** Linux icsk_ack.pingpong: replies sent within the ACK timeout of the peer's data. */
  private pingpong = 0;
  /** Linux icsk_ack.ato (0 until the first data segment) and lrcvtime. */
  private ato = 0;
  private lrcvTime = 0;
  /** Time of the latest input (read() takes none: autotuning uses this). */
  private lastNow = 0;

  // ---- receive window (Linux tcp_select_window, tcp_grow_window, tcp_rcv_space_adjust): plain
  // TCP only; a subflow whose upper layer gives the receive window keeps that one.
  /** sk_rcvbuf: starts at tcp_rmem[1] (or receiveBufferSize when smaller), grows by autotuning. */
  private rcvBufSize: number;
  /** Its largest size (and the ring's): receiveBufferSize, at least SOCK_MIN_RCVBUF. */
  private readonly maxRcvBuf: number;
  /** Window bytes per buffer byte, in 1/256ths (Linux scaling_ratio). */
  private scalingRatio = DEFAULT_SCALING_RATIO;
  private windowClamp = 0;
  private rcvSsthresh = 0;
  /** RCV.NXT when the last window was announced (Linux rcv_wup). */
  private rcvWup = 0;
  /** The peer's segment size as we see it (Linux icsk_ack.rcv_mss). */
  private rcvMss = 536;
  private rcvqSpace = 0;
  private rcvqSeq = 0;
  private rcvqTime = 0;
  /** Receiver-side RTT estimate (Linux rcv_rtt_est), µs; 0 = none yet. */
  private rcvRttUs = 0;
  private rcvRttSeq = 0;
  private rcvRttTime = -1;
  private rcvRttLastEcr = 0;
  /** Linux rcv_wnd: the window of the last ACK, from rcvWup. */
  private rcvWndVal = 0;
  private lastSegSize = 0;
  /** TSecr of the segment being processed (0 = none). */
  private segEcr = 0;
  /** Data arrived since the last ACK we sent (Linux ICSK_ACK_SCHED). */
  private ackSched = false;
  private probePending = false;
  private forceSend = false;
  private persistBackoff = 0;
  private keepaliveSent = 0;
  private lastRecvAt = 0;

  // ---- options
  private wsOk = false;
  private sackOk = false;
  private tsOk = false;
  private tsRecent = 0;
  private tsRecentAt = 0;
  private readonly tsOffset: number;

  // ---- RTT, congestion, recovery
  private readonly rtt: RttEstimator;
  private ccImpl: CongestionController | undefined;
  private caState: "open" | "recovery" | "loss" = "open";
  private recoveryPoint = 0;
  private dupAcks = 0;
  private renoSacked = 0;
  private rtoInARow = 0;
  private progressAt = 0;
  private undoRetrans = 0;
  private undoValid = false;
  private rackXmit = -1;
  private rackEndSeq = 0;
  private rackRtt = 0;
  private rackReorderSeen = false;
  private reoWndMult = 1;
  private dsackRoundEnd: number | undefined;
  private tlpPending = false;
  private tlpOutstanding = false;
  private pacingNext = 0;
  private challengeWindowStart = -1;
  private challengeCount = 0;
  private readonly scratch = new Uint8Array(65536);
  /** Start sequence numbers of recent retransmissions (to tell spurious ones by D-SACK). */
  private readonly retransLog = new Set<number>();

  private readonly s: Omit<TcpStats, "state" | "srttUs" | "rttvarUs" | "minRttUs" | "rtoUs" | "cwnd" | "ssthresh" | "inFlight" | "sndWnd" | "rcvWnd" | "rcvBuf" | "rcvSsthresh" | "rcvRing" | "sndMss"> = {
    segmentsIn: 0,
    segmentsOut: 0,
    dataSegmentsOut: 0,
    bytesSent: 0,
    bytesReceived: 0,
    bytesAcked: 0,
    bytesDelivered: 0,
    retransSegments: 0,
    retransBytes: 0,
    fastRetransmits: 0,
    rtoExpiries: 0,
    tlpProbes: 0,
    rackMarkedLost: 0,
    recoveries: 0,
    dupAcksIn: 0,
    sackBlocksIn: 0,
    dsacksIn: 0,
    dsacksOut: 0,
    spuriousRecoveries: 0,
    spuriousRetransmits: 0,
    challengeAcks: 0,
    oowAcksSkipped: 0,
    outOfOrderSegments: 0,
    zeroWindowProbes: 0,
    keepaliveProbes: 0,
    delayedAcks: 0,
    drops: {},
  };

  constructor(opts: TcpConnectionOptions) {
    const cfg: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...(opts.config ?? {}) };
    if (!(cfg.mss >= 64 && cfg.mss <= 65495)) throw new InvalidArgumentError(`mss out of range: ${cfg.mss}`);
    if (!(cfg.receiveBufferSize >= 1 && cfg.receiveBufferSize <= MAX_CAPACITY)) throw new InvalidArgumentError("receiveBufferSize out of range");
    if (!(cfg.sendBufferSize >= 1 && cfg.sendBufferSize <= MAX_CAPACITY)) throw new InvalidArgumentError("sendBufferSize out of range");
    if (!Number.isInteger(opts.localPort) || opts.localPort < 0 || opts.localPort > 65535) throw new InvalidArgumentError("bad localPort");
    if (!Number.isInteger(opts.remotePort) || opts.remotePort < 0 || opts.remotePort > 65535) throw new InvalidArgumentError("bad remotePort");
    this.config = cfg;
    this.localPort = opts.localPort;
    this.remotePort = opts.remotePort;
    this.random = opts.random;
    this.upper = opts.upper;
    if (opts.initialSeq !== undefined && !(Number.isInteger(opts.initialSeq) && opts.initialSeq >= 0 && opts.initialSeq < 2 ** 32)) throw new InvalidArgumentError("initialSeq must be a u32");
    this.issOpt = opts.initialSeq;
    this.advMss = Math.min(cfg.mss, cfg.mtu - (cfg.ipv6 ? 40 : 20) - 20);
    this.ourWscale = cfg.windowScaling ? windowScaleFor(cfg.receiveBufferSize) : 0;
    this.sendQ = new SendBytes(cfg.sendBufferSize);
    this.sndBufAuto = cfg.sendBufferAutotune !== false && !opts.upper?.pullData;
    // From the start the size Linux gives it once the connection is established (Linux: 16 KiB
    // before, but its writes wait for the connection; ours are taken in SYN_SENT too).
    this.sndBuf = Math.min(cfg.sendBufferSize, sndbufFor(0, this.advMss));
    if (this.sndBufAuto) this.sendQ.limit = this.sndBuf;
    this.maxRcvBuf = Math.max(MIN_RCV_BUF, cfg.receiveBufferSize);
    this.rcvBufSize = Math.min(INITIAL_RCV_BUF, this.maxRcvBuf);
    this.rtt = new RttEstimator(cfg.initialRtoUs, cfg.minRtoUs, cfg.maxRtoUs);
    this.tsOffset = randomU32(this.random);
  }

  // =============================================================================== getters

  get state(): TcpState {
    return this.st;
  }

  /** Why the connection closed (undefined while open). */
  get closedReason(): TcpCloseReason | undefined {
    return this.closeReason;
  }

  /** Bytes ready for read(). */
  get readable(): number {
    return this.rcvBuf?.readable ?? 0;
  }

  /** Free space in the send buffer. */
  get writable(): number {
    return this.upper?.pullData ? 0 : this.sendQ.free;
  }

  /** Bytes written but not yet acknowledged. */
  get unacked(): number {
    return this.sendQ.length;
  }

  /**
   * The autotuned send-buffer size in bytes (Linux sk_sndbuf after tcp_sndbuf_expand), at most
   * config.sendBufferSize; write() takes up to it when config.sendBufferAutotune is on.
   */
  get sendBuffer(): number {
    return this.sndBuf;
  }

  /** The effective send MSS (payload bytes per segment). */
  get mss(): number {
    return this.sndMss;
  }

  get peerFinReceived(): boolean {
    return this.peerFin;
  }

  /** Initial send / receive sequence numbers (for the MPTCP layer's relative SSNs). */
  get initialSendSeq(): number {
    return this.iss;
  }
  get initialRecvSeq(): number {
    return this.irs;
  }

  /** RCV.NXT (for TIME-WAIT reuse checks by the host). */
  get receiveNext(): number {
    return this.rcvNxt;
  }

  /** SND.NXT (the host starts a connection that reuses this one's 4-tuple above it). */
  get sendNext(): number {
    return this.sndNxt;
  }

  /**
   * May this SYN reuse the 4-tuple of this connection in TIME-WAIT (RFC 9293 3.6.1, RFC 6191)?
   * As Linux's tcp_timewait_state_process: a SYN without ACK or RST, not rejected by PAWS (its
   * timestamp not older than TS.Recent, when timestamps are in use), whose sequence number is
   * beyond RCV.NXT or whose timestamp is newer than TS.Recent.
   */
  timeWaitAcceptsSyn(seg: TcpSegment): boolean {
    const h = seg.header;
    if (this.st !== "TIME_WAIT" || (h.flags & (TCP_SYN | TCP_ACK | TCP_RST)) !== TCP_SYN) return false;
    const ts = this.tsOk ? h.options.timestamp : undefined;
    if (ts && seqLt(ts.val >>> 0, this.tsRecent)) return false;
    return seqGt(h.seq, this.rcvNxt) || (ts !== undefined && seqGt(ts.val >>> 0, this.tsRecent));
  }

  /** True when this side sent the first SYN (connect()). */
  get activeOpen(): boolean {
    return this.active;
  }

  /** The congestion controller (undefined before connect/listen). */
  get congestion(): CongestionController | undefined {
    return this.ccImpl;
  }

  /** Smoothed RTT in µs (0 before the first sample): for the MPTCP scheduler. */
  get srttUs(): number {
    return this.rtt.srttUs;
  }

  /** Congestion window in bytes (for the MPTCP scheduler). */
  get cwndBytes(): number {
    return this.ccImpl?.cwnd ?? 0;
  }

  /** Bytes in flight (for the MPTCP scheduler). */
  get bytesInFlight(): number {
    return this.inFlight();
  }

  /**
   * The peer's send window SND.WND in bytes, as its last window update said (for the MPTCP
   * scheduler): 0 while the window is closed (persist state: only probes go until an update).
   */
  get sendWindow(): number {
    return this.sndWnd;
  }

  /** Asks for an ACK on the next pollTransmit (an MPTCP layer signalling on a pure ACK). */
  requestAck(): void {
    if (isSynchronized(this.st) && this.st !== "CLOSED") this.ackPending = true;
  }

  /**
   * Asks for a pure ACK (no data) on the next pollTransmit, ahead of any data: an MPTCP layer's
   * ADD_ADDR / MP_FAIL that do not fit next to a DSS mapping (Linux: tcp_send_ack from the PM).
   */
  requestPureAck(): void {
    if (isSynchronized(this.st) && this.st !== "CLOSED") this.pureAckPending = true;
  }
  private pureAckPending = false;

  stats(): TcpStats {
    return {
      ...this.s,
      drops: { ...this.s.drops },
      state: this.st,
      srttUs: Math.round(this.rtt.srttUs),
      rttvarUs: Math.round(this.rtt.rttvarUs),
      minRttUs: this.rtt.minRttUs,
      rtoUs: this.rtt.rtoUs,
      cwnd: this.ccImpl?.cwnd ?? 0,
      ssthresh: this.ccImpl?.ssthresh ?? Infinity,
      inFlight: this.inFlight(),
      sndWnd: this.sndWnd,
      rcvWnd: Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt)),
      rcvBuf: this.rcvBufSize,
      rcvSsthresh: this.rcvSsthresh,
      rcvRing: this.rcvBuf?.capacity ?? 0,
      sndMss: this.sndMss,
    };
  }

  // =============================================================================== commands

  /** Active open: sends a SYN (RFC 9293 section 3.10.1). */
  connect(now: number): void {
    if (this.st !== "CLOSED" || this.closeReason !== undefined) throw new InvalidStateError(`connect() in ${this.st}`);
    this.iss = this.issOpt ?? randomU32(this.random);
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndSml = this.iss;
    this.synPending = true;
    this.active = true;
    this.go("ACTIVE_OPEN");
    this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
  }

  /** Passive open: the next SYN handed to handleSegment opens the connection. */
  listen(): void {
    if (this.st !== "CLOSED" || this.closeReason !== undefined) throw new InvalidStateError(`listen() in ${this.st}`);
    this.go("PASSIVE_OPEN");
  }

  /** Queues bytes for sending; returns how many were accepted (bounded by the send buffer). */
  write(bytes: Uint8Array): number {
    if (this.upper?.pullData) throw new InvalidStateError("write() on a subflow driven by pullData");
    if (this.finQueued) {
      throw new InvalidStateError(`write() after shutdown or in ${this.st}`);
    }
    if (!(this.st === "SYN_SENT" || this.st === "SYN_RECEIVED" || this.st === "ESTABLISHED" || this.st === "CLOSE_WAIT")) {
      throw new InvalidStateError(`write() in ${this.st}`);
    }
    const n = this.sendQ.push(bytes);
    if (n < bytes.length) this.writeBlocked = true;
    return n;
  }

  /** Copies in-order received bytes into dst; returns the count (0 when none). */
  read(dst: Uint8Array): number {
    const rb = this.rcvBuf;
    if (!rb || rb.readable === 0) return 0;
    const n = rb.read(dst, 0, dst.length);
    this.s.bytesDelivered += n;
    if (n > 0 && this.ownWindow) this.rcvSpaceAdjust(this.lastNow);
    this.freeReceiveBufferIfDone();
    if (n > 0 && isSynchronized(this.st) && canReceiveData(this.st)) {
      // Linux tcp_cleanup_rbuf (RFC 9293 3.8.6.2.2 leaves the amount open): the ACK held back
      // for more than one segment goes now; else announce the window when the advertised one is
      // at most half the largest, and the read at least doubled it.
      const cur = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
      if (this.ackSched && seqDiff(this.rcvNxt, this.rcvWup) > this.rcvMss) this.ackPending = true;
      else if (this.ownWindow) {
        if (2 * cur <= this.windowClamp) {
          const after = this.selectWindow();
          if (after > 0 && after >= 2 * cur) this.ackPending = true;
        }
      } else {
        const clamp = Math.min(this.config.receiveBufferSize, 65535 * 2 ** this.rcvWscale);
        if (2 * cur <= clamp) {
          const after = this.windowToAdvertise();
          if (after > 0 && after >= 2 * cur) this.ackPending = true;
        }
      }
    }
    return n;
  }

  /** Half close: a FIN follows the queued data (RFC 9293 CLOSE on the send side). */
  shutdown(): void {
    switch (this.st) {
      case "CLOSED":
      case "LISTEN":
        throw new InvalidStateError(`shutdown() in ${this.st}`);
      case "SYN_SENT":
      case "SYN_RECEIVED":
        this.finQueued = true; // sent after the handshake
        return;
      case "ESTABLISHED":
      case "CLOSE_WAIT":
        if (this.finQueued) return;
        this.finQueued = true;
        this.go("CLOSE");
        return;
      default:
        return; // already closing
    }
  }

  /**
   * Full close: shutdown(), and we will read no more. Unread data (now or later) answers RST
   * (RFC 1122 section 4.2.2.13). Before the handshake completes it just deletes the TCB.
   * Without the peer's FIN, FIN_WAIT_2 then ends after `finWait2TimeoutUs` (reason "timeout").
   */
  close(): void {
    if (this.st === "CLOSED") return;
    if (this.st === "LISTEN" || this.st === "SYN_SENT") {
      this.closeWith("normal");
      return;
    }
    this.readClosed = true;
    if ((this.rcvBuf?.readable ?? 0) > 0) {
      this.abort();
      return;
    }
    this.shutdown();
    // close() takes no time: the timer starts at the next pollTransmit(now) (driver order).
    if (this.st === "FIN_WAIT_2") this.finWait2Pending = true;
  }

  /**
   * FIN_WAIT_2 of a fully closed connection (close(), nobody reads) ends after
   * `finWait2TimeoutUs` without the peer's FIN, as Linux's orphaned sockets (tcp_fin_timeout);
   * after shutdown() alone it waits for the peer as long as it takes (RFC 9293).
   */
  private armFinWait2(now: number): void {
    this.finWait2Pending = false;
    if (this.st === "FIN_WAIT_2" && this.readClosed && this.config.finWait2TimeoutUs > 0) {
      this.setTimer(TcpTimer.FinWait2, now + this.config.finWait2TimeoutUs);
    }
  }
  private finWait2Pending = false;

  /** Drops the connection without telling the peer (TIME-WAIT reuse by the host). */
  abortSilently(): void {
    if (this.st !== "CLOSED") this.closeWith("aborted");
  }

  /**
   * Releases the receive buffer's memory now (WASM memory for the default kernel), discarding
   * unread bytes; a connection that is not CLOSED is dropped silently first (as abortSilently).
   * Ownership: the connection frees the buffer itself once it is CLOSED (or has the peer's FIN)
   * and every byte was read; call dispose() when abandoning a connection before that. Idempotent.
   */
  dispose(): void {
    this.abortSilently();
    this.disposeReceiveBuffer();
  }

  /** Abort: RST to the peer (in synchronized states), then CLOSED. */
  abort(): void {
    if (this.st === "CLOSED") return;
    if (this.st !== "LISTEN" && this.st !== "SYN_SENT") {
      this.rstPending = { seq: this.sndNxt, ack: this.rcvNxt, withAck: true };
    }
    this.closeWith("aborted");
  }

  // =============================================================================== poll

  pollEvent(): TcpEvent | undefined {
    if (this.evHead >= this.events.length) {
      if (this.evHead > 0) {
        this.events.length = 0;
        this.evHead = 0;
      }
      return undefined;
    }
    const e = this.events[this.evHead++]!;
    if (e.type === "readable") this.readablePending = false;
    return e;
  }

  pollTimeout(): number | undefined {
    let m = OFF;
    for (let i = 0; i < NTIMERS; i++) if (this.timers[i]! < m) m = this.timers[i]!;
    return m === OFF ? undefined : m;
  }

  /** The deadline of one timer (for tests and the MPTCP layer); undefined when off. */
  timerDeadline(t: number): number | undefined {
    const v = this.timers[t];
    return v === undefined || v === OFF ? undefined : v;
  }

  pollTransmit(now: number): TcpSegment | undefined {
    if (now > this.lastNow) this.lastNow = now;
    if (this.finWait2Pending) this.armFinWait2(now);
    if (this.rstPending) {
      const r = this.rstPending;
      this.rstPending = undefined;
      this.rstUpper = r.upper === true;
      const seg = this.build(now, r.withAck ? TCP_RST | TCP_ACK : TCP_RST, r.seq, r.ack, undefined, undefined, false, false);
      this.rstUpper = false;
      return seg;
    }
    switch (this.st) {
      case "CLOSED":
      case "LISTEN":
        return undefined;
      case "SYN_SENT":
        if (this.synPending) {
          this.synPending = false;
          this.synSentAt = now;
          return this.build(now, TCP_SYN, this.iss, 0, undefined, undefined, this.synRetrans > 0, true);
        }
        return undefined;
      case "SYN_RECEIVED":
        if (this.synPending) {
          this.synPending = false;
          this.ackPending = false;
          this.synSentAt = now;
          return this.build(now, TCP_SYN | TCP_ACK, this.iss, this.rcvNxt, undefined, undefined, this.synRetrans > 0, true);
        }
        break;
      default:
        break;
    }
    if (this.pureAckPending) {
      this.pureAckPending = false;
      if (isSynchronized(this.st) && this.st !== "SYN_RECEIVED") return this.build(now, TCP_ACK, this.sndNxt, this.rcvNxt, undefined, undefined, false, false);
    }
    if (this.st !== "SYN_RECEIVED" && this.st !== "TIME_WAIT" && this.st !== "FIN_WAIT_2") {
      const seg = this.transmitData(now);
      if (seg) return seg;
    }
    if (this.probePending) {
      this.probePending = false;
      // Zero-window / keepalive probe: an old sequence number elicits an ACK (Linux style).
      return this.build(now, TCP_ACK, seqAdd(this.sndUna, -1), this.rcvNxt, undefined, undefined, false, false);
    }
    if (this.ackPending) {
      return this.build(now, TCP_ACK, this.sndNxt, this.rcvNxt, undefined, undefined, false, false);
    }
    return undefined;
  }

  // =============================================================================== timers

  handleTimeout(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    for (const t of TIMER_ORDER) {
      if (this.timers[t]! > now) continue;
      this.timers[t] = OFF;
      if (this.st === "CLOSED") continue;
      switch (t) {
        case TcpTimer.Rto:
          this.onRto(now);
          break;
        case TcpTimer.DelayedAck:
          if (this.segsSinceAck > 0) {
            // Linux tcp_delack_timer_handler: a missed delayed ACK inflates the ACK timeout, or
            // ends interactive (pingpong) mode.
            if (this.pingpong === 0) this.ato = Math.min(2 * this.ato, this.rtt.rtoUs);
            else {
              this.pingpong = 0;
              this.ato = this.config.delayedAckUs;
            }
            this.ackPending = true;
            this.s.delayedAcks++;
          }
          break;
        case TcpTimer.Persist:
          this.onPersist(now);
          break;
        case TcpTimer.Keepalive:
          this.onKeepalive(now);
          break;
        case TcpTimer.TimeWait:
          if (this.st === "TIME_WAIT") this.closeWith("normal", "TIMEOUT_2MSL");
          break;
        case TcpTimer.FinWait2:
          if (this.st === "FIN_WAIT_2") this.closeWith("timeout");
          break;
        case TcpTimer.UserTimeout:
          if (this.sndNxt !== this.sndUna && now - this.progressAt >= this.config.userTimeoutUs && this.config.userTimeoutUs > 0) {
            this.closeWith("timeout");
          }
          break;
        case TcpTimer.Tlp:
          this.onTlp(now);
          break;
        case TcpTimer.Pacing:
          break; // pollTransmit sends what pacing held back
        case TcpTimer.Reorder:
          this.rackDetectLoss(now);
          this.maybeEnterRecovery(now);
          break;
      }
    }
  }

  private onRto(now: number): void {
    if (this.st === "SYN_SENT" || this.st === "SYN_RECEIVED") {
      // Linux 6.18 tcp_write_timeout / tcp_retransmit_timer: an active open's first
      // tcp_syn_linear_timeouts retransmissions keep the initial RTO, and add to the budget.
      const linear = this.st === "SYN_SENT" ? this.config.synLinearTimeouts : 0;
      if (this.synRetrans >= this.config.synRetries + linear) {
        this.closeWith("timeout");
        return;
      }
      this.synRetrans++;
      if (this.synRetrans > linear) this.rtt.backOff();
      this.synPending = true;
      this.s.retransSegments++;
      this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
      return;
    }
    if (this.sndNxt === this.sndUna) return;
    this.s.rtoExpiries++;
    this.rtoInARow++;
    if (this.rtoInARow > this.config.retries) {
      this.closeWith("timeout");
      return;
    }
    const flight = this.inFlight();
    this.ccImpl?.onRto(now, flight);
    if (this.caState === "open") this.startUndoEpisode();
    this.caState = "loss";
    this.recoveryPoint = this.sndNxt;
    this.sb.markAllLost();
    this.renoSacked = 0;
    this.dupAcks = 0;
    this.tlpPending = false;
    this.tlpOutstanding = false;
    this.setTimer(TcpTimer.Tlp, OFF);
    this.setTimer(TcpTimer.Reorder, OFF);
    this.rtt.backOff();
    this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
  }

  private onPersist(now: number): void {
    if (!this.needsPersist()) {
      this.persistBackoff = 0;
      return;
    }
    if (this.sndWnd > 0) this.forceSend = true; // sender SWS override (RFC 9293 3.8.6.2.1)
    else {
      this.probePending = true;
      this.s.zeroWindowProbes++;
    }
    this.persistBackoff++;
    this.setTimer(TcpTimer.Persist, now + Math.min(this.config.maxRtoUs, this.rtt.rtoUs * 2 ** Math.min(this.persistBackoff, 20)));
  }

  private onKeepalive(now: number): void {
    if (!this.config.keepalive || !(this.st === "ESTABLISHED" || this.st === "CLOSE_WAIT")) return;
    if (this.sndNxt !== this.sndUna || this.sendQ.length > this.sentBytes) {
      this.setTimer(TcpTimer.Keepalive, now + this.config.keepaliveIdleUs); // data pending: RTO covers it
      return;
    }
    if (this.keepaliveSent >= this.config.keepaliveProbes) {
      this.closeWith("timeout");
      return;
    }
    this.keepaliveSent++;
    this.s.keepaliveProbes++;
    this.probePending = true;
    this.setTimer(TcpTimer.Keepalive, now + this.config.keepaliveIntervalUs);
  }

  private onTlp(now: number): void {
    if (!isSynchronized(this.st) || this.sndNxt === this.sndUna || this.caState !== "open" || this.tlpOutstanding) return;
    this.tlpPending = true;
    this.tlpOutstanding = true;
    this.s.tlpProbes++;
    // RFC 8985 section 7.3: after the probe, the RTO covers the rest.
    this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
  }

  // =============================================================================== input

  /** Processes one incoming segment (already parsed and checksum-verified). Never throws. */
  handleSegment(now: number, seg: TcpSegment): void {
    this.s.segmentsIn++;
    if (now > this.lastNow) this.lastNow = now;
    const h = seg.header;
    const fl = h.flags;
    if (this.upper?.inspectIncoming && this.st !== "CLOSED") {
      const v = this.upper.inspectIncoming(seg, this.st);
      if (v === "drop") return this.drop("UpperVeto");
      if (v === "reset") {
        this.drop("UpperVeto");
        if ((fl & TCP_RST) === 0) {
          // SYN-RECEIVED: the handshake's ACK is refused as a bad ACK, <SEQ=SEG.ACK><CTL=RST>
          // (RFC 9293 3.10.7.4; Linux tcp_v4_send_reset for a refused MPTCP request).
          if (this.st === "SYN_RECEIVED" && fl & TCP_ACK) {
            this.rstPending = { seq: h.ack, ack: 0, withAck: false, upper: true };
            this.closeWith("aborted");
          } else this.abort();
        }
        return;
      }
    }
    switch (this.st) {
      case "CLOSED":
        return this.drop("Closed");
      case "LISTEN":
        this.onListen(now, seg);
        break;
      case "SYN_SENT":
        this.onSynSent(now, seg);
        break;
      default:
        this.onSynchronized(now, seg);
        break;
    }
    if (this.upper?.afterIncoming && (this.st as TcpState) !== "CLOSED") this.upper.afterIncoming(seg, this.st);
  }

  private onListen(now: number, seg: TcpSegment): void {
    const h = seg.header;
    if (h.flags & TCP_RST) return this.drop("BadRst");
    if (h.flags & TCP_ACK) {
      this.rstPending = { seq: h.ack, ack: 0, withAck: false };
      return this.drop("BadAck");
    }
    if (!(h.flags & TCP_SYN) || h.flags & TCP_FIN) return this.drop("Malformed");
    this.irs = h.seq;
    this.rcvNxt = seqAdd(h.seq, 1);
    this.negotiate(h.options, now);
    this.iss = this.issOpt ?? randomU32(this.random);
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndSml = this.iss;
    this.sndWnd = h.window; // never scaled on a SYN (RFC 7323 section 2.2)
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = h.seq;
    this.sndWl2 = h.ack;
    this.makeReceiveBuffer();
    this.synPending = true;
    this.lastRecvAt = now;
    this.go("RCV_SYN");
    this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
  }

  private onSynSent(now: number, seg: TcpSegment): void {
    const h = seg.header;
    const fl = h.flags;
    if (fl & TCP_ACK) {
      if (seqLe(h.ack, this.iss) || seqGt(h.ack, this.sndNxt)) {
        if (!(fl & TCP_RST)) this.rstPending = { seq: h.ack, ack: 0, withAck: false };
        return this.drop("BadAck");
      }
    }
    if (fl & TCP_RST) {
      if (fl & TCP_ACK) {
        this.push({ type: "reset" });
        this.closeWith("refused");
        return;
      }
      return this.drop("BadRst");
    }
    if (!(fl & TCP_SYN)) return this.drop("Malformed");
    this.irs = h.seq;
    this.rcvNxt = seqAdd(h.seq, 1);
    this.negotiate(h.options, now);
    this.makeReceiveBuffer();
    if (this.ownWindow) {
      if (!this.wsOk) this.windowClamp = Math.min(this.windowClamp, 65535);
      this.rcvWndVal = Math.min(65535, this.rcvWndVal);
    } else this.rcvWndVal = Math.min(65535, this.config.receiveBufferSize);
    this.rcvAdv = seqAdd(this.rcvNxt, this.rcvWndVal);
    this.rcvWup = this.rcvNxt;
    this.lastRecvAt = now;
    if (fl & TCP_ACK) {
      if (this.synRetrans === 0) this.rtt.sample(now - this.synSentAt, h.ack, this.sndNxt);
      this.sndUna = h.ack;
      this.sndWnd = h.window; // unscaled on SYN
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = h.seq;
      this.sndWl2 = h.ack;
      this.established(now);
      this.ackPending = true;
      if (this.finQueued) this.go("CLOSE");
    } else {
      // Simultaneous open (RFC 9293 figure 8): answer SYN/ACK with our ISN.
      this.sndWnd = h.window;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = h.seq;
      this.synPending = true;
      this.go("RCV_SYN");
    }
  }

  private established(now: number): void {
    this.setTimer(TcpTimer.Rto, OFF);
    this.synPending = false;
    this.rtoInARow = 0;
    this.progressAt = now;
    this.go(this.st === "SYN_SENT" ? "RCV_SYN_ACK" : "RCV_ACK_OF_SYN");
    this.lrcvTime = now;
    this.initBufferSpace(now);
    this.expandSndBuf();
    this.push({ type: "connected" });
    if (this.sendQ.free > 0) this.push({ type: "writable" });
    if (this.config.keepalive) this.setTimer(TcpTimer.Keepalive, now + this.config.keepaliveIdleUs);
  }

  /** RFC 9293 section 3.10.7.4: every state after the SYN exchange started. */
  private onSynchronized(now: number, seg: TcpSegment): void {
    const h = seg.header;
    const fl = h.flags;
    const opts = h.options;
    let seq = h.seq;
    let payload = seg.payload;
    let fin = (fl & TCP_FIN) !== 0;
    const segLen = payload.length + (fl & TCP_SYN ? 1 : 0) + (fin ? 1 : 0);

    // RFC 7323 section 5.3 PAWS (not for RST).
    if (this.tsOk && opts.timestamp && !(fl & TCP_RST)) {
      const tv = opts.timestamp.val >>> 0;
      if (seqLt(tv, this.tsRecent) && now - this.tsRecentAt < 24 * 86400 * 1_000_000) {
        // Old data rejected here is a duplicate (typically the late original of a spurious
        // retransmission that already advanced TS.Recent): report it by D-SACK, as Linux's
        // tcp_send_dupack, so that the sender can undo (RFC 2883, RFC 3708).
        if (payload.length > 0 && this.sackOk && seqLt(seq, this.rcvNxt)) {
          const end = seqAdd(seq, payload.length);
          this.dsack = { start: seq, end: seqLt(end, this.rcvNxt) ? end : this.rcvNxt };
        }
        this.oowAck(now, seg);
        return this.drop("PawsFailed");
      }
    }

    // SYN_RECEIVED: a retransmitted SYN asks for our SYN/ACK again.
    if (this.st === "SYN_RECEIVED" && fl & TCP_SYN && !(fl & TCP_ACK) && h.seq === this.irs) {
      this.synPending = true;
      return this.drop("BadSyn");
    }

    // RFC 5961 section 4.2: a SYN in a synchronized state, whatever its sequence number, gets a
    // challenge ACK and is dropped.
    if (fl & TCP_SYN && !(fl & TCP_RST)) {
      this.challengeAck(now);
      return this.drop("BadSyn");
    }

    // Step 1: acceptability.
    const wnd = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    let ok: boolean;
    if (segLen === 0) ok = wnd === 0 ? seq === this.rcvNxt : seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, wnd)) || seq === this.rcvNxt;
    else if (wnd === 0) ok = false;
    else {
      const last = seqAdd(seq, segLen - 1);
      ok = (seqGe(seq, this.rcvNxt) && seqLt(seq, seqAdd(this.rcvNxt, wnd))) ||
        (seqGe(last, this.rcvNxt) && seqLt(last, seqAdd(this.rcvNxt, wnd)));
    }
    if (!ok) {
      if (fl & TCP_RST) return this.drop("BadRst");
      if (payload.length > 0 && seqLe(seqAdd(seq, payload.length), this.rcvNxt)) {
        this.dsack = { start: seq, end: seqAdd(seq, payload.length) }; // RFC 2883
        this.enterQuickAck(); // Linux tcp_send_dupack: our ACK was probably lost
      }
      this.oowAck(now, seg);
      if (fin && this.st === "TIME_WAIT") this.setTimer(TcpTimer.TimeWait, now + this.config.timeWaitUs);
      // A segment at RCV.NXT into a zero window still carries a valid ACK (RFC 9293 3.10.7.4).
      if (wnd === 0 && seq === this.rcvNxt && fl & TCP_ACK && isSynchronized(this.st)) {
        this.processAck(now, seg, true);
      }
      return this.drop("OutOfWindow");
    }

    // Step 2: RST (RFC 5961 section 3.2).
    if (fl & TCP_RST) {
      if (seq === this.rcvNxt) {
        this.push({ type: "reset" });
        this.closeWith("reset");
        return;
      }
      this.challengeAck(now);
      return this.drop("BadRst");
    }

    // Step 4: SYN in a synchronized state (RFC 5961 section 4.2).
    if (fl & TCP_SYN) {
      this.challengeAck(now);
      return this.drop("BadSyn");
    }

    // Step 5: ACK.
    if (!(fl & TCP_ACK)) return this.drop("NoAck");
    if (this.st === "SYN_RECEIVED") {
      if (seqLt(this.sndUna, h.ack) && seqLe(h.ack, this.sndNxt)) {
        if (this.synRetrans === 0) this.rtt.sample(now - this.synSentAt, h.ack, this.sndNxt);
        this.sndUna = h.ack;
        this.sndWnd = h.window << this.sndWscale;
        this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
        this.sndWl1 = h.seq;
        this.sndWl2 = h.ack;
        this.established(now);
        if (this.finQueued) this.go("CLOSE");
      } else {
        this.rstPending = { seq: h.ack, ack: 0, withAck: false };
        return this.drop("BadAck");
      }
    }
    this.lastRecvAt = now;
    this.keepaliveSent = 0;
    if (this.config.keepalive && (this.st === "ESTABLISHED" || this.st === "CLOSE_WAIT")) {
      this.setTimer(TcpTimer.Keepalive, now + this.config.keepaliveIdleUs);
    }
    if (!this.processAck(now, seg, false)) return;
    if (this.st === "CLOSED") return;

    // RFC 7323 section 4.3: TS.Recent from an acceptable segment covering Last.ACK.sent.
    if (this.tsOk && opts.timestamp && seqLe(seq, this.rcvNxt)) {
      this.tsRecent = opts.timestamp.val >>> 0;
      this.tsRecentAt = now;
    }

    this.segEcr = this.tsOk && opts.timestamp ? opts.timestamp.ecr >>> 0 : 0;
    // Trim to the window (after the ACK was used).
    if (seqLt(seq, this.rcvNxt)) {
      const k = seqDiff(this.rcvNxt, seq);
      if (k >= payload.length) {
        if (payload.length > 0) {
          this.dsack = { start: seq, end: seqAdd(seq, payload.length) };
          this.enterQuickAck();
        }
        payload = payload.subarray(payload.length);
        if (fin && seqAdd(h.seq, seg.payload.length) !== this.rcvNxt) fin = false;
      } else payload = payload.subarray(k);
      seq = this.rcvNxt;
    }

    // Step 7: text.
    if (payload.length > 0) {
      if (canReceiveData(this.st) && !this.peerFin) {
        if (this.readClosed && !this.upper?.deliver) {
          // Data after close(): RFC 1122 4.2.2.13.
          this.abort();
          return;
        }
        this.receiveData(now, seq, payload);
      } else {
        this.ackPending = true;
      }
    }

    // Step 8: FIN.
    if (fin && !this.peerFin) {
      const finAt = seqAdd(seq, payload.length);
      if (finAt === this.rcvNxt) this.receiveFin(now);
      else if (seqGt(finAt, this.rcvNxt)) this.oooFin = finAt;
    } else if (fin && this.st === "TIME_WAIT") {
      this.ackPending = true;
      this.setTimer(TcpTimer.TimeWait, now + this.config.timeWaitUs);
    }
  }

  private receiveFin(now: number): void {
    if (!canReceiveData(this.st) && this.st !== "SYN_RECEIVED") return;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.peerFin = true;
    this.oooFin = undefined;
    this.ackPending = true;
    this.push({ type: "peerFin" });
    this.go("RCV_FIN");
    this.freeReceiveBufferIfDone();
    if ((this.st as TcpState) === "TIME_WAIT") this.enterTimeWait(now);
  }

  private enterTimeWait(now: number): void {
    for (let t = 0; t < NTIMERS; t++) this.timers[t] = OFF;
    this.setTimer(TcpTimer.TimeWait, now + this.config.timeWaitUs);
  }

  private receiveData(now: number, seq: number, payload: Uint8Array): void {
    const rb = this.rcvBuf!;
    const inOrder = seq === this.rcvNxt;
    const hadHoles = this.sackRanges.length > 0;
    // Grow the ring (doubling, up to receiveBufferSize) when the segment ends past it.
    const end = seqDiff(seq, rb.readSeq) + payload.length;
    if (end > rb.capacity && rb.capacity < this.maxRcvBuf) {
      let cap = rb.capacity;
      while (cap < end) cap *= 2;
      rb.grow(Math.min(cap, this.maxRcvBuf));
    }
    const r = rb.write(seq, payload, 0, payload.length);
    this.s.bytesReceived += payload.length;
    this.ackSched = true;
    if (r < 0) {
      this.ackPending = true;
      this.drop(r === Refusal.TooManyHoles ? "TooManyHoles" : "BufferFull");
      return;
    }
    if (!inOrder) {
      this.s.outOfOrderSegments++;
      // Only what the buffer kept is SACKable (it trims at the capacity).
      const end = seqAdd(seq, Math.min(payload.length, Math.max(0, rb.capacity - rb.readable - seqDiff(seq, this.rcvNxt))));
      if (seqGt(end, seq)) this.addSackRange(seq, end);
      // Linux tcp_data_queue_ofo -> tcp_rcvbuf_grow: room for the sender's rate and the hole.
      if (this.ownWindow && this.rcvqSpace > 0) this.rcvBufGrow(2 * this.rcvqSpace + seqDiff(end, this.rcvNxt));
      if (payload.length >= 128) this.growWindow(payload.length); // as tcp_data_queue_ofo
      this.ackPending = true; // RFC 5681 section 4.2: immediate ACK for out-of-order data
      return;
    }
    this.rcvNxt = rb.nextSeq;
    if (hadHoles) {
      this.pruneSackRanges();
      this.ackPending = true; // filled (part of) a hole
    }
    if (r > 0) this.deliverReadable();
    if (this.oooFin !== undefined && this.oooFin === this.rcvNxt) this.receiveFin(now);
    this.dataReceived(now, payload.length);
    // Delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2; Linux __tcp_ack_snd_check): at once in
    // quick-ACK mode (not while interactive), or once more than a segment is unacknowledged
    // and the window's right edge moves; else after the ACK timeout (40 ms).
    this.segsSinceAck++;
    const twoSegments = this.ownWindow
      ? seqDiff(this.rcvNxt, this.rcvWup) > this.rcvMss && this.selectWindow() >= this.rcvWndVal
      : this.segsSinceAck >= 2;
    if (twoSegments || (this.quick > 0 && this.pingpong === 0)) this.ackPending = true;
    else if (this.timers[TcpTimer.DelayedAck] === OFF) this.setTimer(TcpTimer.DelayedAck, now + this.delayedAckTimeout());
  }

  // =============================================================================== receive window

  /** Plain TCP sizes its own window; an MPTCP subflow advertises its upper layer's. */
  private get ownWindow(): boolean {
    return this.upper?.receiveWindow === undefined;
  }

  private winFromSpace(space: number): number {
    return Math.floor((space * this.scalingRatio) / 256);
  }

  private spaceFromWin(win: number): number {
    return Math.floor((win * 256) / this.scalingRatio);
  }

  /** Bytes the receive buffer holds: unread plus out of order. */
  private rcvHeld(): number {
    let n = this.rcvBuf?.readable ?? 0;
    for (const r of this.sackRanges) n += seqDiff(r.end, r.start);
    return n;
  }

  /** Linux tcp_space: the window the buffer still has room for. */
  private tcpSpace(): number {
    return this.winFromSpace(this.rcvBufSize) - this.rcvHeld();
  }

  /**
   * Linux tcp_select_initial_window (tcp_openreq_init_rwin / tcp_connect_init): the buffer's
   * window, in whole segments (64240 for tcp_rmem[1] = 128 KiB and MSS 1460).
   */
  private initialWindow(ts: boolean, wscale: number): number {
    const mss = this.advMss - (ts ? 12 : 0);
    this.windowClamp = 65535 * 2 ** wscale;
    let space = Math.min(this.windowClamp, this.winFromSpace(this.rcvBufSize));
    if (space > mss) space = Math.floor(space / mss) * mss;
    this.rcvWndVal = space;
    this.rcvSsthresh = space;
    return space;
  }

  /** Linux tcp_sndbuf_expand: the send buffer for the current congestion window (it never shrinks). */
  private expandSndBuf(): void {
    const cwnd = this.ccImpl?.cwnd ?? this.config.initialWindowSegments * this.sndMss;
    const want = Math.min(this.config.sendBufferSize, sndbufFor(Math.ceil(cwnd / this.sndMss), this.sndMss));
    if (want <= this.sndBuf) return;
    this.sndBuf = want;
    if (this.sndBufAuto) this.sendQ.limit = want;
  }

  /** Linux tcp_init_buffer_space, when the connection is established. */
  private initBufferSpace(now: number): void {
    if (!this.ownWindow) return;
    const maxwin = this.winFromSpace(this.rcvBufSize);
    const adv = this.advMss;
    if (this.windowClamp >= maxwin) this.windowClamp = maxwin;
    // Reserve one segment (tcp_app_win).
    if (this.windowClamp > 2 * adv && this.windowClamp + adv > maxwin) this.windowClamp = Math.max(2 * adv, maxwin - adv);
    this.rcvSsthresh = Math.min(this.rcvSsthresh, this.windowClamp);
    this.rcvqSpace = Math.min(this.rcvSsthresh, this.rcvWndVal, 10 * adv);
    this.rcvqSeq = this.s.bytesDelivered;
    this.rcvqTime = now;
  }

  /** Linux tcp_set_window_clamp (a new scaling ratio). */
  private setWindowClamp(val: number): void {
    const clamp = Math.max(MIN_WINDOW_CLAMP, val);
    if (clamp === this.windowClamp) return;
    if (clamp < this.windowClamp) this.rcvSsthresh = Math.min(this.rcvSsthresh, clamp);
    else this.rcvSsthresh = Math.max(Math.min(this.rcvWndVal, clamp), this.rcvSsthresh);
    this.windowClamp = clamp;
  }

  /**
   * Linux __tcp_select_window: the free space (as window), held to rcv_ssthresh, in whole
   * segments without window scaling; 0 when less than a segment (or 1/16 of the buffer) is free
   * and the free space is under half the largest window (receiver SWS avoidance).
   */
  private selectWindow(): number {
    const unit = 2 ** this.rcvWscale;
    let mss = this.rcvMss;
    let free = this.tcpSpace();
    const allowed = this.winFromSpace(this.rcvBufSize);
    const full = Math.min(this.windowClamp, allowed);
    if (mss > full) {
      mss = full;
      if (mss <= 0) return 0;
    }
    if (free < Math.floor(full / 2)) {
      this.quick = 0;
      free = Math.floor(free / unit) * unit;
      if (free < Math.floor(allowed / 16) || free < mss) return 0;
    }
    if (free > this.rcvSsthresh) free = this.rcvSsthresh;
    if (this.rcvWscale > 0) return Math.ceil(free / unit) * unit;
    let window = this.rcvWndVal;
    if (window <= free - mss || window > free) window = Math.floor(free / mss) * mss;
    else if (mss === full && free > window + Math.floor(full / 2)) window = free;
    return window;
  }

  /** Linux tcp_event_data_recv: in-order data arrived. */
  private dataReceived(now: number, len: number): void {
    this.measureRcvMss(len);
    this.rcvRttMeasure(now, len);
    const atoMin = this.config.delayedAckUs;
    if (this.ato === 0) {
      // The first data segment starts the delayed-ACK engine in quick-ACK mode.
      this.incrQuickAck();
      this.ato = atoMin;
    } else {
      const m = now - this.lrcvTime;
      if (m <= atoMin / 2) this.ato = Math.floor(this.ato / 2) + Math.floor(atoMin / 2);
      else if (m < this.ato) this.ato = Math.min(Math.floor(this.ato / 2) + m, this.rtt.rtoUs);
      else if (m > this.rtt.rtoUs) this.incrQuickAck(); // the sender was idle: ACK quickly again
    }
    this.lrcvTime = now;
    if (len >= 128) this.growWindow(len);
  }

  /** Linux tcp_measure_rcv_mss, with the scaling ratio of the segment's buffer charge. */
  private measureRcvMss(len: number): void {
    const lss = this.lastSegSize;
    this.lastSegSize = 0;
    if (len >= this.rcvMss) {
      if (len !== this.rcvMss) {
        const old = this.scalingRatio;
        this.scalingRatio = Math.max(1, Math.min(255, Math.floor((len * 256) / segmentTruesize(len))));
        if (old !== this.scalingRatio && this.ownWindow) {
          this.setWindowClamp(this.winFromSpace(this.rcvBufSize));
          if (this.windowClamp < this.rcvqSpace) this.rcvqSpace = this.windowClamp;
        }
      }
      this.rcvMss = Math.min(len, this.advMss);
    } else if (len >= 88) {
      this.lastSegSize = len;
      if (len === lss) this.rcvMss = len;
    }
  }

  /**
   * Linux tcp_grow_window: while segments fit the buffer with their overhead, the window may
   * grow (rcv_ssthresh) by two segments per segment, and every such segment is ACKed at once.
   */
  private growWindow(len: number): void {
    if (!this.ownWindow) return;
    const room = Math.min(this.windowClamp, this.tcpSpace()) - this.rcvSsthresh;
    if (room <= 0) return;
    const truesize = this.winFromSpace(segmentTruesize(len));
    let incr = 0;
    if (truesize <= len) incr = 2 * this.advMss;
    else {
      let t = truesize >> 1;
      let w = this.winFromSpace(this.maxRcvBuf) >> 1;
      while (this.rcvSsthresh <= w) {
        if (t <= len) {
          incr = 2 * this.rcvMss;
          break;
        }
        t >>= 1;
        w >>= 1;
      }
    }
    if (incr > 0) {
      this.rcvSsthresh += Math.min(room, Math.max(incr, 2 * len));
      this.quick |= 1;
    }
  }

  /** Linux tcp_incr_quickack: up to quickAckSegments immediate ACKs (half the window's segments). */
  private incrQuickAck(): void {
    let q = Math.floor(this.rcvWndVal / (2 * this.rcvMss));
    if (q === 0) q = 2;
    q = Math.min(q, this.config.quickAckSegments);
    if (q > this.quick) this.quick = q;
  }

  /** Linux tcp_enter_quickack_mode: after duplicates or out-of-window data. */
  private enterQuickAck(): void {
    this.incrQuickAck();
    this.pingpong = 0;
    this.ato = this.config.delayedAckUs;
  }

  /** Linux tcp_send_delayed_ack: the ACK timeout, bounded by the RTT once it was inflated. */
  private delayedAckTimeout(): number {
    const min = this.config.delayedAckUs;
    let ato = Math.max(this.ato, min);
    if (ato > min) {
      let maxAto = this.pingpong > 0 ? DELACK_MAX_US : 500_000;
      if (this.rtt.srttUs > 0) maxAto = Math.min(maxAto, Math.max(this.rtt.srttUs, min));
      ato = Math.min(ato, maxAto);
    }
    return Math.min(ato, Math.max(min, DELACK_MAX_US));
  }

  /** Linux tcp_rcv_rtt_measure (per window) and tcp_rcv_rtt_measure_ts (by timestamp echo). */
  private rcvRttMeasure(now: number, len: number): void {
    const ecr = this.segEcr;
    if (ecr !== 0 && ecr !== this.rcvRttLastEcr) {
      this.rcvRttLastEcr = ecr;
      if (len >= this.rcvMss) {
        const ms = (this.tsVal(now) - ecr) | 0;
        if (ms > 0 && ms < 2_000_000) this.rcvRttUpdate(ms * 1000, false);
      }
    }
    if (this.rcvRttTime >= 0) {
      if (seqLt(this.rcvNxt, this.rcvRttSeq)) return;
      this.rcvRttUpdate(Math.max(1, now - this.rcvRttTime), true);
    }
    this.rcvRttSeq = seqAdd(this.rcvNxt, this.rcvWndVal);
    this.rcvRttTime = now;
  }

  private rcvRttUpdate(sample: number, windowBased: boolean): void {
    const old = this.rcvRttUs;
    if (old === 0 || sample < old) this.rcvRttUs = sample;
    else if (!windowBased && (this.rcvBuf?.readable ?? 0) === 0) this.rcvRttUs = old - old / 8 + sample / 8;
  }

  /**
   * Linux tcp_rcv_space_adjust (receive-buffer autotuning): once per receiver RTT, a reader that
   * took more than the last measure gets a buffer for twice that and the sender's growth (plus
   * the out-of-order span), up to receiveBufferSize; the window clamp follows.
   */
  /** Linux tcp_rcvbuf_grow: a buffer for `rcvwin` bytes of window, up to receiveBufferSize. */
  private rcvBufGrow(rcvwin: number): void {
    const buf = Math.min(this.spaceFromWin(rcvwin), this.maxRcvBuf);
    if (buf > this.rcvBufSize) {
      this.rcvBufSize = buf;
      this.windowClamp = this.winFromSpace(buf);
    }
  }

  private rcvSpaceAdjust(now: number): void {
    const rtt = this.rcvRttUs;
    if (rtt === 0 || now - this.rcvqTime < rtt) return;
    const copied = this.s.bytesDelivered - this.rcvqSeq - (this.rcvBuf?.readable ?? 0);
    if (copied > this.rcvqSpace) {
      // Twice the bytes of the last RTT (losses) and a cushion of 16 segments, and room for the
      // sender's growth: slow start doubles its rate every RTT (Linux before 6.16).
      let rcvwin = 2 * copied + 16 * this.advMss;
      rcvwin += 2 * Math.floor((rcvwin * (copied - this.rcvqSpace)) / Math.max(1, this.rcvqSpace));
      this.rcvqSpace = copied;
      for (const r of this.sackRanges) rcvwin = Math.max(rcvwin, 2 * copied + seqDiff(r.end, this.rcvNxt));
      this.rcvBufGrow(rcvwin);
    }
    this.rcvqSeq = this.s.bytesDelivered;
    this.rcvqTime = now;
  }

  private deliverReadable(): void {
    const rb = this.rcvBuf!;
    if (this.upper?.deliver) {
      while (rb.readable > 0) {
        const start = seqAdd(rb.nextSeq, -rb.readable);
        const n = rb.read(this.scratch, 0, this.scratch.length);
        this.s.bytesDelivered += n;
        this.upper.deliver(start, this.scratch.subarray(0, n));
      }
      return;
    }
    if (!this.readablePending) {
      this.readablePending = true;
      this.push({ type: "readable" });
    }
  }

  private addSackRange(start: number, end: number): void {
    const stamp = ++this.sackStamp;
    let s = start;
    let e = end;
    const keep: SackRange[] = [];
    for (const r of this.sackRanges) {
      if (seqLe(r.start, e) && seqGe(r.end, s)) {
        if (seqLt(r.start, s)) s = r.start;
        if (seqGt(r.end, e)) e = r.end;
      } else keep.push(r);
    }
    keep.push({ start: s, end: e, stamp });
    this.sackRanges = keep;
  }

  private pruneSackRanges(): void {
    const out: SackRange[] = [];
    for (const r of this.sackRanges) {
      if (seqLe(r.end, this.rcvNxt)) continue;
      if (seqLt(r.start, this.rcvNxt)) r.start = this.rcvNxt;
      out.push(r);
    }
    this.sackRanges = out;
  }

  /**
   * The ACK owed to an unacceptable segment (RFC 9293 3.10.7.4 first step, RFC 7323 5.3 R1),
   * rate-limited as Linux's tcp_oow_rate_limited (RFC 5961 section 7, "ACK throttling") for
   * segments without data or FIN (pure ACKs, probes): at most one per `oowAckIntervalUs`, so two
   * stacks cannot answer each other's stale pure ACKs forever. Reordered pure ACKs are the common
   * case: ACKs older than TS.Recent fail PAWS, and a pure ACK overtaken by data carries a
   * SEG.SEQ below RCV.NXT. Segments with data always get their (duplicate / D-SACK) ACK.
   */
  private oowAck(now: number, seg: TcpSegment): void {
    if (seg.payload.length === 0 && !(seg.header.flags & TCP_FIN) && this.config.oowAckIntervalUs > 0) {
      if (this.oowAckAt >= 0 && now - this.oowAckAt < this.config.oowAckIntervalUs) {
        this.s.oowAcksSkipped++;
        return;
      }
      this.oowAckAt = now;
    }
    this.ackPending = true;
  }
  private oowAckAt = -1;

  private challengeAck(now: number): void {
    if (this.challengeWindowStart < 0 || now - this.challengeWindowStart >= 1_000_000) {
      this.challengeWindowStart = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.config.challengeAckLimit) return;
    this.challengeCount++;
    this.s.challengeAcks++;
    this.ackPending = true;
  }

  /**
   * RFC 9293 3.10.7.4 fifth step, RFC 5961 section 5 ACK checks, SACK scoreboard, RTT,
   * congestion control and loss recovery. Returns false when the segment must be dropped.
   */
  private processAck(now: number, seg: TcpSegment, ackOnly: boolean): boolean {
    const h = seg.header;
    const ack = h.ack;
    if (seqGt(ack, this.sndNxt)) {
      this.ackPending = true;
      this.drop("BadAck");
      return false;
    }
    if (seqLt(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 1)))) {
      this.challengeAck(now);
      this.drop("BadAck");
      return false;
    }
    const acked = seqGt(ack, this.sndUna) ? seqDiff(ack, this.sndUna) : 0;
    let queueShrunk = false;
    // Window update (RFC 9293 3.10.7.4: SND.WL1 / SND.WL2), widened like Linux's
    // tcp_may_update_window: an ACK that advances SND.UNA also updates the window even when it
    // rides on an older SEG.SEQ (a retransmission of the peer's), else after peer-side loss we
    // keep a stale window and send beyond what the peer can take (seen against Linux over TUN).
    const wnd = h.window << this.sndWscale;
    let windowChanged = false;
    if (acked > 0 || seqLt(this.sndWl1, h.seq) || (this.sndWl1 === h.seq && seqLe(this.sndWl2, ack))) {
      if (seqGe(ack, this.sndUna)) {
        windowChanged = wnd !== this.sndWnd;
        this.sndWnd = wnd;
        this.sndWl1 = h.seq;
        this.sndWl2 = ack;
        if (wnd > this.maxSndWnd) this.maxSndWnd = wnd;
        if (wnd > 0) this.persistBackoff = 0;
      }
    }
    if (this.sndNxt === this.sndUna && acked === 0) return true; // nothing outstanding

    // SACK blocks (RFC 2018) and D-SACK (RFC 2883).
    let deliveredNow = 0;
    let renoDup = 0;
    let newlySacked = false;
    let rttSample = -1;
    let sackRtt = -1;
    const blocks = this.sackOk ? h.options.sack : undefined;
    const tsecr = h.options.timestamp?.ecr;
    if (blocks && blocks.length > 0) {
      this.s.sackBlocksIn += blocks.length;
      for (let bi = 0; bi < blocks.length; bi++) {
        const b = blocks[bi]!;
        const bs = b.start >>> 0;
        const be = b.end >>> 0;
        if (!seqLt(bs, be)) continue;
        if (bi === 0 && (seqLe(be, ack) || (blocks.length > 1 && seqGe(bs, blocks[1]!.start) && seqLe(be, blocks[1]!.end)))) {
          this.onDsack(now, bs, be);
          continue;
        }
        if (seqLe(bs, ack) || seqGt(be, this.sndNxt)) continue;
        let i = this.sb.indexOf(bs);
        if (i < 0) continue;
        const segs = this.sb.segs;
        for (; i < segs.length; i++) {
          const s = segs[i]!;
          if (seqGt(s.end, be)) break;
          if (seqLt(s.seq, bs)) continue;
          if (this.sb.markSacked(s)) {
            newlySacked = true;
            deliveredNow += s.len;
            this.rackUpdate(now, s, tsecr);
            if (s.retrans === 0 && (sackRtt < 0 || now - s.xmitTime < sackRtt)) sackRtt = now - s.xmitTime;
            if (this.sb.hasFack && seqLt(s.end, this.sb.fack) && s.retrans === 0) this.rackReorderSeen = true;
          }
        }
      }
    }

    // Cumulative ACK.
    if (acked > 0) {
      let oldestClean = -1;
      let anyRetrans = false;
      let metaAcked: unknown[] | undefined;
      this.sb.ackTo(ack, (s, wholly) => {
        if (!s.sacked) deliveredNow += 0; // counted below as acked bytes
        if (s.retrans === 0) {
          if (oldestClean < 0) oldestClean = s.xmitTime;
        } else anyRetrans = true;
        if (!s.sacked) this.rackUpdate(now, s, tsecr);
        if (wholly && s.meta !== undefined && this.upper?.acked) (metaAcked ??= []).push(s.meta);
      });
      const dataAcked = Math.min(acked, this.sentBytes);
      this.sendQ.drop(dataAcked);
      this.sentBytes -= dataAcked;
      this.sndUna = ack;
      this.s.bytesAcked += dataAcked;
      deliveredNow += dataAcked;
      this.rtoInARow = 0;
      this.progressAt = now;
      this.tlpOutstanding = false;
      if (oldestClean >= 0 && !anyRetrans) rttSample = now - oldestClean;
      if (this.dupAcks > 0 && !this.sackOk) {
        this.renoSacked = Math.max(0, this.renoSacked - acked);
      }
      if (!this.sackOk && this.caState === "open") this.dupAcks = 0;
      if (this.writeBlocked && this.sendQ.free > 0 && canSendData(this.st)) {
        this.writeBlocked = false;
        this.push({ type: "writable" });
      }
      queueShrunk = dataAcked > 0;
      if (metaAcked) for (const m of metaAcked) this.upper!.acked!(m);
    } else if (
      !ackOnly && seg.payload.length === 0 && !(h.flags & (TCP_SYN | TCP_FIN)) && ack === this.sndUna &&
      !windowChanged && this.sndNxt !== this.sndUna
    ) {
      this.s.dupAcksIn++;
      this.dupAcks++;
      if (!this.sackOk) renoDup = this.sndMss; // RFC 6937: DeliveredData of a dup ACK without SACK
      if (!this.sackOk) this.renoSacked = Math.min(this.renoSacked + this.sndMss, Math.max(0, seqDiff(this.sndNxt, this.sndUna) - this.sndMss));
    }

    if (rttSample < 0 && sackRtt >= 0) rttSample = sackRtt;
    if (rttSample >= 0) this.rtt.sample(rttSample, this.sndUna, this.sndNxt);

    // FIN acknowledged?
    if (this.finSent && seqGe(this.sndUna, seqAdd(this.finSeq, 1))) {
      if (this.st === "FIN_WAIT_1") {
        this.go("RCV_ACK_OF_FIN");
        this.armFinWait2(now);
      }
      else if (this.st === "CLOSING") {
        this.go("RCV_ACK_OF_FIN");
        this.enterTimeWait(now);
      } else if (this.st === "LAST_ACK") {
        this.closeWith("normal", "RCV_ACK_OF_FIN");
        return false;
      }
    }

    // Congestion control.
    const cc = this.ccImpl;
    const wasRecovery = this.caState === "recovery";
    if (cc && deliveredNow > 0) {
      cc.onAck({
        now,
        ackedBytes: deliveredNow,
        inFlight: this.inFlight(),
        rttUs: rttSample >= 0 ? Math.max(1, Math.round(rttSample)) : undefined,
        srttUs: Math.round(this.rtt.srttUs),
        minRttUs: this.rtt.minRttUs,
        // After an RTO (loss state) the window grows again by slow start (RFC 5681 §3.1, Linux
        // TCP_CA_Loss); only fast recovery holds it (PRR).
        inRecovery: this.caState === "recovery",
        appLimited: this.isAppLimited(),
      });
    }

    // Loss detection and recovery state.
    if (this.sackOk) {
      if (this.config.rack && (acked > 0 || newlySacked)) this.rackDetectLoss(now);
      else if (!this.config.rack && newlySacked) this.dupThreshLoss();
      this.maybeEnterRecovery(now);
    } else {
      this.newReno(now, acked);
    }
    if (this.caState !== "open" && seqGe(this.sndUna, this.recoveryPoint) && acked > 0) {
      if (this.caState === "recovery") cc?.onRecoveryExit(now);
      this.caState = "open";
      this.renoSacked = 0;
      this.dupAcks = 0;
      this.checkUndo(now);
      if (this.sackOk) this.maybeEnterRecovery(now);
    }
    if (wasRecovery && this.caState === "recovery") this.prrOnAck(deliveredNow + renoDup);
    // Linux tcp_new_space: acknowledged data left the queue; grow the send buffer with the
    // window unless the congestion window is what limits the sender (tcp_should_expand_sndbuf).
    if (queueShrunk && this.sndBuf < this.config.sendBufferSize && this.inFlight() < (cc ? cc.cwnd : this.config.initialWindowSegments * this.sndMss)) {
      this.expandSndBuf();
      if (this.writeBlocked && this.sendQ.free > 0 && canSendData(this.st)) {
        this.writeBlocked = false;
        this.push({ type: "writable" });
      }
    }

    // Timers: RFC 6298 5.2 / 5.3.
    if (this.sndNxt === this.sndUna) {
      this.setTimer(TcpTimer.Rto, OFF);
      this.setTimer(TcpTimer.Tlp, OFF);
      this.setTimer(TcpTimer.Reorder, OFF);
      this.setTimer(TcpTimer.UserTimeout, OFF);
    } else if (acked > 0) {
      this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
      this.armUserTimeout(now);
      this.scheduleTlp(now);
    }
    if (this.sndWnd > 0 && this.timers[TcpTimer.Persist] !== OFF && !this.needsPersist()) {
      this.setTimer(TcpTimer.Persist, OFF);
    }
    return true;
  }

  private onDsack(now: number, start: number, end: number): void {
    this.s.dsacksIn++;
    // Did we retransmit this range? (Then the retransmission was spurious; a duplicate made by
    // the network is not.)
    if (this.retransLog.has(start)) {
      this.retransLog.delete(start);
      this.s.spuriousRetransmits++;
      if (this.undoValid && this.undoRetrans > 0) this.undoRetrans--;
    }
    // RFC 8985 section 6.2 step 4: widen the reordering window once per round trip.
    if (this.dsackRoundEnd === undefined || seqGe(this.sndUna, this.dsackRoundEnd)) {
      this.reoWndMult = Math.min(this.reoWndMult + 1, 64);
      this.dsackRoundEnd = this.sndNxt;
    }
    this.rackReorderSeen = true;
    if (this.caState === "open") this.checkUndo(now);
    void end;
  }

  private startUndoEpisode(): void {
    this.undoRetrans = 0;
    this.undoValid = true;
  }

  private checkUndo(now: number): void {
    if (this.undoValid && this.undoRetrans === 0 && this.caState === "open") {
      this.undoValid = false;
      this.s.spuriousRecoveries++;
      this.ccImpl?.onSpurious?.(now);
    }
  }

  private rackUpdate(now: number, s: TxSeg, tsecr: number | undefined): void {
    if (!this.config.rack) return;
    const rtt = now - s.xmitTime;
    if (s.retrans > 0) {
      // RFC 8985 6.2 step 2: ignore ambiguous deliveries of retransmitted segments.
      if (rtt < this.rtt.minRttUs) return;
      if (tsecr !== undefined && this.tsOk && seqLt(tsecr >>> 0, this.tsVal(s.xmitTime))) return;
    }
    if (s.xmitTime > this.rackXmit || (s.xmitTime === this.rackXmit && seqGt(s.end, this.rackEndSeq))) {
      this.rackXmit = s.xmitTime;
      this.rackEndSeq = s.end;
      this.rackRtt = rtt;
    }
  }

  private reoWnd(): number {
    if (!this.rackReorderSeen) {
      if (this.caState !== "open" || this.sb.sackedBytes >= DUP_THRESH * this.sndMss) return 0;
    }
    return Math.min((this.reoWndMult * this.rtt.minRttUs) / 4, this.rtt.srttUs || Infinity);
  }

  /** RFC 8985 section 6.2 step 5 (RACK_detect_loss) over the time-ordered list. */
  private rackDetectLoss(now: number): void {
    if (!this.sackOk || !this.config.rack || this.rackXmit < 0) return;
    const reo = this.reoWnd();
    let timeout = 0;
    const segs = this.sb.segs;
    for (let s = this.sb.tHead; s; ) {
      const next = s.nextT;
      if (s.xmitTime > this.rackXmit || (s.xmitTime === this.rackXmit && seqGe(s.seq, this.rackEndSeq))) break;
      if (!(s.lost && !s.retransInFlight)) {
        const remaining = s.xmitTime + this.rackRtt + reo - now;
        if (remaining <= 0) {
          const idx = this.sb.indexOf(s.seq);
          if (idx >= 0 && segs[idx] === s && this.sb.markLost(idx)) this.s.rackMarkedLost++;
        } else if (remaining > timeout) timeout = remaining;
      }
      s = next;
    }
    this.setTimer(TcpTimer.Reorder, timeout > 0 ? now + Math.ceil(timeout) : OFF);
  }

  /** RFC 6675 IsLost() by DupThresh (used when RACK is disabled). */
  private dupThreshLoss(): void {
    const segs = this.sb.segs;
    let cnt = 0;
    for (let i = segs.length - 1; i >= this.sb.head; i--) {
      const s = segs[i]!;
      if (s.sacked) cnt++;
      else if (cnt >= DUP_THRESH) this.sb.markLost(i);
    }
  }

  private maybeEnterRecovery(now: number): void {
    if (this.caState !== "open" || this.sb.lostBytes <= 0) return;
    this.caState = "recovery";
    this.recoveryPoint = this.sndNxt;
    this.s.recoveries++;
    this.s.fastRetransmits++;
    this.startUndoEpisode();
    this.ccImpl?.onCongestionEvent(now, this.inFlight() + this.sb.lostBytes);
    this.prrStart();
    this.setTimer(TcpTimer.Tlp, OFF);
  }

  /**
   * RFC 6937 Proportional Rate Reduction: during fast recovery the window to send with is
   * pipe + sndcnt, recomputed on every ACK from the data delivered since recovery began
   * (prrDelivered) and the data sent since (prrOut): while pipe > ssthresh, sending follows the
   * deliveries scaled by ssthresh / RecoverFS; below it, slow start up to ssthresh bounded by
   * the deliveries (PRR-SSRB). Entering recovery allows one segment: the fast retransmit.
   */
  private prrStart(): void {
    this.prrRecoverFs = Math.max(1, seqDiff(this.sndNxt, this.sndUna));
    this.prrDelivered = 0;
    this.prrOut = 0;
    this.prrCwnd = this.inFlight() + this.sndMss;
  }

  private prrOnAck(delivered: number): void {
    if (delivered <= 0) return;
    this.prrDelivered += delivered;
    const pipe = this.inFlight();
    const ss = this.ccImpl?.ssthresh ?? pipe;
    let sndcnt: number;
    if (pipe > ss) sndcnt = Math.ceil((this.prrDelivered * ss) / this.prrRecoverFs) - this.prrOut;
    else sndcnt = Math.min(ss - pipe, Math.max(this.prrDelivered - this.prrOut, delivered) + this.sndMss);
    this.prrCwnd = pipe + Math.max(0, sndcnt);
  }
  private prrRecoverFs = 1;
  private prrDelivered = 0;
  private prrOut = 0;
  private prrCwnd = 0;

  /** RFC 6582 NewReno for peers without SACK. */
  private newReno(now: number, acked: number): void {
    if (this.caState === "open") {
      if (this.dupAcks >= DUP_THRESH && this.sb.count > 0) {
        this.caState = "recovery";
        this.recoveryPoint = this.sndNxt;
        this.s.recoveries++;
        this.s.fastRetransmits++;
        this.startUndoEpisode();
        this.ccImpl?.onCongestionEvent(now, this.inFlight());
        this.sb.markLost(this.sb.head);
        this.prrStart();
      }
    } else if (this.caState === "recovery" && acked > 0 && seqLt(this.sndUna, this.recoveryPoint)) {
      // Partial ACK: retransmit the next segment (RFC 6582 section 3.2 step 3).
      this.dupAcks = 0;
      if (this.sb.count > 0) this.sb.markLost(this.sb.head);
    }
  }

  private scheduleTlp(now: number): void {
    if (!this.config.tlp || !this.sackOk || this.caState !== "open" || this.tlpOutstanding || !this.rtt.hasSample) {
      this.setTimer(TcpTimer.Tlp, OFF);
      return;
    }
    let pto = 2 * this.rtt.srttUs;
    if (this.sb.count === 1) pto += WC_DEL_ACK_US;
    pto = Math.max(pto, 10_000);
    // If the RTO comes first, the probe goes at the RTO time instead (Linux
    // tcp_schedule_loss_probe: min(PTO, time to the RTO)); it re-arms the RTO (onTlp).
    const at = now + Math.round(pto);
    this.setTimer(TcpTimer.Tlp, Math.min(at, this.timers[TcpTimer.Rto]!));
  }

  private armUserTimeout(now: number): void {
    if (this.config.userTimeoutUs > 0 && this.sndNxt !== this.sndUna) {
      this.setTimer(TcpTimer.UserTimeout, this.progressAt + this.config.userTimeoutUs);
    }
    void now;
  }

  // =============================================================================== output

  private inFlight(): number {
    const out = seqDiff(this.sndNxt, this.sndUna);
    if (!isSynchronized(this.st) || out <= 0) return 0;
    return Math.max(0, out - this.sb.sackedBytes - this.sb.lostBytes + this.sb.retransBytes - this.renoSacked);
  }

  private isAppLimited(): boolean {
    // Application-limited, or limited by the peer's receive window (RFC 7661 spirit): the
    // congestion window was not what held the sender back.
    if (this.usableWindow() < this.sndMss) return true;
    if (this.upper?.pullData) return false;
    return this.sendQ.length <= this.sentBytes;
  }

  private needsPersist(): boolean {
    if (!(this.st === "ESTABLISHED" || this.st === "CLOSE_WAIT" || this.st === "FIN_WAIT_1" || this.st === "CLOSING" || this.st === "LAST_ACK")) return false;
    if (this.upper?.pullData) return this.sndNxt === this.sndUna && this.sndWnd === 0;
    const pending = this.sendQ.length > this.sentBytes;
    return pending && this.sndNxt === this.sndUna && this.usableWindow() < Math.min(this.sndMss, this.sendQ.length - this.sentBytes || this.sndMss);
  }

  private usableWindow(): number {
    return seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
  }

  private transmitData(now: number): TcpSegment | undefined {
    const cc = this.ccImpl;
    const cwnd = this.caState === "recovery" && this.config.prr ? this.prrCwnd : cc ? cc.cwnd : this.config.initialWindowSegments * this.sndMss;
    const paced = this.pacingNext > now;

    // 1. Retransmit lost segments (RFC 6675 NextSeg rule 1; RTO recovery in order).
    if (this.sb.lostBytes > 0 && this.inFlight() < cwnd) {
      const s = this.sb.nextLost();
      if (s) {
        if (paced) return this.armPacing();
        return this.retransmit(now, s);
      }
    }
    // 2. Tail loss probe (RFC 8985 section 7.3).
    if (this.tlpPending) {
      this.tlpPending = false;
      const seg = this.sendNew(now, cwnd + this.sndMss, true);
      if (seg) return seg;
      const last = this.sb.last();
      if (last) return this.retransmit(now, last);
    }
    if (this.caState !== "open" && this.sb.lostBytes > 0 && this.sb.nextLost()) return undefined;
    // 3. New data.
    if (this.inFlight() < cwnd) {
      if (paced && this.hasNewData()) return this.armPacing();
      return this.sendNew(now, cwnd, false);
    }
    return undefined;
  }

  private armPacing(): undefined {
    this.setTimer(TcpTimer.Pacing, this.pacingNext);
    return undefined;
  }

  private hasNewData(): boolean {
    return this.sendQ.length > this.sentBytes || (this.finQueued && !this.finSent);
  }

  private sendNew(now: number, cwnd: number, probe: boolean): TcpSegment | undefined {
    if (!(this.st === "ESTABLISHED" || this.st === "CLOSE_WAIT" || this.st === "FIN_WAIT_1" || this.st === "LAST_ACK" || this.st === "CLOSING")) return undefined;
    if (this.finSent) return undefined;
    const usable = this.usableWindow();
    const mss = this.sndMss - this.dataOptionExcess();
    let payload: Uint8Array | undefined;
    let meta: unknown;
    // Driven by pullData: the FIN goes only once the upper layer has finished (shutdown()) AND a
    // pull actually came back empty. A pull that did not happen (window closed, send queue
    // full, sender SWS) says nothing about what the upper layer still holds.
    let pulledNothing = false;
    if (this.upper?.pullData) {
      const want = Math.min(mss, usable, this.sendQ.free);
      if (want <= 0) this.armPersist(now);
      // Sender SWS avoidance holds a small window only while data is in flight (its ACKs will
      // move the window): with nothing in flight the small segment goes (Linux: Nagle lets it
      // go), so its ACK brings the receiver's current window even if an update was lost. After
      // shutdown() the tail goes into a small window too (as size === avail below).
      if (want > 0 && (want >= mss || want >= this.maxSndWnd / 2 || this.forceSend || this.finQueued || this.sndNxt === this.sndUna)) {
        const got = this.upper.pullData(want);
        if (got && got.data.length > 0) {
          const d = got.data.length > want ? got.data.subarray(0, want) : got.data;
          this.sendQ.push(d);
          payload = this.sendQ.slice(this.sentBytes, d.length);
          meta = got.meta;
        } else pulledNothing = true;
      }
    } else {
      const avail = this.sendQ.length - this.sentBytes;
      if (avail > 0) {
        const size = Math.min(mss, avail, usable);
        if (size <= 0) {
          this.armPersist(now);
        } else if (size < mss && size < avail && !(size >= this.maxSndWnd / 2 || this.forceSend)) {
          this.armPersist(now); // receiver SWS: wait for a bigger window
        } else if (size < mss && size === avail && !this.config.noDelay && !this.finQueued && this.smallSegmentUnacked() && !probe) {
          // Nagle (RFC 896) with Minshall's update (Linux tcp_nagle_check): hold a small
          // segment while an earlier small segment is unacknowledged.
        } else {
          payload = this.sendQ.slice(this.sentBytes, size);
        }
      }
    }
    this.forceSend = false;
    const finNow = this.finQueued && !this.finSent && (this.upper?.pullData ? pulledNothing : this.sentBytes + (payload?.length ?? 0) === this.sendQ.length);
    if (!payload && !finNow) return undefined;
    if (!payload && finNow && this.inFlight() >= cwnd && this.inFlight() > 0) return undefined;
    const len = payload?.length ?? 0;
    const s = new TxSeg(this.sndNxt, len, finNow, meta);
    this.sentBytes += len;
    if (finNow) {
      this.finSent = true;
      this.finSeq = seqAdd(this.sndNxt, len);
    }
    this.sndNxt = s.end;
    if (len > 0 && len < mss) this.sndSml = s.end; // Linux tcp_minshall_update
    this.sb.push(s, now);
    if (this.caState === "recovery") this.prrOut += len;
    this.afterDataSent(now, len);
    let flags = TCP_ACK;
    if (finNow) flags |= TCP_FIN;
    if (len > 0 && this.sentBytes === this.sendQ.length) {
      flags |= TCP_PSH;
      s.psh = true;
    }
    return this.build(now, flags, s.seq, this.rcvNxt, payload, meta, false, false);
  }

  private retransmit(now: number, s: TxSeg): TcpSegment {
    const off = seqDiff(s.seq, this.sndUna);
    const payload = s.len > 0 ? this.sendQ.slice(off, s.len) : undefined;
    this.sb.retransmitted(s, now);
    if (this.undoValid) this.undoRetrans++;
    if (s.len > 0) {
      this.retransLog.add(s.seq);
      if (this.retransLog.size > 4096) this.retransLog.delete(this.retransLog.values().next().value!);
    }
    this.s.retransSegments++;
    this.s.retransBytes += s.len;
    if (this.caState === "recovery") this.prrOut += s.len;
    this.afterDataSent(now, s.len);
    // Linux tcp_retransmit_skb resends the skb with the flags it was first sent with (PSH kept).
    let flags = TCP_ACK;
    if (s.fin) flags |= TCP_FIN;
    if (s.psh && s.len > 0) flags |= TCP_PSH;
    return this.build(now, flags, s.seq, this.rcvNxt, payload, s.meta, true, false);
  }

  private afterDataSent(now: number, len: number): void {
    if (this.timers[TcpTimer.Rto] === OFF) this.setTimer(TcpTimer.Rto, now + this.rtt.rtoUs);
    if (this.timers[TcpTimer.UserTimeout] === OFF) {
      if (this.sb.count === 1) this.progressAt = now;
      this.armUserTimeout(now);
    }
    this.setTimer(TcpTimer.Persist, OFF);
    this.persistBackoff = 0;
    if (!this.tlpOutstanding) this.scheduleTlp(now);
    const rate = this.ccImpl?.pacingRate?.(Math.round(this.rtt.srttUs));
    if (rate !== undefined && rate > 0 && len > 0) {
      this.pacingNext = Math.max(now, this.pacingNext) + Math.round(((len + 52) * 1e6) / rate);
    }
  }

  /**
   * Option bytes of the next new data segment beyond those the send MSS already leaves room for
   * (the timestamp option): SACK blocks and the upper layer's options (MPTCP's DSS). They come
   * out of the payload so that every segment fits the path MTU (RFC 9293 section 3.7.1; Linux
   * tcp_current_mss with tcp_established_options). Laid out as build() does: timestamp, the
   * upper layer's reservation, then as many SACK blocks as fit in the rest.
   */
  private dataOptionExcess(): number {
    const ts = this.tsOk ? 12 : 0;
    const reserve = this.upper?.optionSpace ? this.upper.optionSpace(TCP_ACK, this.sndMss) : 0;
    let used = ts + reserve;
    if (this.sackOk) {
      const blocks = Math.min(Math.floor((40 - used - 4) / 8), (this.dsack ? 1 : 0) + this.sackRanges.length);
      if (blocks > 0) used += 4 + 8 * blocks;
    }
    return Math.min(40, used) - ts;
  }

  /** Minshall's check (Linux tcp_minshall_check): the last small segment is not yet acknowledged. */
  private smallSegmentUnacked(): boolean {
    return seqGt(this.sndSml, this.sndUna) && seqLe(this.sndSml, this.sndNxt);
  }

  private armPersist(now: number): void {
    if (this.sndNxt === this.sndUna && this.timers[TcpTimer.Persist] === OFF) {
      this.setTimer(TcpTimer.Persist, now + Math.max(this.rtt.rtoUs, this.config.minRtoUs));
    }
  }

  private windowToAdvertise(): number {
    const cap = this.config.receiveBufferSize;
    const space = this.receiveSpace();
    let free = this.upper?.receiveWindow ? Math.min(space, Math.max(0, Math.floor(this.upper.receiveWindow()))) : space;
    const max = 65535 * 2 ** this.rcvWscale;
    if (free > max) free = max;
    if (free < Math.min(cap / 2, this.advMss)) free = 0; // receiver SWS avoidance
    free = Math.floor(free / 2 ** this.rcvWscale) * 2 ** this.rcvWscale;
    return free;
  }

  private tsVal(now: number): number {
    return (Math.floor(now / 1000) + this.tsOffset) >>> 0;
  }

  /** Builds one outgoing segment and updates the ACK / window state it announces. */
  private build(
    now: number,
    flags: number,
    seq: number,
    ack: number,
    payload: Uint8Array | undefined,
    meta: unknown,
    retrans: boolean,
    syn: boolean,
  ): TcpSegment {
    const options: TcpOptions = { mptcp: [] };
    let used = 0;
    let window = 0;
    // Option space: 40 bytes, and no more than the payload leaves of the send MSS plus the
    // timestamp option it already excludes, so that a segment never exceeds the path MTU. New
    // data was sized for its options (dataOptionExcess); a retransmission sized under other
    // options (fewer SACK blocks, a 32-bit DATA_ACK) carries fewer SACK blocks or MPTCP options
    // instead of a bigger packet.
    const space = syn || !payload ? 40 : Math.min(40, Math.max(this.tsOk ? 12 : 0, this.sndMss + (this.tsOk ? 12 : 0) - payload.length));
    if (syn) {
      options.mss = this.advMss;
      used += 4;
      const peerSaid = this.st === "SYN_RECEIVED";
      if (this.config.windowScaling && (!peerSaid || this.wsOk)) {
        options.wscale = this.ourWscale;
        used += 4;
      }
      if (this.config.sack && (!peerSaid || this.sackOk)) {
        options.sackPermitted = true;
        used += 2;
      }
      if (this.config.timestamps && (!peerSaid || this.tsOk)) {
        options.timestamp = { val: this.tsVal(now), ecr: peerSaid ? this.tsRecent : 0 };
        used += 10;
      }
      used = (used + 3) & ~3;
      window = this.ownWindow ? Math.min(65535, this.initialWindow(options.timestamp !== undefined, options.wscale ?? 0)) : Math.min(65535, this.receiveSpace());
      if (peerSaid) {
        this.rcvAdv = seqAdd(this.rcvNxt, window);
        this.rcvWup = this.rcvNxt;
        this.rcvWndVal = window;
      }
    } else if (!(flags & TCP_RST) || flags & TCP_ACK) {
      if (this.tsOk) {
        options.timestamp = { val: this.tsVal(now), ecr: this.tsRecent };
        used += 12;
      }
      if (flags & TCP_ACK) {
        const unit = 2 ** this.rcvWscale;
        if (this.ownWindow) {
          // Linux tcp_select_window: never shrink the offered window (RFC 7323 2.4, RFC 9293 3.8.6.2.2).
          const cur = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
          let w = this.selectWindow();
          if (w < cur) w = Math.ceil(cur / unit) * unit;
          window = Math.min(65535, Math.floor(w / unit));
          this.rcvAdv = seqAdd(this.rcvNxt, window * unit);
        } else {
          const own = this.windowToAdvertise();
          const shared = this.upper?.advertiseWindow ? this.upper.advertiseWindow(own, this.rcvWscale) : undefined;
          const w = shared ?? Math.max(own, Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt)));
          window = Math.min(65535, Math.floor(w / unit));
          const edge = seqAdd(this.rcvNxt, window * unit);
          // A shared (connection-level) window may advertise less than before at this subflow's
          // sequence numbers; what was accepted here before stays acceptable at the TCP level.
          this.rcvAdv = shared === undefined ? edge : seqMax(this.rcvAdv, edge);
        }
        this.rcvWup = this.rcvNxt;
        this.rcvWndVal = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
        if (this.sackOk && !(flags & TCP_RST)) {
          const reserve = this.upper?.optionSpace ? this.upper.optionSpace(flags, payload?.length ?? 0) : 0;
          const maxBlocks = Math.floor((space - used - reserve - 4) / 8);
          const blocks: SackBlock[] = [];
          if (this.dsack && maxBlocks > 0) {
            blocks.push(this.dsack);
            this.s.dsacksOut++;
            this.dsack = undefined;
          }
          if (this.sackRanges.length > 0) {
            const sorted = this.sackRanges.slice().sort((a, b) => b.stamp - a.stamp);
            for (const r of sorted) {
              if (blocks.length >= maxBlocks) break;
              blocks.push({ start: r.start, end: r.end });
            }
          }
          if (blocks.length > 0) {
            options.sack = blocks;
            used += 4 + 8 * blocks.length;
          }
        }
      }
    }
    const len = payload?.length ?? 0;
    if (this.upper?.outgoingOptions && (!(flags & TCP_RST && !(flags & TCP_ACK) && !syn) || this.rstUpper)) {
      const mp = this.upper.outgoingOptions({ flags, seq, length: len, meta, retransmission: retrans }, space - used);
      if (mp) options.mptcp = mp;
    }
    if (len > 0 && this.ato > 0 && now - this.lrcvTime < this.ato) {
      // Linux tcp_event_data_sent: data sent within the ACK timeout of the peer's data is a
      // reply; the connection is interactive ("pingpong") and delays its ACKs.
      this.pingpong = Math.min(255, this.pingpong + 1);
    }
    if (flags & TCP_ACK) {
      // Linux tcp_dec_quickack_mode: each ACK of received data uses one quick ACK.
      if (this.ackSched && this.quick > 0) {
        this.quick--;
        if (this.quick === 0) this.ato = this.config.delayedAckUs;
      }
      this.ackSched = false;
      this.ackPending = false;
      this.segsSinceAck = 0;
      if (this.timers[TcpTimer.DelayedAck] !== OFF) this.setTimer(TcpTimer.DelayedAck, OFF);
    }
    this.s.segmentsOut++;
    if (len > 0) {
      this.s.dataSegmentsOut++;
      this.s.bytesSent += len;
    }
    return {
      header: { srcPort: this.localPort, dstPort: this.remotePort, seq, ack: flags & TCP_ACK ? ack : 0, flags, window, checksum: 0, urgent: 0, options },
      payload: payload ?? EMPTY,
    };
  }

  // =============================================================================== helpers

  private negotiate(o: TcpOptions, now: number): void {
    const cfg = this.config;
    const ipHdr = cfg.ipv6 ? 40 : 20;
    const peerMss = o.mss !== undefined && o.mss > 0 ? o.mss : 536;
    this.wsOk = cfg.windowScaling && o.wscale !== undefined;
    this.sndWscale = this.wsOk ? Math.min(o.wscale!, 14) : 0;
    this.rcvWscale = this.wsOk ? this.ourWscale : 0;
    this.sackOk = cfg.sack && o.sackPermitted === true;
    this.tsOk = cfg.timestamps && o.timestamp !== undefined;
    if (this.tsOk) {
      this.tsRecent = o.timestamp!.val >>> 0;
      this.tsRecentAt = now;
    }
    this.sndMss = Math.max(64, Math.min(peerMss, cfg.mtu - ipHdr - 20, cfg.mss) - (this.tsOk ? 12 : 0));
    if (this.ccImpl) this.ccImpl.setMss(this.sndMss);
    else this.initCc(now);
  }

  private initCc(now: number): void {
    const f = this.config.congestion ?? defaultCongestion;
    if (!this.ccImpl) {
      this.ccImpl = f.create({ mss: this.sndMss, now, initialWindowSegments: this.config.initialWindowSegments });
    }
  }

  private drop(reason: TcpDropReason): void {
    this.s.drops[reason] = (this.s.drops[reason] ?? 0) + 1;
  }

  private push(e: TcpEvent): void {
    this.events.push(e);
  }

  private setTimer(t: number, at: number): void {
    this.timers[t] = at;
  }

  private go(ev: TcpTransition): void {
    this.st = nextState(this.st, ev);
  }

  private closeWith(reason: TcpCloseReason, ev: TcpTransition = "RESET"): void {
    if (this.st === "CLOSED" && this.closeReason !== undefined) return;
    this.go(ev);
    this.st = "CLOSED";
    this.closeReason = reason;
    for (let t = 0; t < NTIMERS; t++) this.timers[t] = OFF;
    this.ackPending = false;
    this.probePending = false;
    this.synPending = false;
    this.sb.clear();
    // RFC 9293 3.10.7.4: a reset (or an abort) flushes the segment queues; after an orderly
    // close the unread bytes stay readable and the buffer goes when they are read.
    if (reason !== "normal") this.disposeReceiveBuffer();
    else this.freeReceiveBufferIfDone();
    this.ccImpl?.release?.();
    this.push({ type: "closed", reason });
  }

  private makeReceiveBuffer(): void {
    this.disposeReceiveBuffer();
    const capacity = Math.min(INITIAL_RCV_RING, this.maxRcvBuf);
    this.rcvBuf = createReceiveBuffer({ width: 32, initialSeq: this.rcvNxt, capacity, maxHoles: MAX_HOLES }, this.config.kernel);
  }

  /** Free space of the (logical) receive buffer: receiveBufferSize - unread bytes. */
  private receiveSpace(): number {
    return this.config.receiveBufferSize - (this.rcvBuf?.readable ?? 0);
  }

  /** Frees the receive buffer once nothing can arrive (FIN or CLOSED) and nothing is unread. */
  private freeReceiveBufferIfDone(): void {
    const rb = this.rcvBuf;
    if (rb && rb.readable === 0 && (this.peerFin || this.st === "CLOSED")) this.disposeReceiveBuffer();
  }

  private disposeReceiveBuffer(): void {
    const rb = this.rcvBuf;
    if (!rb) return;
    this.rcvBuf = undefined;
    rb.dispose();
  }
}

const EMPTY = new Uint8Array(0);
/** CUBIC (RFC 9438) is the default controller, as on Linux. */
const defaultCongestion = cubicFactory();

function canSendData(s: TcpState): boolean {
  return s === "ESTABLISHED" || s === "CLOSE_WAIT";
}
