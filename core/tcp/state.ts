// RFC 9293 section 3.3.2 (figure 5) state transitions, including simultaneous open and close,
// as one table. The engine (connection.ts) decides which event happened; this table alone
// decides where it leads. A missing entry means the event does not change the state.
import type { TcpState } from "./types.ts";

export type TcpTransition =
  | "ACTIVE_OPEN" // connect(): send SYN
  | "PASSIVE_OPEN" // listen()
  | "RCV_SYN" // SYN without ACK
  | "RCV_SYN_ACK" // acceptable SYN/ACK answering our SYN
  | "RCV_ACK_OF_SYN" // ACK covering our SYN
  | "CLOSE" // shutdown()/close(): queue FIN
  | "RCV_FIN" // in-order FIN
  | "RCV_ACK_OF_FIN" // ACK covering our FIN
  | "TIMEOUT_2MSL" // TIME-WAIT expired
  | "RESET"; // RST accepted, abort, or fatal timeout

const T: Record<TcpState, Partial<Record<TcpTransition, TcpState>>> = {
  CLOSED: { ACTIVE_OPEN: "SYN_SENT", PASSIVE_OPEN: "LISTEN" },
  LISTEN: { RCV_SYN: "SYN_RECEIVED", CLOSE: "CLOSED", RESET: "CLOSED" },
  SYN_SENT: { RCV_SYN_ACK: "ESTABLISHED", RCV_SYN: "SYN_RECEIVED", CLOSE: "CLOSED", RESET: "CLOSED" },
  SYN_RECEIVED: { RCV_ACK_OF_SYN: "ESTABLISHED", CLOSE: "FIN_WAIT_1", RESET: "CLOSED" },
  ESTABLISHED: { CLOSE: "FIN_WAIT_1", RCV_FIN: "CLOSE_WAIT", RESET: "CLOSED" },
  FIN_WAIT_1: { RCV_ACK_OF_FIN: "FIN_WAIT_2", RCV_FIN: "CLOSING", RESET: "CLOSED" },
  FIN_WAIT_2: { RCV_FIN: "TIME_WAIT", RESET: "CLOSED" },
  CLOSE_WAIT: { CLOSE: "LAST_ACK", RESET: "CLOSED" },
  CLOSING: { RCV_ACK_OF_FIN: "TIME_WAIT", RESET: "CLOSED" },
  LAST_ACK: { RCV_ACK_OF_FIN: "CLOSED", RESET: "CLOSED" },
  TIME_WAIT: { TIMEOUT_2MSL: "CLOSED", RCV_FIN: "TIME_WAIT", RESET: "CLOSED" },
};

/** The state after `event` in `state` (unchanged when the table has no entry). */
export function nextState(state: TcpState, event: TcpTransition): TcpState {
  return T[state][event] ?? state;
}

/** States in which the connection is synchronized (RFC 9293 section 3.10.7.4). */
export function isSynchronized(s: TcpState): boolean {
  return s !== "CLOSED" && s !== "LISTEN" && s !== "SYN_SENT" && s !== "SYN_RECEIVED";
}

/** States in which the peer may still send us data. */
export function canReceiveData(s: TcpState): boolean {
  return s === "ESTABLISHED" || s === "FIN_WAIT_1" || s === "FIN_WAIT_2";
}

/** States in which we may still send new data. */
export function canSendData(s: TcpState): boolean {
  return s === "ESTABLISHED" || s === "CLOSE_WAIT";
}
