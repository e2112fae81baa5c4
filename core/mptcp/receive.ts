// RFC 8684 sections 3.3.1 (data sequence mapping), 3.3.4 (receive window), 3.3.6 (DSS
// checksum), 3.7 (infinite mapping on receive): the DSS receive path of one MPTCP connection.
// Subflow bytes are translated through the subflow's DSS mappings (or 1:1 after an infinite
// mapping / in plain-TCP mode), checksummed when checksums are in use (bytes staged until their
// mapping's checksum passes), and written by DSN into the data-level reassembly buffer (64-bit
// range assembler + ring, core/kernels), whose size less the unread bytes is the
// connection-level receive window advertised on every subflow.
import { createReceiveBuffer } from "../kernels/factory.ts";
import { Refusal } from "../kernels/types.ts";
import type { ReceiveBuffer } from "../kernels/types.ts";
import { seqDiff } from "../wire/seq.ts";
import type { MptcpConnection } from "./connection.ts";
import { rel, wireDsn as wire } from "./dss.ts";
import { doFallback, fallbackAllowed, fatalReset } from "./fallback.ts";
import type { Subflow } from "./subflow.ts";

/** Data-level buffers start at this size and double on demand up to the configured size. */
export const INITIAL_BUFFER: number = 64 * 1024;

export function recvNext(conn: MptcpConnection): bigint {
  return conn.recvBuf ? conn.recvBuf.nextSeq64 : wire(conn.remoteIdsn + 1n);
}

export function deliverData(conn: MptcpConnection, sf: Subflow, seq: number, data: Uint8Array): void {
  if (sf.fatal) return; // reset for a protocol error: nothing of it is placeable
  const pruned = conn.c.RcvPruned;
  deliverMapped(conn, sf, seq, data);
  // Bytes acknowledged here but dropped at the data level come again at other subflow offsets
  // (the peer's data-level re-send): this subflow can no longer be read 1:1.
  if (conn.c.RcvPruned !== pruned) sf.peer1to1 = false;
}

function deliverMapped(conn: MptcpConnection, sf: Subflow, seq: number, data: Uint8Array): void {
  let r = rel(sf, seq);
  if (!conn.recvBuf) initRecv(conn);
  const rb = conn.recvBuf!;
  let off = 0;
  let len = data.length;
  if (sf.discarding) {
    conn.drop("DssChecksumMismatch");
    return;
  }
  while (len > 0) {
    // Bytes from the infinite mapping's SSN on map 1:1 (RFC 8684 section 3.7); bytes before it
    // (still in flight when it was sent) keep their own DSS mappings.
    const before = sf.infRel >= 0 ? -seqDiff(r, sf.infRel) : 0;
    if (sf.infRel >= 0 && before <= 0) {
      writeData(conn, rb, sf.infDsn + BigInt(-before), data, off, len);
      return;
    }
    if (!conn.mp) {
      writeData(conn, rb, conn.remoteIdsn + BigInt(r), data, off, len);
      return;
    }
    const n = sf.rxMap.translate(r, before > 0 ? Math.min(len, before) : len);
    if (n < 0 && !conn.isMptcp) {
      // Fallen back, bytes with no mapping before the peer's infinite mapping: not placeable
      // (the peer sends that data again after its infinite mapping).
      const skip = before > 0 ? Math.min(len, before) : len;
      conn.drop("NoMapping");
      off += skip;
      len -= skip;
      r = (r + skip) >>> 0;
      continue;
    }
    if (n < 0) {
      conn.c.DSSNoMatchTCP++;
      if (fallbackAllowed(conn)) {
        doFallback(conn, "data without a DSS mapping");
        continue;
      }
      conn.drop("NoMapping");
      // Not allowed to fall back (Linux: MP_TCPRST reason EMPTCP). With no other subflow, the
      // peer fell back and we cannot follow: the connection resets.
      if (!conn.subflows.some((s) => s !== sf && s.usable)) return fatalReset(conn);
      if (sf.killReason === undefined) {
        sf.killReason = "reset";
        sf.rstReason = 1;
      }
      return;
    }
    if (conn.csum) {
      const dsn = (BigInt(sf.rxMap.dsnHi) << 32n) | BigInt(sf.rxMap.dsnLo);
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
        conn.csumPassed = true;
        if (sf.stageLen > 0) {
          let d = sf.stageDsn;
          for (const p of sf.stage) {
            writeData(conn, rb, d, p, 0, p.length);
            d += BigInt(p.length);
          }
          sf.stage = [];
          sf.stageLen = 0;
        }
        writeData(conn, rb, dsn, data, off, n);
      } else {
        onChecksumFailure(conn, sf, sf.stageLen > 0 ? sf.stageDsn : dsn);
        sf.stage = [];
        sf.stageLen = 0;
      }
    } else {
      writeDataHiLo(conn, rb, sf.rxMap.dsnHi, sf.rxMap.dsnLo, data, off, n);
    }
    off += n;
    len -= n;
    r = (r + n) >>> 0;
  }
  sf.rxMap.releaseBefore(r);
}

/** The connection-level receive window: the configured buffer minus what awaits read(). */
export function recvWindow(conn: MptcpConnection): number {
  const size = conn.rcvSpace ? conn.rcvSpace.size : conn.config.receiveBufferSize;
  return conn.recvBuf ? Math.max(0, size - conn.recvBuf.readable) : size;
}

export function writeData(conn: MptcpConnection, rb: ReceiveBuffer, dsn: bigint, data: Uint8Array, off: number, len: number): void {
  const d = dsn & 0xffffffffffffffffn;
  writeDataHiLo(conn, rb, Number(d >> 32n), Number(d & 0xffffffffn), data, off, len);
}

/** The read point of each data-level buffer as u32 halves (its `readSeq64` is a new bigint per call). */
const readPoints = new WeakMap<ReceiveBuffer, { hi: number; lo: number }>();

function readPoint(rb: ReceiveBuffer): { hi: number; lo: number } {
  const lo = rb.readSeq; // the low half at width 64
  let r = readPoints.get(rb);
  // The read point only moves forward, by less than the capacity (< 2^30) between two calls:
  // its high half changes only when the low half wraps, i.e. decreases.
  if (r === undefined || lo < r.lo) {
    const s = rb.readSeq64;
    r = { hi: Number(s >> 32n), lo };
    readPoints.set(rb, r);
  } else r.lo = lo;
  return r;
}

/** writeData with the DSN (mod 2^64) as two u32 halves: no bigint on the per-segment path. */
export function writeDataHiLo(conn: MptcpConnection, rb: ReceiveBuffer, hi: number, lo: number, data: Uint8Array, off: number, len: number): void {
  const max = conn.config.receiveBufferSize;
  if (rb.capacity < max) {
    // Offset of the segment's end from the read point (mod 2^64, signed) from the halves; a
    // DSN more than 2^32 away (garbage) the bigint way.
    const r = readPoint(rb);
    const dHi = (hi - r.hi) | 0;
    const end =
      dHi >= -1 && dHi <= 1
        ? dHi * 4294967296 + (lo - r.lo) + len
        : Number(BigInt.asIntN(64, ((BigInt(hi) << 32n) | BigInt(lo)) - rb.readSeq64)) + len;
    if (end > rb.capacity) rb.grow(Math.min(max, Math.max(end, rb.capacity * 2)));
  }
  const before = rb.readable;
  const w = rb.write64(hi, lo, data, off, len);
  if (w < 0) {
    conn.c.RcvPruned++;
    conn.drop("OutOfWindow");
    return;
  }
  if (rb.readable > before) {
    if (!conn.readablePending) {
      conn.readablePending = true;
      conn.push({ type: "readable" });
    }
    if (conn.peerFinDsn !== undefined && !conn.peerFinDone && rb.nextSeq64 === conn.peerFinDsn) conn.finishPeerFin();
  } else if (w === 0) {
    // Nothing new in order: a duplicate (all of it already received), or out of order. From the
    // low halves (nextSeq is the low u32 of the next expected DSN at width 64): accepted bytes lie
    // within 2^31 of the read point, so an end past the next byte by 1..capacity is out of order
    // and anything else (<= 0, or wrapped above capacity) is behind it.
    const x = (lo + len - rb.nextSeq) | 0;
    if (x <= 0 || x > rb.capacity) conn.c.DuplicateData++;
    else conn.c.OFOQueue++;
  }
}

export function onChecksumFailure(conn: MptcpConnection, sf: Subflow, dsn: bigint): void {
  conn.c.DataCsumErr++;
  conn.drop("DssChecksumMismatch");
  conn.c.MPFailTx++;
  sf.failPending = dsn;
  sf.needAck = true;
  if (conn.liveSubflows.length > 1) {
    // Several subflows: reset the bad one; its data is re-sent on the others.
    sf.killReason = "mp_fail";
    sf.rstReason = 6;
  } else {
    // One subflow: MP_FAIL, then drop everything until the peer's infinite mapping.
    sf.discarding = true;
  }
}

export function initRecv(conn: MptcpConnection): void {
  if (conn.recvBuf) return;
  conn.recvBuf = createReceiveBuffer({ width: 64, initialSeq: (conn.remoteIdsn + 1n) & 0xffffffffffffffffn, capacity: Math.min(INITIAL_BUFFER, conn.config.receiveBufferSize), maxHoles: 1024 }, conn.config.kernels);
  conn.readAdvertised = recvWindow(conn);
}
