// Plain TCP as an AppStack: core/tcp TcpHost on the first path (interface 0). Further paths
// are not used by plain TCP (MPTCP joins them). Used for --no-mptcp, and by the TUN/UDP
// interop tests against the kernel's TCP.
import { TcpHost } from "../../core/tcp/host.ts";
import type { TcpHostConnection } from "../../core/tcp/host.ts";
import type { TcpConfig, TcpRandom } from "../../core/tcp/types.ts";
import { formatIp } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { HostTransmit } from "../driver.ts";
import type { AppConnection, AppStack, StackPath, SubflowSummary } from "./stack.ts";

function endpoint(a: IpAddress, port: number): string {
  return a.length === 16 ? `[${formatIp(a)}]:${port}` : `${formatIp(a)}:${port}`;
}

class TcpAppConnection implements AppConnection {
  constructor(
    private readonly hc: TcpHostConnection,
    private readonly local: IpAddress,
  ) {}

  get established(): boolean {
    const s = this.hc.conn.state;
    return s !== "SYN_SENT" && s !== "SYN_RECEIVED" && s !== "LISTEN" && !(s === "CLOSED" && this.hc.conn.closedReason !== "normal");
  }
  get readable(): number {
    return this.hc.conn.readable;
  }
  read(dst: Uint8Array): number {
    return this.hc.conn.read(dst);
  }
  write(src: Uint8Array): number {
    const s = this.hc.conn.state;
    if (s !== "ESTABLISHED" && s !== "CLOSE_WAIT") return 0;
    return this.hc.conn.write(src);
  }
  shutdown(): void {
    const s = this.hc.conn.state;
    if (s === "ESTABLISHED" || s === "CLOSE_WAIT" || s === "SYN_RECEIVED") this.hc.conn.shutdown();
  }
  abort(): void {
    if (this.hc.conn.state !== "CLOSED") this.hc.conn.abort();
  }
  get peerDone(): boolean {
    return this.hc.conn.peerFinReceived && this.hc.conn.readable === 0;
  }
  get sendDone(): boolean {
    const s = this.hc.conn.state;
    return s === "FIN_WAIT_2" || s === "TIME_WAIT" || (s === "CLOSED" && this.hc.conn.closedReason === "normal");
  }
  get failed(): string | undefined {
    const r = this.hc.conn.closedReason;
    return r !== undefined && r !== "normal" ? r : undefined;
  }
  get mptcp(): boolean {
    return false;
  }
  subflows(): SubflowSummary[] {
    const st = this.hc.conn.stats();
    return [
      {
        local: endpoint(this.local, this.hc.localPort),
        remote: endpoint(this.hc.remoteAddress, this.hc.remotePort),
        backup: false,
        bytesSent: st.bytesSent,
        bytesReceived: st.bytesReceived,
        rttMs: Math.round(st.srttUs / 10) / 100,
      },
    ];
  }
  counters(): Record<string, number> {
    const st = this.hc.conn.stats();
    // TcpExt-like names (nstat): plain TCP has no MPTcpExt counters.
    return {
      TcpOutSegs: st.segmentsOut,
      TcpInSegs: st.segmentsIn,
      TcpRetransSegs: st.retransSegments,
      TcpExtTCPFastRetrans: st.fastRetransmits,
      TcpExtTCPTimeouts: st.rtoExpiries,
      TcpExtTCPLossProbes: st.tlpProbes,
      TcpExtTCPSACKRecovery: st.recoveries,
      TcpExtTCPDSACKRecv: st.dsacksIn,
      TcpExtTCPDSACKOldSent: st.dsacksOut,
      TcpExtTCPSpuriousRTOs: st.spuriousRecoveries,
      TcpExtTCPOFOQueue: st.outOfOrderSegments,
      TcpExtTCPChallengeACK: st.challengeAcks,
    };
  }
}

export class TcpStack implements AppStack {
  readonly host: TcpHost;
  onProgress: ((now: number) => void) | undefined = undefined;
  private readonly path: StackPath;
  private readonly open: TcpHostConnection[] = [];

  constructor(paths: StackPath[], random: TcpRandom, config?: Partial<TcpConfig>) {
    if (paths.length === 0) throw new Error("at least one path is needed");
    this.path = paths[0]!;
    this.host = new TcpHost({ address: this.path.address, random, config });
  }

  listen(port: number): void {
    this.host.listen(port);
  }

  connect(now: number, remote: IpAddress, port: number): AppConnection {
    const hc = this.host.connect(now, remote, port, this.path.localPort !== undefined ? { localPort: this.path.localPort } : {});
    this.open.push(hc);
    return new TcpAppConnection(hc, this.path.address);
  }

  pollAccept(): AppConnection | undefined {
    const hc = this.host.pollAccept();
    if (hc) this.open.push(hc);
    return hc ? new TcpAppConnection(hc, this.path.address) : undefined;
  }

  handlePacket(now: number, packet: Uint8Array, iface: number): void {
    if (iface === 0) this.host.handlePacket(now, packet);
    this.progress(now);
  }

  /** Runs the application; the applications poll state, so the host's event lists are cleared. */
  private progress(now: number): void {
    for (let i = this.open.length - 1; i >= 0; i--) {
      const hc = this.open[i]!;
      hc.events.length = 0;
      if (hc.conn.state === "CLOSED") this.open.splice(i, 1);
    }
    this.onProgress?.(now);
  }

  pollTransmit(now: number): HostTransmit | undefined {
    let p = this.host.pollTransmit(now);
    if (!p && this.onProgress) {
      this.progress(now);
      p = this.host.pollTransmit(now);
    }
    return p ? { packet: p, iface: 0 } : undefined;
  }

  pollTimeout(): number | undefined {
    return this.host.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.host.handleTimeout(now);
    this.progress(now);
  }
}
