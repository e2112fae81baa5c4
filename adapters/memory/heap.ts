// The simulator's event queue: a binary min-heap keyed by (time, insertion order), so events
// at the same virtual time run in the order they were scheduled, which makes runs
// deterministic.
import type { Micros } from "./types.ts";

export interface SimEvent {
  time: Micros;
  seq: number;
  run: () => void;
  cancelled?: boolean;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  private live = 0;

  /** Number of events scheduled and not cancelled. */
  get size(): number {
    return this.live;
  }

  /** Cancels an event: it stays in the heap but is skipped and no longer counted. */
  cancel(ev: SimEvent): void {
    if (!ev.cancelled) {
      ev.cancelled = true;
      this.live--;
    }
  }

  push(time: Micros, run: () => void): SimEvent {
    const ev: SimEvent = { time, seq: this.nextSeq++, run };
    const h = this.heap;
    this.live++;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  /** The next event that is not cancelled. */
  peek(): SimEvent | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.removeTop();
    return this.heap[0];
  }

  /** Removes and returns the next event that is not cancelled. */
  pop(): SimEvent | undefined {
    const ev = this.peek();
    if (ev) {
      this.removeTop();
      this.live--;
    }
    return ev;
  }

  private removeTop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
