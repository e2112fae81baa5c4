// RFC 8684 sections 3.1-3.8 on the send side: the MPTCP options of every outgoing segment of a
// subflow (MP_CAPABLE / MP_JOIN forms of the handshakes, the DSS with DATA_ACK, mapping,
// checksum and DATA_FIN, the infinite mapping, MP_FAIL, MP_PRIO, ADD_ADDR / REMOVE_ADDR on pure
// ACKs, MP_FASTCLOSE / MP_TCPRST on RSTs), laid out within the TCP option budget as Linux does.
import { joinAckHmac, joinSynAckHmac } from "../crypto/hmac.ts";
import type { TcpOutgoingInfo } from "../tcp/types.ts";
import { dssChecksum } from "../wire/checksum.ts";
import { mptcpOptionLength } from "../wire/mptcp.ts";
import { seqDiff } from "../wire/seq.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/types.ts";
import type { Dss, DssMapping, MptcpOption } from "../wire/types.ts";
import type { MptcpConnection } from "./connection.ts";
import { wireDsn as wire } from "./dss.ts";
import { mpCapableFlags } from "./handshake.ts";
import { recvNext } from "./receive.ts";
import type { Subflow, TxMeta } from "./subflow.ts";

/**
 * Option bytes (4-aligned) that buildOptions needs on a segment: reserved before SACK blocks,
 * and, for data, taken out of the payload by TCP before the payload is pulled (so the answer
 * depends on `length > 0` only, never on the length: the mapping covers the payload). For data,
 * the DSS with the DATA_ACK at its current width, a 64-bit DSN, SSN, length and the checksum
 * when in use, as Linux's mptcp_established_options_dss sizes it for tcp_current_mss (26 or 28
 * with a 64-bit DATA_ACK, 22 or 24 with a 32-bit one, so 28 or 24); the MP_CAPABLE of the first
 * data (22 or 24) and the infinite mapping are shorter.
 */
export function optionSpace(conn: MptcpConnection, sf: Subflow, flags: number, length: number): number {
  if (flags & TCP_SYN || !conn.mp) return 0;
  if (length > 0) {
    const map = 4 + 8 + 4 + 2 + (conn.csum ? 2 : 0);
    // After a fallback only the infinite mapping (not yet sent) goes on new data, without DATA_ACK.
    if (conn.fellBack) return conn.infPending ? (map + 3) & ~3 : 0;
    const ack = conn.recvBuf || conn.remoteKey !== undefined ? (conn.ack64 ? 8 : 4) : 0;
    return (map + ack + 3) & ~3;
  }
  if (!conn.isMptcp) return 0;
  if (sf.initial && conn.role === "client" && !sf.thirdAckSent) return 20;
  if (!sf.initial && !sf.joined && sf.active) return 24;
  return 12;
}

export function buildOptions(conn: MptcpConnection, sf: Subflow, info: TcpOutgoingInfo, budget: number): MptcpOption[] | undefined {
  if (!conn.mp) return undefined;
  const f = info.flags;
  if (f & TCP_SYN) {
    if (!(f & TCP_ACK)) {
      if (sf.initial) {
        sf.synsSent++;
        if (sf.synsSent > conn.config.mpcSynRetries + 1 || conn.fellBack) {
          if (!sf.mpcDropped) conn.c.MPCapableSYNTXDrop++;
          sf.mpcDropped = true;
          return undefined;
        }
        conn.c.MPCapableSYNTX++;
        return [{ type: "mp_capable", version: 1, flags: mpcFlags(conn) }];
      }
      conn.c.MPJoinSynTx++;
      return [{ type: "mp_join_syn", backup: sf.backup, addressId: sf.localId, token: conn.remoteToken, nonce: sf.localNonce }];
    }
    if (conn.fellBack) return undefined;
    if (sf.initial) return [{ type: "mp_capable", version: 1, flags: mpcFlags(conn), senderKey: conn.localKey }];
    const hmac = joinSynAckHmac(conn.remoteKey!, conn.localKey, sf.remoteNonce, sf.localNonce);
    // B: our own wish (the endpoint's flag), not an echo of the peer's (Linux request_bkup).
    return [{ type: "mp_join_synack", backup: sf.synAckBackup, addressId: sf.localId, hmac, nonce: sf.localNonce }];
  }
  if (f & TCP_FIN && sf.ackAfterFin) {
    sf.ackAfterFin = false;
    sf.tcp.requestPureAck(); // after this FIN (finishClose)
  }
  if (f & TCP_RST) {
    const out: MptcpOption[] = [];
    if (sf.fastclose && conn.remoteKey !== undefined) out.push({ type: "mp_fastclose", receiverKey: conn.remoteKey });
    if (sf.rstReason !== undefined && out.length === 0) {
      conn.c.MPRstTx++;
      out.push({ type: "mp_tcprst", flags: 0, reason: sf.rstReason });
    }
    return out.length ? out : undefined;
  }
  const meta = info.meta as TxMeta | undefined;
  if (meta?.inf) {
    const inf: Dss = { type: "dss", dataFin: false, mapping: { dsn: wire(meta.dsn), dsn64: true, ssn: meta.ssn, length: 0 } };
    if (conn.csum) inf.mapping!.checksum = 0;
    return [inf];
  }
  if (conn.fellBack) {
    // Segments sent before the fallback keep their DSS mapping on retransmission, so the
    // peer can still place them; nothing else carries MPTCP options any more.
    if (meta && info.length > 0 && conn.confirmed && (conn.infStartSsn < 0 || seqDiff(meta.ssn, conn.infStartSsn) < 0) && !(conn.ackFloorSsn >= 0 && seqDiff(meta.ssn, conn.ackFloorSsn) < 0)) {
      const d: Dss = { type: "dss", dataFin: false, mapping: { dsn: wire(meta.dsn), dsn64: true, ssn: meta.ssn, length: meta.len } };
      if (conn.csum) d.mapping!.checksum = meta.csum >= 0 ? meta.csum : 0;
      if (mptcpOptionLength(d) <= budget) return [d];
    }
    return undefined;
  }
  // Client: the third ACK repeats both keys; the first data segment until confirmed too.
  if (sf.initial && conn.role === "client" && conn.remoteKey !== undefined) {
    // Until the server's first DSS confirms MPTCP, every pure ACK repeats both keys (the
    // third ACK is not reliable; Linux does the same until fully established), except, after
    // the third ACK, one that carries our DATA_FIN: "DATA_FIN and TCP shutdown take precedence"
    // (Linux mptcp_established_options_mp). Without that, a client that shut down before the
    // server sent anything never sent its DATA_FIN. A server that lost the third ACK cannot take
    // that DSS (no keys; Linux falls back there): every other DATA_FIN retransmission repeats
    // the keys instead, and the DATA_FIN after it is accepted.
    const finFirst = conn.finSent && !conn.finAcked && sf.thirdAckSent && conn.finBackoff % 2 === 0;
    if (!conn.confirmed && info.length === 0 && !finFirst) {
      sf.thirdAckSent = true;
      return [{ type: "mp_capable", version: 1, flags: mpcFlags(conn), senderKey: conn.localKey, receiverKey: conn.remoteKey }];
    }
    sf.thirdAckSent = true;
    if (!conn.confirmed && meta && meta.dsn === conn.localIdsn + 1n && meta.ssn === 1) {
      const o: MptcpOption = { type: "mp_capable", version: 1, flags: mpcFlags(conn), senderKey: conn.localKey, receiverKey: conn.remoteKey, dataLength: meta.len };
      if (conn.csum) o.checksum = meta.csum >= 0 ? meta.csum : 0;
      return [o];
    }
  }
  if (!sf.initial && !sf.joined && sf.active) {
    sf.thirdAckSent = true;
    // Retransmitted until the fourth ACK (RFC 8684 section 3.2): every 2 * SRTT, not backed off
    // (Linux schedule_3rdack_retransmission; 1 s without an RTT sample; one 4 ms jiffy at least).
    sf.joinAckTries++;
    sf.joinAckAt = conn.curNow + (sf.tcp.srttUs > 0 ? Math.max(4_000, sf.tcp.srttUs * 2) : 1_000_000);
    return [{ type: "mp_join_ack", hmac: joinAckHmac(conn.localKey, conn.remoteKey!, sf.localNonce, sf.remoteNonce) }];
  }
  if (conn.role === "server" && conn.remoteKey === undefined) return undefined;
  const hasAck = conn.recvBuf !== undefined || conn.remoteKey !== undefined;
  let dataAck = 0n;
  if (hasAck) {
    // The DATA_FIN is acknowledged once the data before it was read (Linux
    // mptcp_check_data_fin runs as the data reaches the socket; mptcp/data-fin-with-data).
    dataAck = conn.peerFinDone && conn.readable === 0 ? wire(conn.peerFinDsn! + 1n) : recvNext(conn);
    // Width: that of the peer's last DSN, 32-bit before any (Linux use_64bit_ack; mptcp/dss-dack-width).
    if (!conn.ack64) dataAck &= 0xffffffffn;
  }
  let dataFin = false;
  let mapping: DssMapping | undefined;
  if (meta && info.length > 0) {
    const dsn = wire(meta.dsn);
    mapping = conn.csum ? { dsn, dsn64: true, ssn: meta.ssn, length: meta.len, checksum: meta.csum >= 0 ? meta.csum : 0 } : { dsn, dsn64: true, ssn: meta.ssn, length: meta.len };
  } else if (conn.finSent && !conn.finAcked && info.length === 0) {
    dataFin = true;
    const dsn = wire(conn.finDsn);
    mapping = conn.csum ? { dsn, dsn64: true, ssn: 0, length: 1, checksum: dssChecksum(conn.finDsn, 0, 1, conn.scratch, 0, 0) } : { dsn, dsn64: true, ssn: 0, length: 1 };
  }
  // Each form as one literal (properties added later would need a separate backing store).
  const ack64 = conn.ack64;
  const dss: Dss = hasAck
    ? mapping
      ? { type: "dss", dataFin, dataAck, ack64, mapping }
      : { type: "dss", dataFin, dataAck, ack64 }
    : mapping
      ? { type: "dss", dataFin, mapping }
      : { type: "dss", dataFin };
  // A one-element literal (a push onto [] reserves room for 16).
  const out: MptcpOption[] = [dss];
  let used = mptcpOptionLength(dss);
  if (used > budget) {
    // Never drop a mapping: drop the DATA_ACK first.
    dss.dataAck = undefined;
    dss.ack64 = undefined;
    used = mptcpOptionLength(dss);
    if (used > budget) return undefined;
  }
  if (sf.failPending === undefined && sf.prioPending === undefined && info.length > 0) return out;
  // Signalling: the layout state goes to the module-level helpers below (no closure per segment).
  lay.out = out;
  lay.dss = dss;
  lay.used = used;
  lay.budget = budget;
  lay.conn = conn;
  if (sf.failPending !== undefined && room({ type: "mp_fail", dsn: sf.failPending })) sf.failPending = undefined;
  if (sf.prioPending !== undefined && room({ type: "mp_prio", backup: sf.prioPending })) {
    sf.prioPending = undefined;
    conn.c.MPPrioTx++;
  }
  if (info.length === 0) {
    const n = conn.sig.fillPureAck(conn.curNow, conn.localKey, conn.remoteKey!, addrRoom, replaceForAddAddr, maxRto);
    conn.c.EchoAddTx += n.echoes;
    conn.c.AddAddrTx += n.announces;
  }
  lay.out = NONE;
  lay.dss = undefined;
  lay.conn = undefined;
  return out;
}

const NONE: MptcpOption[] = [];
/**
 * The options of the segment being laid out by buildOptions (which does not re-enter itself:
 * the helpers run within one call), read by room / addrRoom / replaceForAddAddr / maxRto.
 */
const lay: { out: MptcpOption[]; dss: Dss | undefined; used: number; budget: number; conn: MptcpConnection | undefined } = {
  out: NONE,
  dss: undefined,
  used: 0,
  budget: 0,
  conn: undefined,
};

/** Adds `o` if it fits in the budget. */
function room(o: MptcpOption): boolean {
  const l = mptcpOptionLength(o);
  if (lay.used + l > lay.budget) return false;
  lay.used += l;
  lay.out.push(o);
  return true;
}

// Linux (mptcp_pm_add_addr_signal): an ADD_ADDR on a pure ACK drops the other suboptions
// (the DSS with the DATA_ACK; never a mapping or DATA_FIN here) (mptcp/add-addr-server).
function addrRoom(o: MptcpOption): boolean {
  const out = lay.out;
  const dss = lay.dss!;
  if (o.type === "add_addr" && out.some(isAddAddr)) return false; // one per segment
  const i = out.indexOf(dss);
  if (o.type !== "add_addr" || dss.mapping || i < 0) return room(o);
  const dl = mptcpOptionLength(dss);
  if (lay.used - dl + mptcpOptionLength(o) > lay.budget) return false;
  out.splice(i, 1);
  lay.used -= dl;
  return room(o);
}

function isAddAddr(x: MptcpOption): boolean {
  return x.type === "add_addr";
}

// Linux drops the other suboptions of a pure ACK that carries an ADD_ADDR when they do not fit
// together (the DATA_ACK goes again on the next segment).
function replaceForAddAddr(o: MptcpOption): boolean {
  const out = lay.out;
  const dss = lay.dss!;
  const l = mptcpOptionLength(o);
  if (out.length !== 1 || out[0] !== dss || dss.mapping || l > lay.budget) return false;
  out.length = 0;
  lay.used = l;
  out.push(o);
  return true;
}

/** The largest RTO of the connection's open subflows (ADD_ADDR retransmission). */
function maxRto(): number {
  let rto = 0;
  for (const x of lay.conn!.subflows) if (x.tcp.state !== "CLOSED") rto = Math.max(rto, x.tcp.stats().rtoUs);
  return rto;
}

export function mpcFlags(conn: MptcpConnection): number {
  // The server's A says whether it requires checksums itself (Linux: checksum_enabled); the
  // client's A on the SYN/ACK is enough to use them (mptcp/mpc-checksum-server).
  return mpCapableFlags(conn.config.checksum || (conn.role === "client" && conn.csum), conn.config.noInitialJoin);
}
