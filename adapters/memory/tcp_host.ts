// Glue: a core/tcp TcpHost as a simulator host (one interface, index 0).
import { TcpHost } from "../../core/tcp/host.ts";
import type { TcpHostOptions } from "../../core/tcp/host.ts";
import type { Micros, SimHost, Transmit } from "./types.ts";

export class SimTcpHost implements SimHost {
  readonly tcp: TcpHost;
  /** Called after every input, before the simulator drains transmissions (application logic). */
  app: ((now: Micros, host: SimTcpHost) => void) | undefined;

  constructor(opts: TcpHostOptions) {
    this.tcp = new TcpHost(opts);
  }

  handlePacket(now: Micros, packet: Uint8Array, _iface: number): void {
    this.tcp.handlePacket(now, packet);
    this.app?.(now, this);
  }

  pollTransmit(now: Micros): Transmit | undefined {
    const p = this.tcp.pollTransmit(now);
    if (p) return { packet: p, iface: 0 };
    this.app?.(now, this);
    const q = this.tcp.pollTransmit(now);
    return q ? { packet: q, iface: 0 } : undefined;
  }

  pollTimeout(): Micros | undefined {
    return this.tcp.pollTimeout();
  }

  handleTimeout(now: Micros): void {
    this.tcp.handleTimeout(now);
    this.app?.(now, this);
  }
}
