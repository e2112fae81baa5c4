// Minimal in-kernel-like path manager (Linux net/mptcp/pm_netlink.c defaults): on a new
// MPTCP connection the client opens subflows from its "subflow" endpoints to the server's
// initial address, the server announces its "signal" endpoints (ADD_ADDR); an accepted
// ADD_ADDR (within add_addr_accepted) opens a subflow to the announced address; everything
// within the subflows limit (default 2 extra, hard cap 8).
import type { IpAddress } from "../wire/types.ts";
import { NDiffPortsPathManager } from "./ndiffports.ts";
import { SignalPathManager, UserspacePathManager } from "./userspace.ts";

/** What the path manager needs from a connection (implemented by MptcpConnection). */
export interface PmConnection {
  readonly role: "client" | "server";
  readonly localAddress: IpAddress;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly config: { readonly pathManager: { readonly subflows: number; readonly addAddrAccepted: number }; readonly maxSubflows: number };
  readonly liveSubflows: ReadonlyArray<{ readonly localAddress: IpAddress; readonly remoteAddress: IpAddress; readonly remotePort: number }>;
  /** Addresses the peer announced (ADD_ADDR), with the port to join them on. */
  readonly remoteAddrs: ReadonlyArray<{ readonly id: number; readonly address: IpAddress; readonly port: number }>;
  readonly isMptcp: boolean;
  readonly state: string;
  peerAllowsInitialJoin(): boolean;
  endpointAddresses(): ReadonlyArray<{ address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }>;
  openSubflow(now: number, local: IpAddress, remote?: IpAddress, remotePort?: number, opts?: { backup?: boolean }): number;
  announceAddress(now: number, id: number, address: IpAddress, port?: number): void;
  acceptAddAddr(): boolean;
}

export interface PathManager {
  /** The connection became MPTCP-established. */
  established(now: number, conn: PmConnection): void;
  /** The peer announced an address (HMAC verified, echoed). */
  addressAnnounced(now: number, conn: PmConnection, addr: { id: number; address: IpAddress; port: number }): void;
  /** A local address appeared on the endpoint. */
  localAddressAdded(now: number, conn: PmConnection, addr: { address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }): void;
  /** With no subflow left, can the connection wait for a new one (a local address may appear)? */
  canReplace(conn: PmConnection): boolean;
}

function eq(a: IpAddress, b: IpAddress): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class FullMeshPathManager implements PathManager {
  private extra(conn: PmConnection): number {
    return Math.max(0, conn.liveSubflows.length - 1);
  }

  private room(conn: PmConnection): boolean {
    return this.extra(conn) < conn.config.pathManager.subflows && conn.liveSubflows.length < Math.min(conn.config.maxSubflows, 8);
  }

  private has(conn: PmConnection, local: IpAddress, remote: IpAddress, port: number): boolean {
    return conn.liveSubflows.some((s) => eq(s.localAddress, local) && eq(s.remoteAddress, remote) && s.remotePort === port);
  }

  /**
   * No new subflow once our DATA_FIN went out: a Linux peer that has it refuses the join (its msk
   * left ESTABLISHED; interop case 9), and Linux opens none then either (__mptcp_subflow_connect:
   * mptcp_is_fully_established). Linux does not open one in CLOSE_WAIT (the peer's DATA_FIN
   * came) either; we do, for an upload to a peer that half-closed at once (our own stack
   * accepts such a join).
   */
  private open(conn: PmConnection): boolean {
    return conn.state === "ESTABLISHED" || conn.state === "CLOSE_WAIT";
  }

  established(now: number, conn: PmConnection): void {
    const addrs = conn.endpointAddresses();
    if (conn.role === "client") {
      if (!conn.peerAllowsInitialJoin() || !this.open(conn)) return;
      for (const a of addrs) {
        if (!a.subflow || eq(a.address, conn.localAddress) || a.address.length !== conn.remoteAddress.length) continue;
        if (!this.room(conn)) break;
        if (this.has(conn, a.address, conn.remoteAddress, conn.remotePort)) continue;
        conn.openSubflow(now, a.address, conn.remoteAddress, conn.remotePort, { backup: a.backup });
      }
    } else {
      for (const a of addrs) {
        if (!a.signal || eq(a.address, conn.localAddress)) continue;
        conn.announceAddress(now, a.id, a.address);
      }
    }
  }

  /**
   * Full mesh to an announced address (Linux: endpoints with the fullmesh flag,
   * fill_local_addresses_vec): a subflow from the initial local address and from every local
   * subflow endpoint of the address's family, within the subflows limit.
   */
  addressAnnounced(now: number, conn: PmConnection, addr: { id: number; address: IpAddress; port: number }): void {
    if (!this.open(conn) || !conn.acceptAddAddr()) return;
    const froms: Array<{ address: IpAddress; backup?: boolean }> = [{ address: conn.localAddress }];
    for (const a of conn.endpointAddresses()) if (a.subflow && !eq(a.address, conn.localAddress)) froms.push({ address: a.address, backup: a.backup });
    for (const f of froms) {
      if (f.address.length !== addr.address.length || this.has(conn, f.address, addr.address, addr.port)) continue;
      if (!this.room(conn)) return;
      conn.openSubflow(now, f.address, addr.address, addr.port, f.backup === undefined ? {} : { backup: f.backup });
    }
  }

  localAddressAdded(now: number, conn: PmConnection, addr: { address: IpAddress; id: number; signal: boolean; subflow: boolean; backup: boolean }): void {
    if (!conn.isMptcp || conn.state === "CLOSED") return;
    if (conn.role === "client" && addr.subflow) {
      if (!this.open(conn)) return;
      // Full mesh: to the peer's initial address (unless it asked not to) and to every address it announced.
      const tos: Array<{ address: IpAddress; port: number }> = conn.peerAllowsInitialJoin() ? [{ address: conn.remoteAddress, port: conn.remotePort }] : [];
      for (const r of conn.remoteAddrs) tos.push({ address: r.address, port: r.port });
      for (const t of tos) {
        if (t.address.length !== addr.address.length || this.has(conn, addr.address, t.address, t.port)) continue;
        if (!this.room(conn)) return;
        conn.openSubflow(now, addr.address, t.address, t.port, { backup: addr.backup });
      }
    } else if (conn.role === "server" && addr.signal) {
      conn.announceAddress(now, addr.id, addr.address);
    }
  }

  canReplace(conn: PmConnection): boolean {
    return conn.role === "client" && conn.endpointAddresses().some((a) => a.subflow);
  }
}

/** Path-manager policies selectable by name (MptcpConfig.pathManager.kind). */
export type PathManagerKind = "fullmesh" | "ndiffports" | "signal" | "userspace";

/** The path manager of one connection for its configuration. */
export function createPathManager(cfg: { readonly kind?: PathManagerKind; readonly ndiffports?: number }): PathManager {
  if (cfg.kind === "ndiffports") return new NDiffPortsPathManager(cfg.ndiffports);
  if (cfg.kind === "signal") return new SignalPathManager();
  if (cfg.kind === "userspace") return new UserspacePathManager();
  return new FullMeshPathManager();
}
