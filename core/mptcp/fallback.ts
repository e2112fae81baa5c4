// RFC 8684 section 3.7 (fallback to TCP) and PROTOCOL.md's fallback table (the triggers live
// where the evidence arrives: handshake.ts lists them, incoming.ts / receive.ts / send.ts
// detect them): what falling back changes in the connection, and the data level's FIN as TCP.
import type { MptcpConnection } from "./connection.ts";
import type { FallbackReason } from "./handshake.ts";

const OFF = Infinity;

export function fallbackAllowed(conn: MptcpConnection): boolean {
  if (!conn.mp || conn.fellBack) return false;
  if (conn.subflows.length !== 1) return false;
  return conn.c.Reinjections === 0 && !conn.csumPassed;
}

export function doFallback(conn: MptcpConnection, reason: FallbackReason): void {
  if (conn.fellBack || !conn.mp) return;
  conn.fellBack = true;
  const live = conn.liveSubflows;
  const sf = live.length === 1 ? live[0]! : conn.subflows[0];
  // Receive side: with only the initial subflow ever, the peer's stream maps 1:1 from its
  // IDSN + 1 (an explicit infinite mapping from the peer overrides it).
  if (sf && sf.infRel < 0 && conn.subflows.length === 1) {
    sf.infRel = 1;
    sf.infDsn = conn.remoteIdsn + 1n;
  }
  conn.rtxAt = OFF;
  conn.reinject.length = 0;
  // Send side (RFC 8684 section 3.7): the next new data segment carries an infinite mapping.
  // After joins, data of other subflows may be missing at the peer: everything not DATA_ACKed
  // is sent again under that mapping (earlier subflow ACKs then say nothing at data level).
  if (conn.confirmed && sf && !conn.infPending) {
    if (conn.subflows.length > 1) {
      conn.sndNxt = conn.una;
      conn.ackFloorSsn = sf.sentRel;
    }
    conn.infPending = true;
  }
  conn.push({ type: "fallback", reason });
  if (conn.finQueued) shutdownFallbackSubflows(conn);
  // The subflow's FIN, taken as a mere subflow close while MPTCP was on, is now the data level's.
  if (sf && !conn.peerFinDone && sf.tcp.peerFinReceived) finishPeerFinFallback(conn);
}

/**
 * As TCP (fallback or plain mode), the data level's FIN is the subflow's FIN: the subflow sends
 * it once a pull of data comes back empty (core/tcp: FIN only after shutdown() and an empty pull).
 */
export function shutdownFallbackSubflows(conn: MptcpConnection): void {
  if (!conn.finQueued || conn.isMptcp) return;
  for (const s of conn.subflows) if (s.tcp.state === "ESTABLISHED" || s.tcp.state === "CLOSE_WAIT" || s.tcp.state === "SYN_RECEIVED") s.tcp.shutdown();
}

export function finishPeerFinFallback(conn: MptcpConnection): void {
  conn.peerFinDone = true;
  conn.push({ type: "peerClosed" });
  if (conn.st === "ESTABLISHED") conn.st = "CLOSE_WAIT";
  else if (conn.st === "FIN_WAIT_1" || conn.st === "FIN_WAIT_2") conn.st = "CLOSING";
}
