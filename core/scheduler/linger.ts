// Linux's default packet scheduler (net/mptcp/protocol.c mptcp_subflow_get_send and
// __mptcp_push_pending, Linux 6.x; PROTOCOL.md "Linux's default scheduler"):
//  - among the active subflows of the best tier (regular; backup only when no regular subflow is
//    active; stale only when nothing else is left), pick the one whose queue drains first at its
//    pacing rate, the "linger time" queued / avg_pacing_rate (after BLEST); if that subflow has
//    no send-buffer room, send nothing now (its queue drains first anyway);
//  - give it a burst of min(64 KiB, window end - snd_nxt) (MPTCP_SEND_BURST_SIZE, bounded by the
//    peer's connection-level window and by its send-buffer room): that data is the subflow's,
//    whatever the linger times do meanwhile; then choose again;
//  - after each choice, avg_pacing_rate = (avg * queued + pacing_rate * burst) / (queued + burst).
//
// Linux pushes the burst into the chosen subflow's send queue at once; here the subflows pull
// data when their congestion window and pacing let them (TcpUpperLayer.pullData). So a burst is
// a reservation: `assigned` bytes the subflow may pull, counted in its queue for the linger time
// and its room, until it has pulled them. A subflow asking for data with nothing assigned runs
// Linux's push loop (choose, reserve a burst, choose again) until it stops (nothing left within
// the window, or the chosen subflow has no room), and may send if a burst fell to it: the
// subflows fill and drain their queues in parallel, as Linux's do. The byte ranges are not
// bound to a subflow (data sequence numbers are taken when a subflow pulls), and reservations of
// a subflow that leaves its tier are dropped, so no reservation strands data.
//
// A subflow whose TCP send window is closed (its last segment said window 0) gets no burst, and
// loses the one it holds: it cannot pull until a window update arrives on it, and if its path
// died meanwhile none ever does (its zero-window probes are not retransmissions: it never turns
// stale), so a burst held for it would stop the connection for good (interop case 6b). Linux
// instead raises the subflow's send window to the connection-level one (mptcp_check_allowed_size,
// MPTcpExt SndWndShared; the window is connection-level, RFC 8684 section 3.3.4), sends the burst
// into the dead path and re-sends it elsewhere once the subflow is stale; here the data goes to a
// subflow that can send it, and the closed one takes bursts again after its window reopens.
//
// Send-buffer room: Linux grows a subflow's send buffer to 2 * max(cwnd, 10) * per_mss bytes of
// buffer memory (tcp_sndbuf_expand), per_mss = roundup_pow_of_two(mss + MAX_TCP_HEADER +
// skb_shared_info) + sk_buff (4352 for MSS 1448 on x86-64); the queue it bounds is counted in
// buffer memory too, about the payload for the 64 KiB buffers MPTCP fills. So a subflow's queue
// is bounded here by that many payload bytes (about 6 congestion windows at MSS 1448). Ties of
// linger time (idle subflows) go to the lower smoothed RTT (Linux: the first in its list).
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { bestRank, mssOf, orderByRankRtt, pacingRateOf, queuedOf, rankAllows, schedRank, sendWindowClosed } from "./common.ts";

/** Largest burst of one choice (Linux MPTCP_SEND_BURST_SIZE, 64 KiB). */
export const SEND_BURST_SIZE: number = 65536;
/** Bursts reserved at most in one call (bounds the work of one pull). */
const MAX_CHOICES = 64;

export class LingerScheduler implements Scheduler {
  readonly name: string = "default";
  // Reservations: the subflows holding a burst not pulled yet, and its bytes (parallel arrays,
  // one entry per such subflow, so a handful at most: a scan is cheaper than a Map, and the
  // per-pull checks allocate nothing).
  private readonly resSf: SchedSubflow[] = [];
  private readonly resBytes: number[] = [];
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

  // Called on every pull of every subflow (many times per segment sent): the common answers
  // ("it holds a burst", "another holds all there is to send") take two scans of the
  // reservations and at most two readings of the connection view (each a BigInt subtraction
  // in MptcpConnection's); the push loop (fill) runs only when there is unreserved data.
  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], conn?: SchedConnection): boolean {
    if (!rankAllows(sf, all)) return false;
    if (all.length <= 1 || conn === undefined) return true;
    // Drop the reservations of subflows that left, lost their tier or whose send window closed,
    // and all of them when they exceed the data left to send.
    let unsent = 0;
    let haveUnsent = false;
    if (this.resSf.length > 0) {
      this.dropLeavers(all);
      unsent = conn.unsentBytes;
      haveUnsent = true;
      if (this.assignedTotal > unsent) this.clear();
    }
    if (this.reservedAt(sf) > 0) return true;
    if (!haveUnsent) unsent = conn.unsentBytes;
    // No new data to hand out (only reinjections left, or the peer's window is full and what
    // remains is opportunistic retransmission): any subflow its tier allows.
    if (unsent <= 0) return true;
    const wnd = conn.sendWindowFree;
    if (wnd <= 0) return true;
    const sendable = Math.min(unsent, wnd);
    // Everything within the window is reserved already, and none of it for `sf`.
    if (sendable - this.assignedTotal <= 0) return false;
    this.fill(all, sendable);
    return this.reservedAt(sf) > 0;
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
    if (len <= 0) return;
    const i = this.resSf.indexOf(sf);
    if (i < 0) return;
    const a = this.resBytes[i]!;
    const used = Math.min(a, len);
    this.assignedTotal -= used;
    if (a - used > 0) this.resBytes[i] = a - used;
    else this.removeAt(i);
  }

  /**
   * The subflow Linux would pick now: lowest linger time in the best tier, passing over those whose
   * TCP send window is closed (undefined when none is usable).
   */
  choose<T extends SchedSubflow>(all: readonly T[]): T | undefined {
    const tier = bestRank(all);
    if (tier === 3) return undefined;
    let best: T | undefined;
    let bestLinger = Infinity;
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      if (schedRank(s) !== tier || sendWindowClosed(s)) continue;
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
    return this.reservedAt(s);
  }

  private reservedAt(s: SchedSubflow): number {
    const r = this.resSf;
    for (let i = 0; i < r.length; i++) if (r[i] === s) return this.resBytes[i]!;
    return 0;
  }

  private removeAt(i: number): void {
    const last = this.resSf.length - 1;
    this.resSf[i] = this.resSf[last]!;
    this.resBytes[i] = this.resBytes[last]!;
    this.resSf.length = last;
    this.resBytes.length = last;
  }

  private clear(): void {
    this.resSf.length = 0;
    this.resBytes.length = 0;
    this.assignedTotal = 0;
  }

  private queue(s: SchedSubflow): number {
    return queuedOf(s) + this.reservedAt(s);
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
    const i = this.resSf.indexOf(s);
    if (i >= 0) this.resBytes[i] = this.resBytes[i]! + burst;
    else {
      this.resSf.push(s);
      this.resBytes.push(burst);
    }
    this.assignedTotal += burst;
    this.bursts++;
  }

  /** Drops the reservations of subflows that left `all`, lost their tier or whose send window is closed. */
  private dropLeavers(all: readonly SchedSubflow[]): void {
    for (let i = this.resSf.length - 1; i >= 0; i--) {
      const s = this.resSf[i]!;
      if (!all.includes(s) || !rankAllows(s, all) || sendWindowClosed(s)) {
        this.assignedTotal -= this.resBytes[i]!;
        this.removeAt(i);
      }
    }
  }
}

/** Linux's autotuned send buffer of a subflow (tcp_sndbuf_expand): 2 * max(cwnd, 10) segments of per_mss bytes. */
export function sendBufferOf(s: SchedSubflow): number {
  const mss = mssOf(s);
  const segs = Math.max(10, Math.ceil((s.tcp.cwndBytes ?? 0) / mss));
  return 2 * segs * perMssOf(mss);
}

let lastMss = -1;
let lastPerMss = 0;
/** Buffer memory per MSS-sized skb: MAX_TCP_HEADER 320, skb_shared_info 320, sk_buff 256 (x86-64, cache-line aligned). */
function perMssOf(mss: number): number {
  if (mss !== lastMss) {
    lastPerMss = 2 ** Math.ceil(Math.log2(mss + 640)) + 256;
    lastMss = mss;
  }
  return lastPerMss;
}

function sameMembers(a: readonly SchedSubflow[], b: readonly SchedSubflow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
