// Congestion control: the interface (types.ts), the controllers, and a registry by name.
// Every call of `congestionFactory` returns a new factory.

import { cubicFactory } from "./cubic.ts";
import type { CubicOptions } from "./cubic.ts";
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

export type CongestionAlgorithm = "reno" | "cubic";

export interface CongestionOptions {
  reno?: RenoOptions;
  cubic?: CubicOptions;
}

/** The default controller, as on Linux. */
export const DEFAULT_CONGESTION_ALGORITHM: CongestionAlgorithm = "cubic";

/** A new factory for the named algorithm. */
export function congestionFactory(name: CongestionAlgorithm, options: CongestionOptions = {}): CongestionFactory {
  switch (name) {
    case "reno":
      return renoFactory(options.reno);
    case "cubic":
      return cubicFactory(options.cubic);
    default:
      throw new InvalidArgumentError(`unknown congestion control algorithm ${String(name)}`);
  }
}
