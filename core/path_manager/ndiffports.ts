// ndiffports (the multipath-tcp.org kernel's "ndiffports" path manager, for ECMP datacenters,
// Raiciu et al. SIGCOMM 2011): the client opens N subflows in all between the same pair of
// addresses, each from its own source port, so that ECMP hashing spreads them over different
// paths. Announced addresses are ignored; the server side does nothing.
import type { IpAddress } from "../wire/types.ts";
import type { PathManager, PmConnection } from "./index.ts";

/** Subflows the multipath-tcp.org kernel's ndiffports opened by default. */
export const DEFAULT_NDIFFPORTS = 2;

export class NDiffPortsPathManager implements PathManager {
  readonly name: string = "ndiffports";
  /** Subflows per connection, the initial one included (>= 1). */
  readonly subflows: number;

  constructor(subflows: number = DEFAULT_NDIFFPORTS) {
    this.subflows = Number.isInteger(subflows) && subflows >= 1 ? Math.min(subflows, 8) : DEFAULT_NDIFFPORTS;
  }

  established(now: number, conn: PmConnection): void {
    if (conn.role !== "client") return;
    const cap = Math.min(this.subflows, conn.config.maxSubflows, 8);
    while (conn.liveSubflows.length < cap) conn.openSubflow(now, conn.localAddress, conn.remoteAddress, conn.remotePort);
  }

  addressAnnounced(_now: number, _conn: PmConnection, _addr: { id: number; address: IpAddress; port: number }): void {}

  localAddressAdded(_now: number, _conn: PmConnection, _addr: { address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }): void {}

  canReplace(_conn: PmConnection): boolean {
    return false;
  }
}
