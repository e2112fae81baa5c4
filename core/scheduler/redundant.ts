// Redundant scheduler (the multipath-tcp.org kernel's "redundant"; for latency-critical,
// low-volume traffic): every segment goes on every usable subflow of the best rank (regular
// subflows; backups only when no regular one is usable). In the pull model: whichever subflow
// takes new data first sends it; the same DSN range is queued for each other subflow, which
// sends it (before new data) when its window has room. Ranges already DATA_ACKed are skipped.
// The receiver keeps the first copy and drops the others as duplicates.
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { RankRttOrder, rankAllows } from "./common.ts";

interface Range {
  dsn: bigint;
  len: number;
}

/** Most ranges queued per subflow (older ones are dropped: that subflow is far behind anyway). */
const MAX_QUEUED = 4096;

export class RedundantScheduler implements Scheduler {
  readonly name: string = "redundant";
  private readonly queues = new Map<SchedSubflow, Range[]>();
  /** Bytes queued for duplication in all (for tests and stats). */
  duplicatedBytes = 0;

  private readonly ord = new RankRttOrder();

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    return this.ord.of(subflows);
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], _conn?: SchedConnection): boolean {
    return rankAllows(sf, all);
  }

  sent<T extends SchedSubflow>(sf: T, dsn: bigint, len: number, all: readonly T[]): void {
    if (len <= 0) return;
    for (const o of all) {
      if (o === sf || !o.usable || !rankAllows(o, all)) continue;
      let q = this.queues.get(o);
      if (!q) {
        q = [];
        this.queues.set(o, q);
      }
      const last = q[q.length - 1];
      if (last && last.dsn + BigInt(last.len) === dsn && last.len + len <= 65536) last.len += len;
      else q.push({ dsn, len });
      if (q.length > MAX_QUEUED) q.shift();
      this.duplicatedBytes += len;
    }
  }

  duplicate<T extends SchedSubflow>(sf: T, una: bigint, maxBytes: number): { dsn: bigint; len: number } | undefined {
    const q = this.queues.get(sf);
    if (!q) return undefined;
    if (!sf.usable) {
      this.queues.delete(sf);
      return undefined;
    }
    while (q.length > 0) {
      const r = q[0]!;
      const end = r.dsn + BigInt(r.len);
      if (end <= una) {
        q.shift();
        continue;
      }
      if (r.dsn < una) {
        r.len = Number(end - una);
        r.dsn = una;
      }
      const n = Math.min(maxBytes, r.len);
      const out = { dsn: r.dsn, len: n };
      r.dsn += BigInt(n);
      r.len -= n;
      if (r.len === 0) q.shift();
      return out;
    }
    return undefined;
  }

  /** Ranges waiting on a subflow (tests). */
  queued(sf: SchedSubflow): number {
    return this.queues.get(sf)?.reduce((a, r) => a + r.len, 0) ?? 0;
  }
}
