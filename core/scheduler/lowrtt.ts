// Lowest RTT first: the multipath-tcp.org kernel's default scheduler (mptcp_sched.c "default"):
// among the subflows with free congestion window, the one with the lowest smoothed RTT;
// backup subflows only when no regular subflow is usable. In the pull model that is: poll the
// subflows in (rank, srtt) order on every call, and let each take data when its rank allows.
import type { SchedConnection, SchedSubflow, Scheduler } from "./index.ts";
import { RankRttOrder, rankAllows } from "./common.ts";

export class LowestRttScheduler implements Scheduler {
  readonly name: string = "lowrtt";

  private readonly ord = new RankRttOrder();

  order<T extends SchedSubflow>(subflows: readonly T[]): readonly T[] {
    return this.ord.of(subflows);
  }

  allowed<T extends SchedSubflow>(sf: T, all: readonly T[], _conn?: SchedConnection): boolean {
    return rankAllows(sf, all);
  }
}
