// System-under-test binding for the MPTCP endpoint (core/mptcp Endpoint): IPPROTO_MPTCP
// sockets (and IPPROTO_TCP client sockets, as connections with MPTCP off). The shell helper
// forms map to path-manager settings: client.sh accepts announced addresses and allows extra
// subflows (8 and 8, the kernel's maxima); server.sh / multi-ep.sh add local addresses as
// endpoints with the given flags. Those settings are part of the endpoint's configuration, so
// the endpoint is created at the first socket call, after the set-up lines.
import { SeededRandomSource } from "../../core/crypto/random.ts";
import { Endpoint } from "../../core/mptcp/endpoint.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LocalAddressSpec, MptcpConfigInput } from "../../core/mptcp/types.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { HostCommand, Protocol, SockId, SutFactory, SutResult, SutSetup, SystemUnderTest } from "./sut.ts";
import { ERRNO } from "./sut.ts";

interface Sock {
  protocol: Protocol;
  port?: number;
  listening: boolean;
  conn?: MptcpConnection;
  errorReported: boolean;
}

/** Connections that reached ESTABLISHED (from their events), to tell a refused connect from a reset. */
const everEstablished = new WeakSet<MptcpConnection>();

const ok = (value = 0): SutResult => ({ ok: true, value });
const err = (errno: string, detail?: string): { ok: false; errno: string; detail?: string } => (detail === undefined ? { ok: false, errno } : { ok: false, errno, detail });

export class MptcpSut implements SystemUnderTest {
  private ep: Endpoint | undefined;
  private readonly addresses: LocalAddressSpec[];
  private readonly pm = { subflows: 2, addAddrAccepted: 0 };
  private readonly socks = new Map<SockId, Sock>();
  private nextId = 1;

  constructor(private readonly setup: SutSetup) {
    // On Linux the initial address is not an endpoint (id 0 on the wire) and endpoints added
    // with `ip mptcp endpoint add` number from 1: give the initial address the last id so that
    // the helper endpoints get 1, 2, ... (the wire id of the initial address stays 0).
    this.addresses = [{ address: setup.localAddress, id: 255 }];
  }

  /** The endpoint, created on first use with the configuration the set-up lines gave. */
  private endpoint(): Endpoint {
    if (!this.ep) {
      const config: MptcpConfigInput = {
        checksum: this.setup.mptcp.checksum,
        tcp: this.setup.tcp,
        pathManager: { ...this.pm, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 },
      };
      this.ep = new Endpoint({ addresses: this.addresses, random: new SeededRandomSource(this.setup.seed), config });
    }
    return this.ep;
  }

  private get(s: SockId): Sock {
    const k = this.socks.get(s);
    if (!k) throw new Error(`socket ${s} is not open`);
    return k;
  }

  socket(protocol: Protocol): SutResult<SockId> {
    this.endpoint();
    const id = this.nextId++;
    this.socks.set(id, { protocol, listening: false, errorReported: false });
    return { ok: true, value: id };
  }

  setsockopt(_s: SockId, level: string, name: string, _value: number): SutResult {
    switch (`${level}/${name}`) {
      case "SOL_SOCKET/SO_REUSEADDR":
      case "SOL_SOCKET/SO_REUSEPORT":
        return ok();
      default:
        return err("ENOPROTOOPT", `setsockopt ${level} ${name} is not supported by the MPTCP binding`);
    }
  }

  getsockopt(_s: SockId, level: string, name: string): SutResult {
    return err("ENOPROTOOPT", `getsockopt ${level} ${name} is not supported by the MPTCP binding`);
  }

  bind(s: SockId, port: number): SutResult {
    this.get(s).port = port;
    return ok();
  }

  listen(_now: number, s: SockId, _backlog: number): SutResult {
    const k = this.get(s);
    if (k.port === undefined) return err("EINVAL", "listen() before bind()");
    if (k.protocol !== "mptcp") return err("EOPNOTSUPP", "the MPTCP endpoint listens for MPTCP (plain TCP peers fall back)");
    this.endpoint().listen(k.port);
    k.listening = true;
    return ok();
  }

  accept(_now: number, s: SockId): SutResult<SockId> {
    const k = this.get(s);
    if (!k.listening) return err("EINVAL", "accept() on a socket that is not listening");
    const c = this.endpoint().pollAccept();
    if (!c) return err("EAGAIN");
    const id = this.nextId++;
    this.socks.set(id, { protocol: "mptcp", listening: false, conn: c, errorReported: false });
    return { ok: true, value: id };
  }

  connect(now: number, s: SockId, address: IpAddress, port: number): SutResult {
    const k = this.get(s);
    if (k.conn) return err(k.conn.state === "ESTABLISHED" ? "EISCONN" : "EALREADY");
    const opts: { config?: MptcpConfigInput } = {};
    if (k.protocol === "tcp") opts.config = { mptcp: false };
    k.conn = this.endpoint().connect(now, address, port, opts);
    return err("EINPROGRESS");
  }

  private closedErrno(k: Sock): string | undefined {
    const c = k.conn;
    if (!c || c.state !== "CLOSED") return undefined;
    switch (c.closedReason) {
      case "reset":
      case "fastclose":
        return everEstablished.has(c) ? "ECONNRESET" : "ECONNREFUSED";
      case "timeout":
        return "ETIMEDOUT";
      default:
        return undefined;
    }
  }

  write(now: number, s: SockId, bytes: Uint8Array): SutResult {
    const k = this.get(s);
    const c = k.conn;
    if (!c) return err("ENOTCONN");
    const e = this.closedErrno(k);
    if (e) {
      k.errorReported = true;
      return err(e === "ETIMEDOUT" ? e : "EPIPE");
    }
    if (c.state === "SYN_SENT" || c.state === "SYN_RECEIVED") return err("EAGAIN", "not connected yet");
    if (c.state !== "ESTABLISHED" && c.state !== "CLOSE_WAIT") return err("EPIPE");
    const n = c.write(now, bytes);
    return n === 0 && bytes.length > 0 ? err("EAGAIN", "send buffer full") : ok(n);
  }

  read(now: number, s: SockId, max: number): SutResult<Uint8Array> {
    const k = this.get(s);
    const c = k.conn;
    if (!c) return err("ENOTCONN");
    if (c.readable > 0) {
      const buf = new Uint8Array(Math.min(max, c.readable));
      const n = c.read(now, buf);
      return { ok: true, value: buf.subarray(0, n) };
    }
    const e = this.closedErrno(k);
    if (e && !k.errorReported) {
      k.errorReported = true;
      return err(e);
    }
    if (c.peerClosed || c.state === "CLOSED") return { ok: true, value: new Uint8Array(0) };
    return err("EAGAIN");
  }

  shutdown(now: number, s: SockId, how: "rd" | "wr" | "rdwr"): SutResult {
    const c = this.get(s).conn;
    if (!c) return err("ENOTCONN");
    if (how === "rd") return ok();
    c.shutdown(now);
    return ok();
  }

  close(now: number, s: SockId): SutResult {
    const k = this.get(s);
    this.socks.delete(s);
    k.conn?.close(now);
    return ok();
  }

  soError(s: SockId): number {
    const k = this.get(s);
    const e = this.closedErrno(k);
    if (!e || k.errorReported) return 0;
    k.errorReported = true;
    return ERRNO[e] ?? 0;
  }

  command(now: number, cmd: HostCommand): SutResult<void> {
    switch (cmd.kind) {
      case "defaults":
        return { ok: true, value: undefined };
      case "client":
        if (this.ep) return err("EINVAL", "client.sh must come before the first socket call");
        this.pm.addAddrAccepted = 8;
        this.pm.subflows = 8;
        return { ok: true, value: undefined };
      case "endpoints": {
        for (const a of cmd.addresses) {
          const spec: LocalAddressSpec = {
            address: a,
            signal: cmd.mode === "signal",
            subflow: cmd.mode === "subflow" || cmd.mode === "backup" || cmd.mode === "fullmesh",
            backup: cmd.mode === "backup",
          };
          if (this.ep) this.ep.addAddress(now, spec);
          else this.addresses.push(spec);
        }
        if (cmd.mode !== "signal") this.pm.subflows = Math.max(this.pm.subflows, cmd.addresses.length);
        return { ok: true, value: undefined };
      }
    }
  }

  handlePacket(now: number, packet: Uint8Array): void {
    this.endpoint().handlePacket(now, packet);
  }

  handleTimeout(now: number): void {
    this.ep?.handleTimeout(now);
  }

  pollTransmit(now: number): Uint8Array | undefined {
    if (!this.ep) return undefined;
    const t = this.endpoint().pollTransmit(now);
    if (t) return t.packet.slice();
    // Drain the connections' events (the binding answers socket calls from their state).
    for (const c of this.endpoint().connections) {
      for (let e = c.pollEvent(); e !== undefined; e = c.pollEvent()) if (e.type === "established") everEstablished.add(c);
    }
    return undefined;
  }

  pollTimeout(): number | undefined {
    return this.ep?.pollTimeout();
  }
}

/** The MPTCP endpoint as a system under test. */
export const mptcpSutFactory: SutFactory = {
  name: "core/mptcp Endpoint",
  protocols: ["mptcp", "tcp"],
  commands: ["defaults", "client", "endpoints"],
  create: (setup) => new MptcpSut(setup),
};
