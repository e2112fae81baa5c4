// Congestion control: the interface (types.ts), the controllers, and a registry by name.
// Every call of `congestionFactory` returns a new factory.

import { cubicFactory } from "./cubic.ts";
import type { CubicOptions } from "./cubic.ts";
import { baliaFactory, liaFactory, oliaFactory } from "./coupled.ts";
import type { WindowOptions } from "./base.ts";
import { renoFactory } from "./reno.ts";
import type { RenoOptions } from "./reno.ts";
import type { CongestionFactory } from "./types.ts";
import { InvalidArgumentError } from "../errors.ts";

export type * from "./types.ts";
export * from "./pacing.ts";
export { ABC_LIMIT_SEGMENTS, DEFAULT_INITIAL_WINDOW_SEGMENTS, initialWindowBytes, WindowController } from "./base.ts";
export type { WindowOptions, WindowSnapshot } from "./base.ts";
export * from "./hystart.ts";
export * from "./reno.ts";
export * from "./cubic.ts";
export * from "./coupled.ts";

export type CongestionAlgorithm = "reno" | "cubic" | "lia" | "olia" | "balia";

/** The algorithms whose subflows share state: one factory per MPTCP connection. */
export const COUPLED_ALGORITHMS: readonly CongestionAlgorithm[] = ["lia", "olia", "balia"];

export interface CongestionOptions {
  reno?: RenoOptions;
  cubic?: CubicOptions;
  lia?: WindowOptions;
  olia?: WindowOptions;
  balia?: WindowOptions;
}

/** The default controller, as on Linux. */
export const DEFAULT_CONGESTION_ALGORITHM: CongestionAlgorithm = "cubic";

/**
 * A new factory for the named algorithm. For the coupled ones (LIA, OLIA, BALIA) the factory holds
 * the connection's coupling state: make one per MPTCP connection and create every subflow's
 * controller from it (and call `release()` on a controller when its subflow goes away).
 */
export function congestionFactory(name: CongestionAlgorithm, options: CongestionOptions = {}): CongestionFactory {
  switch (name) {
    case "reno":
      return renoFactory(options.reno);
    case "cubic":
      return cubicFactory(options.cubic);
    case "lia":
      return liaFactory(options.lia);
    case "olia":
      return oliaFactory(options.olia);
    case "balia":
      return baliaFactory(options.balia);
    default:
      throw new InvalidArgumentError(`unknown congestion control algorithm ${String(name)}`);
  }
}
