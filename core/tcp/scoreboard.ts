// The sender's retransmission queue and SACK scoreboard (RFC 6675 section 4 "pipe" accounting,
// RFC 8985 time-ordered list for RACK). One TxSeg per transmitted segment, ordered by sequence
// number and contiguous in sequence space; a second, doubly-linked list orders the segments
// that are neither SACKed nor acknowledged by their last transmission time.
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../wire/seq.ts";

export class TxSeg {
  /** Last transmission time (µs). */
  xmitTime = 0;
  /** Number of retransmissions of this segment. */
  retrans = 0;
  sacked = false;
  /** Marked lost (by RACK, NewReno, or an RTO) and not SACKed. */
  lost = false;
  /** A retransmission of a lost segment is in flight. */
  retransInFlight = false;
  /** Sent with PSH: retransmissions carry it again (Linux keeps an skb's flags). */
  psh = false;
  prevT: TxSeg | null = null;
  nextT: TxSeg | null = null;
  inT = false;

  constructor(
    public seq: number,
    /** Payload bytes. */
    public len: number,
    public fin: boolean,
    public readonly meta: unknown,
  ) {}

  /** The sequence number after this segment (FIN occupies one). */
  get end(): number {
    return seqAdd(this.seq, this.len + (this.fin ? 1 : 0));
  }
}

export class Scoreboard {
  /** Segments by sequence number: live ones are segs[head..]. */
  segs: TxSeg[] = [];
  head = 0;
  /** Index hint: no lost-and-not-retransmitted segment below it. */
  retransHint = 0;
  sackedBytes = 0;
  lostBytes = 0;
  retransBytes = 0;
  /** Highest SACKed sequence end (RACK.fack). */
  fack = 0;
  hasFack = false;
  tHead: TxSeg | null = null;
  tTail: TxSeg | null = null;

  get count(): number {
    return this.segs.length - this.head;
  }

  first(): TxSeg | undefined {
    return this.segs[this.head];
  }

  last(): TxSeg | undefined {
    return this.count > 0 ? this.segs[this.segs.length - 1] : undefined;
  }

  /** Appends a newly sent segment. */
  push(s: TxSeg, now: number): void {
    s.xmitTime = now;
    this.segs.push(s);
    this.tAppend(s);
  }

  /** Index of the segment containing `seq`, or -1. */
  indexOf(seq: number): number {
    let lo = this.head;
    let hi = this.segs.length - 1;
    if (hi < lo) return -1;
    const base = this.segs[lo]!.seq;
    const d = seqDiff(seq, base);
    if (d < 0) return -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segs[mid]!;
      const ds = seqDiff(s.seq, base);
      if (d < ds) hi = mid - 1;
      else if (d >= seqDiff(s.end, base)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  tAppend(s: TxSeg): void {
    if (s.inT) this.tUnlink(s);
    s.prevT = this.tTail;
    s.nextT = null;
    if (this.tTail) this.tTail.nextT = s;
    else this.tHead = s;
    this.tTail = s;
    s.inT = true;
  }

  tUnlink(s: TxSeg): void {
    if (!s.inT) return;
    if (s.prevT) s.prevT.nextT = s.nextT;
    else this.tHead = s.nextT;
    if (s.nextT) s.nextT.prevT = s.prevT;
    else this.tTail = s.prevT;
    s.prevT = s.nextT = null;
    s.inT = false;
  }

  markLost(idx: number): boolean {
    const s = this.segs[idx]!;
    if (s.sacked) return false;
    if (s.retransInFlight) {
      s.retransInFlight = false;
      this.retransBytes -= s.len || 1;
    } else if (s.lost) return false;
    if (!s.lost) {
      s.lost = true;
      this.lostBytes += s.len || 1;
    }
    if (idx < this.retransHint) this.retransHint = idx;
    return true;
  }

  markSacked(s: TxSeg): boolean {
    if (s.sacked) return false;
    const w = s.len || 1;
    s.sacked = true;
    this.sackedBytes += w;
    if (s.lost) {
      s.lost = false;
      this.lostBytes -= w;
    }
    if (s.retransInFlight) {
      s.retransInFlight = false;
      this.retransBytes -= w;
    }
    this.tUnlink(s);
    if (!this.hasFack || seqGt(s.end, this.fack)) {
      this.fack = s.end;
      this.hasFack = true;
    }
    return true;
  }

  /** Records a retransmission of segment s at `now`. */
  retransmitted(s: TxSeg, now: number): void {
    s.retrans++;
    s.xmitTime = now;
    if (s.lost && !s.retransInFlight) {
      s.retransInFlight = true;
      this.retransBytes += s.len || 1;
    }
    this.tAppend(s);
  }

  /** The next lost, not yet retransmitted segment (RFC 6675 NextSeg rule 1), or undefined. */
  nextLost(): TxSeg | undefined {
    if (this.lostBytes <= 0) return undefined;
    let i = Math.max(this.retransHint, this.head);
    const n = this.segs.length;
    while (i < n) {
      const s = this.segs[i]!;
      if (s.lost && !s.retransInFlight && !s.sacked) {
        this.retransHint = i;
        return s;
      }
      i++;
    }
    this.retransHint = i;
    return undefined;
  }

  /**
   * Removes everything below the cumulative ACK; returns the removed (or trimmed) segments
   * through `each` (with the number of payload bytes acknowledged by the call).
   */
  ackTo(ack: number, each: (s: TxSeg, wholly: boolean) => void): void {
    while (this.head < this.segs.length) {
      const s = this.segs[this.head]!;
      if (seqLe(s.end, ack)) {
        const w = s.len || 1;
        if (s.sacked) this.sackedBytes -= w;
        if (s.lost) this.lostBytes -= w;
        if (s.retransInFlight) this.retransBytes -= w;
        this.tUnlink(s);
        this.head++;
        each(s, true);
        continue;
      }
      if (seqGt(ack, s.seq) && s.len > 0) {
        // Partial acknowledgement of a segment: trim it.
        const k = Math.min(seqDiff(ack, s.seq), s.len);
        if (s.sacked) this.sackedBytes -= k;
        if (s.lost) this.lostBytes -= k;
        if (s.retransInFlight) this.retransBytes -= k;
        s.seq = seqAdd(s.seq, k);
        s.len -= k;
        if (s.len === 0 && !s.fin) {
          this.tUnlink(s);
          this.head++;
          each(s, true);
          continue;
        }
        each(s, false);
      }
      break;
    }
    if (this.retransHint < this.head) this.retransHint = this.head;
    if (this.head > 1024 && this.head * 2 > this.segs.length) {
      this.segs = this.segs.slice(this.head);
      this.retransHint -= this.head;
      this.head = 0;
    }
    if (this.hasFack && seqLt(this.fack, ack)) this.fack = ack;
  }

  /** Marks every outstanding, not SACKed segment lost (RTO, RFC 6675 section 5.1). */
  markAllLost(): void {
    for (let i = this.head; i < this.segs.length; i++) this.markLost(i);
    this.retransHint = this.head;
  }

  clear(): void {
    this.segs = [];
    this.head = 0;
    this.retransHint = 0;
    this.sackedBytes = this.lostBytes = this.retransBytes = 0;
    this.tHead = this.tTail = null;
    this.hasFack = false;
  }

  /** True if seq is within [first.seq, last.end). */
  covers(seq: number): boolean {
    const f = this.first();
    const l = this.last();
    return !!f && !!l && seqGe(seq, f.seq) && seqLt(seq, l.end);
  }
}
