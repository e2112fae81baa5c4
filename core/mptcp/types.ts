// Public types of the MPTCP layer (RFC 8684): configuration with Linux's defaults, events,
// counters named like the kernel's MPTcpExt* (nstat), drop reasons, connection states.
import type { TcpConfig } from "../tcp/types.ts";
import type { KernelImpl } from "../kernels/types.ts";
import type { IpAddress } from "../wire/types.ts";
import type { FallbackReason } from "./handshake.ts";
import type { CongestionAlgorithm } from "../congestion/index.ts";
import type { PathManagerKind } from "../path_manager/index.ts";
import type { SchedulerName } from "../scheduler/index.ts";

/** Data-level connection states (RFC 8684 section 3.3.3 mirrors RFC 9293's close diagram). */
export type MptcpState =
  | "SYN_SENT" // initial subflow connecting
  | "SYN_RECEIVED"
  | "ESTABLISHED"
  | "FIN_WAIT_1" // DATA_FIN sent, not acknowledged
  | "FIN_WAIT_2" // DATA_FIN acknowledged, peer's not received
  | "CLOSE_WAIT" // peer's DATA_FIN received
  | "CLOSING" // both sent, ours not acknowledged
  | "LAST_ACK" // peer's received, ours sent, not acknowledged
  | "CLOSED";

export type MptcpCloseReason = "normal" | "reset" | "fastclose" | "timeout" | "aborted";

/** Why a subflow closed. */
export type SubflowCloseReason = "normal" | "reset" | "timeout" | "aborted" | "removed" | "mp_fail" | "join_failed" | "fastclose";

/** Why an incoming packet / option was dropped or ignored (counted in stats().drops). */
export type MptcpDropReason =
  | "Malformed"
  | "BadChecksum"
  | "NotForUs"
  | "NoListener"
  | "UnknownToken"
  | "HmacMismatch"
  | "TooManySubflows"
  | "TooManyConnections"
  | "TooManyPendingJoins"
  | "DataAckBeyondSent"
  | "DssNotMatching"
  | "DssChecksumMismatch"
  | "NoMapping"
  | "AddAddrHmacMismatch"
  | "AddAddrLimit"
  | "BadFastcloseKey"
  | "OutOfWindow"
  | "NotEstablished"
  /** The endpoint was disposed (Endpoint.dispose()). */
  | "Disposed";

/** Counters named after Linux's MPTcpExt* where one exists (without the prefix). */
export interface MptcpCounters {
  MPCapableSYNRX: number;
  MPCapableSYNTX: number;
  MPCapableSYNACKRX: number;
  MPCapableACKRX: number;
  MPCapableFallbackACK: number;
  MPCapableFallbackSYNACK: number;
  MPCapableSYNTXDrop: number;
  /** Client: the first segment after the handshake (data or ACK) carried no MPTCP option (Linux check_fully_established). */
  MPCapableDataFallback: number;
  /** Fallback because the peer's DSS stopped arriving (no DSS on its data, no DATA_ACK for ours). */
  DssFallback: number;
  /**
   * The peer fell back (or mapped the subflow 1:1) where we could not follow, so the connection
   * was reset with MP_TCPRST instead of delivering wrong bytes (Linux MPTcpExtFallbackFailed).
   */
  FallbackFailed: number;
  MPJoinSynRx: number;
  MPJoinSynTx: number;
  MPJoinSynAckRx: number;
  MPJoinSynAckHMacFailure: number;
  MPJoinAckRx: number;
  MPJoinAckHMacFailure: number;
  MPJoinNoTokenFound: number;
  MPJoinRejected: number;
  DSSNotMatching: number;
  DSSNoMatchTCP: number;
  InfiniteMapTx: number;
  InfiniteMapRx: number;
  DataCsumErr: number;
  DuplicateData: number;
  OFOQueue: number;
  AddAddr: number;
  AddAddrTx: number;
  AddAddrDrop: number;
  EchoAdd: number;
  EchoAddTx: number;
  RmAddr: number;
  RmAddrTx: number;
  RmSubflow: number;
  MPPrioTx: number;
  MPPrioRx: number;
  MPFailTx: number;
  MPFailRx: number;
  MPFastcloseTx: number;
  MPFastcloseRx: number;
  MPRstTx: number;
  MPRstRx: number;
  RcvPruned: number;
  SubflowStale: number;
  SubflowRecover: number;
  MPDataAckBeyondSent: number;
  Reinjections: number;
  ReinjectedBytes: number;
  /** Opportunistic retransmissions (NSDI 2012) and the subflow penalisations that went with them. */
  OpportunisticRetrans: number;
  OpportunisticRetransBytes: number;
  Penalisations: number;
}

export function emptyCounters(): MptcpCounters {
  return {
    MPCapableSYNRX: 0, MPCapableSYNTX: 0, MPCapableSYNACKRX: 0, MPCapableACKRX: 0, MPCapableFallbackACK: 0, MPCapableFallbackSYNACK: 0,
    MPCapableSYNTXDrop: 0, MPCapableDataFallback: 0, DssFallback: 0, FallbackFailed: 0, MPJoinSynRx: 0, MPJoinSynTx: 0, MPJoinSynAckRx: 0, MPJoinSynAckHMacFailure: 0,
    MPJoinAckRx: 0, MPJoinAckHMacFailure: 0, MPJoinNoTokenFound: 0, MPJoinRejected: 0, DSSNotMatching: 0, DSSNoMatchTCP: 0,
    InfiniteMapTx: 0, InfiniteMapRx: 0, DataCsumErr: 0, DuplicateData: 0, OFOQueue: 0, AddAddr: 0, AddAddrTx: 0, AddAddrDrop: 0,
    EchoAdd: 0, EchoAddTx: 0, RmAddr: 0, RmAddrTx: 0, RmSubflow: 0, MPPrioTx: 0, MPPrioRx: 0, MPFailTx: 0, MPFailRx: 0,
    MPFastcloseTx: 0, MPFastcloseRx: 0, MPRstTx: 0, MPRstRx: 0, RcvPruned: 0, SubflowStale: 0, SubflowRecover: 0,
    MPDataAckBeyondSent: 0, Reinjections: 0, ReinjectedBytes: 0,
    OpportunisticRetrans: 0, OpportunisticRetransBytes: 0, Penalisations: 0,
  };
}

export interface PathManagerConfig {
  /** Extra subflows per connection (Linux `ip mptcp limits subflows`, default 2; hard cap 8). */
  subflows: number;
  /** ADD_ADDR accepted per connection (Linux default 0). */
  addAddrAccepted: number;
  /** ADD_ADDR retransmission timeout (Linux add_addr_timeout, 120 s) and count (3). */
  addAddrTimeoutUs: number;
  addAddrRetries: number;
  /** Policy (default "fullmesh": Linux's in-kernel manager); see core/path_manager. */
  kind?: PathManagerKind;
  /** ndiffports: subflows per connection between the same addresses, the initial one included. */
  ndiffports?: number;
}

export interface MptcpConfig {
  /** false: plain TCP only (no MPTCP option sent, MP_CAPABLE ignored). */
  mptcp: boolean;
  /** Ask for DSS checksums (A bit). Linux default: off. */
  checksum: boolean;
  /** Set the C flag: do not open additional subflows to my initial address. */
  noInitialJoin: boolean;
  /** Connection-level receive buffer (bytes). */
  receiveBufferSize: number;
  /** Largest connection-level send buffer (bytes): what write() takes at most beyond DATA_ACK. */
  sendBufferSize: number;
  /**
   * Send-buffer autotuning (Linux, default on): write() takes up to the sum of the subflows'
   * autotuned send buffers (Linux __mptcp_sync_sndbuf: tcp_wmem[0] 4 KiB + each subflow's
   * 2 * max(cwnd, 10) segments, TcpConfig.sendBufferAutotune), at least 64 KiB (the default
   * scheduler's burst), at most sendBufferSize. false: sendBufferSize.
   */
  sendBufferAutotune?: boolean;
  /** SYN retransmissions with MP_CAPABLE before the third SYN goes without (Linux: 2). */
  mpcSynRetries: number;
  /** Hard cap of subflows per connection (8). */
  maxSubflows: number;
  /** Connections per endpoint. */
  maxConnections: number;
  /** Joins in SYN_RECEIVED per connection. */
  maxPendingJoins: number;
  /** A join that does not complete in this time is reset (µs). */
  joinTimeoutUs: number;
  /** DATA_FIN retransmission (µs, doubled each time) and close timeout (Linux 60 s). */
  dataFinRtoUs: number;
  closeTimeoutUs: number;
  /** RTOs without progress after which a subflow counts as stale (Linux: 4 retransmissions). */
  staleRetrans: number;
  pathManager: PathManagerConfig;
  /**
   * Kernels of the data-level buffers and the subflows' DSS maps: "wasm" (default, the WASM
   * data plane, freed when the Endpoint forgets the connection) or "ts" (the pure-TS twins).
   */
  kernels: KernelImpl;
  /** Per-subflow TCP configuration. */
  tcp: Partial<TcpConfig>;
  /** Scheduler name ("default": Linux's); see core/scheduler. */
  scheduler: SchedulerName;
  /**
   * Opportunistic retransmission and penalisation (NSDI 2012, the multipath-tcp.org kernel):
   * when the peer's connection-level window blocks new data, re-send the blocking segment on a
   * subflow with room and halve the slower holder's window. Default off (as upstream Linux).
   */
  opportunisticRetransmission?: boolean;
  /** Grow the connection-level receive window with the measured rate (up to receiveBufferSize). */
  receiveBufferAutotune?: boolean;
  /**
   * Congestion control of the subflows ("cubic": Linux's default; "lia" / "olia" / "balia":
   * coupled, one shared state per connection). `tcp.congestion`, when set, takes precedence.
   */
  congestion?: CongestionAlgorithm;
}

export const DEFAULT_MPTCP_CONFIG: Readonly<MptcpConfig> = Object.freeze({
  mptcp: true,
  checksum: false,
  noInitialJoin: false,
  receiveBufferSize: 4 << 20,
  sendBufferSize: 4 << 20,
  sendBufferAutotune: true,
  mpcSynRetries: 2,
  maxSubflows: 8,
  maxConnections: 4096,
  maxPendingJoins: 8,
  joinTimeoutUs: 10_000_000,
  dataFinRtoUs: 200_000,
  closeTimeoutUs: 60_000_000,
  staleRetrans: 4,
  pathManager: Object.freeze({ subflows: 2, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 }),
  kernels: "wasm",
  tcp: Object.freeze({}),
  scheduler: "default",
}) as Readonly<MptcpConfig>;

/**
 * What callers pass where a configuration is taken (Endpoint, connect, adapters): any subset of
 * MptcpConfig, where `pathManager` and `tcp` may be partial too. Every field not given keeps the
 * value it had (the defaults, or the endpoint's configuration for a connection).
 */
export type MptcpConfigInput = Partial<Omit<MptcpConfig, "pathManager" | "tcp">> & {
  pathManager?: Partial<PathManagerConfig>;
  tcp?: Partial<TcpConfig>;
};

/** `base` with `input` applied: top-level fields replaced, `pathManager` and `tcp` merged field by field. */
export function mergeMptcpConfig(base: Readonly<MptcpConfig>, input: MptcpConfigInput | undefined): Readonly<MptcpConfig> {
  if (!input) return base;
  const pathManager = Object.freeze({ ...base.pathManager, ...(input.pathManager ?? {}) });
  const tcp = Object.freeze({ ...base.tcp, ...(input.tcp ?? {}) });
  return Object.freeze({ ...base, ...input, pathManager, tcp });
}

/** One local address of an endpoint, with Linux-like endpoint flags. */
export interface LocalAddressSpec {
  address: IpAddress;
  /** Interface index packets from this address leave on (simulator / TUN). Default: its index. */
  iface?: number;
  /** Announce it to peers (ADD_ADDR) on new connections. */
  signal?: boolean;
  /** Open subflows from it on new outgoing connections. */
  subflow?: boolean;
  /** Subflows from it are backup. */
  backup?: boolean;
  /** Endpoint id (1..255); default: assigned. */
  id?: number;
}

export type MptcpEvent =
  | { type: "established"; mptcp: boolean }
  | { type: "fallback"; reason: FallbackReason }
  | { type: "subflowEstablished"; subflow: number; localId: number; remoteId: number; backup: boolean }
  | {
      type: "subflowClosed";
      subflow: number;
      reason: SubflowCloseReason;
      /** MP_TCPRST reason code the peer gave with its RST (0 unspecified .. 6 middlebox), if any. */
      peerResetReason?: number;
      /** The peer's MP_TCPRST had the T (transient) flag. */
      transient?: boolean;
    }
  | { type: "addressAnnounced"; id: number; address: IpAddress; port?: number }
  | { type: "addressRemoved"; id: number }
  | { type: "priorityChanged"; subflow: number; backup: boolean }
  | { type: "mpFail"; dsn: bigint }
  | { type: "fastclose" }
  | { type: "readable" }
  | { type: "writable" }
  | { type: "peerClosed" }
  | { type: "closed"; reason: MptcpCloseReason };

export interface SubflowStats {
  id: number;
  state: string;
  localAddress: string;
  remoteAddress: string;
  localId: number;
  remoteId: number;
  backup: boolean;
  initial: boolean;
  stale: boolean;
  bytesSent: number;
  bytesReceived: number;
  dataBytesSent: number;
  retransSegments: number;
  srttUs: number;
  cwnd: number;
  /** Interface index of the local address (LocalAddressSpec.iface; -1 if unknown). */
  iface: number;
  /** Slow-start threshold in bytes (Infinity before the first loss). */
  ssthresh: number;
  /** Bytes in flight (sent, not acknowledged, not marked lost). */
  inFlight: number;
  /** Current retransmission timeout (µs). */
  rtoUs: number;
}

export interface MptcpStats {
  state: MptcpState;
  mptcp: boolean;
  fallback: boolean;
  checksum: boolean;
  bytesWritten: number;
  bytesRead: number;
  bytesAcked: number;
  counters: MptcpCounters;
  drops: Partial<Record<MptcpDropReason, number>>;
  subflows: SubflowStats[];
}
