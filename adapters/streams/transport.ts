// Transports of the streams API: what `connect` / `listen` run the MPTCP Endpoint over. One
// PacketPort per path (adapters/driver.ts): UDP sockets carrying TCP-in-UDP (adapters/udp/),
// existing TUN devices (adapters/tun/), ports the caller built (any adapter), or the in-process
// MemoryNetwork below (real time, no sockets: tests and demos inside one process).
import { setImmediate } from "node:timers";
import { InvalidArgumentError } from "../../core/errors.ts";
import { formatIp, parseIpText } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { PacketPort } from "../driver.ts";
import { UdpPort } from "../udp/udp.ts";
import { TunGroup } from "../tun/tun.ts";

/**
 * Where the stack's packets go, one entry per path (the first path carries the initial subflow):
 * - `{ udp: ["198.18.0.1", "198.18.1.1:7000"] }`: one UDP socket per local address, TCP-in-UDP
 *   (the socket's port is the TCP port of every subflow on that path);
 * - `{ tun: [{ device: "tun0", address: "198.18.0.2" }] }`: existing TUN devices, with the
 *   stack's own address on each (not the kernel's);
 * - `{ ports: [...] }`: PacketPorts built by the caller (e.g. `MemoryNetwork.port()`); the stack
 *   owns them from then on and closes them when it stops.
 */
export type TransportOption = { udp: string[] } | { tun: Array<{ device: string; address: string }> } | { ports: PacketPort[] };

/** "198.18.0.1", "198.18.0.1:7000", "::1", "[::1]:7000" -> address text and optional port. */
export function parseHostPort(text: string, what: string): { host: string; address: IpAddress; port: number | undefined } {
  let host = text;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2] !== undefined ? Number(bracket[2]) : undefined;
  } else {
    const i = text.lastIndexOf(":");
    if (i > 0 && text.indexOf(":") === i) {
      host = text.slice(0, i);
      port = Number(text.slice(i + 1));
    }
  }
  const address = parseIpText(host);
  if (!address) throw new InvalidArgumentError(`${what}: "${text}" is not an IP address (with an optional :port)`);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new InvalidArgumentError(`${what}: bad port in "${text}"`);
  return { host, address, port };
}

/** The opened paths and how to release them when the stack does not own the ports' close. */
export interface OpenedTransport {
  ports: PacketPort[];
  /** Releases what the ports' own close() does not (the TUN group's waiter). */
  release(): Promise<void>;
}

/**
 * Opens the UDP sockets. `fixedPort` (a server's listening port) binds every path without its
 * own port there; otherwise the paths without a port share the ephemeral port the first one got
 * (one TCP port per client on every path, as the MPTCP Endpoint needs). A shared port already
 * taken on a later address is retried with a fresh one a few times.
 */
async function openUdp(specs: string[], fixedPort: number | undefined): Promise<PacketPort[]> {
  if (specs.length === 0) throw new InvalidArgumentError("transport.udp: at least one local address");
  const parsed = specs.map((s) => parseHostPort(s, "transport.udp"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const opened: PacketPort[] = [];
    let shared = fixedPort ?? 0;
    try {
      for (const p of parsed) {
        const u = await UdpPort.open({ address: p.host, port: p.port ?? shared });
        if (p.port === undefined && shared === 0) shared = u.localPort;
        opened.push(u);
      }
      return opened;
    } catch (e) {
      lastError = e;
      await Promise.all(opened.map((p) => p.close()));
      if (fixedPort !== undefined && fixedPort !== 0) break; // a fixed port: no point retrying
    }
  }
  throw lastError;
}

export async function openTransport(t: TransportOption, fixedPort: number | undefined): Promise<OpenedTransport> {
  if ("ports" in t) {
    if (t.ports.length === 0) throw new InvalidArgumentError("transport.ports: at least one port");
    return { ports: [...t.ports], release: async () => {} };
  }
  if ("udp" in t) return { ports: await openUdp(t.udp, fixedPort), release: async () => {} };
  if ("tun" in t) {
    if (t.tun.length === 0) throw new InvalidArgumentError("transport.tun: at least one device");
    const g = await TunGroup.open(t.tun.map((x) => ({ device: x.device, address: x.address })));
    return { ports: g.ports, release: () => g.close() };
  }
  throw new InvalidArgumentError("transport: one of { udp }, { tun } or { ports }");
}

/** Link behaviour of a MemoryNetwork (real time). */
export interface MemoryNetworkOptions {
  /** Fraction of packets dropped, 0..1 (default 0), drawn from `random`. */
  loss?: number;
  /** A uniform [0, 1) source for the loss draws (default: a fixed-seed xorshift). */
  random?: () => number;
}

/**
 * An in-process network in real time: each `port(address)` is one interface with that address;
 * a packet sent on any port is delivered, on a later event-loop turn, to the port whose address
 * is the packet's IP destination (dropped when none). For tests and demos of the streams API
 * without sockets; `adapters/memory` is the deterministic virtual-time simulator instead.
 */
export class MemoryNetwork {
  private readonly byAddr = new Map<string, MemoryPort>();
  private queue: Array<{ to: MemoryPort; packet: Uint8Array }> = [];
  private scheduled = false;
  private readonly loss: number;
  private readonly random: () => number;
  /** Packets delivered, dropped by loss, and dropped for want of a port with that address. */
  readonly stats: { delivered: number; lost: number; unroutable: number } = { delivered: 0, lost: 0, unroutable: 0 };

  constructor(opts: MemoryNetworkOptions = {}) {
    this.loss = opts.loss ?? 0;
    let s = 0x9e3779b9;
    this.random =
      opts.random ??
      (() => {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        return (s >>> 0) / 2 ** 32;
      });
  }

  /** A new interface with this address (text form). */
  port(address: string): PacketPort {
    const a = parseIpText(address);
    if (!a) throw new InvalidArgumentError(`MemoryNetwork.port: "${address}" is not an IP address`);
    const key = formatIp(a);
    if (this.byAddr.has(key)) throw new InvalidArgumentError(`MemoryNetwork.port: ${key} is already attached`);
    const p = new MemoryPort(this, a, key);
    this.byAddr.set(key, p);
    return p;
  }

  /** @internal */
  send(packet: Uint8Array): boolean {
    const v = packet[0]! >>> 4;
    const dst = v === 4 ? packet.subarray(16, 20) : v === 6 ? packet.subarray(24, 40) : undefined;
    const to = dst && dst.length >= 4 ? this.byAddr.get(formatIp(dst)) : undefined;
    if (!to) {
      this.stats.unroutable++;
      return false;
    }
    if (this.loss > 0 && this.random() < this.loss) {
      this.stats.lost++;
      return true; // lost on the wire, not refused by the port
    }
    this.queue.push({ to, packet });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** @internal */
  detach(p: MemoryPort): void {
    if (this.byAddr.get(p.key) === p) this.byAddr.delete(p.key);
  }

  private flush(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const { to, packet } of q) {
      this.stats.delivered++;
      to.receive(packet);
    }
  }
}

class MemoryPort implements PacketPort {
  readonly label: string;
  readonly localPort: undefined = undefined;
  private deliver: ((packet: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(
    private readonly net: MemoryNetwork,
    readonly address: IpAddress,
    readonly key: string,
  ) {
    this.label = `memory ${key}`;
  }

  send(packet: Uint8Array): boolean {
    return !this.closed && this.net.send(packet);
  }

  start(deliver: (packet: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  receive(packet: Uint8Array): void {
    if (!this.closed) this.deliver?.(packet);
  }

  close(): Promise<void> {
    this.closed = true;
    this.net.detach(this);
    return Promise.resolve();
  }
}
