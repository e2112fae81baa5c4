// Glue: a core/mptcp Endpoint as a simulator host. Each local address leaves on its interface
// (LocalAddressSpec.iface, default its index).
import { Endpoint } from "../../core/mptcp/endpoint.ts";
import type { EndpointOptions } from "../../core/mptcp/endpoint.ts";
import type { Micros, SimHost, Transmit } from "./types.ts";

export class SimMptcpHost implements SimHost {
  readonly endpoint: Endpoint;
  /** Called after every input, before the simulator drains transmissions (application logic). */
  app: ((now: Micros, host: SimMptcpHost) => void) | undefined;

  constructor(opts: EndpointOptions) {
    this.endpoint = new Endpoint(opts);
  }

  handlePacket(now: Micros, packet: Uint8Array, iface: number): void {
    this.endpoint.handlePacket(now, packet, iface);
    this.app?.(now, this);
  }

  pollTransmit(now: Micros): Transmit | undefined {
    const p = this.endpoint.pollTransmit(now);
    if (p) return { packet: p.packet, iface: p.iface };
    this.app?.(now, this);
    const q = this.endpoint.pollTransmit(now);
    return q ? { packet: q.packet, iface: q.iface } : undefined;
  }

  pollTimeout(): Micros | undefined {
    return this.endpoint.pollTimeout();
  }

  handleTimeout(now: Micros): void {
    this.endpoint.handleTimeout(now);
    this.app?.(now, this);
  }
}
