// The default scheduler as first written (core/scheduler/linger.ts at d3fda60, a Map of
// reservations, every reading taken afresh on each call): the oracle of the equivalence test in
// schedulers.test.ts, which checks that the restructured linger.ts makes the same decisions.
// Not imported by core/. Changed identically with linger.ts since: a subflow whose TCP send window
// is closed (tcp.sendWindow === 0) is not chosen and loses its reservation (interop case 6b).
import type { SchedConnection, SchedSubflow, Scheduler } from "../../core/scheduler/index.ts";
import { bestRank, mssOf, orderByRankRtt, pacingRateOf, queuedOf, rankAllows, schedRank } from "../../core/scheduler/common.ts";

/** Largest burst of one choice (Linux MPTCP_SEND_BURST_SIZE, 64 KiB). */
const SEND_BURST_SIZE = 65536;
/** Bursts reserved at most in one call (bounds the work of one pull). */
const MAX_CHOICES = 64;

export class ReferenceLingerScheduler implements Scheduler {
  readonly name: string = "default";
  /** Bytes reserved for each subflow and not pulled yet (its remaining burst). */
  private readonly assigned = new Map<SchedSubflow, number>();
  private assignedTotal = 0;
  /** Linux subflow->avg_pacing_rate (bytes/s). */
  private readonly avgPace = new WeakMap<SchedSubflow, number>();
  /** Bursts handed out (tests and stats). */
  bursts = 0;

  private cache: readonly SchedSubflow[] = [];
  private cachedFrom: SchedSubflow[] = [];
  private calls = 0;

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    if (subflows.length <= 1) return subflows;
    // The order only decides which subflow is polled first (allowed() decides who takes data):
    // re-rank every 32 calls, or when the set of subflows changed.
    if ((++this.calls & 31) !== 0 && sameMembers(this.cachedFrom, subflows)) return this.cache as readonly T[];
    this.cache = orderByRankRtt(subflows);
    this.cachedFrom = subflows.slice();
    return this.cache as readonly T[];
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean {
    if (!rankAllows(sf, all)) return false;
    if (all.length <= 1 || conn === undefined) return true;
    this.expire(all, conn);
    if ((this.assigned.get(sf) ?? 0) > 0) return true;
    const wnd = conn.sendWindowFree;
    const unsent = conn.unsentBytes;
    // No new data to hand out (only reinjections left, or the peer's window is full and what
    // remains is opportunistic retransmission): any subflow its tier allows.
    if (unsent <= 0 || wnd <= 0) return true;
    this.fill(all, Math.min(unsent, wnd));
    return (this.assigned.get(sf) ?? 0) > 0;
  }

  /**
   * Linux's push loop (__mptcp_push_pending): choose, reserve a burst, choose again, until the
   * data within the window is all reserved or the chosen subflow has no room.
   */
  private fill(all: readonly SchedSubflow[], sendable: number): void {
    for (let i = 0; i < MAX_CHOICES; i++) {
      const free = sendable - this.assignedTotal;
      if (free <= 0) return;
      const pick = this.choose(all);
      if (pick === undefined) return;
      const room = this.room(pick);
      if (room <= 0) return; // the quickest queue is full: wait for it to drain
      this.reserve(pick, Math.min(SEND_BURST_SIZE, free, room));
    }
  }

  sent<T extends SchedSubflow>(sf: T, _dsn: bigint, len: number, _all: readonly T[]): void {
    const a = this.assigned.get(sf);
    if (a === undefined || len <= 0) return;
    const used = Math.min(a, len);
    this.assignedTotal -= used;
    if (a - used > 0) this.assigned.set(sf, a - used);
    else this.assigned.delete(sf);
  }

  /** The subflow Linux would pick now: lowest linger time in the best tier (undefined when none is usable). */
  choose<T extends SchedSubflow>(all: readonly T[]): T | undefined {
    const tier = bestRank(all);
    if (tier === 3) return undefined;
    let best: T | undefined;
    let bestLinger = Infinity;
    for (const s of all) {
      if (schedRank(s) !== tier || s.tcp.sendWindow === 0) continue;
      // No RTT sample yet: Linux's pacing rate is still unbounded then (tcp_update_pacing_rate
      // divides by srtt only once there is one), so the queue drains "at once": linger 0.
      const linger = this.lingerUs(s) ?? 0;
      if (best === undefined || linger < bestLinger || (linger === bestLinger && s.tcp.srttUs < best.tcp.srttUs)) {
        best = s;
        bestLinger = linger;
      }
    }
    return best;
  }

  /** Linger time of a subflow in µs: its queue (sent and unacknowledged, plus its reserved burst) at its average pacing rate (undefined before an RTT sample). */
  lingerUs(s: SchedSubflow): number | undefined {
    const pace = this.pace(s);
    if (pace === undefined) return undefined;
    return (this.queue(s) * 1e6) / pace;
  }

  /** Bytes reserved for `s` and not pulled yet (tests). */
  reserved(s: SchedSubflow): number {
    return this.assigned.get(s) ?? 0;
  }

  private queue(s: SchedSubflow): number {
    return queuedOf(s) + (this.assigned.get(s) ?? 0);
  }

  private room(s: SchedSubflow): number {
    return sendBufferOf(s) - this.queue(s);
  }

  private pace(s: SchedSubflow): number | undefined {
    const avg = this.avgPace.get(s);
    if (avg !== undefined && avg > 0) return avg;
    const p = pacingRateOf(s);
    if (p !== undefined) this.avgPace.set(s, p);
    return p;
  }

  private reserve(s: SchedSubflow, burst: number): void {
    const wmem = this.queue(s);
    const avg = this.pace(s);
    const now = pacingRateOf(s);
    if (avg !== undefined && now !== undefined) this.avgPace.set(s, (avg * wmem + now * burst) / (burst + wmem));
    this.assigned.set(s, (this.assigned.get(s) ?? 0) + burst);
    this.assignedTotal += burst;
    this.bursts++;
  }

  /** Drops the reservations of subflows that left, lost their tier or whose send window is closed, and any beyond the data left to send. */
  private expire(all: readonly SchedSubflow[], conn: SchedConnection): void {
    if (this.assigned.size === 0) return;
    for (const [s, a] of this.assigned) {
      if (!all.includes(s) || !rankAllows(s, all) || s.tcp.sendWindow === 0) {
        this.assigned.delete(s);
        this.assignedTotal -= a;
      }
    }
    if (this.assignedTotal > conn.unsentBytes) {
      this.assigned.clear();
      this.assignedTotal = 0;
    }
  }
}

/** Linux's autotuned send buffer of a subflow (tcp_sndbuf_expand): 2 * max(cwnd, 10) segments of per_mss bytes. */
function sendBufferOf(s: SchedSubflow): number {
  const mss = mssOf(s);
  const segs = Math.max(10, Math.ceil((s.tcp.cwndBytes ?? 0) / mss));
  // MAX_TCP_HEADER 320, skb_shared_info 320, sk_buff 256 (x86-64, cache-line aligned).
  const perMss = 2 ** Math.ceil(Math.log2(mss + 640)) + 256;
  return 2 * segs * perMss;
}

function sameMembers(a: readonly SchedSubflow[], b: readonly SchedSubflow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
