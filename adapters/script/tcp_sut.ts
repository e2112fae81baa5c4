// System-under-test binding for the plain-TCP engine: core/tcp's TcpHost (one address),
// IPPROTO_TCP sockets only. Socket calls map to TcpHost.listen/connect/pollAccept and the
// TcpConnection commands; packets go through TcpHost.handlePacket / pollTransmit.
import { SeededRandomSource } from "../../core/crypto/random.ts";
import { TcpHost } from "../../core/tcp/host.ts";
import type { TcpHostConnection } from "../../core/tcp/host.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { HostCommand, Protocol, SockId, SutFactory, SutResult, SutSetup, SystemUnderTest } from "./sut.ts";
import { ERRNO } from "./sut.ts";

interface Sock {
  port?: number;
  listening: boolean;
  config: Partial<TcpConfig>;
  hc?: TcpHostConnection;
  /** SO_ERROR not yet read. */
  pendingError?: string;
  errorReported: boolean;
}

const ok = (value = 0): SutResult => ({ ok: true, value });
const err = (errno: string, detail?: string): { ok: false; errno: string; detail?: string } => (detail === undefined ? { ok: false, errno } : { ok: false, errno, detail });

export class TcpSut implements SystemUnderTest {
  readonly host: TcpHost;
  private readonly socks = new Map<SockId, Sock>();
  private nextId = 1;

  constructor(private readonly setup: SutSetup) {
    this.host = new TcpHost({ address: setup.localAddress, random: new SeededRandomSource(setup.seed), config: setup.tcp });
  }

  private get(s: SockId): Sock {
    const k = this.socks.get(s);
    if (!k) throw new Error(`socket ${s} is not open`);
    return k;
  }

  socket(protocol: Protocol): SutResult<SockId> {
    if (protocol !== "tcp") return err("EPROTONOSUPPORT", "the plain-TCP host has no MPTCP");
    const id = this.nextId++;
    this.socks.set(id, { listening: false, config: {}, errorReported: false });
    return { ok: true, value: id };
  }

  setsockopt(s: SockId, level: string, name: string, value: number): SutResult {
    const k = this.get(s);
    switch (`${level}/${name}`) {
      case "SOL_SOCKET/SO_REUSEADDR":
      case "SOL_SOCKET/SO_REUSEPORT":
        return ok();
      case "IPPROTO_TCP/TCP_NODELAY":
        if (k.hc) return err("EINVAL", "TCP_NODELAY after the connection exists is not supported by this binding");
        k.config.noDelay = value !== 0;
        return ok();
      case "SOL_SOCKET/SO_RCVBUF":
        if (k.hc || k.listening) return err("EINVAL", "SO_RCVBUF after listen/connect is not supported");
        k.config.receiveBufferSize = value * 2; // Linux doubles the value (bookkeeping overhead)
        return ok();
      case "SOL_SOCKET/SO_SNDBUF":
        if (k.hc || k.listening) return err("EINVAL", "SO_SNDBUF after listen/connect is not supported");
        k.config.sendBufferSize = value * 2;
        return ok();
      case "IPPROTO_TCP/TCP_MAXSEG":
        if (k.hc || k.listening) return err("EINVAL", "TCP_MAXSEG after listen/connect is not supported");
        k.config.mss = value;
        return ok();
      default:
        return err("ENOPROTOOPT", `setsockopt ${level} ${name} is not supported by the TCP binding`);
    }
  }

  getsockopt(s: SockId, level: string, name: string): SutResult {
    const k = this.get(s);
    if (level === "IPPROTO_TCP" && name === "TCP_MAXSEG") return ok(k.hc?.conn.mss ?? k.config.mss ?? 536);
    return err("ENOPROTOOPT", `getsockopt ${level} ${name} is not supported by the TCP binding`);
  }

  bind(s: SockId, port: number): SutResult {
    this.get(s).port = port;
    return ok();
  }

  listen(_now: number, s: SockId, _backlog: number): SutResult {
    const k = this.get(s);
    if (k.port === undefined) return err("EINVAL", "listen() before bind()");
    this.host.listen(k.port, k.config);
    k.listening = true;
    return ok();
  }

  accept(_now: number, s: SockId): SutResult<SockId> {
    const k = this.get(s);
    if (!k.listening) return err("EINVAL", "accept() on a socket that is not listening");
    const hc = this.host.pollAccept(k.port);
    if (!hc) return err("EAGAIN");
    const id = this.nextId++;
    this.socks.set(id, { listening: false, config: {}, hc, errorReported: false });
    return { ok: true, value: id };
  }

  connect(now: number, s: SockId, address: IpAddress, port: number): SutResult {
    const k = this.get(s);
    if (k.hc) return err(k.hc.conn.state === "ESTABLISHED" ? "EISCONN" : "EALREADY");
    const opts: { localPort?: number; config: Partial<TcpConfig> } = { config: k.config };
    if (k.port !== undefined) opts.localPort = k.port;
    k.hc = this.host.connect(now, address, port, opts);
    return err("EINPROGRESS");
  }

  /** The error of a closed connection, as Linux reports it. */
  private closedErrno(k: Sock): string | undefined {
    const c = k.hc?.conn;
    if (!c || c.state !== "CLOSED") return undefined;
    switch (c.closedReason) {
      case "reset":
        return "ECONNRESET";
      case "refused":
        return "ECONNREFUSED";
      case "timeout":
        return "ETIMEDOUT";
      default:
        return undefined;
    }
  }

  write(_now: number, s: SockId, bytes: Uint8Array): SutResult {
    const k = this.get(s);
    const c = k.hc?.conn;
    if (!c) return err("ENOTCONN");
    const e = this.closedErrno(k);
    if (e) {
      k.errorReported = true;
      return err(e === "ECONNREFUSED" ? "ECONNREFUSED" : e === "ETIMEDOUT" ? "ETIMEDOUT" : "EPIPE");
    }
    if (c.state === "SYN_SENT" || c.state === "SYN_RECEIVED") return err("EAGAIN", "not connected yet");
    if (c.state !== "ESTABLISHED" && c.state !== "CLOSE_WAIT") return err("EPIPE");
    const n = c.write(bytes);
    return n === 0 && bytes.length > 0 ? err("EAGAIN", "send buffer full") : ok(n);
  }

  read(_now: number, s: SockId, max: number): SutResult<Uint8Array> {
    const k = this.get(s);
    const c = k.hc?.conn;
    if (!c) return err("ENOTCONN");
    if (c.readable > 0) {
      const buf = new Uint8Array(Math.min(max, c.readable));
      const n = c.read(buf);
      return { ok: true, value: buf.subarray(0, n) };
    }
    const e = this.closedErrno(k);
    if (e && !k.errorReported) {
      k.errorReported = true;
      return err(e);
    }
    if (c.peerFinReceived || c.state === "CLOSED") return { ok: true, value: new Uint8Array(0) };
    return err("EAGAIN");
  }

  shutdown(_now: number, s: SockId, how: "rd" | "wr" | "rdwr"): SutResult {
    const c = this.get(s).hc?.conn;
    if (!c) return err("ENOTCONN");
    if (how === "rd") return ok();
    if (c.state === "CLOSED") return err("ENOTCONN");
    c.shutdown();
    return ok();
  }

  close(_now: number, s: SockId): SutResult {
    const k = this.get(s);
    this.socks.delete(s);
    k.hc?.conn.close();
    return ok();
  }

  soError(s: SockId): number {
    const k = this.get(s);
    const e = this.closedErrno(k);
    if (!e || k.errorReported) return 0;
    k.errorReported = true;
    return ERRNO[e] ?? 0;
  }

  command(_now: number, cmd: HostCommand): SutResult<void> {
    if (cmd.kind === "defaults") return { ok: true, value: undefined };
    return err("EOPNOTSUPP", `the plain-TCP host has no MPTCP path manager (${cmd.kind})`);
  }

  /** The 4-tuple of a connected socket (for checking read content). */
  tuple(s: SockId): { localAddress: IpAddress; localPort: number; remoteAddress: IpAddress; remotePort: number } | undefined {
    const hc = this.socks.get(s)?.hc;
    if (!hc) return undefined;
    return { localAddress: this.setup.localAddress, localPort: hc.localPort, remoteAddress: hc.remoteAddress, remotePort: hc.remotePort };
  }

  handlePacket(now: number, packet: Uint8Array): void {
    this.host.handlePacket(now, packet);
  }

  handleTimeout(now: number): void {
    this.host.handleTimeout(now);
  }

  pollTransmit(now: number): Uint8Array | undefined {
    return this.host.pollTransmit(now);
  }

  pollTimeout(): number | undefined {
    return this.host.pollTimeout();
  }
}

/** The plain-TCP engine as a system under test. */
export const tcpSutFactory: SutFactory = {
  name: "core/tcp TcpHost",
  protocols: ["tcp"],
  commands: ["defaults"],
  create: (setup) => new TcpSut(setup),
};
