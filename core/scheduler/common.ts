// Shared pieces of the packet schedulers: the backup / stale ranking every scheduler respects,
// and the fastest-subflow lookup of BLEST and ECF.
import type { SchedSubflow } from "./index.ts";

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

/** Free congestion window of a subflow in bytes (Infinity when the scheduler cannot see it). */
export function cwndRoom(s: SchedSubflow): number {
  const c = s.tcp.cwndBytes;
  const f = s.tcp.bytesInFlight;
  if (c === undefined || f === undefined) return Infinity;
  return c - f;
}

/** Sender MSS of a subflow (1448 when unknown). */
export function mssOf(s: SchedSubflow): number {
  return s.tcp.mss !== undefined && s.tcp.mss > 0 ? s.tcp.mss : 1448;
}
