// RFC 8684 sections 3.1 (MP_CAPABLE), 3.2 (MP_JOIN), 3.3 (DSS, DATA_ACK, DATA_FIN, checksum),
// 3.4 (ADD_ADDR / REMOVE_ADDR), 3.5 (MP_FASTCLOSE, MP_TCPRST), 3.6 (MP_FAIL), 3.7 (fallback),
// 3.3.8 (MP_PRIO); Linux behaviour per ../shared/PROTOCOL.md.
//
// One MPTCP connection: its subflows (TCP connections driven through the TcpUpperLayer hooks),
// the data-level send buffer (by DSN, released by DATA_ACK) and receive buffer (64-bit
// reassembly, one receive window relative to DATA_ACK shared by all subflows).
//
// Data-level state table (role-agnostic; mirrors RFC 9293's close diagram with DATA_FIN):
//
//   state         | event                                  | next
//   SYN_SENT      | initial subflow connected               | ESTABLISHED
//   SYN_RECEIVED  | initial subflow connected               | ESTABLISHED
//   ESTABLISHED   | close()/shutdown(): DATA_FIN sent       | FIN_WAIT_1
//   ESTABLISHED   | peer DATA_FIN                           | CLOSE_WAIT
//   FIN_WAIT_1    | our DATA_FIN acked                      | FIN_WAIT_2
//   FIN_WAIT_1    | peer DATA_FIN                           | CLOSING
//   FIN_WAIT_2    | peer DATA_FIN                           | CLOSED (subflows FIN)
//   CLOSE_WAIT    | close(): DATA_FIN sent                  | LAST_ACK
//   CLOSING       | our DATA_FIN acked                      | CLOSED
//   LAST_ACK      | our DATA_FIN acked                      | CLOSED
//   any           | MP_FASTCLOSE (valid key) / abort()      | CLOSED
//   any           | last subflow closed                     | CLOSED
//
// In fallback (plain TCP) the data level follows the single subflow: its FIN is the DATA_FIN.
//
// Driver order: after each input (Endpoint.handlePacket / handleTimeout / a command), drain
// pollTransmit(now), then pollEvent(), then re-arm one timer at pollTimeout().
import { keyMaterial } from "../crypto/keys.ts";
import { randomU32 } from "../crypto/random.ts";
import type { RandomSource } from "../crypto/random.ts";
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { createReceiveBuffer, createSendBuffer } from "../kernels/factory.ts";
import type { ReceiveBuffer, SendBuffer } from "../kernels/types.ts";
import { TcpConnection } from "../tcp/connection.ts";
import type { TcpOutgoingInfo, TcpState, TcpVerdict } from "../tcp/types.ts";
import { formatIp, ipEquals } from "../wire/ip.ts";
import type { IpAddress, MptcpOption, TcpSegment } from "../wire/types.ts";
import { congestionFactory } from "../congestion/index.ts";
import type { CongestionFactory } from "../congestion/types.ts";
import { createScheduler } from "../scheduler/index.ts";
import type { SchedConnection, Scheduler } from "../scheduler/index.ts";
import { RcvSpace } from "./policies.ts";
import { createPathManager } from "../path_manager/index.ts";
import type { PathManager } from "../path_manager/index.ts";
import { AddressSignalling } from "./signalling.ts";
import type { RemoteAddr } from "./signalling.ts";
import { doFallback, finishPeerFinFallback, shutdownFallbackSubflows } from "./fallback.ts";
import { afterSegment, inspectSegment } from "./incoming.ts";
import { buildOptions, optionSpace } from "./options.ts";
import { deliverData, initRecv, INITIAL_BUFFER, recvNext, recvWindow } from "./receive.ts";
import { schedConnectionView } from "./scheduling.ts";
import { checkStale, onDataRto, onSubflowAcked, pullData, reinjectFrom } from "./send.ts";
import { Subflow } from "./subflow.ts";
import type { SubflowOwner, TxMeta } from "./subflow.ts";
import { emptyCounters } from "./types.ts";
import type {
  MptcpCloseReason,
  MptcpConfig,
  MptcpCounters,
  MptcpDropReason,
  MptcpEvent,
  MptcpState,
  MptcpStats,
  SubflowCloseReason,
} from "./types.ts";

const OFF = Infinity;
/** Linux tcp_wmem[0]: the base of an MPTCP socket's send buffer, to which its subflows' add. */
const SNDBUF_BASE = 4096;
/**
 * Smallest autotuned connection-level send buffer: one burst of the default scheduler
 * (MPTCP_SEND_BURST_SIZE, core/scheduler/linger.ts). Once a subflow is up the sum is above it.
 */
const MIN_SNDBUF = 65536;
/** Shared copy-out buffer: what takeData returns is consumed synchronously by the subflow. */
const SCRATCH: Uint8Array = new Uint8Array(65536);

/** What the Endpoint offers a connection (ports, 4-tuple registration, addresses). */
export interface EndpointContext {
  readonly random: RandomSource;
  allocPort(local: IpAddress, remote: IpAddress, remotePort: number): number;
  register(conn: MptcpConnection, sf: Subflow): void;
  unregister(conn: MptcpConnection, sf: Subflow): void;
  /** Local addresses usable for subflows, with their endpoint ids and flags. */
  localAddresses(): ReadonlyArray<{ address: IpAddress; id: number; iface?: number; signal: boolean; subflow: boolean; backup: boolean }>;
  tokenInUse(token: number): boolean;
  releaseToken(token: number): void;
}

/**
 * One MPTCP connection. The data-level machinery lives in the modules beside this file, as
 * functions over this object: incoming.ts (options of incoming segments), receive.ts (DSS
 * receive path, data-level reassembly), send.ts (data-level send path, DATA_ACK,
 * reinjection), options.ts (options of outgoing segments), fallback.ts (fallback to TCP),
 * scheduling.ts (the scheduler's view). Fields not documented as API are that shared state:
 * internal, not for applications (use the getters, stats() and the commands).
 */
export class MptcpConnection implements SubflowOwner {
  readonly config: Readonly<MptcpConfig>;
  readonly role: "client" | "server";
  readonly localKey: bigint;
  readonly localToken: number;
  readonly localIdsn: bigint;
  remoteKey: bigint | undefined;
  remoteToken = 0;
  remoteIdsn = 0n;
  /** MPTCP in use (false for plain-TCP mode and after fallback). */
  mp: boolean;
  fellBack = false;
  csum = false;
  /** Client: the server confirmed MPTCP with a DSS. Server: the client's keys arrived. */
  confirmed = false;
  csumPassed = false;
  /** Our DATA_ACKs are 64-bit: the peer's last data mapping had a 64-bit DSN. */
  ack64 = false;
  /** The segment being processed lies wholly before RCV.NXT (its options are ignored). */
  oldSeg = false;
  peerNoInitialJoin = false;
  st: MptcpState;
  closeReason: MptcpCloseReason | undefined;

  readonly ctx: EndpointContext;
  readonly subflows: Subflow[] = [];
  nextSubflowId = 0;
  readonly sched: Scheduler;
  /** What the scheduler sees of the connection (BLEST, ECF). */
  readonly schedView: SchedConnection;
  /** send.ts pullData: the default scheduler was last asked with nothing to send (it holds no reservation). */
  schedIdle = false;
  /** Opportunistic retransmission (NSDI 2012): the DSN last re-sent, and when a subflow was last penalised. */
  oppDsn = -1n;
  oppSubflows: Subflow[] = [];
  lastPenaltyAt = -Infinity;
  /** Receive-buffer autotuning (undefined: the configured size is the window). */
  readonly rcvSpace: RcvSpace | undefined;
  readonly pm: PathManager;
  /** One congestion factory per connection: coupled algorithms share state across its subflows. */
  readonly ccFactory: CongestionFactory | undefined;

  readonly sendBuf: SendBuffer;
  recvBuf: ReceiveBuffer | undefined;
  sndNxt: bigint;
  /** DSN after the last byte written by the application (unbounded mirror of sendBuf.nxt64). */
  sndEnd: bigint;
  /** Mirror of sendBuf.una64 (oldest byte not DATA_ACKed), kept to avoid a bigint per packet. */
  una: bigint;
  sndMax: bigint;
  sndWndEdge: bigint;
  readonly reinject: TxMeta[] = [];
  finQueued = false;
  finSent = false;
  finAcked = false;
  finDsn = 0n;
  finRtoAt = OFF;
  finBackoff = 0;
  peerFinDsn: bigint | undefined;
  peerFinDone = false;
  rtxAt = OFF;
  rtxBackoff = 0;
  closeAt = OFF;
  /** No subflow left (the last one was reset): the close timeout runs; the reason it ends with. */
  orphanReason: MptcpCloseReason | undefined;
  readAdvertised = 0;
  /** @internal The right edge (DSN) of the connection-level window advertised so far. */
  rcvWndSent: bigint | undefined;
  bytesWritten = 0;
  bytesRead = 0;
  bytesAckedTotal = 0;
  writeBlocked = false;
  readonly scratch = SCRATCH;

  readonly sig: AddressSignalling;
  addAddrAccepted = 0;

  readonly events: MptcpEvent[] = [];
  evHead = 0;
  readablePending = false;
  readonly c: MptcpCounters = emptyCounters();
  readonly drops: Partial<Record<MptcpDropReason, number>> = {};
  establishedEmitted = false;
  /** The next data segment carries the infinite mapping. */
  infPending = false;
  /** Relative SSN where our infinite mapping starts (-1: not sent yet). */
  infStartSsn = -1;
  /** After a rewind for MP_FAIL, subflow ACKs of earlier bytes say nothing at the data level. */
  ackFloorSsn = -1;
  /** Client: the path manager starts once the server's first DSS confirmed MPTCP. */
  pmPending = false;
  /** A valid MP_FASTCLOSE arrived: every subflow is reset after the current input. */
  pendingFastclose = false;
  /** Addresses the peer announced, handed to the path manager after the current input. */
  readonly pendingPm: RemoteAddr[] = [];
  /** Join subflows refused on their SYN/ACK: the Endpoint sends RST + MP_TCPRST. */
  readonly pendingRsts: Subflow[] = [];
  /** The latest time seen (every entry point records it first). */
  curNow = 0;

  /** Remote address / port of the initial subflow. */
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly localAddress: IpAddress;

  constructor(
    ctx: EndpointContext,
    config: Readonly<MptcpConfig>,
    role: "client" | "server",
    local: IpAddress,
    remote: IpAddress,
    remotePort: number,
  ) {
    this.ctx = ctx;
    this.config = config;
    this.role = role;
    this.mp = config.mptcp;
    this.st = role === "client" ? "SYN_SENT" : "SYN_RECEIVED";
    this.localAddress = local;
    this.remoteAddress = remote;
    this.remotePort = remotePort;
    // Keys whose tokens do not collide with live ones (RFC 8684 section 3.1).
    let key = 0n;
    let km = keyMaterial(0n);
    for (let i = 0; i < 64; i++) {
      const hi = randomU32(ctx.random);
      const lo = randomU32(ctx.random);
      key = (BigInt(hi) << 32n) | BigInt(lo);
      km = keyMaterial(key);
      if (!ctx.tokenInUse(km.token)) break;
    }
    this.localKey = key;
    this.localToken = km.token;
    this.localIdsn = km.idsn;
    this.sendBuf = createSendBuffer({ initialDsn: (this.localIdsn + 1n) & 0xffffffffffffffffn, capacity: Math.min(INITIAL_BUFFER, config.sendBufferSize) }, config.kernels);
    // Send-side DSNs are unbounded (IDSN + 1 + offset); the kernels and the wire see them mod 2^64.
    this.sndNxt = this.localIdsn + 1n;
    this.sndEnd = this.sndNxt;
    this.una = this.sndNxt;
    this.sndMax = this.sndNxt;
    this.sndWndEdge = this.sndNxt + 65535n;
    // The server requires checksums itself when configured so (A in its SYN/ACK); the client's
    // A bit adds to it (requireChecksum). The client decides on the SYN/ACK.
    if (role === "server" && config.checksum && config.mptcp) this.csum = true;
    this.sched = createScheduler(config.scheduler);
    this.schedView = schedConnectionView(this);
    this.rcvSpace = config.receiveBufferAutotune ? new RcvSpace(config.receiveBufferSize) : undefined;
    this.ccFactory = config.tcp.congestion === undefined && config.congestion !== undefined ? congestionFactory(config.congestion) : undefined;
    this.sig = new AddressSignalling(config.pathManager.addAddrRetries, config.pathManager.addAddrTimeoutUs);
    this.pm = createPathManager(config.pathManager);
  }

  // =============================================================================== getters

  get state(): MptcpState {
    return this.st;
  }
  get closedReason(): MptcpCloseReason | undefined {
    return this.closeReason;
  }
  /** True while MPTCP is in use (not plain TCP, not fallen back). */
  get isMptcp(): boolean {
    return this.mp && !this.fellBack;
  }
  get fallback(): boolean {
    return this.fellBack;
  }
  get checksums(): boolean {
    return this.csum;
  }
  /** Bytes ready for read(). */
  get readable(): number {
    return this.recvBuf?.readable ?? 0;
  }
  /** Free space in the send buffer (bytes write() takes now): sendBufferLimit - unacked. */
  get writable(): number {
    return this.finQueued || this.st === "CLOSED" ? 0 : Math.max(0, this.sendBufferLimit - this.sendBuf.buffered);
  }
  /**
   * Size of the connection-level send buffer: config.sendBufferSize, or with
   * config.sendBufferAutotune (default) Linux's msk sk_sndbuf (__mptcp_sync_sndbuf):
   * tcp_wmem[0] + the sum of the subflows' autotuned send buffers (TcpConnection.sendBuffer),
   * at least 64 KiB, at most config.sendBufferSize. It shrinks when a subflow closes.
   */
  get sendBufferLimit(): number {
    const max = this.config.sendBufferSize;
    if (this.config.sendBufferAutotune === false) return max;
    let sum = SNDBUF_BASE;
    const sfs = this.subflows;
    for (let i = 0; i < sfs.length; i++) {
      const t = sfs[i]!.tcp;
      if (t.state !== "CLOSED") sum += t.sendBuffer;
    }
    return Math.min(max, Math.max(MIN_SNDBUF, sum));
  }
  /** Bytes written and not yet DATA_ACKed. */
  get unacked(): number {
    return this.sendBuf.buffered;
  }
  get peerClosed(): boolean {
    return this.peerFinDone;
  }
  /** Addresses the peer announced (ADD_ADDR), at most MAX_REMOTE_ADDRS. */
  get remoteAddrs(): readonly RemoteAddr[] {
    return this.sig.remote;
  }

  get counters(): Readonly<MptcpCounters> {
    return this.c;
  }

  stats(): MptcpStats {
    return {
      state: this.st,
      mptcp: this.isMptcp,
      fallback: this.fellBack,
      checksum: this.csum,
      bytesWritten: this.bytesWritten,
      bytesRead: this.bytesRead,
      bytesAcked: this.bytesAckedTotal,
      counters: { ...this.c },
      drops: { ...this.drops },
      subflows: this.subflows.map((sf) => {
        const t = sf.tcp.stats();
        return {
          id: sf.id,
          state: t.state,
          localAddress: fmt(sf.localAddress) + ":" + sf.localPort,
          remoteAddress: fmt(sf.remoteAddress) + ":" + sf.remotePort,
          localId: sf.localId,
          remoteId: sf.remoteId,
          backup: sf.backup,
          initial: sf.initial,
          stale: sf.stale,
          bytesSent: t.bytesSent,
          bytesReceived: t.bytesReceived,
          dataBytesSent: sf.dataBytesSent,
          retransSegments: t.retransSegments,
          srttUs: t.srttUs,
          cwnd: t.cwnd,
          iface: sf.iface,
          ssthresh: t.ssthresh,
          inFlight: t.inFlight,
          rtoUs: t.rtoUs,
        };
      }),
    };
  }

  /** Every subflow ever created that is not closed. */
  get liveSubflows(): Subflow[] {
    return this.subflows.filter((s) => s.tcp.state !== "CLOSED");
  }

  // =============================================================================== setup (Endpoint)

  /** @internal Creates the initial subflow (client: connects; server: handles the SYN). */
  initialSubflow(now: number, localPort: number): Subflow {
    this.tick(now);
    const sf = this.newSubflow(this.localAddress, localPort, this.remoteAddress, this.remotePort, { initial: true, active: this.role === "client", localId: 0, backup: false });
    if (this.role === "client") sf.tcp.connect(now);
    else sf.tcp.listen();
    return sf;
  }

  newSubflow(
    local: IpAddress,
    lport: number,
    remote: IpAddress,
    rport: number,
    o: { initial: boolean; active: boolean; localId: number; backup: boolean },
  ): Subflow {
    const sf = new Subflow(this, this.nextSubflowId++, local, lport, remote, rport, { ...o, kernels: this.config.kernels });
    sf.iface = this.ctx.localAddresses().find((a) => ipEquals(a.address, local))?.iface ?? -1;
    const tcpCfg = { receiveBufferSize: this.config.receiveBufferSize, ...this.config.tcp, ipv6: local.length === 16, ...(this.ccFactory ? { congestion: this.ccFactory } : {}) };
    sf.tcp = new TcpConnection({ localPort: lport, remotePort: rport, random: this.ctx.random, config: tcpCfg, upper: sf });
    this.subflows.push(sf);
    this.ctx.register(this, sf);
    return sf;
  }

  /** @internal Server side of an MP_JOIN SYN for this connection (the Endpoint checked the token). */
  acceptJoin(now: number, local: IpAddress, lport: number, remote: IpAddress, rport: number, seg: TcpSegment, join: { backup: boolean; addressId: number; nonce: number }): Subflow | undefined {
    this.tick(now);
    if (!this.isMptcp || this.remoteKey === undefined || this.st === "CLOSED" || !this.confirmed) {
      this.c.MPJoinRejected++;
      return undefined;
    }
    const live = this.liveSubflows;
    if (live.length >= Math.min(this.config.maxSubflows, this.config.pathManager.subflows + 1, 8)) {
      this.c.MPJoinRejected++;
      this.drop("TooManySubflows");
      return undefined;
    }
    if (live.filter((s) => !s.joined && !s.initial).length >= this.config.maxPendingJoins) {
      this.c.MPJoinRejected++;
      this.drop("TooManyPendingJoins");
      return undefined;
    }
    const ids = this.ctx.localAddresses();
    const mine = ids.find((a) => ipEquals(a.address, local));
    const localId = ipEquals(local, this.localAddress) ? 0 : (mine?.id ?? 0);
    const sf = this.newSubflow(local, lport, remote, rport, { initial: false, active: false, localId, backup: join.backup || (mine?.backup ?? false) });
    sf.remoteId = join.addressId;
    sf.remoteNonce = join.nonce;
    sf.peerBackup = join.backup;
    sf.synAckBackup = mine?.backup ?? false;
    sf.localNonce = randomU32(this.ctx.random);
    sf.joinStartedAt = now;
    this.c.MPJoinSynRx++;
    sf.tcp.listen();
    sf.tcp.handleSegment(now, seg);
    return sf;
  }

  // =============================================================================== commands

  /** Queues bytes for sending; returns how many were taken (bounded by the send buffer). */
  write(now: number, bytes: Uint8Array): number {
    this.tick(now);
    if (this.finQueued || this.st === "CLOSED" || this.st === "CLOSE_WAIT" && this.finQueued) throw new InvalidStateError(`write() in ${this.st}${this.finQueued ? " after close" : ""}`);
    const sb = this.sendBuf;
    const limit = this.sendBufferLimit;
    const room = limit - sb.buffered;
    if (room <= 0) {
      if (bytes.length > 0) this.writeBlocked = true;
      return 0;
    }
    const take = Math.min(room, bytes.length);
    // The ring grows geometrically (few copies) but not far past the limit: by doubling, at
    // most to 5/4 of the limit in 64 KiB steps, never past sendBufferSize.
    const want = sb.buffered + take;
    if (want > sb.capacity) {
      const slack = Math.ceil((limit * 1.25) / 65536) * 65536;
      sb.grow(Math.min(this.config.sendBufferSize, Math.max(want, Math.min(sb.capacity * 2, slack))));
    }
    const n = sb.write(bytes, 0, take);
    this.sndEnd += BigInt(n);
    this.bytesWritten += n;
    if (n < bytes.length) this.writeBlocked = true;
    return n;
  }

  /** Copies received in-order bytes into dst; returns the count (0 when none). */
  read(now: number, dst: Uint8Array): number {
    this.tick(now);
    const rb = this.recvBuf;
    if (!rb || rb.readable === 0) return 0;
    const n = rb.read(dst, 0, dst.length);
    this.bytesRead += n;
    if (this.peerFinDone && rb.readable === 0) this.pickSignalSubflow()?.tcp.requestAck(); // now the DATA_ACK covers the DATA_FIN
    if (this.rcvSpace) {
      let rtt = 0;
      for (const s of this.subflows) if (s.usable && s.tcp.srttUs > rtt) rtt = s.tcp.srttUs;
      this.rcvSpace.onRead(now, n, rtt);
    }
    // Window update when the connection-level window grew enough (Linux mptcp_cleanup_rbuf).
    const w = recvWindow(this);
    if (w - this.readAdvertised >= Math.min(this.config.receiveBufferSize / 2, 2 * 1460 * 8) || (this.readAdvertised < 1460 * 2 && w >= 1460 * 2)) {
      this.readAdvertised = w;
      const sf = this.pickSignalSubflow();
      if (sf) sf.tcp.requestAck();
    }
    return n;
  }

  /** Half close: a DATA_FIN follows the written data. */
  shutdown(now: number): void {
    this.tick(now);
    if (this.st === "CLOSED") return;
    if (this.finQueued) return;
    this.finQueued = true;
    if (this.fellBack || !this.mp) {
      shutdownFallbackSubflows(this);
      return;
    }
    this.maybeSendDataFin(now);
  }

  /**
   * Full close: as shutdown() (the data level keeps receiving until the peer's DATA_FIN), but
   * with unread data a fast close, as Linux (__mptcp_close: mptcp_data_avail ->
   * mptcp_do_fastclose; TCP's RST on close with unread data). Use shutdown() to half-close and
   * keep reading.
   */
  close(now: number): void {
    this.tick(now);
    if (this.st !== "CLOSED" && this.readable > 0) return this.fastClose(now);
    this.shutdown(now);
  }

  /** Abort: RST on every subflow, with MP_FASTCLOSE carrying the peer's key when MPTCP is on. */
  fastClose(now: number): void {
    this.tick(now);
    if (this.st === "CLOSED") return;
    const fc = this.isMptcp && this.remoteKey !== undefined;
    for (const sf of this.subflows) {
      if (sf.tcp.state === "CLOSED") continue;
      if (fc) {
        sf.fastclose = true;
        this.c.MPFastcloseTx++;
      }
      sf.tcp.abort();
      sf.closedReason ??= "fastclose";
    }
    this.closeConn("aborted");
  }

  abort(now: number): void {
    this.fastClose(now);
  }

  /** Opens a subflow (MP_JOIN) from a local address to a remote address / port. */
  openSubflow(now: number, local: IpAddress, remote?: IpAddress, remotePort?: number, opts: { backup?: boolean } = {}): number {
    this.tick(now);
    if (!this.isMptcp || this.remoteKey === undefined) throw new InvalidStateError("openSubflow() needs an established MPTCP connection");
    if (this.st === "CLOSED") throw new InvalidStateError("openSubflow() on a closed connection");
    const r = remote ?? this.remoteAddress;
    const rp = remotePort ?? this.remotePort;
    if (r.length !== local.length) throw new InvalidArgumentError("address family mismatch");
    const addr = this.ctx.localAddresses().find((a) => ipEquals(a.address, local));
    if (!addr) throw new InvalidArgumentError(`${fmt(local)} is not a local address of the endpoint`);
    if (this.liveSubflows.length >= Math.min(this.config.maxSubflows, 8)) throw new InvalidStateError("subflow limit reached");
    const lport = this.ctx.allocPort(local, r, rp);
    const localId = ipEquals(local, this.localAddress) ? 0 : addr.id;
    const sf = this.newSubflow(local, lport, r, rp, { initial: false, active: true, localId, backup: opts.backup ?? addr.backup });
    const ra = this.sig.remote.find((x) => ipEquals(x.address, r));
    sf.remoteId = ra ? ra.id : 0;
    sf.localNonce = randomU32(this.ctx.random);
    sf.joinStartedAt = now;
    sf.tcp.connect(now);
    return sf.id;
  }

  /** Announces a local address to the peer (ADD_ADDR, retransmitted until echoed). */
  announceAddress(now: number, id: number, address: IpAddress, port?: number): void {
    this.tick(now);
    if (!this.isMptcp || this.remoteKey === undefined) throw new InvalidStateError("announceAddress() needs an established MPTCP connection");
    if (!Number.isInteger(id) || id < 1 || id > 255) throw new InvalidArgumentError(`bad address id ${id}`);
    this.sig.announce(now, id, address, port);
    this.signalAck();
  }

  /** Withdraws a local address: REMOVE_ADDR to the peer and our subflows using it close. */
  removeAddress(now: number, id: number): void {
    this.tick(now);
    if (this.st === "CLOSED") return;
    this.sig.forget(id);
    for (const sf of this.subflows) {
      if (sf.localId === id && sf.tcp.state !== "CLOSED" && id !== 0) this.killSubflow(sf, "removed", undefined);
    }
    if (this.isMptcp) {
      this.sig.remove(id);
      this.c.RmAddrTx++;
      this.signalAck();
    }
  }

  /** @internal The Endpoint removed a local address: close our subflows on it, tell the peer. */
  localAddressRemoved(now: number, address: IpAddress, id: number): void {
    if (this.st === "CLOSED") return;
    const announced = this.sig.forget(id);
    let any = false;
    for (const sf of this.subflows) {
      if (ipEquals(sf.localAddress, address) && sf.tcp.state !== "CLOSED") {
        any = true;
        this.c.RmSubflow++;
        this.killSubflow(sf, "removed", undefined);
      }
    }
    if (this.isMptcp && (any || announced)) {
      this.sig.remove(ipEquals(address, this.localAddress) ? 0 : id);
      this.c.RmAddrTx++;
      this.signalAck();
    }
    this.tick(now);
  }

  /** @internal The client's SYN asked for DSS checksums (A bit). */
  requireChecksum(): void {
    this.csum = true;
  }

  /** Sets the backup flag of a subflow (ours, and MP_PRIO asks the peer to do the same). */
  setBackup(now: number, subflowId: number, backup: boolean): void {
    this.tick(now);
    const sf = this.subflows.find((s) => s.id === subflowId);
    if (!sf) throw new InvalidArgumentError(`no subflow ${subflowId}`);
    if (sf.backup === backup && sf.prioPending === undefined) return;
    sf.backup = backup;
    if (this.isMptcp && sf.tcp.state !== "CLOSED") {
      sf.prioPending = backup;
      sf.tcp.requestAck();
    }
    this.push({ type: "priorityChanged", subflow: sf.id, backup });
  }

  // =============================================================================== path manager view

  peerAllowsInitialJoin(): boolean {
    return !this.peerNoInitialJoin;
  }

  endpointAddresses(): ReadonlyArray<{ address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }> {
    return this.ctx.localAddresses();
  }

  acceptAddAddr(): boolean {
    if (this.addAddrAccepted >= this.config.pathManager.addAddrAccepted) return false;
    this.addAddrAccepted++;
    return true;
  }

  // =============================================================================== poll

  pollEvent(): MptcpEvent | undefined {
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
    let m = Math.min(this.finRtoAt, this.rtxAt, this.closeAt);
    m = Math.min(m, this.sig.nextTimeout());
    for (const sf of this.subflows) {
      const t = sf.tcp.pollTimeout();
      if (t !== undefined && t < m) m = t;
      if (!sf.initial && !sf.joined && sf.tcp.state !== "CLOSED") {
        m = Math.min(m, sf.joinStartedAt + this.config.joinTimeoutUs);
        // The same condition as handleTimeout's: a subflow that left ESTABLISHED (shut down
        // before the join's fourth ACK came) would otherwise report a past deadline forever.
        if (sf.active && sf.thirdAckSent && sf.tcp.state === "ESTABLISHED") m = Math.min(m, sf.joinAckAt);
      }
    }
    return m === OFF ? undefined : m;
  }

  /** The next segment to send and the subflow it belongs to. */
  pollTransmit(now: number): { sf: Subflow; seg: TcpSegment } | undefined {
    this.tick(now);
    const order = this.sched.order(this.subflows);
    for (const sf of order) {
      if (sf.needAck) {
        sf.needAck = false;
        sf.tcp.requestPureAck();
      }
      const seg = sf.tcp.pollTransmit(now);
      if (seg) return { sf, seg };
    }
    this.service(now);
    for (const sf of this.subflows) {
      const seg = sf.tcp.pollTransmit(now);
      if (seg) return { sf, seg };
    }
    return undefined;
  }

  /** @internal A segment for one of our subflows (demultiplexed by the Endpoint). */
  handleSegment(now: number, sf: Subflow, seg: TcpSegment): void {
    this.tick(now);
    sf.tcp.handleSegment(now, seg);
    this.service(now);
  }

  handleTimeout(now: number): void {
    this.tick(now);
    for (const sf of this.subflows) {
      const t = sf.tcp.pollTimeout();
      if (t !== undefined && t <= now) {
        sf.tcp.handleTimeout(now);
        if (sf.tcp.state !== "CLOSED" && this.isMptcp) checkStale(this, now, sf);
      }
      if (!sf.initial && !sf.joined && sf.active && sf.thirdAckSent && sf.tcp.state === "ESTABLISHED" && now >= sf.joinAckAt) {
        sf.joinAckAt = OFF;
        sf.needAck = true;
      }
      if (!sf.initial && !sf.joined && sf.tcp.state !== "CLOSED" && now >= sf.joinStartedAt + this.config.joinTimeoutUs) {
        this.killSubflow(sf, "join_failed", 1);
      }
    }
    if (now >= this.finRtoAt) {
      this.finRtoAt = OFF;
      if (this.finSent && !this.finAcked && this.st !== "CLOSED") {
        this.finBackoff++;
        this.finRtoAt = now + this.config.dataFinRtoUs * 2 ** Math.min(this.finBackoff, 8);
        this.signalAck();
      }
    }
    if (now >= this.rtxAt) {
      this.rtxAt = OFF;
      onDataRto(this, now);
    }
    if (now >= this.closeAt) {
      this.closeAt = OFF;
      if (this.st !== "CLOSED") {
        for (const sf of this.subflows) if (sf.tcp.state !== "CLOSED") sf.tcp.abort();
        this.closeConn(this.liveSubflows.length === 0 && this.orphanReason !== undefined ? this.orphanReason : "timeout");
      }
    }
    if (this.sig.fire(now)) this.signalAck();
    this.service(now);
  }

  // =============================================================================== hooks

  sfOptionSpace(sf: Subflow, flags: number, length: number): number {
    return optionSpace(this, sf, flags, length);
  }

  sfWindow(sf: Subflow): number {
    void sf;
    // The window a segment is about to carry: read() compares with it to decide on an update.
    const w = recvWindow(this);
    this.readAdvertised = w;
    return w;
  }

  /**
   * The window a subflow advertises is the connection's, relative to the DATA_ACK (Linux
   * mptcp_set_rwin, msk->rcv_wnd_sent): never moving the connection's right edge backwards,
   * and never pushed past it by a subflow's own never-shrink rule (that subflow's old window,
   * relative to an older DATA_ACK, would reach beyond the buffer another subflow filled).
   */
  sfAdvertise(sf: Subflow, own: number, wscale: number): number | undefined {
    void sf;
    if (!this.isMptcp || !this.recvBuf) return undefined;
    const ack = recvNext(this);
    const unit = 2 ** wscale;
    let w = own;
    const prev = this.rcvWndSent === undefined ? 0n : BigInt.asIntN(64, this.rcvWndSent - ack);
    if (prev > BigInt(w)) w = Math.min(65535 * unit, Number(prev));
    w = Math.floor(w / unit) * unit;
    const edge = (ack + BigInt(w)) & 0xffffffffffffffffn;
    if (this.rcvWndSent === undefined || BigInt.asIntN(64, edge - this.rcvWndSent) > 0n) this.rcvWndSent = edge;
    return w;
  }

  sfInspect(sf: Subflow, seg: TcpSegment, st: TcpState): TcpVerdict {
    return inspectSegment(this, sf, seg, st);
  }

  sfAfter(sf: Subflow, seg: TcpSegment, st: TcpState): void {
    afterSegment(this, sf, seg, st);
    // The subflow's send buffer may have grown with its window (the connection's follows).
    if (this.writeBlocked) this.checkWritable();
  }

  /** "writable" once a blocked write() would take bytes again (acknowledged data, a grown buffer). */
  checkWritable(): void {
    if (this.writeBlocked && this.writable > 0) {
      this.writeBlocked = false;
      this.push({ type: "writable" });
    }
  }

  /** Time is an argument (DESIGN.md convention 1): every entry point records it first. */
  tick(now: number): void {
    if (now > this.curNow) this.curNow = now;
  }

  sfDeliver(sf: Subflow, seq: number, data: Uint8Array): void {
    deliverData(this, sf, seq, data);
  }

  sfPull(sf: Subflow, maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined {
    return pullData(this, sf, maxBytes);
  }

  sfAcked(sf: Subflow, meta: unknown): void {
    onSubflowAcked(this, sf, meta);
  }

  sfOptions(sf: Subflow, info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined {
    return buildOptions(this, sf, info, budget);
  }

  // =============================================================================== internals

  setRemoteKey(key: bigint): void {
    this.remoteKey = key;
    const km = keyMaterial(key);
    this.remoteToken = km.token;
    this.remoteIdsn = km.idsn;
    initRecv(this);
  }

  onSubflowJoined(sf: Subflow): void {
    if (this.orphanReason !== undefined) {
      this.orphanReason = undefined;
      if (!this.finSent) this.closeAt = OFF;
    }
    this.push({ type: "subflowEstablished", subflow: sf.id, localId: sf.localId, remoteId: sf.remoteId, backup: sf.backup });
  }

  maybeSendDataFin(now: number): void {
    if (!this.finQueued || this.finSent || !this.isMptcp) return;
    if (this.sndNxt !== this.sndEnd) return;
    this.finSent = true;
    this.finDsn = this.sndNxt;
    if (this.sndMax < this.finDsn) this.sndMax = this.finDsn;
    this.finRtoAt = now + this.config.dataFinRtoUs;
    this.closeAt = now + this.config.closeTimeoutUs;
    if (this.st === "ESTABLISHED") this.st = "FIN_WAIT_1";
    else if (this.st === "CLOSE_WAIT") this.st = "LAST_ACK";
    this.signalAck();
  }

  onFinAcked(): void {
    this.finAcked = true;
    this.finRtoAt = OFF;
    if (this.st === "FIN_WAIT_1") this.st = "FIN_WAIT_2";
    else if (this.st === "CLOSING" || this.st === "LAST_ACK") this.finishClose();
  }

  onPeerDataFin(sf: Subflow, finDsn: bigint): void {
    if (this.peerFinDsn === undefined) this.peerFinDsn = finDsn;
    sf.needAck = true;
    if (!this.peerFinDone && recvNext(this) === this.peerFinDsn) this.finishPeerFin();
  }

  finishPeerFin(): void {
    this.peerFinDone = true;
    this.push({ type: "peerClosed" });
    const sf = this.pickSignalSubflow();
    if (sf) sf.needAck = true;
    if (this.st === "ESTABLISHED") this.st = "CLOSE_WAIT";
    else if (this.st === "FIN_WAIT_1") this.st = "CLOSING";
    else if (this.st === "FIN_WAIT_2") this.finishClose();
  }

  finishClose(): void {
    for (const sf of this.subflows) {
      if (sf.tcp.state === "CLOSED") continue;
      // Linux: the subflow's FIN carries the DATA_ACK of the peer's DATA_FIN, then
      // mptcp_send_ack sends an ACK (mptcp/data-fin-fin-wait-2).
      if (sf.needAck && sf.usable) {
        sf.needAck = false;
        sf.ackAfterFin = true;
      }
      sf.tcp.close();
    }
    this.closeConn("normal");
  }

  closeConn(reason: MptcpCloseReason): void {
    if (this.st === "CLOSED") return;
    this.st = "CLOSED";
    this.closeReason = reason;
    this.finRtoAt = OFF;
    this.rtxAt = OFF;
    this.closeAt = OFF;
    this.sig.clear();
    this.ctx.releaseToken(this.localToken);
    this.push({ type: "closed", reason });
  }

  /** Linux mptcp_pm_nl_rm_addr_or_subflow: an ACK (mptcp_subflow_shutdown), then the FIN (__tcp_close). */
  closeSubflowGracefully(sf: Subflow, reason: SubflowCloseReason): void {
    if (sf.tcp.state === "CLOSED") return;
    if (sf.tcp.state === "SYN_SENT" || sf.tcp.state === "SYN_RECEIVED") return this.killSubflow(sf, reason, undefined);
    sf.closedReason = reason;
    sf.tcp.requestPureAck();
    sf.tcp.close();
  }

  killSubflow(sf: Subflow, reason: SubflowCloseReason, rstReason: number | undefined): void {
    if (sf.tcp.state === "CLOSED") return;
    sf.closedReason = reason;
    sf.rstReason = rstReason;
    sf.tcp.abort();
  }

  signalAck(): void {
    const sf = this.pickSignalSubflow();
    if (sf) sf.needAck = true;
  }

  pickSignalSubflow(): Subflow | undefined {
    let best: Subflow | undefined;
    for (const sf of this.subflows) {
      if (!sf.usable) continue;
      if (!best || (best.stale && !sf.stale) || (best.backup && !sf.backup && !sf.stale)) best = sf;
    }
    return best;
  }

  /** Work after every input: deferred resets, TCP events, establishment, path manager. */
  service(now: number): void {
    this.curNow = now;
    if (this.pendingFastclose) {
      this.pendingFastclose = false;
      // Linux (mptcp_check_fastclose) resets every subflow.
      for (const sf of this.subflows) if (sf.tcp.state !== "CLOSED") sf.tcp.abort();
      this.closeConn("fastclose");
    }
    for (const sf of this.subflows) {
      if (sf.killReason !== undefined && sf.tcp.state !== "CLOSED") {
        const r = sf.killReason;
        sf.closedReason = r;
        if (sf.tcp.state === "SYN_SENT") {
          this.pendingRsts.push(sf);
          sf.tcp.abortSilently();
        } else sf.tcp.abort();
      }
      if (sf.needAck && sf.tcp.state !== "CLOSED") {
        sf.needAck = false;
        sf.tcp.requestPureAck();
      }
      let e;
      while ((e = sf.tcp.pollEvent()) !== undefined) {
        switch (e.type) {
          case "connected":
            this.onSubflowConnected(now, sf);
            break;
          case "peerFin":
            if (!this.isMptcp) {
              if (!this.peerFinDone) finishPeerFinFallback(this);
            } else if (sf.tcp.state === "CLOSE_WAIT" && (this.st === "CLOSED" || !sf.initial || this.liveSubflows.length > 1)) sf.tcp.close();
            break;
          case "closed":
            this.onSubflowClosed(now, sf, e.reason);
            break;
          default:
            break;
        }
      }
    }
    if (this.isMptcp && this.st !== "CLOSED") {
      if (this.pmPending && this.establishedEmitted) {
        this.pmPending = false;
        this.pm.established(now, this);
      }
      this.maybeSendDataFin(now);
      while (this.pendingPm.length > 0) {
        const ra = this.pendingPm.shift()!;
        this.pm.addressAnnounced(now, this, ra);
      }
    }
    if (!this.isMptcp && this.st !== "CLOSED" && this.finQueued && this.peerFinDone) {
      const sf = this.subflows[0];
      // LAST_ACK comes with shutdown() in CLOSE_WAIT, before the bytes are pulled: the data
      // level is done only once every byte was acknowledged (only the FIN may be outstanding).
      const ts = sf?.tcp.state;
      if (ts === "CLOSED" || ts === "TIME_WAIT" || (ts === "LAST_ACK" && this.sendBuf.buffered === 0)) this.closeConn("normal");
    }
  }

  onSubflowConnected(now: number, sf: Subflow): void {
    sf.established = true;
    if (sf.initial) {
      if (this.role === "server" && this.remoteKey === undefined && this.mp && !this.fellBack) {
        doFallback(this, "third ACK without MP_CAPABLE");
      }
      if (!this.establishedEmitted) {
        this.establishedEmitted = true;
        if (this.st === "SYN_SENT" || this.st === "SYN_RECEIVED") this.st = "ESTABLISHED";
        if (!this.recvBuf) initRecv(this);
        if (this.finQueued && !this.isMptcp) shutdownFallbackSubflows(this);
        // Ahead of anything the same input produced (data that came with the third ACK).
        this.events.splice(this.evHead, 0, { type: "established", mptcp: this.isMptcp }, { type: "subflowEstablished", subflow: sf.id, localId: 0, remoteId: 0, backup: sf.backup });
        // The server announces at once; the client waits for the server's first DSS (Linux:
        // fully established) so that its joins cannot overtake the third ACK.
        if (this.isMptcp && (this.role === "server" || this.confirmed)) {
          this.pmPending = false;
          this.pm.established(now, this);
        }
      }
    }
  }

  onSubflowClosed(now: number, sf: Subflow, reason: string): void {
    const r: SubflowCloseReason = sf.closedReason ?? (reason === "normal" ? "normal" : reason === "timeout" ? "timeout" : reason === "aborted" ? "aborted" : "reset");
    sf.closedReason = r;
    this.ctx.unregister(this, sf);
    sf.tcp.congestion?.release?.();
    sf.rxMap.dispose(); // no byte can arrive on it any more: its WASM table goes now
    this.push(sf.peerRst ? { type: "subflowClosed", subflow: sf.id, reason: r, peerResetReason: sf.peerRst.reason, transient: sf.peerRst.transient } : { type: "subflowClosed", subflow: sf.id, reason: r });
    if (this.isMptcp && this.st !== "CLOSED") reinjectFrom(this, sf);
    if (sf.stale) sf.stale = false;
    if (this.st !== "CLOSED" && this.liveSubflows.length === 0) {
      if (!this.isMptcp) {
        this.closeConn(r === "normal" ? "normal" : r === "timeout" ? "timeout" : "reset");
      } else if (this.establishedEmitted && r !== "normal" && !this.finQueued && !this.peerFinDone && !this.pm.canReplace(this)) {
        // Linux (net.mptcp.close_timeout, make-after-break): the connection waits for a new
        // subflow (a join from the peer) before it closes (mptcp/mp-tcprst).
        this.orphanReason = r === "timeout" ? "timeout" : r === "removed" ? "normal" : "reset";
        if (this.closeAt === OFF) this.closeAt = now + this.config.closeTimeoutUs;
      } else if (!(this.establishedEmitted && r !== "normal" && this.pm.canReplace(this))) {
        // No subflow left and none can come: the connection ends (Linux: after the close timeout).
        this.closeConn(r === "timeout" ? "timeout" : r === "normal" || r === "removed" ? "normal" : "reset");
      }
    }
    this.tick(now);
  }

  drop(r: MptcpDropReason): void {
    this.drops[r] = (this.drops[r] ?? 0) + 1;
  }

  push(e: MptcpEvent): void {
    this.events.push(e);
  }

  /** @internal Counts for the Endpoint. */
  count(name: keyof MptcpCounters): void {
    this.c[name]++;
  }

  /**
   * @internal Frees the kernel buffers (the Endpoint forgets a CLOSED connection): the WASM
   * memory of the data-level buffers and of every subflow (DSS map, TCP receive ring). Unread
   * bytes stay readable. Idempotent.
   */
  dispose(): void {
    for (const sf of this.subflows) sf.dispose();
    this.sendBuf.dispose();
    const rb = this.recvBuf;
    if (rb && !this.recvDisposed) {
      // Bytes not read yet stay readable (read(), readable) from a TS twin holding only them:
      // the kernel's memory (WASM, outside the JS heap) is returned now.
      this.recvDisposed = true;
      const n = rb.readable;
      this.recvBuf = undefined;
      if (n > 0) {
        const at = rb.readSeq64;
        const left = new Uint8Array(n);
        rb.read(left, 0, n);
        const ts = createReceiveBuffer({ width: 64, initialSeq: at, capacity: n, maxHoles: 1 }, "ts");
        ts.write64(Number(at >> 32n), Number(at & 0xffffffffn), left, 0, n);
        this.recvBuf = ts;
      }
      rb.dispose();
    }
  }
  private recvDisposed = false;
}

function fmt(a: IpAddress): string {
  return a.length === 4 ? formatIp(a) : `[${formatIp(a)}]`;
}
