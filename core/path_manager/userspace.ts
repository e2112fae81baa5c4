// An application-driven path manager, like Linux's userspace path manager (net.mptcp.pm_type=1,
// driven by mptcpd / `ip mptcp` over generic netlink): the connection opens and announces
// nothing by itself; the manager reports what happens (events, in order) and the application
// answers with commands (open a subflow, announce or withdraw an address, set backup).
import type { IpAddress } from "../wire/types.ts";
import type { PathManager, PmConnection } from "./index.ts";

/** What the application hears (mptcpd's MPTCP_EVENT_* of the genl family, reduced). */
export type UserspacePmEvent =
  | { type: "established"; conn: PmConnection }
  | { type: "announced"; conn: PmConnection; id: number; address: IpAddress; port: number }
  | { type: "localAddress"; conn: PmConnection; address: IpAddress; id: number; backup: boolean };

export class UserspacePathManager implements PathManager {
  readonly name: string = "userspace";
  private readonly events: UserspacePmEvent[] = [];
  /** Called synchronously for every event (optional; events are also queued for pollEvent()). */
  onEvent: ((now: number, e: UserspacePmEvent) => void) | undefined;
  /** With no subflow left, may the connection wait for the application to open one? */
  keepAlive: boolean;

  constructor(opts: { onEvent?: (now: number, e: UserspacePmEvent) => void; keepAlive?: boolean } = {}) {
    this.onEvent = opts.onEvent;
    this.keepAlive = opts.keepAlive ?? false;
  }

  private emit(now: number, e: UserspacePmEvent): void {
    this.events.push(e);
    this.onEvent?.(now, e);
  }

  /** The next event, or undefined. */
  pollEvent(): UserspacePmEvent | undefined {
    return this.events.shift();
  }

  established(now: number, conn: PmConnection): void {
    this.emit(now, { type: "established", conn });
  }

  addressAnnounced(now: number, conn: PmConnection, addr: { id: number; address: IpAddress; port: number }): void {
    this.emit(now, { type: "announced", conn, id: addr.id, address: addr.address, port: addr.port });
  }

  localAddressAdded(now: number, conn: PmConnection, addr: { address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }): void {
    this.emit(now, { type: "localAddress", conn, address: addr.address, id: addr.id, backup: addr.backup });
  }

  canReplace(_conn: PmConnection): boolean {
    return this.keepAlive;
  }

  // Commands (mptcpd's MPTCP_PM_CMD_SUBFLOW_CREATE, _ANNOUNCE); they act on the connection.

  /** Opens a subflow (MP_JOIN); returns its id. */
  createSubflow(now: number, conn: PmConnection, local: IpAddress, remote?: IpAddress, remotePort?: number, backup = false): number {
    return conn.openSubflow(now, local, remote, remotePort, { backup });
  }

  /** Announces one of our addresses (ADD_ADDR). */
  announce(now: number, conn: PmConnection, id: number, address: IpAddress, port?: number): void {
    conn.announceAddress(now, id, address, port);
  }
}

/**
 * "signal": announce every local address of the endpoint (not only those flagged signal) on
 * new connections and when one appears; open no subflow ourselves (the server side of a
 * deployment whose clients run full mesh).
 */
export class SignalPathManager implements PathManager {
  readonly name: string = "signal";

  established(now: number, conn: PmConnection): void {
    for (const a of conn.endpointAddresses()) {
      if (sameAddress(a.address, conn.localAddress)) continue;
      conn.announceAddress(now, a.id, a.address);
    }
  }

  addressAnnounced(_now: number, _conn: PmConnection, _addr: { id: number; address: IpAddress; port: number }): void {}

  localAddressAdded(now: number, conn: PmConnection, addr: { address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }): void {
    if (!conn.isMptcp || conn.state === "CLOSED") return;
    conn.announceAddress(now, addr.id, addr.address);
  }

  canReplace(_conn: PmConnection): boolean {
    return false;
  }
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
