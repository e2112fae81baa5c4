// The "system under test" interface: what the script executor needs from a stack. A binding
// (tcp_sut.ts for the plain-TCP TcpHost; an MPTCP Endpoint binding later) maps socket calls to
// the stack's API and moves IP packets in and out on virtual time. The executor owns the fd
// table and checks results; the binding only reports what the stack did.
import type { IpAddress } from "../../core/wire/types.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";

export type Protocol = "tcp" | "mptcp";

/** Linux errno numbers for the names scripts use. */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  EBADF: 9,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  EINVAL: 22,
  EPIPE: 32,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EALREADY: 114,
  EINPROGRESS: 115,
});

export type SutResult<T = number> = { ok: true; value: T } | { ok: false; errno: string; detail?: string };

/** Host set-up commands, from the back-quoted helper lines (shell.ts). */
export type HostCommand =
  /** ../common/defaults.sh: Linux sysctls; nothing to do for a userspace stack. */
  | { kind: "defaults" }
  /** ../common/client.sh: accept announced addresses and allow extra subflows. */
  | { kind: "client" }
  /** ../common/server.sh and multi-ep.sh: add local addresses as path-manager endpoints. */
  | { kind: "endpoints"; addresses: IpAddress[]; mode: "signal" | "subflow" | "backup" | "fullmesh" };

/** How the executor sets up a stack for one script. */
export interface SutSetup {
  /** The stack's first local address (saddr0). */
  localAddress: IpAddress;
  /** TCP configuration from the script's options (Linux-like defaults otherwise). */
  tcp: Partial<TcpConfig>;
  /** MPTCP settings from the script's options. */
  mptcp: { checksum: boolean };
  /** Seed of the stack's random source (keys, ISNs, nonces, ports). */
  seed: number;
  /** The socket protocols the script opens. */
  protocols: Protocol[];
}

/** A socket handle of the binding (opaque to the executor). */
export type SockId = number;

export interface SystemUnderTest {
  socket(protocol: Protocol): SutResult<SockId>;
  /** Known options only; anything else is ENOPROTOOPT with a detail. */
  setsockopt(s: SockId, level: string, name: string, value: number): SutResult;
  getsockopt(s: SockId, level: string, name: string): SutResult;
  bind(s: SockId, port: number): SutResult;
  listen(now: number, s: SockId, backlog: number): SutResult;
  /** A connection ready on a listener, or EAGAIN. */
  accept(now: number, s: SockId): SutResult<SockId>;
  /** Starts the handshake; the result is EINPROGRESS (the executor never blocks). */
  connect(now: number, s: SockId, address: IpAddress, port: number): SutResult;
  write(now: number, s: SockId, bytes: Uint8Array): SutResult;
  /** Up to `max` bytes; an empty array is end of stream; EAGAIN when nothing is ready. */
  read(now: number, s: SockId, max: number): SutResult<Uint8Array>;
  shutdown(now: number, s: SockId, how: "rd" | "wr" | "rdwr"): SutResult;
  close(now: number, s: SockId): SutResult;
  /** SO_ERROR (errno number, 0 when none); reading it clears it, as on Linux. */
  soError(s: SockId): number;
  /** A host set-up command; an error result explains what is unsupported. */
  command(now: number, cmd: HostCommand): SutResult<void>;

  handlePacket(now: number, packet: Uint8Array): void;
  handleTimeout(now: number): void;
  /** The next IP packet the stack sends, or undefined. */
  pollTransmit(now: number): Uint8Array | undefined;
  pollTimeout(): number | undefined;
}

/** Builds a stack for one script. `protocols` says which socket protocols it can run. */
export interface SutFactory {
  readonly name: string;
  readonly protocols: readonly Protocol[];
  /** Shell helper forms it supports (HostCommand kinds); scripts using others are skipped. */
  readonly commands: ReadonlyArray<HostCommand["kind"]>;
  create(setup: SutSetup): SystemUnderTest;
}

/**
 * One factory over several bindings: a script that opens IPPROTO_MPTCP sockets runs on the
 * first binding that has MPTCP, any other on the first that has plain TCP.
 */
export function combinedFactory(...fs: SutFactory[]): SutFactory {
  const pick = (protocols: readonly Protocol[]): SutFactory | undefined =>
    protocols.includes("mptcp") ? fs.find((f) => f.protocols.includes("mptcp")) : fs.find((f) => f.protocols.includes("tcp")) ?? fs[0];
  return {
    name: fs.map((f) => f.name).join(" + "),
    protocols: [...new Set(fs.flatMap((f) => [...f.protocols]))],
    commands: [...new Set(fs.flatMap((f) => [...f.commands]))],
    create(setup: SutSetup): SystemUnderTest {
      const f = pick(setup.protocols);
      if (!f) throw new Error(`no binding runs ${setup.protocols.join(", ")}`);
      return f.create(setup);
    },
  };
}
