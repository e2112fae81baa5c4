// RFC 8684 section 3.7 (fallback to TCP) and PROTOCOL.md's fallback table (the triggers live
// where the evidence arrives: handshake.ts lists them, incoming.ts / receive.ts / send.ts
// detect them): what falling back changes in the connection, and the data level's FIN as TCP.
import type { MptcpConnection } from "./connection.ts";
import { seqDiff } from "../wire/seq.ts";
import type { FallbackReason } from "./handshake.ts";
import type { Subflow } from "./subflow.ts";

const OFF = Infinity;
const MASK64 = 0xffffffffffffffffn;

/**
 * May this side fall back to TCP now (Linux subflow_can_fallback / allow_infinite_fallback)?
 * Falling back maps the one subflow's stream 1:1 onto the data stream in both directions, which
 * is right only if neither side ever put a data byte at another subflow offset: no join the
 * peer may have used (joined, or our third ACK sent), no data-level re-send on the initial
 * subflow (ours: sent1to1; the peer's, as far as its DSS mappings showed: peer1to1), no DSS
 * checksum passed yet. Subflows that never got that far (a refused join) do not count.
 */
export function fallbackAllowed(conn: MptcpConnection): boolean {
  if (!conn.mp || conn.fellBack || conn.csumPassed) return false;
  const sf = conn.subflows[0];
  if (!sf || !sf.initial || sf.tcp.state === "CLOSED" || sf.fatal) return false;
  return sf.sent1to1 && sf.peer1to1 && !joinsUsed(conn);
}

/** A join subflow the peer may have carried data on (it considers the join established). */
export function joinsUsed(conn: MptcpConnection): boolean {
  for (const s of conn.subflows) if (!s.initial && (s.joined || s.thirdAckSent)) return true;
  return false;
}

/**
 * The peer fell back (or reads our subflow 1:1) and we cannot follow, or it sent what our
 * fallback cannot place: reset rather than deliver a wrong byte (Linux: MP_TCPRST reason
 * EMPTCP, "fatal protocol error", the connection closes). Every subflow is reset with MP_TCPRST
 * reason 1 (service() sends the RSTs), nothing more is delivered from them, and the connection
 * closes with reason "reset".
 */
export function fatalReset(conn: MptcpConnection): void {
  if (conn.st === "CLOSED") return;
  conn.c.FallbackFailed++;
  for (const s of conn.subflows) {
    if (s.tcp.state === "CLOSED") continue;
    s.fatal = true;
    if (s.killReason === undefined) {
      s.killReason = "reset";
      s.rstReason = 1;
    }
  }
  conn.reinject.length = 0;
  conn.closeConn("reset");
}

/**
 * Fallen back with a 1:1 map in force on `sf`: does a DSS mapping the peer still sends
 * (`dsn` for relative SSN `ssn`, `len` data bytes; 0: the infinite mapping) agree with it?
 * A mapping of bytes before the map starts (sent before the fallback) says nothing about it.
 */
export function agreesWithFallback(sf: Subflow, ssn: number, dsn: bigint, len: number): boolean {
  if (sf.infRel < 0) return true;
  if (len > 0 && seqDiff((ssn + len) >>> 0, sf.infRel) <= 0) return true;
  if (len === 0 && !sf.infAssumed) return true; // a later infinite mapping from the peer replaces one it sent
  return ((dsn - sf.infDsn - BigInt(seqDiff(ssn, sf.infRel))) & MASK64) === 0n;
}

export function doFallback(conn: MptcpConnection, reason: FallbackReason): void {
  if (conn.fellBack || !conn.mp) return;
  conn.fellBack = true;
  const live = conn.liveSubflows;
  const sf = live.length === 1 ? live[0]! : conn.subflows[0];
  // Receive side: with only the initial subflow carrying data, the peer's stream maps 1:1 from
  // its IDSN + 1 (an explicit infinite mapping from the peer overrides it, and mappings it still
  // sends are checked against it).
  if (sf && sf.infRel < 0 && sf.initial && !joinsUsed(conn)) {
    sf.infRel = 1;
    sf.infDsn = conn.remoteIdsn + 1n;
    sf.infAssumed = true;
  }
  // Only one subflow carries a TCP stream: joins still in their handshake go (RST + MP_TCPRST).
  for (const s of live) {
    if (s !== sf && !s.initial && !s.joined && s.killReason === undefined) {
      s.killReason = "reset";
      s.rstReason = 1;
    }
  }
  conn.rtxAt = OFF;
  conn.reinject.length = 0;
  // Send side (RFC 8684 section 3.7): the next new data segment carries an infinite mapping.
  // After joins, data of other subflows may be missing at the peer: everything not DATA_ACKed
  // is sent again under that mapping (earlier subflow ACKs then say nothing at data level).
  if (conn.confirmed && sf && !conn.infPending) {
    if (!sf.sent1to1 || joinsUsed(conn)) {
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
