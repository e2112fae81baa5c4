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
import { joinAckHmac, joinSynAckHmac, verifyJoinAckHmac, verifyJoinSynAckHmac } from "../crypto/hmac.ts";
import { keyMaterial } from "../crypto/keys.ts";
import { randomU32 } from "../crypto/random.ts";
import type { RandomSource } from "../crypto/random.ts";
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { createReceiveBuffer, createSendBuffer } from "../kernels/factory.ts";
import { Refusal } from "../kernels/types.ts";
import type { ReceiveBuffer, SendBuffer } from "../kernels/types.ts";
import { TcpConnection } from "../tcp/connection.ts";
import type { TcpOutgoingInfo, TcpState, TcpVerdict } from "../tcp/types.ts";
import { dssChecksum } from "../wire/checksum.ts";
import { formatIp, ipEquals } from "../wire/ip.ts";
import { mptcpOptionLength } from "../wire/mptcp.ts";
import { expandSeq64, seqDiff } from "../wire/seq.ts";
import { MPC_FLAG_A, MPC_FLAG_C, MPRST_FLAG_T, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/types.ts";
import { acceptableMpCapable, findMpCapable, mpCapableFlags } from "./handshake.ts";
import type { FallbackReason } from "./handshake.ts";
import type { AddAddr, Dss, IpAddress, MptcpOption, TcpSegment } from "../wire/types.ts";
import { congestionFactory } from "../congestion/index.ts";
import type { CongestionFactory } from "../congestion/types.ts";
import { createScheduler } from "../scheduler/index.ts";
import type { SchedConnection, Scheduler } from "../scheduler/index.ts";
import { RcvSpace, penalise } from "./policies.ts";
import { createPathManager } from "../path_manager/index.ts";
import type { PathManager } from "../path_manager/index.ts";
import { AddressSignalling } from "./signalling.ts";
import type { RemoteAddr } from "./signalling.ts";
import { unwrapDsn, wireDsn } from "./dss.ts";
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
const TWO32 = 4294967296;
/** Shared copy-out buffer: what takeData returns is consumed synchronously by the subflow. */
const SCRATCH = new Uint8Array(65536);
/** Data-level buffers start at this size and double on demand up to the configured size. */
const INITIAL_BUFFER = 64 * 1024;

/** What the Endpoint offers a connection (ports, 4-tuple registration, addresses). */
export interface EndpointContext {
  readonly random: RandomSource;
  allocPort(local: IpAddress, remote: IpAddress, remotePort: number): number;
  register(conn: MptcpConnection, sf: Subflow): void;
  unregister(conn: MptcpConnection, sf: Subflow): void;
  /** Local addresses usable for subflows, with their endpoint ids and flags. */
  localAddresses(): ReadonlyArray<{ address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }>;
  tokenInUse(token: number): boolean;
  releaseToken(token: number): void;
}


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
  private mp: boolean;
  private fellBack = false;
  private csum = false;
  /** Client: the server confirmed MPTCP with a DSS. Server: the client's keys arrived. */
  private confirmed = false;
  private csumPassed = false;
  /** Our DATA_ACKs are 64-bit: the peer's last data mapping had a 64-bit DSN. */
  private ack64 = false;
  /** The segment being processed lies wholly before RCV.NXT (its options are ignored). */
  private oldSeg = false;
  private peerNoInitialJoin = false;
  private st: MptcpState;
  private closeReason: MptcpCloseReason | undefined;

  private readonly ctx: EndpointContext;
  readonly subflows: Subflow[] = [];
  private nextSubflowId = 0;
  private readonly sched: Scheduler;
  /** What the scheduler sees of the connection (BLEST, ECF). */
  private readonly schedView: SchedConnection;
  /** Opportunistic retransmission (NSDI 2012): the DSN last re-sent, and when a subflow was last penalised. */
  private oppDsn = -1n;
  private oppSubflows: Subflow[] = [];
  private lastPenaltyAt = -Infinity;
  /** Receive-buffer autotuning (undefined: the configured size is the window). */
  private readonly rcvSpace: RcvSpace | undefined;
  readonly pm: PathManager;
  /** One congestion factory per connection: coupled algorithms share state across its subflows. */
  private readonly ccFactory: CongestionFactory | undefined;

  private readonly sendBuf: SendBuffer;
  private recvBuf: ReceiveBuffer | undefined;
  private sndNxt: bigint;
  /** DSN after the last byte written by the application (unbounded mirror of sendBuf.nxt64). */
  private sndEnd: bigint;
  /** Mirror of sendBuf.una64 (oldest byte not DATA_ACKed), kept to avoid a bigint per packet. */
  private una: bigint;
  private sndMax: bigint;
  private sndWndEdge: bigint;
  private readonly reinject: TxMeta[] = [];
  private finQueued = false;
  private finSent = false;
  private finAcked = false;
  private finDsn = 0n;
  private finRtoAt = OFF;
  private finBackoff = 0;
  private peerFinDsn: bigint | undefined;
  private peerFinDone = false;
  private rtxAt = OFF;
  private rtxBackoff = 0;
  private closeAt = OFF;
  /** No subflow left (the last one was reset): the close timeout runs; the reason it ends with. */
  private orphanReason: MptcpCloseReason | undefined;
  private readAdvertised = 0;
  private bytesWritten = 0;
  private bytesRead = 0;
  private bytesAckedTotal = 0;
  private writeBlocked = false;
  private readonly scratch = SCRATCH;

  private readonly sig: AddressSignalling;
  private addAddrAccepted = 0;

  private readonly events: MptcpEvent[] = [];
  private evHead = 0;
  private readablePending = false;
  private readonly c: MptcpCounters = emptyCounters();
  private readonly drops: Partial<Record<MptcpDropReason, number>> = {};
  private establishedEmitted = false;

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
    const self = this;
    this.schedView = {
      get sendWindowFree(): number {
        return Number(self.sndWndEdge - self.sndNxt);
      },
      get sendWindow(): number {
        return Number(self.sndWndEdge - self.una);
      },
      get unsentBytes(): number {
        return Number(self.sndEnd - self.sndNxt);
      },
    };
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
  /** Free space in the send buffer. */
  get writable(): number {
    return this.finQueued || this.st === "CLOSED" ? 0 : this.config.sendBufferSize - this.sendBuf.buffered;
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

  private newSubflow(
    local: IpAddress,
    lport: number,
    remote: IpAddress,
    rport: number,
    o: { initial: boolean; active: boolean; localId: number; backup: boolean },
  ): Subflow {
    const sf = new Subflow(this, this.nextSubflowId++, local, lport, remote, rport, { ...o, kernels: this.config.kernels });
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
    const want = Math.min(this.config.sendBufferSize, sb.buffered + bytes.length);
    if (want > sb.capacity) sb.grow(Math.min(this.config.sendBufferSize, Math.max(want, sb.capacity * 2)));
    const n = sb.write(bytes, 0, bytes.length);
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
    const w = this.recvWindow();
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
      this.shutdownFallbackSubflows();
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
        if (sf.active && sf.thirdAckSent) m = Math.min(m, sf.joinAckAt);
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
        if (sf.tcp.state !== "CLOSED" && this.isMptcp) this.checkStale(now, sf);
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
      this.onDataRto(now);
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
    if (!this.isMptcp || flags & TCP_SYN) return 0;
    if (length > 0) return 28; // DSS: 4 + DATA_ACK(8) + DSN(8) + SSN(4) + length(2) [+ checksum(2)], 4-aligned
    if (sf.initial && this.role === "client" && !sf.thirdAckSent) return 20;
    if (!sf.initial && !sf.joined && sf.active) return 24;
    return 12;
  }

  sfWindow(sf: Subflow): number {
    void sf;
    return this.recvWindow();
  }

  sfInspect(sf: Subflow, seg: TcpSegment, st: TcpState): TcpVerdict {
    const h = seg.header;
    const opts = h.options.mptcp;
    this.oldSeg = false;
    if (h.flags & TCP_SYN) {
      if (h.options.wscale !== undefined && (this.config.tcp.windowScaling ?? true)) sf.peerWscale = Math.min(14, h.options.wscale);
    }
    if (!this.mp) return "accept";
    if (h.flags & TCP_RST) {
      for (const o of opts) {
        if (o.type === "mp_tcprst") {
          this.c.MPRstRx++;
          sf.peerRst = { reason: o.reason, transient: (o.flags & MPRST_FLAG_T) !== 0 };
        }
        if (o.type === "mp_fastclose") this.onFastclose(o.receiverKey);
      }
      return "accept";
    }
    // ---- SYN/ACK on an active subflow
    if (st === "SYN_SENT" && h.flags & TCP_SYN && h.flags & TCP_ACK) {
      if (sf.initial) {
        if (this.fellBack) return "accept";
        const mpc = findMpCapable(opts);
        if (sf.mpcDropped || !acceptableMpCapable(mpc, "synack")) {
          this.c.MPCapableFallbackSYNACK++;
          this.doFallback("SYN/ACK without MP_CAPABLE");
          return "accept";
        }
        this.c.MPCapableSYNACKRX++;
        this.setRemoteKey(mpc.senderKey!);
        if (mpc.flags & MPC_FLAG_A || this.config.checksum) this.csum = true;
        if (mpc.flags & MPC_FLAG_C) this.peerNoInitialJoin = true;
        return "accept";
      }
      const j = opts.find((o) => o.type === "mp_join_synack");
      if (!j || j.type !== "mp_join_synack" || !verifyJoinSynAckHmac(this.localKey, this.remoteKey!, sf.localNonce, j.nonce, j.hmac)) {
        this.c.MPJoinSynAckHMacFailure++;
        this.drop("HmacMismatch");
        sf.killReason = "join_failed";
        sf.rstReason = 1;
        return "drop";
      }
      this.c.MPJoinSynAckRx++;
      sf.remoteNonce = j.nonce;
      sf.remoteId = j.addressId;
      sf.peerBackup = j.backup;
      return "accept";
    }
    if (h.flags & TCP_SYN) return "accept";
    // RFC 9293 3.10.7.4: a segment wholly before RCV.NXT is not acceptable; TCP answers it
    // with a duplicate ACK and Linux processes none of its MPTCP options (mptcp/add-addr-old-segment).
    this.oldSeg = isOldSegment(sf.tcp.receiveNext, seg);
    if (this.oldSeg) return "accept";
    if (sf.discarding) {
      // After our MP_FAIL: only the peer's infinite mapping matters.
      const d = opts.find((o) => o.type === "dss");
      if (d && d.type === "dss" && d.mapping && d.mapping.length === 0) this.onOption(sf, seg, d);
      return "accept";
    }
    if (this.fellBack) {
      // Fallen back: only mappings still matter (the peer's infinite mapping, and the DSS of
      // segments it sent before falling back).
      for (const o of opts) if (o.type === "dss" && o.mapping) this.onOption(sf, seg, { type: "dss", dataFin: false, mapping: o.mapping });
      return "accept";
    }
    // ---- server: the third ACK (MP_CAPABLE with both keys), or MP_CAPABLE + data
    if (sf.initial && this.role === "server" && this.remoteKey === undefined) {
      const mpc = opts.find((o) => o.type === "mp_capable");
      if (mpc && mpc.type === "mp_capable" && mpc.senderKey !== undefined && mpc.receiverKey !== undefined) {
        if (mpc.receiverKey !== this.localKey) {
          sf.rstReason = 1;
          return "reset";
        }
        this.c.MPCapableACKRX++;
        this.setRemoteKey(mpc.senderKey!);
        this.confirmed = true;
        // Checksums were decided by the SYN (A from the client) and the SYN/ACK (ours).
        if (mpc.dataLength !== undefined && seg.payload.length > 0) {
          this.ack64 = true; // the implicit mapping counts as 64-bit (Linux: mptcp/mpc-third-ack-lost)
          sf.rxMap.install({ ssn: 1, dsn: this.remoteIdsn + 1n, length: mpc.dataLength, checksum: this.csum ? (mpc.checksum ?? 0) : -1, dataFin: false }, rel(sf, h.seq), seg.payload.length);
        }
      } else if (opts.length === 0) {
        this.c.MPCapableFallbackACK++;
        this.doFallback("third ACK without MP_CAPABLE");
        return "accept";
      } else {
        return "drop"; // DSS before the keys: wait for the MP_CAPABLE retransmission
      }
    }
    // ---- join handshake completion
    if (!sf.initial && !sf.joined) {
      if (sf.active) {
        if (st === "ESTABLISHED" && sf.thirdAckSent && h.flags & TCP_ACK) {
          sf.joined = true; // the fourth ACK
          this.onSubflowJoined(sf);
        }
      } else if (st === "SYN_RECEIVED") {
        const j = opts.find((o) => o.type === "mp_join_ack");
        if (!j || j.type !== "mp_join_ack" || !verifyJoinAckHmac(this.remoteKey!, this.localKey, sf.remoteNonce, sf.localNonce, j.hmac)) {
          this.c.MPJoinAckHMacFailure++;
          this.drop("HmacMismatch");
          sf.rstReason = 1;
          sf.killReason = "join_failed";
          return "reset";
        }
        this.c.MPJoinAckRx++;
        sf.joined = true;
        sf.needAck = true; // the fourth ACK
        this.onSubflowJoined(sf);
      }
    }
    // ---- client: the first segment after the handshake without any MPTCP option: fallback
    if (sf.initial && this.role === "client" && !this.confirmed && opts.length === 0 && seg.payload.length > 0 && this.subflows.length === 1) {
      this.c.MPCapableFallbackACK++;
      this.doFallback("no DSS from the server");
      return "accept";
    }
    // A peer that fell back (options stripped on its way) sends no DSS at all any more.
    if (opts.length === 0) {
      sf.noDss++;
      if (seg.payload.length > 0 && this.confirmed && sf.initial && this.subflows.length === 1 && this.fallbackAllowed()) {
        this.c.MPCapableFallbackACK++;
        this.doFallback("no DSS from the peer");
      }
    } else sf.noDss = 0;
    for (const o of opts) this.onOption(sf, seg, o);
    return "accept";
  }

  sfAfter(sf: Subflow, seg: TcpSegment, st: TcpState): void {
    void st;
    if (!this.isMptcp) return;
    if (seg.header.flags & TCP_SYN) return;
    if (this.oldSeg) return;
    const dss = seg.header.options.mptcp.find((o) => o.type === "dss") as Dss | undefined;
    if (dss?.mapping && dss.dataFin) {
      const m = dss.mapping;
      if (m.length > 0) {
        const fin = (m.dsn64 ? m.dsn : expandSeq64(Number(m.dsn & 0xffffffffn), this.recvNext())) + BigInt(m.length - 1);
        this.onPeerDataFin(sf, wire(fin));
      }
    }
  }

  private recvNext(): bigint {
    return this.recvBuf ? this.recvBuf.nextSeq64 : wire(this.remoteIdsn + 1n);
  }

  private onOption(sf: Subflow, seg: TcpSegment, o: MptcpOption): void {
    switch (o.type) {
      case "dss": {
        if (!this.confirmed) {
          this.confirmed = true;
          if (this.role === "client") this.pmPending = true;
          if (this.role === "server" && this.remoteKey === undefined) return;
        }
        if (o.dataAck !== undefined) {
          const ack = unwrap(o.ack64 ? o.dataAck : expandSeq64(Number(o.dataAck & 0xffffffffn), wire(this.una)), this.una);
          this.onDataAck(sf, ack, seg.header.window);
        }
        const m = o.mapping;
        if (m) {
          const dsn = m.dsn64 ? m.dsn : expandSeq64(Number(m.dsn & 0xffffffffn), this.recvNext());
          if (m.length === 0) {
            const at = m.ssn === 0 ? rel(sf, seg.header.seq) : m.ssn;
            if (sf.infRel < 0 || sf.discarding || seqDiff(at, sf.infRel) > 0) {
              sf.discarding = false;
              this.c.InfiniteMapRx++;
              sf.infRel = at;
              sf.infDsn = dsn;
              this.doFallback("infinite mapping");
            }
            return;
          }
          if (m.ssn === 0 && o.dataFin && m.length === 1) return; // DATA_FIN only: handled after TCP
          const dataLen = o.dataFin ? m.length - 1 : m.length;
          if (dataLen === 0) return;
          this.ack64 = m.dsn64;
          const r = sf.rxMap.install({ ssn: m.ssn, dsn, length: m.length, checksum: this.csum ? (m.checksum ?? 0) : -1, dataFin: o.dataFin }, seg.payload.length > 0 ? rel(sf, seg.header.seq) : m.ssn, seg.payload.length);
          if (r === Refusal.MappingConflict) {
            this.c.DSSNotMatching++;
            this.drop("DssNotMatching");
          }
        }
        return;
      }
      case "mp_capable":
        // MP_CAPABLE + data after the keys are known (the third ACK arrived first): the
        // implicit mapping DSN = IDSN + 1, SSN 1, the data-level length given.
        if (sf.initial && this.role === "server" && o.dataLength !== undefined && seg.payload.length > 0 && o.senderKey === this.remoteKey) {
          this.ack64 = true;
          sf.rxMap.install({ ssn: 1, dsn: this.remoteIdsn + 1n, length: o.dataLength, checksum: this.csum ? (o.checksum ?? 0) : -1, dataFin: false }, rel(sf, seg.header.seq), seg.payload.length);
        }
        return;
      case "add_addr":
        return this.onAddAddr(sf, o);
      case "remove_addr":
        for (const id of o.addressIds) {
          this.c.RmAddr++;
          this.sig.onRemove(id);
          for (const s of this.subflows) {
            if (s.remoteId === id && s !== sf && s.tcp.state !== "CLOSED") {
              this.c.RmSubflow++;
              this.closeSubflowGracefully(s, "removed");
            } else if (s.remoteId === id && s === sf && s.tcp.state !== "CLOSED") {
              this.c.RmSubflow++;
              s.killReason = "removed";
            }
          }
          this.push({ type: "addressRemoved", id });
        }
        return;
      case "mp_prio":
        this.c.MPPrioRx++;
        if (sf.backup !== o.backup) {
          sf.backup = o.backup;
          sf.peerBackup = o.backup;
          this.push({ type: "priorityChanged", subflow: sf.id, backup: o.backup });
        }
        return;
      case "mp_fail":
        this.c.MPFailRx++;
        this.push({ type: "mpFail", dsn: o.dsn });
        if (this.liveSubflows.length <= 1 && !this.fellBack) {
          // Answer with the infinite mapping and continue as TCP (RFC 8684 section 3.7): the
          // data from the failed DSN on is sent again, mapped 1:1 from the next subflow byte.
          const una = this.una;
          const fail = unwrap(o.dsn, una);
          const from = fail < una ? una : fail > this.sndNxt ? this.sndNxt : fail;
          this.sndNxt = from;
          this.infPending = true;
          this.ackFloorSsn = sf.sentRel;
          this.doFallback("MP_FAIL: infinite mapping");
        }
        return;
      case "mp_fastclose":
        return this.onFastclose(o.receiverKey);
      default:
        return;
    }
  }

  /** The next data segment carries the infinite mapping. */
  private infPending = false;
  private pmPending = false;
  /** Relative SSN where our infinite mapping starts (-1: not sent yet). */
  private infStartSsn = -1;
  /** After a rewind for MP_FAIL, subflow ACKs of earlier bytes say nothing at the data level. */
  private ackFloorSsn = -1;

  private onFastclose(key: bigint): void {
    if (key !== this.localKey) {
      this.drop("BadFastcloseKey");
      return;
    }
    this.c.MPFastcloseRx++;
    for (const sf of this.subflows) if (sf.tcp.state !== "CLOSED") sf.killReason = "fastclose";
    this.push({ type: "fastclose" });
    this.pendingFastclose = true;
  }
  private pendingFastclose = false;

  private onAddAddr(sf: Subflow, o: AddAddr): void {
    if (o.echo) {
      if (this.sig.onEcho(o.addressId, o.address)) {
        this.c.EchoAdd++;
        if (this.sig.fire(this.curNow)) this.signalAck(); // the next announcement (mptcp/multi-ep-signal)
      }
      return;
    }
    const r = this.remoteKey === undefined ? "bad-hmac" : this.sig.onAnnounce(this.remoteKey, this.localKey, o, this.remotePort);
    if (r === "bad-hmac") {
      this.c.AddAddrDrop++;
      this.drop("AddAddrHmacMismatch");
      return;
    }
    this.c.AddAddr++;
    sf.needAck = true; // the echo
    if (r === "repeat") return; // a retransmission
    if (r === "limit") {
      this.drop("AddAddrLimit");
      return;
    }
    this.push({ type: "addressAnnounced", id: r.id, address: r.address, ...(o.port !== undefined ? { port: o.port } : {}) });
    this.pendingPm.push(r);
  }
  private readonly pendingPm: RemoteAddr[] = [];

  /** DATA_ACK (RFC 8684 section 3.3.2): releases the send buffer; the window is relative to it. */
  private onDataAck(sf: Subflow, ack: bigint, rawWindow: number): void {
    const limit = this.sndMax + (this.finSent ? 1n : 0n);
    if (ack > limit) {
      this.c.MPDataAckBeyondSent++;
      this.drop("DataAckBeyondSent");
      return;
    }
    const una = this.una;
    if (ack >= una) {
      const edge = ack + BigInt(rawWindow * 2 ** sf.peerWscale);
      if (edge > this.sndWndEdge) this.sndWndEdge = edge;
    }
    if (ack > una) {
      const upTo = ack > this.sndEnd ? this.sndEnd : ack;
      const n = this.sendBuf.ack(wire(upTo));
      if (n > 0) this.una = upTo;
      if (n > 0) {
        this.bytesAckedTotal += n;
        this.rtxBackoff = 0;
        this.rtxAt = this.sendBuf.buffered > 0 ? this.curNow + this.dataRto() : OFF;
        if (this.writeBlocked) {
          this.writeBlocked = false;
          this.push({ type: "writable" });
        }
      }
      if (this.finSent && !this.finAcked && ack === this.finDsn + 1n) this.onFinAcked();
    }
  }

  private curNow = 0;

  /** Time is an argument (DESIGN.md convention 1): every entry point records it first. */
  private tick(now: number): void {
    if (now > this.curNow) this.curNow = now;
  }

  private dataRto(): number {
    let rto = 0;
    for (const sf of this.subflows) {
      if (!sf.usable) continue;
      const s = sf.tcp.srttUs;
      rto = Math.max(rto, s > 0 ? s * 2 + 200_000 : 1_000_000);
    }
    if (rto === 0) rto = 1_000_000;
    return Math.min(60_000_000, rto * 2 ** Math.min(this.rtxBackoff, 6));
  }

  sfDeliver(sf: Subflow, seq: number, data: Uint8Array): void {
    let r = rel(sf, seq);
    if (!this.recvBuf) this.initRecv();
    const rb = this.recvBuf!;
    let off = 0;
    let len = data.length;
    if (sf.discarding) {
      this.drop("DssChecksumMismatch");
      return;
    }
    while (len > 0) {
      // Bytes from the infinite mapping's SSN on map 1:1 (RFC 8684 section 3.7); bytes before it
      // (still in flight when it was sent) keep their own DSS mappings.
      const before = sf.infRel >= 0 ? -seqDiff(r, sf.infRel) : 0;
      if (sf.infRel >= 0 && before <= 0) {
        this.writeData(rb, sf.infDsn + BigInt(-before), data, off, len);
        return;
      }
      if (!this.mp) {
        this.writeData(rb, this.remoteIdsn + BigInt(r), data, off, len);
        return;
      }
      const n = sf.rxMap.translate(r, before > 0 ? Math.min(len, before) : len);
      if (n < 0 && !this.isMptcp) {
        // Fallen back, bytes with no mapping before the peer's infinite mapping: not placeable
        // (the peer sends that data again after its infinite mapping).
        const skip = before > 0 ? Math.min(len, before) : len;
        this.drop("NoMapping");
        off += skip;
        len -= skip;
        r = (r + skip) >>> 0;
        continue;
      }
      if (n < 0) {
        this.c.DSSNoMatchTCP++;
        if (this.fallbackAllowed()) {
          this.doFallback("data without a DSS mapping");
          continue;
        }
        this.drop("NoMapping");
        if (sf.killReason === undefined) {
          sf.killReason = "reset";
          sf.rstReason = 1;
        }
        return;
      }
      const dsn = (BigInt(sf.rxMap.dsnHi) << 32n) | BigInt(sf.rxMap.dsnLo);
      if (this.csum) {
        let v: number;
        try {
          v = sf.rxMap.checksumFeed(r, data, off, n);
        } catch {
          // Bytes that cannot be fed in mapping order (a mapping announced after some of its
          // bytes were delivered: forged or contradictory input): treat as a failed checksum.
          v = Refusal.ChecksumMismatch;
        }
        if (v === 0) {
          if (sf.stageLen === 0) sf.stageDsn = dsn;
          sf.stage.push(data.slice(off, off + n));
          sf.stageLen += n;
        } else if (v === 1) {
          this.csumPassed = true;
          if (sf.stageLen > 0) {
            let d = sf.stageDsn;
            for (const p of sf.stage) {
              this.writeData(rb, d, p, 0, p.length);
              d += BigInt(p.length);
            }
            sf.stage = [];
            sf.stageLen = 0;
          }
          this.writeData(rb, dsn, data, off, n);
        } else {
          this.onChecksumFailure(sf, sf.stageLen > 0 ? sf.stageDsn : dsn);
          sf.stage = [];
          sf.stageLen = 0;
        }
      } else {
        this.writeData(rb, dsn, data, off, n);
      }
      off += n;
      len -= n;
      r = (r + n) >>> 0;
    }
    sf.rxMap.releaseBefore(r);
  }

  /** The connection-level receive window: the configured buffer minus what awaits read(). */
  private recvWindow(): number {
    const size = this.rcvSpace ? this.rcvSpace.size : this.config.receiveBufferSize;
    return this.recvBuf ? Math.max(0, size - this.recvBuf.readable) : size;
  }

  private writeData(rb: ReceiveBuffer, dsn: bigint, data: Uint8Array, off: number, len: number): void {
    const d = dsn & 0xffffffffffffffffn;
    const max = this.config.receiveBufferSize;
    if (rb.capacity < max) {
      const end = Number(BigInt.asIntN(64, d - rb.readSeq64)) + len;
      if (end > rb.capacity) rb.grow(Math.min(max, Math.max(end, rb.capacity * 2)));
    }
    const before = rb.readable;
    const w = rb.write64(Number(d >> 32n), Number(d & 0xffffffffn), data, off, len);
    if (w < 0) {
      this.c.RcvPruned++;
      this.drop("OutOfWindow");
      return;
    }
    if (rb.readable > before) {
      if (!this.readablePending) {
        this.readablePending = true;
        this.push({ type: "readable" });
      }
      if (this.peerFinDsn !== undefined && !this.peerFinDone && rb.nextSeq64 === this.peerFinDsn) this.finishPeerFin();
    } else if (w === 0) {
      // Nothing new in order: a duplicate (all of it already received), or out of order.
      if (BigInt.asIntN(64, d + BigInt(len) - rb.nextSeq64) <= 0n) this.c.DuplicateData++;
      else this.c.OFOQueue++;
    }
  }

  private onChecksumFailure(sf: Subflow, dsn: bigint): void {
    this.c.DataCsumErr++;
    this.drop("DssChecksumMismatch");
    this.c.MPFailTx++;
    sf.failPending = dsn;
    sf.needAck = true;
    if (this.liveSubflows.length > 1) {
      // Several subflows: reset the bad one; its data is re-sent on the others.
      sf.killReason = "mp_fail";
      sf.rstReason = 6;
    } else {
      // One subflow: MP_FAIL, then drop everything until the peer's infinite mapping.
      sf.discarding = true;
    }
  }

  sfPull(sf: Subflow, maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined {
    if (this.st === "CLOSED" || sf.killReason !== undefined || !(sf.initial || sf.joined)) return undefined;
    const ts = sf.tcp.state;
    if (!(ts === "ESTABLISHED" || ts === "CLOSE_WAIT" || (!this.isMptcp && (ts === "FIN_WAIT_1" || ts === "LAST_ACK" || ts === "CLOSING")))) return undefined;
    if (this.isMptcp && !this.sched.allowed(sf, this.subflows, this.schedView)) return undefined;
    // 1. data of a dead or stalled subflow (connection-level retransmission)
    const una = this.reinject.length > 0 ? this.una : 0n;
    while (this.isMptcp && this.reinject.length > 0) {
      const r = this.reinject[0]!;
      const end = r.dsn + BigInt(r.len);
      if (end <= una) {
        this.reinject.shift();
        continue;
      }
      if (r.dsn < una) {
        r.len = Number(end - una);
        r.dsn = una;
      }
      const n = Math.min(maxBytes, r.len);
      const meta = this.takeData(sf, r.dsn, n);
      this.c.Reinjections++;
      this.c.ReinjectedBytes += n;
      r.dsn += BigInt(n);
      r.len -= n;
      if (r.len === 0) this.reinject.shift();
      return meta;
    }
    // 1b. what the scheduler sends again on this subflow (redundant scheduling)
    if (this.isMptcp && this.sched.duplicate) {
      const d = this.sched.duplicate(sf, this.una, maxBytes);
      if (d) return this.takeData(sf, d.dsn, d.len);
    }
    // 2. new data, within the peer's connection-level window
    const avail = this.sndEnd - this.sndNxt;
    if (avail <= 0n) return undefined;
    let n = maxBytes;
    if (avail < BigInt(n)) n = Number(avail);
    if (this.isMptcp) {
      const wnd = this.sndWndEdge - this.sndNxt;
      if (wnd <= 0n) return this.config.opportunisticRetransmission ? this.opportunistic(sf, maxBytes) : undefined;
      if (wnd < BigInt(n)) n = Number(wnd);
    }
    const meta = this.takeData(sf, this.sndNxt, n);
    if (this.infPending) {
      this.infPending = false;
      meta.meta.inf = true;
      this.infStartSsn = meta.meta.ssn;
      this.c.InfiniteMapTx++;
    }
    this.sched.sent?.(sf, meta.meta.dsn, n, this.subflows);
    this.sndNxt += BigInt(n);
    if (this.sndNxt > this.sndMax) this.sndMax = this.sndNxt;
    if (this.rtxAt === OFF) this.rtxAt = this.curNow + this.dataRto();
    return meta;
  }

  /**
   * Opportunistic retransmission and penalisation (Raiciu et al., NSDI 2012; the multipath-tcp.org
   * kernel's mptcp_rcv_buf_optimization): the peer's connection-level window is full and this
   * subflow has room, so the segment at DATA_ACK (held by a slower subflow) is sent again here,
   * once per subflow and blocking DSN; the slower subflow's window is halved, at most once per RTT
   * of this subflow, if it is in the open state.
   */
  private opportunistic(sf: Subflow, maxBytes: number): { data: Uint8Array; meta: TxMeta } | undefined {
    const una = this.una;
    if (una >= this.sndNxt) return undefined;
    if (this.oppDsn !== una) {
      this.oppDsn = una;
      this.oppSubflows = [];
    }
    if (this.oppSubflows.includes(sf)) return undefined;
    let holder: Subflow | undefined;
    let end = una;
    for (const s of this.subflows) {
      for (let i = s.sentHead; i < s.sent.length; i++) {
        const m = s.sent[i]!;
        if (m.dsn <= una && una < m.dsn + BigInt(m.len)) {
          if (s === sf) return undefined; // ours already: TCP retransmits it if lost
          holder ??= s;
          const e = m.dsn + BigInt(m.len);
          if (e > end) end = e;
          break;
        }
        if (m.dsn > una) break;
      }
    }
    if (holder === undefined) return undefined;
    this.oppSubflows.push(sf);
    if (sf.tcp.srttUs < holder.tcp.srttUs && this.curNow - this.lastPenaltyAt >= sf.tcp.srttUs) {
      if (penalise(holder.tcp, this.curNow)) {
        this.lastPenaltyAt = this.curNow;
        this.c.Penalisations++;
      }
    }
    const n = Math.min(maxBytes, Number(end - una));
    this.c.OpportunisticRetrans++;
    this.c.OpportunisticRetransBytes += n;
    return this.takeData(sf, una, n);
  }

  private takeData(sf: Subflow, dsn: bigint, n: number): { data: Uint8Array; meta: TxMeta } {
    const off = Number(dsn - this.una);
    const got = this.sendBuf.readAt(off, this.scratch, 0, n);
    const data = this.scratch.subarray(0, Math.max(0, got));
    const meta: TxMeta = { dsn, len: data.length, ssn: sf.sentRel, csum: -1 };
    if (this.csum && this.isMptcp) meta.csum = dssChecksum(dsn, meta.ssn, data.length, data, 0, data.length);
    sf.sentRel = (sf.sentRel + data.length) >>> 0;
    sf.dataBytesSent += data.length;
    if (this.isMptcp) sf.sent.push(meta);
    return { data, meta };
  }

  sfAcked(sf: Subflow, meta: unknown): void {
    sf.progress = true;
    sf.noProgressRtos = 0;
    sf.reinjected = false;
    if (sf.stale) {
      sf.stale = false;
      this.c.SubflowRecover++;
    }
    if (!this.isMptcp && meta && !(this.ackFloorSsn >= 0 && seqDiff((meta as TxMeta).ssn, this.ackFloorSsn) < 0)) {
      // Fallback: the subflow-level ACK is the data-level one.
      const m = meta as TxMeta;
      const end = m.dsn + BigInt(m.len);
      if (end > this.una) {
        const upTo = end > this.sndEnd ? this.sndEnd : end;
        const n = this.sendBuf.ack(wire(upTo));
        if (n > 0) this.una = upTo;
        if (n > 0) {
          this.bytesAckedTotal += n;
          if (this.writeBlocked) {
            this.writeBlocked = false;
            this.push({ type: "writable" });
          }
        }
      }
    }
  }

  sfOptions(sf: Subflow, info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined {
    if (!this.mp) return undefined;
    const f = info.flags;
    if (f & TCP_SYN) {
      if (!(f & TCP_ACK)) {
        if (sf.initial) {
          sf.synsSent++;
          if (sf.synsSent > this.config.mpcSynRetries + 1 || this.fellBack) {
            if (!sf.mpcDropped) this.c.MPCapableSYNTXDrop++;
            sf.mpcDropped = true;
            return undefined;
          }
          this.c.MPCapableSYNTX++;
          return [{ type: "mp_capable", version: 1, flags: this.mpcFlags() }];
        }
        this.c.MPJoinSynTx++;
        return [{ type: "mp_join_syn", backup: sf.backup, addressId: sf.localId, token: this.remoteToken, nonce: sf.localNonce }];
      }
      if (this.fellBack) return undefined;
      if (sf.initial) return [{ type: "mp_capable", version: 1, flags: this.mpcFlags(), senderKey: this.localKey }];
      const hmac = joinSynAckHmac(this.remoteKey!, this.localKey, sf.remoteNonce, sf.localNonce);
      // B: our own wish (the endpoint's flag), not an echo of the peer's (Linux request_bkup).
      return [{ type: "mp_join_synack", backup: sf.synAckBackup, addressId: sf.localId, hmac, nonce: sf.localNonce }];
    }
    if (f & TCP_FIN && sf.ackAfterFin) {
      sf.ackAfterFin = false;
      sf.tcp.requestPureAck(); // after this FIN (finishClose)
    }
    if (f & TCP_RST) {
      const out: MptcpOption[] = [];
      if (sf.fastclose && this.remoteKey !== undefined) out.push({ type: "mp_fastclose", receiverKey: this.remoteKey });
      if (sf.rstReason !== undefined && out.length === 0) {
        this.c.MPRstTx++;
        out.push({ type: "mp_tcprst", flags: 0, reason: sf.rstReason });
      }
      return out.length ? out : undefined;
    }
    const meta = info.meta as TxMeta | undefined;
    if (meta?.inf) {
      const inf: Dss = { type: "dss", dataFin: false, mapping: { dsn: wire(meta.dsn), dsn64: true, ssn: meta.ssn, length: 0 } };
      if (this.csum) inf.mapping!.checksum = 0;
      return [inf];
    }
    if (this.fellBack) {
      // Segments sent before the fallback keep their DSS mapping on retransmission, so the
      // peer can still place them; nothing else carries MPTCP options any more.
      if (meta && info.length > 0 && this.confirmed && (this.infStartSsn < 0 || seqDiff(meta.ssn, this.infStartSsn) < 0) && !(this.ackFloorSsn >= 0 && seqDiff(meta.ssn, this.ackFloorSsn) < 0)) {
        const d: Dss = { type: "dss", dataFin: false, mapping: { dsn: wire(meta.dsn), dsn64: true, ssn: meta.ssn, length: meta.len } };
        if (this.csum) d.mapping!.checksum = meta.csum >= 0 ? meta.csum : 0;
        if (mptcpOptionLength(d) <= budget) return [d];
      }
      return undefined;
    }
    // Client: the third ACK repeats both keys; the first data segment until confirmed too.
    if (sf.initial && this.role === "client" && this.remoteKey !== undefined) {
      // Until the server's first DSS confirms MPTCP, every pure ACK repeats both keys (the
      // third ACK is not reliable; Linux does the same until fully established).
      if (!this.confirmed && info.length === 0) {
        sf.thirdAckSent = true;
        return [{ type: "mp_capable", version: 1, flags: this.mpcFlags(), senderKey: this.localKey, receiverKey: this.remoteKey }];
      }
      sf.thirdAckSent = true;
      if (!this.confirmed && meta && meta.dsn === this.localIdsn + 1n && meta.ssn === 1) {
        const o: MptcpOption = { type: "mp_capable", version: 1, flags: this.mpcFlags(), senderKey: this.localKey, receiverKey: this.remoteKey, dataLength: meta.len };
        if (this.csum) o.checksum = meta.csum >= 0 ? meta.csum : 0;
        return [o];
      }
    }
    if (!sf.initial && !sf.joined && sf.active) {
      sf.thirdAckSent = true;
      // Retransmitted until the fourth ACK (RFC 8684 section 3.2): every 2 * SRTT, not backed off
      // (Linux schedule_3rdack_retransmission; 1 s without an RTT sample; one 4 ms jiffy at least).
      sf.joinAckTries++;
      sf.joinAckAt = this.curNow + (sf.tcp.srttUs > 0 ? Math.max(4_000, sf.tcp.srttUs * 2) : 1_000_000);
      return [{ type: "mp_join_ack", hmac: joinAckHmac(this.localKey, this.remoteKey!, sf.localNonce, sf.remoteNonce) }];
    }
    if (this.role === "server" && this.remoteKey === undefined) return undefined;
    const out: MptcpOption[] = [];
    const dss: Dss = { type: "dss", dataFin: false };
    if (this.recvBuf || this.remoteKey !== undefined) {
      // The DATA_FIN is acknowledged once the data before it was read (Linux
      // mptcp_check_data_fin runs as the data reaches the socket; mptcp/data-fin-with-data).
      dss.dataAck = this.peerFinDone && this.readable === 0 ? wire(this.peerFinDsn! + 1n) : this.recvNext();
      // Width: that of the peer's last DSN, 32-bit before any (Linux use_64bit_ack; mptcp/dss-dack-width).
      dss.ack64 = this.ack64;
      if (!this.ack64) dss.dataAck &= 0xffffffffn;
    }
    if (meta && info.length > 0) {
      dss.mapping = { dsn: wire(meta.dsn), dsn64: true, ssn: meta.ssn, length: meta.len };
      if (this.csum) dss.mapping.checksum = meta.csum >= 0 ? meta.csum : 0;
    } else if (this.finSent && !this.finAcked && info.length === 0) {
      dss.dataFin = true;
      dss.mapping = { dsn: wire(this.finDsn), dsn64: true, ssn: 0, length: 1 };
      if (this.csum) dss.mapping.checksum = dssChecksum(this.finDsn, 0, 1, this.scratch, 0, 0);
    }
    out.push(dss);
    let used = mptcpOptionLength(dss);
    if (used > budget) {
      // Never drop a mapping: drop the DATA_ACK first.
      dss.dataAck = undefined;
      dss.ack64 = undefined;
      used = mptcpOptionLength(dss);
      if (used > budget) return undefined;
    }
    const room = (o: MptcpOption): boolean => {
      const l = mptcpOptionLength(o);
      if (used + l > budget) return false;
      used += l;
      out.push(o);
      return true;
    };
    if (sf.failPending !== undefined && room({ type: "mp_fail", dsn: sf.failPending })) sf.failPending = undefined;
    if (sf.prioPending !== undefined && room({ type: "mp_prio", backup: sf.prioPending })) {
      sf.prioPending = undefined;
      this.c.MPPrioTx++;
    }
    // Linux (mptcp_pm_add_addr_signal): an ADD_ADDR on a pure ACK drops the other suboptions
    // (the DSS with the DATA_ACK; never a mapping or DATA_FIN here) (mptcp/add-addr-server).
    const addrRoom = (o: MptcpOption): boolean => {
      if (o.type === "add_addr" && out.some((x) => x.type === "add_addr")) return false; // one per segment
      const i = out.indexOf(dss);
      if (o.type !== "add_addr" || dss.mapping || i < 0) return room(o);
      const dl = mptcpOptionLength(dss);
      if (used - dl + mptcpOptionLength(o) > budget) return false;
      out.splice(i, 1);
      used -= dl;
      return room(o);
    };
    if (info.length === 0) {
      const n = this.sig.fillPureAck(this.curNow, this.localKey, this.remoteKey!, addrRoom, (o) => {
        // Linux drops the other suboptions of a pure ACK that carries an ADD_ADDR when they do
        // not fit together (the DATA_ACK goes again on the next segment).
        const l = mptcpOptionLength(o);
        if (out.length !== 1 || out[0] !== dss || dss.mapping || l > budget) return false;
        out.length = 0;
        used = l;
        out.push(o);
        return true;
      }, () => {
        let rto = 0;
        for (const x of this.subflows) if (x.tcp.state !== "CLOSED") rto = Math.max(rto, x.tcp.stats().rtoUs);
        return rto;
      });
      this.c.EchoAddTx += n.echoes;
      this.c.AddAddrTx += n.announces;
    }
    return out;
  }

  private mpcFlags(): number {
    // The server's A says whether it requires checksums itself (Linux: checksum_enabled); the
    // client's A on the SYN/ACK is enough to use them (mptcp/mpc-checksum-server).
    return mpCapableFlags(this.config.checksum || (this.role === "client" && this.csum), this.config.noInitialJoin);
  }

  // =============================================================================== internals

  private setRemoteKey(key: bigint): void {
    this.remoteKey = key;
    const km = keyMaterial(key);
    this.remoteToken = km.token;
    this.remoteIdsn = km.idsn;
    this.initRecv();
  }

  private initRecv(): void {
    if (this.recvBuf) return;
    this.recvBuf = createReceiveBuffer({ width: 64, initialSeq: (this.remoteIdsn + 1n) & 0xffffffffffffffffn, capacity: Math.min(INITIAL_BUFFER, this.config.receiveBufferSize), maxHoles: 1024 }, this.config.kernels);
    this.readAdvertised = this.recvWindow();
  }

  private fallbackAllowed(): boolean {
    if (!this.mp || this.fellBack) return false;
    if (this.subflows.length !== 1) return false;
    return this.c.Reinjections === 0 && !this.csumPassed;
  }

  private doFallback(reason: FallbackReason): void {
    if (this.fellBack || !this.mp) return;
    this.fellBack = true;
    const live = this.liveSubflows;
    const sf = live.length === 1 ? live[0]! : this.subflows[0];
    // Receive side: with only the initial subflow ever, the peer's stream maps 1:1 from its
    // IDSN + 1 (an explicit infinite mapping from the peer overrides this).
    if (sf && sf.infRel < 0 && this.subflows.length === 1) {
      sf.infRel = 1;
      sf.infDsn = this.remoteIdsn + 1n;
    }
    this.rtxAt = OFF;
    this.reinject.length = 0;
    // Send side (RFC 8684 section 3.7): the next new data segment carries an infinite mapping.
    // After joins, data of other subflows may be missing at the peer: everything not DATA_ACKed
    // is sent again under that mapping (earlier subflow ACKs then say nothing at data level).
    if (this.confirmed && sf && !this.infPending) {
      if (this.subflows.length > 1) {
        this.sndNxt = this.una;
        this.ackFloorSsn = sf.sentRel;
      }
      this.infPending = true;
    }
    this.push({ type: "fallback", reason });
    if (this.finQueued) this.shutdownFallbackSubflows();
  }

  /**
   * As TCP (fallback or plain mode), the data level's FIN is the subflow's FIN: it may only be
   * queued once every byte was handed to the subflow (a subflow driven by pullData sends its
   * FIN as soon as a pull brings nothing, and a pull brings nothing while the peer's window is
   * closed). Called again after every input until then.
   */
  private shutdownFallbackSubflows(): void {
    if (!this.finQueued || this.isMptcp) return;
    if (this.sndNxt < this.sndEnd) {
      this.fallbackFinPending = true;
      return;
    }
    this.fallbackFinPending = false;
    for (const s of this.subflows) if (s.tcp.state === "ESTABLISHED" || s.tcp.state === "CLOSE_WAIT" || s.tcp.state === "SYN_RECEIVED") s.tcp.shutdown();
  }
  private fallbackFinPending = false;

  private onSubflowJoined(sf: Subflow): void {
    if (this.orphanReason !== undefined) {
      this.orphanReason = undefined;
      if (!this.finSent) this.closeAt = OFF;
    }
    this.push({ type: "subflowEstablished", subflow: sf.id, localId: sf.localId, remoteId: sf.remoteId, backup: sf.backup });
  }

  /**
   * After an RTO of a subflow that made no progress: its unacknowledged data is re-sent on the
   * others at once (Linux: the MPTCP-level retransmission); after `staleRetrans` RTOs without
   * progress (Linux stale_loss_cnt, 4) the scheduler stops giving it new data.
   */
  private checkStale(now: number, sf: Subflow): void {
    const rto = sf.tcp.stats().rtoExpiries;
    if (rto <= sf.rtoSeen) return;
    const n = rto - sf.rtoSeen;
    sf.rtoSeen = rto;
    if (sf.progress) {
      sf.progress = false;
      sf.noProgressRtos = 0;
      sf.reinjected = false;
    }
    sf.noProgressRtos += n;
    if (!sf.reinjected) {
      sf.reinjected = true;
      this.reinjectFrom(sf);
    }
    if (!sf.stale && sf.noProgressRtos >= this.config.staleRetrans) {
      sf.stale = true;
      this.c.SubflowStale++;
    }
    this.tick(now);
  }

  private reinjectFrom(sf: Subflow): void {
    const una = this.una;
    for (const m of sf.unacked(una)) this.reinject.push({ dsn: m.dsn, len: m.len, ssn: 0, csum: -1 });
    this.reinject.sort((a, b) => (a.dsn < b.dsn ? -1 : a.dsn > b.dsn ? 1 : 0));
  }

  /** Connection-level retransmission timer: the oldest unacknowledged data goes again. */
  private onDataRto(now: number): void {
    if (!this.isMptcp || this.st === "CLOSED" || this.sendBuf.buffered === 0) return;
    const only = this.subflows.length === 1 ? this.subflows[0]! : undefined;
    if (only && only.noDss > 0 && this.fallbackAllowed()) {
      // No DATA_ACK, and the peer's last segments carried no MPTCP option: it fell back (its
      // DSS are stripped on the way). Re-sending data at the data level would duplicate bytes
      // in its 1:1 stream: fall back too.
      this.c.MPCapableFallbackACK++;
      this.doFallback("no DATA_ACK from the peer");
      return;
    }
    const una = this.una;
    const sent = this.sndNxt - una;
    if (sent > 0n) {
      const len = Number(sent > 65536n ? 65536n : sent);
      this.reinject.unshift({ dsn: una, len, ssn: 0, csum: -1 });
    }
    this.rtxBackoff++;
    this.rtxAt = now + this.dataRto();
  }

  private maybeSendDataFin(now: number): void {
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

  private onFinAcked(): void {
    this.finAcked = true;
    this.finRtoAt = OFF;
    if (this.st === "FIN_WAIT_1") this.st = "FIN_WAIT_2";
    else if (this.st === "CLOSING" || this.st === "LAST_ACK") this.finishClose();
  }

  private onPeerDataFin(sf: Subflow, finDsn: bigint): void {
    if (this.peerFinDsn === undefined) this.peerFinDsn = finDsn;
    sf.needAck = true;
    if (!this.peerFinDone && this.recvNext() === this.peerFinDsn) this.finishPeerFin();
  }

  private finishPeerFin(): void {
    this.peerFinDone = true;
    this.push({ type: "peerClosed" });
    const sf = this.pickSignalSubflow();
    if (sf) sf.needAck = true;
    if (this.st === "ESTABLISHED") this.st = "CLOSE_WAIT";
    else if (this.st === "FIN_WAIT_1") this.st = "CLOSING";
    else if (this.st === "FIN_WAIT_2") this.finishClose();
  }

  private finishClose(): void {
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

  private closeConn(reason: MptcpCloseReason): void {
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
  private closeSubflowGracefully(sf: Subflow, reason: SubflowCloseReason): void {
    if (sf.tcp.state === "CLOSED") return;
    if (sf.tcp.state === "SYN_SENT" || sf.tcp.state === "SYN_RECEIVED") return this.killSubflow(sf, reason, undefined);
    sf.closedReason = reason;
    sf.tcp.requestPureAck();
    sf.tcp.close();
  }

  private killSubflow(sf: Subflow, reason: SubflowCloseReason, rstReason: number | undefined): void {
    if (sf.tcp.state === "CLOSED") return;
    sf.closedReason = reason;
    sf.rstReason = rstReason;
    sf.tcp.abort();
  }

  private signalAck(): void {
    const sf = this.pickSignalSubflow();
    if (sf) sf.needAck = true;
  }

  private pickSignalSubflow(): Subflow | undefined {
    let best: Subflow | undefined;
    for (const sf of this.subflows) {
      if (!sf.usable) continue;
      if (!best || (best.stale && !sf.stale) || (best.backup && !sf.backup && !sf.stale)) best = sf;
    }
    return best;
  }

  /** Work after every input: deferred resets, TCP events, establishment, path manager. */
  private service(now: number): void {
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
              if (!this.peerFinDone) this.finishPeerFinFallback();
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
    if (this.fallbackFinPending) this.shutdownFallbackSubflows();
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
      if (sf && (sf.tcp.state === "CLOSED" || sf.tcp.state === "TIME_WAIT" || sf.tcp.state === "LAST_ACK")) this.closeConn("normal");
    }
  }

  /** @internal Join subflows refused on their SYN/ACK: the Endpoint sends RST + MP_TCPRST. */
  readonly pendingRsts: Subflow[] = [];

  private finishPeerFinFallback(): void {
    this.peerFinDone = true;
    this.push({ type: "peerClosed" });
    if (this.st === "ESTABLISHED") this.st = "CLOSE_WAIT";
    else if (this.st === "FIN_WAIT_1" || this.st === "FIN_WAIT_2") this.st = "CLOSING";
  }

  private onSubflowConnected(now: number, sf: Subflow): void {
    sf.established = true;
    if (sf.initial) {
      if (this.role === "server" && this.remoteKey === undefined && this.mp && !this.fellBack) {
        this.doFallback("third ACK without MP_CAPABLE");
      }
      if (!this.establishedEmitted) {
        this.establishedEmitted = true;
        if (this.st === "SYN_SENT" || this.st === "SYN_RECEIVED") this.st = "ESTABLISHED";
        if (!this.recvBuf) this.initRecv();
        if (this.finQueued && !this.isMptcp) this.shutdownFallbackSubflows();
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

  private onSubflowClosed(now: number, sf: Subflow, reason: string): void {
    const r: SubflowCloseReason = sf.closedReason ?? (reason === "normal" ? "normal" : reason === "timeout" ? "timeout" : reason === "aborted" ? "aborted" : "reset");
    sf.closedReason = r;
    this.ctx.unregister(this, sf);
    sf.tcp.congestion?.release?.();
    this.push(sf.peerRst ? { type: "subflowClosed", subflow: sf.id, reason: r, peerResetReason: sf.peerRst.reason, transient: sf.peerRst.transient } : { type: "subflowClosed", subflow: sf.id, reason: r });
    if (this.isMptcp && this.st !== "CLOSED") this.reinjectFrom(sf);
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

  private drop(r: MptcpDropReason): void {
    this.drops[r] = (this.drops[r] ?? 0) + 1;
  }

  private push(e: MptcpEvent): void {
    this.events.push(e);
  }

  /** @internal Counts for the Endpoint. */
  count(name: keyof MptcpCounters): void {
    this.c[name]++;
  }

  /** @internal Frees kernel buffers (the Endpoint forgets the connection). */
  dispose(): void {
    for (const sf of this.subflows) sf.dispose();
    this.sendBuf.dispose();
    this.recvBuf?.dispose();
  }
}

const wire = wireDsn;
const unwrap = unwrapDsn;

/** RFC 9293 3.10.7.4: the segment (payload and FIN) ends at or before RCV.NXT (zero-length: starts before it). */
function isOldSegment(rcvNxt: number, seg: TcpSegment): boolean {
  const len = seg.payload.length + (seg.header.flags & TCP_FIN ? 1 : 0);
  const d = seqDiff(seg.header.seq, rcvNxt);
  return len === 0 ? d < 0 : d + len <= 0;
}

function rel(sf: Subflow, seq: number): number {
  return (seq - sf.tcp.initialRecvSeq + TWO32) % TWO32;
}

function fmt(a: IpAddress): string {
  return a.length === 4 ? formatIp(a) : `[${formatIp(a)}]`;
}

