// One MPTCP subflow (RFC 8684 sections 3.1-3.3): a sans-IO TCP connection driven through the
// TcpUpperLayer hooks, plus the per-subflow MPTCP state (handshake role, keys/nonces of a join,
// the receive DSS mappings, the DSN ranges sent here and not yet DATA_ACKed).
import { createDssMap } from "../kernels/factory.ts";
import type { DssMap, KernelImpl } from "../kernels/types.ts";
import type { SchedSubflow } from "../scheduler/index.ts";
import type { TcpConnection } from "../tcp/connection.ts";
import type { TcpOutgoingInfo, TcpState, TcpUpperLayer, TcpVerdict } from "../tcp/types.ts";
import type { IpAddress, MptcpOption, TcpSegment } from "../wire/types.ts";
import type { SubflowCloseReason } from "./types.ts";

/** What a data segment carries (kept by TCP with the segment, returned on retransmission). */
export interface TxMeta {
  dsn: bigint;
  /** Payload bytes (the data-level length of the mapping, without DATA_FIN). */
  len: number;
  /** Relative subflow sequence number of the first byte (first data byte = 1). */
  ssn: number;
  /** DSS checksum (when checksums are in use), else -1. */
  csum: number;
  /** This segment carries the infinite mapping (RFC 8684 section 3.7) instead of a DSS mapping. */
  inf?: boolean;
}

/** The callbacks a Subflow forwards its TCP hooks to (the MPTCP connection). */
export interface SubflowOwner {
  sfInspect(sf: Subflow, seg: TcpSegment, st: TcpState): TcpVerdict;
  sfAfter(sf: Subflow, seg: TcpSegment, st: TcpState): void;
  sfOptions(sf: Subflow, info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined;
  sfOptionSpace(sf: Subflow, flags: number, length: number): number;
  sfWindow(sf: Subflow): number;
  sfAdvertise(sf: Subflow, own: number, wscale: number): number | undefined;
  sfDeliver(sf: Subflow, seq: number, data: Uint8Array): void;
  sfPull(sf: Subflow, maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined;
  sfAcked(sf: Subflow, meta: unknown): void;
}

export class Subflow implements TcpUpperLayer, SchedSubflow {
  // ---- scheduler view (SchedSubflow, core/scheduler): what the packet scheduler reads of a
  // subflow. The Subflow itself is handed to the scheduler (see core/mptcp/scheduling.ts); a
  // field added to SchedSubflow is provided here (or by TcpConnection, for SchedSubflow.tcp).
  /** The subflow's TCP connection (srttUs, cwndBytes, bytesInFlight, mss, rttvarUs). */
  tcp!: TcpConnection;
  /** We treat it as backup (set locally or by the peer's MP_PRIO). */
  backup: boolean;
  /** RTOs without progress (Linux stale_loss_cnt): new data goes elsewhere. */
  stale = false;
  /** The subflow can carry data (MPTCP handshake done on this subflow). */
  get usable(): boolean {
    const s = this.tcp.state;
    return (s === "ESTABLISHED" || s === "CLOSE_WAIT") && (this.initial || this.joined) && this.killReason === undefined;
  }
  // ---- end of the scheduler view

  /** Initial subflow (MP_CAPABLE) or a join (MP_JOIN). */
  readonly initial: boolean;
  readonly active: boolean;
  localId: number;
  remoteId = 0;
  /** A pure ACK follows our FIN (both DATA_FINs acknowledged). */
  ackAfterFin = false;
  /** B bit of our join SYN/ACK: the local endpoint's backup flag (passive joins). */
  synAckBackup = false;
  /** The peer asked us to treat it as backup (join SYN B bit or MP_PRIO). */
  peerBackup = false;
  // -- handshake
  localNonce = 0;
  remoteNonce = 0;
  synsSent = 0;
  mpcDropped = false;
  thirdAckSent = false;
  /** Join: the third ACK was verified (server) / the fourth ACK arrived (client). */
  joined = false;
  joinStartedAt = 0;
  /** Client join: when the third ACK goes again if no fourth ACK came. */
  joinAckAt = Infinity;
  joinAckTries = 0;
  established = false;
  /** Peer's window scale (from its SYN / SYN-ACK) for the connection-level window. */
  peerWscale = 0;
  // -- data
  sentRel = 1;
  readonly sent: TxMeta[] = [];
  sentHead = 0;
  readonly rxMap: DssMap;
  /** Infinite mapping: relative SSN and DSN it starts at. */
  infRel = -1;
  infDsn = 0n;
  /** Staged bytes of a mapping waiting for its checksum. */
  stage: Uint8Array[] = [];
  stageDsn = 0n;
  stageLen = 0;
  /** After an MP_FAIL we sent: drop data until the peer's infinite mapping. */
  discarding = false;
  /** Consecutive incoming segments without a DSS while MPTCP was expected. */
  noDss = 0;
  // -- what a fallback to TCP may assume (RFC 8684 section 3.7): the subflow stream is read 1:1
  // as the data stream only if its sender never put a byte at another subflow offset.
  /**
   * Every data byte sent here went at the subflow offset of its data offset (relative SSN - 1 ==
   * DSN - IDSN - 1): a peer that falls back reads our stream right. False after a data-level
   * re-send here, or data here after data on another subflow.
   */
  sent1to1 = true;
  /** Every DSS mapping received here was 1:1 likewise: we can read the peer's stream 1:1. */
  peer1to1 = true;
  /** infRel / infDsn is our own 1:1 assumption (we fell back), not an infinite mapping received. */
  infAssumed = false;
  /** Relative SSN up to which the peer acknowledged this subflow's data (TCP level). */
  ackedRel = 1;
  /** Relative SSN up to which a segment carrying a DATA_ACK acknowledged this subflow's data. */
  dataAckRel = 1;
  /**
   * The data-level RTO found every byte sent here acknowledged by a segment that still carried a
   * DATA_ACK, yet no DATA_ACK for them (the peer, in MPTCP, dropped them at the data level,
   * Linux RcvPruned): those bytes may be sent here again (which ends sent1to1).
   */
  dataRtx = false;
  /** Reset for a fatal protocol error (fallback impossible): nothing more is delivered from it. */
  fatal = false;
  // -- liveness
  rtoSeen = 0;
  noProgressRtos = 0;
  reinjected = false;
  progress = false;
  // -- signalling to send
  prioPending: boolean | undefined;
  failPending: bigint | undefined;
  rstReason: number | undefined;
  fastclose = false;
  needAck = false;
  killReason: SubflowCloseReason | undefined;
  /** MP_TCPRST received with the peer's RST. */
  peerRst: { reason: number; transient: boolean } | undefined;
  closedReason: SubflowCloseReason | undefined;
  dataBytesSent = 0;
  /** Interface index of the local address (-1 if the endpoint does not know it). */
  iface = -1;

  constructor(
    readonly owner: SubflowOwner,
    readonly id: number,
    readonly localAddress: IpAddress,
    readonly localPort: number,
    readonly remoteAddress: IpAddress,
    readonly remotePort: number,
    opts: { initial: boolean; active: boolean; localId: number; backup: boolean; kernels: KernelImpl },
  ) {
    this.initial = opts.initial;
    this.active = opts.active;
    this.localId = opts.localId;
    this.backup = opts.backup;
    this.rxMap = createDssMap({ maxMappings: 4096 }, opts.kernels);
  }

  inspectIncoming(seg: TcpSegment, st: TcpState): TcpVerdict {
    return this.owner.sfInspect(this, seg, st);
  }
  afterIncoming(seg: TcpSegment, st: TcpState): void {
    this.owner.sfAfter(this, seg, st);
  }
  outgoingOptions(info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined {
    return this.owner.sfOptions(this, info, budget);
  }
  optionSpace(flags: number, length: number): number {
    return this.owner.sfOptionSpace(this, flags, length);
  }
  receiveWindow(): number {
    return this.owner.sfWindow(this);
  }
  advertiseWindow(own: number, wscale: number): number | undefined {
    return this.owner.sfAdvertise(this, own, wscale);
  }
  deliver(seq: number, data: Uint8Array): void {
    this.owner.sfDeliver(this, seq, data);
  }
  pullData(maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined {
    return this.owner.sfPull(this, maxBytes);
  }
  acked(meta: unknown): void {
    this.owner.sfAcked(this, meta);
  }

  /** DSN ranges sent here and not yet DATA_ACKed (after trimming to `una`). */
  unacked(una: bigint): TxMeta[] {
    this.trim(una);
    return this.sent.slice(this.sentHead);
  }

  trim(una: bigint): void {
    const s = this.sent;
    let h = this.sentHead;
    while (h < s.length && s[h]!.dsn + BigInt(s[h]!.len) <= una) h++;
    if (h > 1024 && h * 2 > s.length) {
      s.splice(0, h);
      h = 0;
    }
    this.sentHead = h;
  }

  dispose(): void {
    this.rxMap.dispose();
    // The subflow's TCP connection may hold a WASM receive ring (core/tcp frees it by itself
    // only once CLOSED with nothing left to read).
    this.tcp?.dispose();
  }
}
