// What the packet scheduler (core/scheduler) sees of an MPTCP connection and of its subflows.
//
// - Per subflow (SchedSubflow): the Subflow object itself is handed to the scheduler (no copy per
//   packet, and schedulers keep per-subflow state by identity). Its scheduler-facing fields are
//   declared together in core/mptcp/subflow.ts, in the block "scheduler view (SchedSubflow)";
//   `Subflow implements SchedSubflow`, so a field added to SchedSubflow is added there.
// - Per connection (SchedConnection): built once per connection by schedConnectionView below,
//   live getters over the data-level send state.
import type { SchedConnection } from "../scheduler/index.ts";
import type { MptcpConnection } from "./connection.ts";

/** The scheduler's view of the connection (BLEST, ECF): the peer's connection-level window, unsent bytes and the time. */
export function schedConnectionView(conn: MptcpConnection): SchedConnection {
  return {
    get sendWindowFree(): number {
      return Number(conn.sndWndEdge - conn.sndNxt);
    },
    get sendWindow(): number {
      return Number(conn.sndWndEdge - conn.una);
    },
    get unsentBytes(): number {
      return Number(conn.sndEnd - conn.sndNxt);
    },
    get nowUs(): number {
      return conn.curNow;
    },
  };
}
