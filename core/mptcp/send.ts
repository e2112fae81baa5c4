// RFC 8684 sections 3.3.2 (DATA_ACK, connection-level send window), 3.3.6 (DSS checksum on
// send), 3.3.7 (reinjection); Linux's MPTCP-level retransmission and stale subflows; the
// opportunistic retransmission and penalisation of NSDI 2012: the data-level send path of one
// MPTCP connection. Subflows pull bytes (TcpUpperLayer.pullData) when their congestion window
// has room; each pull takes reinjected data first, then what the scheduler duplicates, then new
// data within the peer's connection-level window, and records the DSN mapping the segment
// carries (TxMeta).
import { dssChecksum } from "../wire/checksum.ts";
import { seqDiff } from "../wire/seq.ts";
import type { MptcpConnection } from "./connection.ts";
import { wireDsn as wire } from "./dss.ts";
import { doFallback, fallbackAllowed, fatalReset } from "./fallback.ts";
import { penalise } from "./policies.ts";
import { RoundRobinScheduler } from "../scheduler/index.ts";
import { LingerScheduler } from "../scheduler/linger.ts";
import { LowestRttScheduler } from "../scheduler/lowrtt.ts";
import type { Subflow, TxMeta } from "./subflow.ts";

const OFF = Infinity;

/** DATA_ACK (RFC 8684 section 3.3.2): releases the send buffer; the window is relative to it. */
export function onDataAck(conn: MptcpConnection, sf: Subflow, ack: bigint, rawWindow: number): void {
  // Beyond what was sent (the DATA_FIN counts one): no bigint sum unless ack is past sndMax.
  if (ack > conn.sndMax && !(conn.finSent && ack === conn.sndMax + 1n)) {
    conn.c.MPDataAckBeyondSent++;
    conn.drop("DataAckBeyondSent");
    return;
  }
  const una = conn.una;
  if (ack >= una) {
    const edge = ack + BigInt(rawWindow * 2 ** sf.peerWscale);
    if (edge > conn.sndWndEdge) conn.sndWndEdge = edge;
  }
  if (ack > una) {
    const upTo = ack > conn.sndEnd ? conn.sndEnd : ack;
    const n = conn.sendBuf.ack(wire(upTo));
    if (n > 0) conn.una = upTo;
    if (n > 0) {
      conn.bytesAckedTotal += n;
      conn.rtxBackoff = 0;
      conn.rtxAt = conn.sendBuf.buffered > 0 ? conn.curNow + dataRto(conn) : OFF;
      conn.checkWritable();
    }
    if (conn.finSent && !conn.finAcked && ack === conn.finDsn + 1n) conn.onFinAcked();
  }
}

export function dataRto(conn: MptcpConnection): number {
  let rto = 0;
  for (const sf of conn.subflows) {
    if (!sf.usable) continue;
    const s = sf.tcp.srttUs;
    rto = Math.max(rto, s > 0 ? s * 2 + 200_000 : 1_000_000);
  }
  if (rto === 0) rto = 1_000_000;
  return Math.min(60_000_000, rto * 2 ** Math.min(conn.rtxBackoff, 6));
}

export function pullData(conn: MptcpConnection, sf: Subflow, maxBytes: number): { data: Uint8Array; meta?: unknown } | undefined {
  if (conn.st === "CLOSED" || sf.killReason !== undefined || !(sf.initial || sf.joined)) return undefined;
  const ts = sf.tcp.state;
  if (!(ts === "ESTABLISHED" || ts === "CLOSE_WAIT" || (!conn.isMptcp && (ts === "FIN_WAIT_1" || ts === "LAST_ACK" || ts === "CLOSING")))) return undefined;
  if (conn.isMptcp) {
    if (conn.reinject.length === 0 && conn.sched.duplicate === undefined && conn.sndEnd <= conn.sndNxt) {
      // Nothing to send (no reinjection, no duplicate, no new byte): the pull returns nothing
      // whatever the scheduler answers. That is most pulls (TCP pulls on every poll: ~90 % of
      // them in a bulk transfer), so the scheduler is asked only where the question can change
      // its state: the default scheduler drops its reservations then (it holds none after
      // such a call, and makes new ones only in a call with data to send); BLEST and ECF
      // observe every call. Lowest RTT and round robin answer from the subflows alone.
      const s = conn.sched;
      if (s instanceof LowestRttScheduler || s instanceof RoundRobinScheduler) return undefined;
      if (s instanceof LingerScheduler) {
        if (conn.schedIdle) return undefined;
        conn.schedIdle = true;
      }
      s.allowed(sf, conn.subflows, conn.schedView);
      return undefined;
    }
    conn.schedIdle = false;
    if (!conn.sched.allowed(sf, conn.subflows, conn.schedView)) return undefined;
  }
  // 1. data of a dead or stalled subflow (connection-level retransmission), never onto the
  // subflow that already carries it: its TCP retransmits what is in flight, and a second copy at
  // another subflow offset is what a peer that fell back (1:1) would deliver twice.
  const una = conn.reinject.length > 0 ? conn.una : 0n;
  for (let i = 0; conn.isMptcp && i < conn.reinject.length; ) {
    const r = conn.reinject[i]!;
    const end = r.dsn + BigInt(r.len);
    if (end <= una) {
      conn.reinject.splice(i, 1);
      continue;
    }
    if (r.dsn < una) {
      r.len = Number(end - una);
      r.dsn = una;
    }
    const held = heldHere(sf, r.dsn, end);
    if (held.at !== undefined && !(sf.dataRtx && sf.noDss === 0 && seqDiff((held.at.ssn + held.at.len) >>> 0, sf.dataAckRel) <= 0)) {
      // Ours already (in flight, or acknowledged by a peer that may read us 1:1): another
      // subflow takes it, or nobody (the data-level RTO asks again).
      if (conn.subflows.some((s) => s !== sf && s.usable)) i++;
      else conn.reinject.splice(i, 1);
      continue;
    }
    let n = Math.min(maxBytes, r.len);
    if (held.next !== undefined && held.next > r.dsn && held.next - r.dsn < BigInt(n)) n = Number(held.next - r.dsn);
    const meta = takeData(conn, sf, r.dsn, n);
    conn.c.Reinjections++;
    conn.c.ReinjectedBytes += n;
    r.dsn += BigInt(n);
    r.len -= n;
    if (r.len === 0) conn.reinject.splice(i, 1);
    return meta;
  }
  // 1b. what the scheduler sends again on this subflow (redundant scheduling)
  if (conn.isMptcp && conn.sched.duplicate) {
    const d = conn.sched.duplicate(sf, conn.una, maxBytes);
    if (d) return takeData(conn, sf, d.dsn, d.len);
  }
  // 2. new data, within the peer's connection-level window
  if (conn.sndEnd <= conn.sndNxt) return undefined;
  // As numbers (exact: both are far below 2^53), one bigint each instead of two.
  const avail = Number(conn.sndEnd - conn.sndNxt);
  let n = maxBytes;
  if (avail < n) n = avail;
  if (conn.isMptcp) {
    const wnd = Number(conn.sndWndEdge - conn.sndNxt);
    if (wnd <= 0) return conn.config.opportunisticRetransmission ? opportunistic(conn, sf, maxBytes) : undefined;
    if (wnd < n) n = wnd;
  }
  const meta = takeData(conn, sf, conn.sndNxt, n);
  if (conn.infPending) {
    conn.infPending = false;
    meta.meta.inf = true;
    conn.infStartSsn = meta.meta.ssn;
    conn.c.InfiniteMapTx++;
  }
  conn.sched.sent?.(sf, meta.meta.dsn, n, conn.subflows);
  conn.sndNxt += BigInt(n);
  if (conn.sndNxt > conn.sndMax) conn.sndMax = conn.sndNxt;
  if (conn.rtxAt === OFF) conn.rtxAt = conn.curNow + dataRto(conn);
  return meta;
}

/**
 * Opportunistic retransmission and penalisation (Raiciu et al., NSDI 2012; the multipath-tcp.org
 * kernel's mptcp_rcv_buf_optimization): the peer's connection-level window is full and this
 * subflow has room, so the segment at DATA_ACK (held by a slower subflow) is sent again here,
 * once per subflow and blocking DSN; the slower subflow's window is halved, at most once per RTT
 * of this subflow, if it is in the open state.
 */
export function opportunistic(conn: MptcpConnection, sf: Subflow, maxBytes: number): { data: Uint8Array; meta: TxMeta } | undefined {
  const una = conn.una;
  if (una >= conn.sndNxt) return undefined;
  if (conn.oppDsn !== una) {
    conn.oppDsn = una;
    conn.oppSubflows = [];
  }
  if (conn.oppSubflows.includes(sf)) return undefined;
  let holder: Subflow | undefined;
  let end = una;
  for (const s of conn.subflows) {
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
  conn.oppSubflows.push(sf);
  if (sf.tcp.srttUs < holder.tcp.srttUs && conn.curNow - conn.lastPenaltyAt >= sf.tcp.srttUs) {
    if (penalise(holder.tcp, conn.curNow)) {
      conn.lastPenaltyAt = conn.curNow;
      conn.c.Penalisations++;
    }
  }
  const n = Math.min(maxBytes, Number(end - una));
  conn.c.OpportunisticRetrans++;
  conn.c.OpportunisticRetransBytes += n;
  return takeData(conn, sf, una, n);
}

/**
 * What takeData hands the subflow's TCP, which copies the bytes and keeps only `meta` before it
 * pulls again: one result object, and one view on the scratch buffer while the length repeats.
 */
const pulled: { data: Uint8Array; meta: TxMeta } = { data: new Uint8Array(0), meta: { dsn: 0n, len: 0, ssn: 0, csum: -1 } };

export function takeData(conn: MptcpConnection, sf: Subflow, dsn: bigint, n: number): { data: Uint8Array; meta: TxMeta } {
  const off = Number(dsn - conn.una);
  const scratch = conn.scratch;
  const got = Math.max(0, conn.sendBuf.readAt(off, scratch, 0, n));
  let data = pulled.data;
  if (data.length !== got || data.buffer !== scratch.buffer || data.byteOffset !== scratch.byteOffset) data = scratch.subarray(0, got);
  const meta: TxMeta = { dsn, len: data.length, ssn: sf.sentRel, csum: -1 };
  // The subflow stream stays readable 1:1 only while each byte goes at its data offset.
  if (sf.sent1to1 && data.length > 0 && (Number((dsn - conn.localIdsn - 1n) & 0xffffffffn) + 1) >>> 0 !== meta.ssn) sf.sent1to1 = false;
  if (conn.csum && conn.isMptcp) meta.csum = dssChecksum(dsn, meta.ssn, data.length, data, 0, data.length);
  sf.sentRel = (sf.sentRel + data.length) >>> 0;
  sf.dataBytesSent += data.length;
  if (conn.isMptcp) sf.sent.push(meta);
  pulled.data = data;
  pulled.meta = meta;
  return pulled;
}

/**
 * Where the DSN range [dsn, end) meets data sent on `sf` and not yet DATA_ACKed: `at`, the
 * segment holding `dsn` itself; `next`, the first DSN after `dsn` sent here (a re-send stops there).
 */
function heldHere(sf: Subflow, dsn: bigint, end: bigint): { at?: TxMeta; next?: bigint } {
  for (let i = sf.sentHead; i < sf.sent.length; i++) {
    const m = sf.sent[i]!;
    const mEnd = m.dsn + BigInt(m.len);
    if (m.dsn <= dsn && dsn < mEnd) return { at: m };
    if (m.dsn > dsn && m.dsn < end) return { next: m.dsn };
  }
  return {};
}

export function onSubflowAcked(conn: MptcpConnection, sf: Subflow, meta: unknown): void {
  if (meta) {
    const end = ((meta as TxMeta).ssn + (meta as TxMeta).len) >>> 0;
    if (seqDiff(end, sf.ackedRel) > 0) sf.ackedRel = end;
  }
  sf.progress = true;
  sf.noProgressRtos = 0;
  sf.reinjected = false;
  if (sf.stale) {
    sf.stale = false;
    conn.c.SubflowRecover++;
  }
  if (!conn.isMptcp && meta && !(conn.ackFloorSsn >= 0 && seqDiff((meta as TxMeta).ssn, conn.ackFloorSsn) < 0)) {
    // Fallback: the subflow-level ACK is the data-level one.
    const m = meta as TxMeta;
    const end = m.dsn + BigInt(m.len);
    if (end > conn.una) {
      const upTo = end > conn.sndEnd ? conn.sndEnd : end;
      const n = conn.sendBuf.ack(wire(upTo));
      if (n > 0) conn.una = upTo;
      if (n > 0) {
        conn.bytesAckedTotal += n;
        conn.checkWritable();
      }
    }
  }
}

/**
 * After an RTO of a subflow that made no progress: its unacknowledged data is re-sent on the
 * others at once (Linux: the MPTCP-level retransmission); after `staleRetrans` RTOs without
 * progress (Linux stale_loss_cnt, 4) the scheduler stops giving it new data.
 */
export function checkStale(conn: MptcpConnection, now: number, sf: Subflow): void {
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
    reinjectFrom(conn, sf);
  }
  if (!sf.stale && sf.noProgressRtos >= conn.config.staleRetrans) {
    sf.stale = true;
    conn.c.SubflowStale++;
  }
  conn.tick(now);
}

export function reinjectFrom(conn: MptcpConnection, sf: Subflow): void {
  const una = conn.una;
  for (const m of sf.unacked(una)) conn.reinject.push({ dsn: m.dsn, len: m.len, ssn: 0, csum: -1 });
  conn.reinject.sort((a, b) => (a.dsn < b.dsn ? -1 : a.dsn > b.dsn ? 1 : 0));
}

/** Connection-level retransmission timer: the oldest unacknowledged data goes again. */
export function onDataRto(conn: MptcpConnection, now: number): void {
  if (!conn.isMptcp || conn.st === "CLOSED" || conn.sendBuf.buffered === 0) return;
  const live = conn.liveSubflows;
  const only = live.length === 1 ? live[0]! : undefined;
  if (only && only.noDss > 0) {
    // No DATA_ACK, and the peer's last segments carried no MPTCP option: it fell back (its
    // DSS are stripped on the way). Re-sending data at the data level would duplicate bytes
    // in its 1:1 stream: fall back too, if our stream is 1:1; else, once it acknowledged bytes
    // of ours without a DATA_ACK, it reads a stream it cannot place: reset.
    if (fallbackAllowed(conn)) {
      conn.c.DssFallback++;
      doFallback(conn, "no DATA_ACK from the peer");
      return;
    }
    const m = only.unacked(conn.una)[0];
    if (m && seqDiff(only.ackedRel, m.ssn) > 0) return fatalReset(conn);
  }
  // One subflow, everything sent on it acknowledged by a segment with a DATA_ACK, yet no DATA_ACK
  // for it: the peer, still in MPTCP, dropped the bytes at the data level (Linux RcvPruned);
  // only a re-send here helps. (A peer that fell back sends no DATA_ACK at all.)
  if (only && only.noDss === 0 && seqDiff(only.dataAckRel, only.sentRel) >= 0) only.dataRtx = true;
  // Several subflows (no fallback possible): data a subflow carried, acknowledged by a segment
  // with a DATA_ACK, yet not DATA_ACKed, was dropped at the data level; it may go again on that
  // subflow too: the other one may be dead without counting as such (a join probing a closed
  // window never goes stale), and nobody would send it.
  if (live.length > 1) for (const s of live) if (s.noDss === 0) s.dataRtx = true;
  const una = conn.una;
  const sent = conn.sndNxt - una;
  if (sent > 0n) {
    const len = Number(sent > 65536n ? 65536n : sent);
    const end = una + BigInt(len);
    // One entry per range: what an earlier firing queued and nobody sent yet is replaced.
    for (let i = 0; i < conn.reinject.length; ) {
      const r = conn.reinject[i]!;
      const rEnd = r.dsn + BigInt(r.len);
      if (rEnd <= end) conn.reinject.splice(i, 1);
      else {
        if (r.dsn < end) {
          r.len = Number(rEnd - end);
          r.dsn = end;
        }
        i++;
      }
    }
    conn.reinject.unshift({ dsn: una, len, ssn: 0, csum: -1 });
  }
  conn.rtxBackoff++;
  conn.rtxAt = now + dataRto(conn);
}
