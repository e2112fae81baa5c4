// Shared pieces of the packet schedulers: the backup / stale ranking every scheduler respects,
// the (rank, RTT) polling order, the fastest-subflow preamble of BLEST and ECF, and the queue
// and pacing-rate readings of the default (linger-time) scheduler.
import { PACING_CA_RATIO } from "../congestion/pacing.ts";
import type { SchedConnection, SchedSubflow } from "./index.ts";

/** 0 active regular, 1 backup, 2 stale (RTOs without progress), 3 not usable. */
export function schedRank(s: SchedSubflow): number {
  if (!s.usable) return 3;
  if (s.stale) return 2;
  return s.backup ? 1 : 0;
}

/** The best rank among the subflows (3 when none is usable). */
export function bestRank(all: readonly SchedSubflow[]): number {
  let best = 3;
  for (const s of all) {
    const r = schedRank(s);
    if (r < best) best = r;
  }
  return best;
}

/** May a subflow of this rank take data, given the others (backups only when no regular one is usable)? */
export function rankAllows(sf: SchedSubflow, all: readonly SchedSubflow[]): boolean {
  const r = schedRank(sf);
  if (r === 0) return true;
  if (r === 3) return false;
  return r <= bestRank(all);
}

/** A copy of the subflows sorted by rank, then lowest smoothed RTT (the polling order of most schedulers). */
export function orderByRankRtt<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
  if (subflows.length <= 1) return subflows;
  return subflows.slice().sort((a, b) => schedRank(a) - schedRank(b) || a.tcp.srttUs - b.tcp.srttUs);
}

/**
 * orderByRankRtt with its last answer kept (the schedulers' order() runs on every pollTransmit):
 * the same array comes back while the subflows are the same, in the same order, and the kept
 * answer is strictly increasing in (rank, srtt), since then the sort has exactly that one answer.
 * Any tie, NaN or change of members sorts again. The array handed out is never changed in place.
 */
export class RankRttOrder {
  private from: SchedSubflow[] = [];
  private out: readonly SchedSubflow[] = [];

  of<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    if (sameSubflows(this.from, subflows) && strictlyOrdered(this.out)) return this.out as readonly T[];
    this.out = orderByRankRtt(subflows);
    this.from = subflows.slice();
    return this.out as readonly T[];
  }
}

function sameSubflows(a: readonly SchedSubflow[], b: readonly SchedSubflow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function strictlyOrdered(list: readonly SchedSubflow[]): boolean {
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1]!;
    const b = list[i]!;
    if (!((schedRank(a) - schedRank(b) || a.tcp.srttUs - b.tcp.srttUs) < 0)) return false;
  }
  return true;
}

/** The lowest-RTT subflow among those of `sf`'s rank (the one a faster choice would be). */
export function fastestOfRank<T extends SchedSubflow>(sf: T, all: readonly T[]): T {
  const r = schedRank(sf);
  let best = sf;
  for (const s of all) {
    if (schedRank(s) !== r) continue;
    if (s.tcp.srttUs > 0 && (best.tcp.srttUs <= 0 || s.tcp.srttUs < best.tcp.srttUs)) best = s;
  }
  return best;
}

/**
 * The common start of the slow-subflow tests (BLEST, ECF): `true` / `false` when the answer
 * does not depend on the scheduler's own estimate, otherwise the fastest subflow of `sf`'s rank
 * (measured, faster than `sf`, and out of congestion window): the case where the scheduler must
 * choose between sending on the slower `sf` now and waiting for the fast one.
 *  - the rank does not allow `sf` (a backup while a regular subflow is usable): false;
 *  - no connection view, `sf` is the fastest, the fastest has no RTT sample yet, or `sf` is not
 *    slower than it: true;
 *  - the fastest subflow has a segment's worth of congestion window free: false (wait for it,
 *    it is polled first).
 */
export function slowerSubflowCase<T extends SchedSubflow>(sf: T, all: readonly T[], conn: SchedConnection | undefined): T | boolean {
  if (!rankAllows(sf, all)) return false;
  if (conn === undefined) return true;
  const fast = fastestOfRank(sf, all);
  if (fast === sf || !(fast.tcp.srttUs > 0) || !(sf.tcp.srttUs > fast.tcp.srttUs)) return true;
  if (cwndRoom(fast) >= mssOf(fast)) return false;
  return fast;
}

/** Free congestion window of a subflow in bytes (Infinity when the scheduler cannot see it). */
export function cwndRoom(s: SchedSubflow): number {
  const c = s.tcp.cwndBytes;
  const f = s.tcp.bytesInFlight;
  if (c === undefined || f === undefined) return Infinity;
  return c - f;
}

/**
 * The subflow's TCP send window is closed (its last window update here said 0): it sends nothing
 * new before a window update arrives on it, which never comes if its path died meanwhile. In
 * MPTCP the window is connection-level (RFC 8684 section 3.3.4): a zero here while the
 * connection-level window is open is an old reading of this subflow only.
 */
export function sendWindowClosed(s: SchedSubflow): boolean {
  return s.tcp.sendWindow === 0;
}

/** Sender MSS of a subflow (1448 when unknown). */
export function mssOf(s: SchedSubflow): number {
  return s.tcp.mss !== undefined && s.tcp.mss > 0 ? s.tcp.mss : 1448;
}

/**
 * Bytes queued on a subflow: handed to it and not yet cumulatively acknowledged (Linux
 * sk_wmem_queued, without the per-buffer overhead). Bytes in flight when the view has no queue.
 */
export function queuedOf(s: SchedSubflow): number {
  const q = s.tcp.unacked ?? s.tcp.bytesInFlight ?? 0;
  return q > 0 ? q : 0;
}

/**
 * Pacing rate of a subflow in bytes per second: its congestion controller's (ratio * cwnd / srtt,
 * core/congestion/pacing.ts), else 1.2 * cwnd / srtt computed here; undefined before the first
 * RTT sample.
 */
export function pacingRateOf(s: SchedSubflow): number | undefined {
  const srtt = s.tcp.srttUs;
  if (!(srtt > 0)) return undefined;
  const cc = s.tcp.congestion;
  if (cc?.pacingRate !== undefined) {
    const r = cc.pacingRate(srtt);
    if (r !== undefined && r > 0 && Number.isFinite(r)) return r;
  }
  const cwnd = s.tcp.cwndBytes;
  if (cwnd === undefined || !(cwnd > 0)) return undefined;
  return (PACING_CA_RATIO * cwnd * 1e6) / srtt;
}
