// What the CLI applications (client/server: send, echo, sink, source) need from a protocol
// stack, so that plain TCP (core/tcp TcpHost, now) and MPTCP (the core/mptcp Endpoint, when it
// lands) plug into the same driver, ports and applications.
//
// A stack is a DriverHost (packets in/out per interface, one timer) plus listen/connect/accept.
// Interface i is the i-th path given on the command line (--tun / --udp), with our address on
// it and, for UDP, the port the path's socket is bound to (TCP-in-UDP: the UDP port IS the TCP
// port). The stack calls `onProgress(now)` after every input and whenever it has nothing more to
// transmit, so the application can read, write and close; the application must not re-enter
// the stack's handle* methods from there (commands like write/read/shutdown are fine).
import type { DriverHost } from "../driver.ts";
import type { IpAddress } from "../../core/wire/types.ts";

/** One path of the stack: our address on it and the local port the transport fixes (UDP). */
export interface StackPath {
  address: IpAddress;
  localPort: number | undefined;
  /** Announce/treat as backup (MPTCP; ignored by plain TCP). */
  backup?: boolean;
}

/** One subflow (plain TCP: the connection itself) in the JSON summary. */
export interface SubflowSummary {
  local: string;
  remote: string;
  backup: boolean;
  bytesSent: number;
  bytesReceived: number;
  rttMs: number;
}

/** A connection as the applications see it: a byte stream with half-close. */
export interface AppConnection {
  /** Handshake completed (MPTCP: MP_CAPABLE or fallback decided). */
  readonly established: boolean;
  /** Bytes ready to read now. */
  readonly readable: number;
  read(dst: Uint8Array): number;
  /** Queues bytes; returns how many were accepted (0 when the send buffer is full). */
  write(src: Uint8Array): number;
  /** Half-close: FIN (MPTCP: DATA_FIN) after everything written. */
  shutdown(): void;
  /** Abort (RST / MP_FASTCLOSE). */
  abort(): void;
  /** The peer closed its direction and every byte before that has been read. */
  readonly peerDone: boolean;
  /** Everything we wrote, including our FIN, was acknowledged. */
  readonly sendDone: boolean;
  /** Reset, refused or timed out (not an orderly close). */
  readonly failed: string | undefined;
  /** MPTCP in use (false for plain TCP and after fallback). */
  readonly mptcp: boolean;
  subflows(): SubflowSummary[];
  /** MPTcpExt-like counters (plain TCP: TcpExt-like ones). */
  counters(): Record<string, number>;
}

export interface AppStack extends DriverHost {
  /** Called after every input and whenever the stack has drained its transmissions. */
  onProgress: ((now: number) => void) | undefined;
  listen(port: number): void;
  connect(now: number, remote: IpAddress, port: number): AppConnection;
  pollAccept(): AppConnection | undefined;
}
