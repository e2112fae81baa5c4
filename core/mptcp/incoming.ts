// RFC 8684 sections 3.1-3.8 on the receive side: the MPTCP options of every incoming segment of
// a subflow, seen before TCP processes it (TcpUpperLayer.inspectIncoming): handshake
// completion (MP_CAPABLE keys, MP_JOIN HMACs), DSS (DATA_ACK, mappings, infinite mapping, and
// the DATA_FIN after TCP accepted the segment), ADD_ADDR / REMOVE_ADDR, MP_PRIO, MP_FAIL,
// MP_FASTCLOSE, MP_TCPRST, and the fallback triggers that depend on what a segment lacks.
import { verifyJoinAckHmac, verifyJoinSynAckHmac } from "../crypto/hmac.ts";
import { Refusal } from "../kernels/types.ts";
import type { TcpState, TcpVerdict } from "../tcp/types.ts";
import { expandSeq64, seqDiff } from "../wire/seq.ts";
import { MPC_FLAG_A, MPC_FLAG_C, MPRST_FLAG_T, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../wire/types.ts";
import type { AddAddr, Dss, MptcpOption, TcpSegment } from "../wire/types.ts";
import type { MptcpConnection } from "./connection.ts";
import { rel, unwrapDsn as unwrap, wireDsn as wire } from "./dss.ts";
import { agreesWithFallback, doFallback, fallbackAllowed, fatalReset } from "./fallback.ts";
import { acceptableMpCapable, findMpCapable } from "./handshake.ts";
import { recvNext } from "./receive.ts";
import { onDataAck } from "./send.ts";
import type { Subflow } from "./subflow.ts";

export function inspectSegment(conn: MptcpConnection, sf: Subflow, seg: TcpSegment, st: TcpState): TcpVerdict {
  const h = seg.header;
  const opts = h.options.mptcp;
  conn.oldSeg = false;
  if (h.flags & TCP_SYN) {
    if (h.options.wscale !== undefined && (conn.config.tcp.windowScaling ?? true)) sf.peerWscale = Math.min(14, h.options.wscale);
  }
  if (!conn.mp) return "accept";
  if (h.flags & TCP_RST) {
    for (const o of opts) {
      if (o.type === "mp_tcprst") {
        conn.c.MPRstRx++;
        sf.peerRst = { reason: o.reason, transient: (o.flags & MPRST_FLAG_T) !== 0 };
      }
      if (o.type === "mp_fastclose") onFastclose(conn, o.receiverKey);
    }
    return "accept";
  }
  // ---- SYN/ACK on an active subflow
  if (st === "SYN_SENT" && h.flags & TCP_SYN && h.flags & TCP_ACK) {
    if (sf.initial) {
      if (conn.fellBack) return "accept";
      const mpc = findMpCapable(opts);
      if (sf.mpcDropped || !acceptableMpCapable(mpc, "synack")) {
        conn.c.MPCapableFallbackSYNACK++;
        doFallback(conn, "SYN/ACK without MP_CAPABLE");
        return "accept";
      }
      conn.c.MPCapableSYNACKRX++;
      conn.setRemoteKey(mpc.senderKey!);
      if (mpc.flags & MPC_FLAG_A || conn.config.checksum) conn.csum = true;
      if (mpc.flags & MPC_FLAG_C) conn.peerNoInitialJoin = true;
      return "accept";
    }
    const j = opts.find((o) => o.type === "mp_join_synack");
    if (!j || j.type !== "mp_join_synack" || !verifyJoinSynAckHmac(conn.localKey, conn.remoteKey!, sf.localNonce, j.nonce, j.hmac)) {
      conn.c.MPJoinSynAckHMacFailure++;
      conn.drop("HmacMismatch");
      sf.killReason = "join_failed";
      sf.rstReason = 1;
      return "drop";
    }
    conn.c.MPJoinSynAckRx++;
    sf.remoteNonce = j.nonce;
    sf.remoteId = j.addressId;
    sf.peerBackup = j.backup;
    return "accept";
  }
  if (h.flags & TCP_SYN) return "accept";
  // RFC 9293 3.10.7.4: a segment wholly before RCV.NXT is not acceptable; TCP answers it
  // with a duplicate ACK and Linux processes none of its MPTCP options (mptcp/add-addr-old-segment).
  conn.oldSeg = isOldSegment(sf.tcp.receiveNext, seg);
  if (conn.oldSeg) return "accept";
  if (sf.discarding) {
    // After our MP_FAIL: only the peer's infinite mapping matters.
    const d = opts.find((o) => o.type === "dss");
    if (d && d.type === "dss" && d.mapping && d.mapping.length === 0) onOption(conn, sf, seg, d);
    return "accept";
  }
  if (conn.fellBack) {
    // Fallen back: only mappings still matter (the peer's infinite mapping, and the DSS of
    // segments it sent before falling back). One that contradicts the 1:1 map we read the
    // subflow with (the peer is still in MPTCP and sent bytes at other subflow offsets) means
    // bytes we cannot place: reset before any of them is delivered.
    for (const o of opts) {
      if (o.type !== "dss" || !o.mapping) continue;
      const m = o.mapping;
      const len = o.dataFin && m.length > 0 ? m.length - 1 : m.length;
      // (Without the peer's key, e.g. after a lost third ACK, its DSNs cannot be compared.)
      if (conn.remoteKey !== undefined && !(o.dataFin && m.ssn === 0 && m.length === 1)) {
        const dsn = m.dsn64 ? m.dsn : expandSeq64(Number(m.dsn & 0xffffffffn), recvNext(conn));
        const at = m.length === 0 && m.ssn === 0 ? rel(sf, h.seq) : m.ssn;
        if ((len > 0 || m.length === 0) && !agreesWithFallback(sf, at, dsn, len)) {
          fatalReset(conn);
          return "reset";
        }
      }
      onOption(conn, sf, seg, { type: "dss", dataFin: false, mapping: m });
    }
    return "accept";
  }
  // ---- server: the third ACK (MP_CAPABLE with both keys), or MP_CAPABLE + data
  if (sf.initial && conn.role === "server" && conn.remoteKey === undefined) {
    const mpc = opts.find((o) => o.type === "mp_capable");
    if (mpc && mpc.type === "mp_capable" && mpc.senderKey !== undefined && mpc.receiverKey !== undefined) {
      if (mpc.receiverKey !== conn.localKey) {
        sf.rstReason = 1;
        return "reset";
      }
      conn.c.MPCapableACKRX++;
      conn.setRemoteKey(mpc.senderKey!);
      conn.confirmed = true;
      // Checksums were decided by the SYN (A from the client) and the SYN/ACK (ours).
      if (mpc.dataLength !== undefined && seg.payload.length > 0) {
        conn.ack64 = true; // the implicit mapping counts as 64-bit (Linux: mptcp/mpc-third-ack-lost)
        sf.rxMap.install({ ssn: 1, dsn: conn.remoteIdsn + 1n, length: mpc.dataLength, checksum: conn.csum ? (mpc.checksum ?? 0) : -1, dataFin: false }, rel(sf, h.seq), seg.payload.length);
      }
    } else if (opts.length === 0) {
      conn.c.MPCapableFallbackACK++;
      doFallback(conn, "third ACK without MP_CAPABLE");
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
        conn.onSubflowJoined(sf);
      }
    } else if (st === "SYN_RECEIVED") {
      const j = opts.find((o) => o.type === "mp_join_ack");
      if (!j || j.type !== "mp_join_ack" || !verifyJoinAckHmac(conn.remoteKey!, conn.localKey, sf.remoteNonce, sf.localNonce, j.hmac)) {
        conn.c.MPJoinAckHMacFailure++;
        conn.drop("HmacMismatch");
        sf.rstReason = 1;
        sf.killReason = "join_failed";
        return "reset";
      }
      conn.c.MPJoinAckRx++;
      sf.joined = true;
      sf.needAck = true; // the fourth ACK
      conn.onSubflowJoined(sf);
    }
  }
  // ---- client, MPTCP not confirmed yet (no DSS from the server): a segment after the handshake
  // without any MPTCP option, data or a pure ACK, means options are stripped on the way: fall
  // back (RFC 8684 3.7; Linux check_fully_established, MPCapableDataFallback). The server puts
  // a DSS with its DATA_ACK on every segment once it has our keys.
  // Only an in-sequence segment whose ACK is acceptable counts (Linux: seq == the server's ISN + 1).
  if (sf.initial && conn.role === "client" && !conn.confirmed && opts.length === 0 && h.flags & TCP_ACK && st !== "SYN_SENT" && fallbackAllowed(conn) &&
    h.seq === sf.tcp.receiveNext && seqDiff(h.ack, sf.tcp.sendNext) <= 0 && seqDiff(h.ack, sf.tcp.initialSendSeq) > 0) {
    conn.c.MPCapableDataFallback++;
    doFallback(conn, "no DSS from the server");
    return "accept";
  }
  // A peer that fell back (options stripped on its way) sends no DSS at all any more: its data,
  // or its FIN (a peer that fell back after its last byte, its DATA_ACKs having gone on pure
  // ACKs that lost their options, has nothing else to show it by; a peer still in MPTCP puts
  // a DSS on its FIN).
  if (opts.length === 0) {
    sf.noDss++;
    if ((seg.payload.length > 0 || h.flags & TCP_FIN) && conn.confirmed && sf.initial && fallbackAllowed(conn)) {
      conn.c.DssFallback++;
      doFallback(conn, "no DSS from the peer");
    }
  } else sf.noDss = 0;
  for (const o of opts) onOption(conn, sf, seg, o);
  return "accept";
}

export function afterSegment(conn: MptcpConnection, sf: Subflow, seg: TcpSegment, st: TcpState): void {
  void st;
  if (!conn.isMptcp) return;
  if (seg.header.flags & TCP_SYN) return;
  if (conn.oldSeg) return;
  const dss = seg.header.options.mptcp.find((o) => o.type === "dss") as Dss | undefined;
  if (dss?.mapping && dss.dataFin) {
    const m = dss.mapping;
    if (m.length > 0) {
      const fin = (m.dsn64 ? m.dsn : expandSeq64(Number(m.dsn & 0xffffffffn), recvNext(conn))) + BigInt(m.length - 1);
      conn.onPeerDataFin(sf, wire(fin));
    }
  }
}

export function onOption(conn: MptcpConnection, sf: Subflow, seg: TcpSegment, o: MptcpOption): void {
  switch (o.type) {
    case "dss": {
      if (!conn.confirmed) {
        conn.confirmed = true;
        if (conn.role === "client") conn.pmPending = true;
        if (conn.role === "server" && conn.remoteKey === undefined) return;
      }
      if (o.dataAck !== undefined) {
        // The peer was in MPTCP when it acknowledged this subflow's bytes up to here.
        if (seg.header.flags & TCP_ACK) {
          const a = (seg.header.ack - sf.tcp.initialSendSeq) >>> 0;
          if (seqDiff(a, sf.dataAckRel) > 0 && seqDiff(a, sf.sentRel) <= 0) sf.dataAckRel = a;
        }
        const ack = unwrap(o.ack64 ? o.dataAck : expandSeq64(Number(o.dataAck & 0xffffffffn), wire(conn.una)), conn.una);
        onDataAck(conn, sf, ack, seg.header.window);
      }
      const m = o.mapping;
      if (m) {
        const dsn = m.dsn64 ? m.dsn : expandSeq64(Number(m.dsn & 0xffffffffn), recvNext(conn));
        if (m.length === 0) {
          const at = m.ssn === 0 ? rel(sf, seg.header.seq) : m.ssn;
          if (sf.infRel < 0 || sf.discarding || seqDiff(at, sf.infRel) > 0) {
            sf.discarding = false;
            conn.c.InfiniteMapRx++;
            sf.infRel = at;
            sf.infDsn = dsn;
            sf.infAssumed = false;
            doFallback(conn, "infinite mapping");
          }
          return;
        }
        if (m.ssn === 0 && o.dataFin && m.length === 1) return; // DATA_FIN only: handled after TCP
        const dataLen = o.dataFin ? m.length - 1 : m.length;
        if (dataLen === 0) return;
        conn.ack64 = m.dsn64;
        // A mapping off the 1:1 line (a data-level re-send here, data after data on a join):
        // this subflow can no longer be read 1:1, so no fallback from now on.
        if (sf.peer1to1 && (Number((dsn - conn.remoteIdsn - 1n) & 0xffffffffn) + 1) >>> 0 !== m.ssn) sf.peer1to1 = false;
        const r = sf.rxMap.install({ ssn: m.ssn, dsn, length: m.length, checksum: conn.csum ? (m.checksum ?? 0) : -1, dataFin: o.dataFin }, seg.payload.length > 0 ? rel(sf, seg.header.seq) : m.ssn, seg.payload.length);
        if (r === Refusal.MappingConflict) {
          conn.c.DSSNotMatching++;
          conn.drop("DssNotMatching");
        }
      }
      return;
    }
    case "mp_capable":
      // MP_CAPABLE + data after the keys are known (the third ACK arrived first): the
      // implicit mapping DSN = IDSN + 1, SSN 1, the data-level length given.
      if (sf.initial && conn.role === "server" && o.dataLength !== undefined && seg.payload.length > 0 && o.senderKey === conn.remoteKey) {
        conn.ack64 = true;
        sf.rxMap.install({ ssn: 1, dsn: conn.remoteIdsn + 1n, length: o.dataLength, checksum: conn.csum ? (o.checksum ?? 0) : -1, dataFin: false }, rel(sf, seg.header.seq), seg.payload.length);
      }
      return;
    case "add_addr":
      return onAddAddr(conn, sf, o);
    case "remove_addr":
      for (const id of o.addressIds) {
        conn.c.RmAddr++;
        conn.sig.onRemove(id);
        for (const s of conn.subflows) {
          if (s.remoteId === id && s !== sf && s.tcp.state !== "CLOSED") {
            conn.c.RmSubflow++;
            conn.closeSubflowGracefully(s, "removed");
          } else if (s.remoteId === id && s === sf && s.tcp.state !== "CLOSED") {
            conn.c.RmSubflow++;
            s.killReason = "removed";
          }
        }
        conn.push({ type: "addressRemoved", id });
      }
      return;
    case "mp_prio":
      conn.c.MPPrioRx++;
      if (sf.backup !== o.backup) {
        sf.backup = o.backup;
        sf.peerBackup = o.backup;
        conn.push({ type: "priorityChanged", subflow: sf.id, backup: o.backup });
      }
      return;
    case "mp_fail":
      conn.c.MPFailRx++;
      conn.push({ type: "mpFail", dsn: o.dsn });
      if (conn.liveSubflows.length <= 1 && !conn.fellBack) {
        // Answer with the infinite mapping and continue as TCP (RFC 8684 section 3.7): the
        // data from the failed DSN on is sent again, mapped 1:1 from the next subflow byte.
        const una = conn.una;
        const fail = unwrap(o.dsn, una);
        const from = fail < una ? una : fail > conn.sndNxt ? conn.sndNxt : fail;
        conn.sndNxt = from;
        conn.infPending = true;
        conn.ackFloorSsn = sf.sentRel;
        doFallback(conn, "MP_FAIL: infinite mapping");
      }
      return;
    case "mp_fastclose":
      return onFastclose(conn, o.receiverKey);
    default:
      return;
  }
}

export function onFastclose(conn: MptcpConnection, key: bigint): void {
  if (key !== conn.localKey) {
    conn.drop("BadFastcloseKey");
    return;
  }
  conn.c.MPFastcloseRx++;
  for (const sf of conn.subflows) if (sf.tcp.state !== "CLOSED") sf.killReason = "fastclose";
  conn.push({ type: "fastclose" });
  conn.pendingFastclose = true;
}

export function onAddAddr(conn: MptcpConnection, sf: Subflow, o: AddAddr): void {
  if (o.echo) {
    if (conn.sig.onEcho(o.addressId, o.address)) {
      conn.c.EchoAdd++;
      if (conn.sig.fire(conn.curNow)) conn.signalAck(); // the next announcement (mptcp/multi-ep-signal)
    }
    return;
  }
  const r = conn.remoteKey === undefined ? "bad-hmac" : conn.sig.onAnnounce(conn.remoteKey, conn.localKey, o, conn.remotePort);
  if (r === "bad-hmac") {
    conn.c.AddAddrDrop++;
    conn.drop("AddAddrHmacMismatch");
    return;
  }
  conn.c.AddAddr++;
  sf.needAck = true; // the echo
  if (r === "repeat") return; // a retransmission
  if (r === "limit") {
    conn.drop("AddAddrLimit");
    return;
  }
  conn.push({ type: "addressAnnounced", id: r.id, address: r.address, ...(o.port !== undefined ? { port: o.port } : {}) });
  conn.pendingPm.push(r);
}

/** RFC 9293 3.10.7.4: the segment (payload and FIN) ends at or before RCV.NXT (zero-length: starts before it). */
function isOldSegment(rcvNxt: number, seg: TcpSegment): boolean {
  const len = seg.payload.length + (seg.header.flags & TCP_FIN ? 1 : 0);
  const d = seqDiff(seg.header.seq, rcvNxt);
  return len === 0 ? d < 0 : d + len <= 0;
}
