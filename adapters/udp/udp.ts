// UDP adapter: one UDP socket per local path address, carrying TCP segments in the TCP-in-UDP
// layout of ../shared/PROTOCOL.md (multipath-tcp/tcp-in-udp). The host speaks raw IP packets;
// this port converts them:
//   out: IP packet from the host -> TCP segment -> UDP payload (tcpToUdpPayload) sent from our
//        socket to (destination address, destination TCP port);
//   in:  datagram from (addr, port) on our socket -> TCP segment (udpPayloadToTcp) -> IP packet
//        from addr to our address, TCP checksum filled (the UDP checksum, checked by the kernel,
//        covered the bytes in transit).
// The UDP ports ARE the TCP ports (that is the layout), so the socket's port is the TCP port of
// every subflow on this path: a host must use `localPort` as its local port on this interface.
// node:dgram works on Node and on Deno (its Node compatibility layer), so this one file serves
// both runtimes.
import dgram from "node:dgram";
import { fillIpv4HeaderChecksum, fillTcpChecksum } from "../../core/wire/checksum.ts";
import { emitIp, formatIp, ipEquals, ipHeaderFor, ipHeaderLength, parseIp, parseIpText } from "../../core/wire/ip.ts";
import { tcpToUdpPayload, udpPayloadToTcp } from "../../core/wire/tcp_in_udp.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { PacketPort } from "../driver.ts";

export type UdpDropReason = "NotIp" | "NotTcp" | "NotOurAddress" | "PortMismatch" | "Family" | "BadTcpInUdp" | "SendError";

export interface UdpPortStats {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  drops: Partial<Record<UdpDropReason, number>>;
}

export interface UdpPortOptions {
  /** Our address (the socket's bound address and the stack's address on this path). */
  address: string;
  /** Port to bind; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Socket buffer sizes in bytes (default 4 MiB each, where the runtime supports it). */
  bufferBytes?: number;
}

/** An IP packet from the host as a TCP-in-UDP payload and its destination, or a drop reason. */
export function ipToUdpPayload(packet: Uint8Array, address: IpAddress, localPort: number): { payload: Uint8Array; host: string; port: number } | UdpDropReason {
  const ip = parseIp(packet, 0, packet.length);
  if (!ip.ok) return "NotIp";
  const h = ip.value;
  const proto = h.version === 4 ? h.protocol : h.nextHeader;
  if (proto !== 6) return "NotTcp";
  if (!ipEquals(h.src, address)) return "NotOurAddress";
  const off = ipHeaderLength(h);
  const len = (h.version === 4 ? h.totalLength : h.payloadLength + 40) - off;
  if (len < 20 || off + len > packet.length) return "NotIp";
  const srcPort = (packet[off]! << 8) | packet[off + 1]!;
  const dstPort = (packet[off + 2]! << 8) | packet[off + 3]!;
  if (srcPort !== localPort) return "PortMismatch";
  const out = new Uint8Array(len - 8);
  const r = tcpToUdpPayload(packet, off, len, out, 0);
  if (!r.ok) return "BadTcpInUdp";
  return { payload: out, host: formatIp(h.dst), port: dstPort };
}

/** A TCP-in-UDP payload received from remote:remotePort on our socket as an IP packet, or a drop reason. */
export function udpPayloadToIp(msg: Uint8Array, remote: IpAddress, remotePort: number, address: IpAddress, localPort: number): Uint8Array | UdpDropReason {
  if (remote.length !== address.length) return "Family";
  const ip = ipHeaderFor(remote, address, 6);
  const hl = ipHeaderLength(ip);
  const tcpLen = msg.length + 8;
  const packet = new Uint8Array(hl + tcpLen);
  const r = udpPayloadToTcp(msg, 0, msg.length, remotePort, localPort, packet, hl);
  if (!r.ok) return "BadTcpInUdp";
  if (ip.version === 4) ip.totalLength = hl + tcpLen;
  else ip.payloadLength = tcpLen;
  emitIp(ip, packet, 0);
  fillTcpChecksum(remote, address, packet, hl, tcpLen);
  if (ip.version === 4) fillIpv4HeaderChecksum(packet, 0);
  return packet;
}

/** A UDP path port (node:dgram or Deno native): its socket port is fixed. */
export type UdpPathPort = PacketPort & { readonly localPort: number; stats(): UdpPortStats };

/** Deno with --unstable-net (Deno.listenDatagram present). */
export function denoNativeUdpAvailable(): boolean {
  const D = (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno;
  return D !== undefined && typeof D.listenDatagram === "function";
}

export class UdpPort implements PacketPort {
  readonly label: string;
  readonly address: IpAddress;
  readonly localPort: number;
  private readonly sock: dgram.Socket;
  private deliverFn: ((packet: Uint8Array) => void) | undefined;
  private closed = false;
  private readonly s: UdpPortStats = { datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, drops: {} };
  private lastError: string | undefined;

  private constructor(sock: dgram.Socket, address: IpAddress, port: number) {
    this.sock = sock;
    this.address = address;
    this.localPort = port;
    this.label = `udp ${address.length === 16 ? `[${formatIp(address)}]` : formatIp(address)}:${port}`;
    sock.on("message", (msg, rinfo) => this.onMessage(msg, rinfo));
    sock.on("error", (e) => {
      this.lastError = String(e);
    });
  }

  /**
   * Binds a UDP socket to address:port (port 0 = ephemeral): node:dgram, or under Deno run with
   * --unstable-net, Deno's native datagram API (several times the packet rate of Deno's
   * node:dgram, see udp_deno.ts).
   */
  static async open(opts: UdpPortOptions): Promise<UdpPathPort> {
    if (denoNativeUdpAvailable()) {
      const m = await import("./udp_deno.ts");
      return m.DenoUdpPort.open(opts);
    }
    return UdpPort.openDgram(opts);
  }

  static async openDgram(opts: UdpPortOptions): Promise<UdpPort> {
    const addr = parseIpText(opts.address);
    if (!addr) throw new Error(`--udp: "${opts.address}" is not an IPv4 or IPv6 address`);
    const sock = dgram.createSocket({ type: addr.length === 4 ? "udp4" : "udp6", reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => {
        reject(new Error(`cannot bind UDP ${opts.address}:${opts.port ?? 0}: ${e.message}`, { cause: e }));
      };
      sock.once("error", onErr);
      sock.bind({ address: opts.address, port: opts.port ?? 0, exclusive: true }, () => {
        sock.off("error", onErr);
        resolve();
      });
    });
    const size = opts.bufferBytes ?? 4 << 20;
    try {
      sock.setRecvBufferSize(size);
      sock.setSendBufferSize(size);
    } catch {
      // Not every runtime implements these (or the sysctl caps them); the defaults work.
    }
    return new UdpPort(sock, addr, sock.address().port);
  }

  stats(): UdpPortStats {
    return { ...this.s, drops: { ...this.s.drops } };
  }

  /** The last asynchronous socket error, if any. */
  get error(): string | undefined {
    return this.lastError;
  }

  start(deliver: (packet: Uint8Array) => void): void {
    this.deliverFn = deliver;
  }

  send(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const d = ipToUdpPayload(packet, this.address, this.localPort);
    if (typeof d === "string") return this.drop(d);
    this.s.datagramsOut++;
    this.s.bytesOut += d.payload.length;
    this.sock.send(d.payload, d.port, d.host, (err) => {
      if (err) {
        this.drop("SendError");
        this.lastError = String(err);
      }
    });
    return true;
  }

  private onMessage(msg: Uint8Array, rinfo: dgram.RemoteInfo): void {
    if (this.closed || !this.deliverFn) return;
    const remote = parseIpText(rinfo.address.replace(/%.*$/, ""));
    if (!remote) {
      this.drop("Family");
      return;
    }
    this.s.datagramsIn++;
    this.s.bytesIn += msg.length;
    const p = udpPayloadToIp(msg, remote, rinfo.port, this.address, this.localPort);
    if (typeof p === "string") {
      this.drop(p);
      return;
    }
    this.deliverFn(p);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private drop(r: UdpDropReason): false {
    this.s.drops[r] = (this.s.drops[r] ?? 0) + 1;
    return false;
  }
}
