// MPTCP as an AppStack: the core/mptcp Endpoint with one local address per path (interface i
// = the i-th --tun/--udp path). The client opens the connection from the first path and the
// full-mesh path manager joins from the others ("subflow" endpoints, like `ip mptcp endpoint
// add ADDR subflow`); a server announces the addresses given with --announce ("signal").
// --backup ADDR marks a path backup. Plain TCP peers are served through the Endpoint's
// fallback (mptcp: false in the summary).
import { Endpoint } from "../../core/mptcp/endpoint.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfigInput } from "../../core/mptcp/types.ts";
import type { RandomSource } from "../../core/crypto/random.ts";
import { ipEquals } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { HostTransmit } from "../driver.ts";
import type { AppConnection, AppStack, StackPath, SubflowSummary } from "./stack.ts";

/** The time of the current input, for the connection's commands (they take `now`). */
interface NowRef {
  now: number;
}

class MptcpAppConnection implements AppConnection {
  constructor(
    readonly conn: MptcpConnection,
    private readonly t: NowRef,
  ) {}

  get established(): boolean {
    const s = this.conn.state;
    return s !== "SYN_SENT" && s !== "SYN_RECEIVED" && !(s === "CLOSED" && this.conn.closedReason !== "normal");
  }
  get readable(): number {
    return this.conn.readable;
  }
  read(dst: Uint8Array): number {
    return this.conn.read(this.t.now, dst);
  }
  write(src: Uint8Array): number {
    const s = this.conn.state;
    if ((s !== "ESTABLISHED" && s !== "CLOSE_WAIT") || this.conn.writable === 0) return 0;
    return this.conn.write(this.t.now, src);
  }
  shutdown(): void {
    this.conn.shutdown(this.t.now);
  }
  abort(): void {
    this.conn.abort(this.t.now);
  }
  get peerDone(): boolean {
    return this.conn.peerClosed && this.conn.readable === 0;
  }
  get sendDone(): boolean {
    const s = this.conn.state;
    // Every written byte must be acknowledged too (a FIN cannot vouch for bytes never sent).
    return (s === "FIN_WAIT_2" || (s === "CLOSED" && this.conn.closedReason === "normal")) && this.conn.unacked === 0;
  }
  get failed(): string | undefined {
    const r = this.conn.closedReason;
    return r !== undefined && r !== "normal" ? r : undefined;
  }
  get mptcp(): boolean {
    return this.conn.isMptcp;
  }
  subflows(): SubflowSummary[] {
    return this.conn.stats().subflows.map((s) => ({
      local: s.localAddress,
      remote: s.remoteAddress,
      backup: s.backup,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      rttMs: Math.round(s.srttUs / 10) / 100,
    }));
  }
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.conn.counters)) out[`MPTcpExt${k}`] = v;
    return out;
  }
}

export interface MptcpStackOptions {
  role: "client" | "server";
  paths: StackPath[];
  random: RandomSource;
  config?: MptcpConfigInput;
  /** Addresses the server announces (ADD_ADDR). */
  announce?: IpAddress[];
}

export class MptcpStack implements AppStack {
  readonly endpoint: Endpoint;
  onProgress: ((now: number) => void) | undefined = undefined;
  private readonly t: NowRef = { now: 0 };
  private readonly open: MptcpConnection[] = [];
  private readonly first: StackPath;

  constructor(opts: MptcpStackOptions) {
    if (opts.paths.length === 0) throw new Error("at least one path is needed");
    this.first = opts.paths[0]!;
    const addresses: LocalAddressSpec[] = opts.paths.map((p, i) => ({
      address: p.address,
      iface: i,
      subflow: opts.role === "client" && i > 0,
      signal: (opts.announce ?? []).some((a) => ipEquals(a, p.address)),
      backup: p.backup ?? false,
    }));
    // TCP-in-UDP: each path's socket port is the TCP port of its subflows. The CLI binds every
    // client socket to the same port, so that one port is the whole "ephemeral range".
    const fixed = opts.paths.map((p) => p.localPort).filter((p): p is number => p !== undefined);
    const range = opts.role === "client" && fixed.length > 0 ? { ephemeralLow: fixed[0]!, ephemeralHigh: fixed[0]! } : {};
    if (fixed.length > 0 && fixed.some((p) => p !== fixed[0])) throw new Error("UDP paths of one client must share one port");
    this.endpoint = new Endpoint({ addresses, random: opts.random, config: opts.config, ...range });
  }

  listen(port: number): void {
    this.endpoint.listen(port);
  }

  connect(now: number, remote: IpAddress, port: number): AppConnection {
    this.t.now = now;
    const c = this.endpoint.connect(now, remote, port, { localAddress: this.first.address });
    this.open.push(c);
    return new MptcpAppConnection(c, this.t);
  }

  pollAccept(): AppConnection | undefined {
    const c = this.endpoint.pollAccept();
    if (!c) return undefined;
    this.open.push(c);
    return new MptcpAppConnection(c, this.t);
  }

  private progress(now: number): void {
    this.t.now = now;
    for (let i = this.open.length - 1; i >= 0; i--) {
      const c = this.open[i]!;
      while (c.pollEvent() !== undefined); // the applications poll state
      if (c.state === "CLOSED") this.open.splice(i, 1);
    }
    this.onProgress?.(now);
  }

  handlePacket(now: number, packet: Uint8Array, iface: number): void {
    this.t.now = now;
    this.endpoint.handlePacket(now, packet, iface);
    this.progress(now);
  }

  pollTransmit(now: number): HostTransmit | undefined {
    this.t.now = now;
    let p = this.endpoint.pollTransmit(now);
    if (!p && this.onProgress) {
      this.progress(now);
      p = this.endpoint.pollTransmit(now);
    }
    return p ? { packet: p.packet, iface: p.iface } : undefined;
  }

  pollTransmitInto(now: number, out: Uint8Array): { length: number; iface: number } | undefined {
    this.t.now = now;
    let p = this.endpoint.pollTransmitInto(now, out);
    if (!p && this.onProgress) {
      this.progress(now);
      p = this.endpoint.pollTransmitInto(now, out);
    }
    return p;
  }

  pollTimeout(): number | undefined {
    return this.endpoint.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.t.now = now;
    this.endpoint.handleTimeout(now);
    this.progress(now);
  }
}
