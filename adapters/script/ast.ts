// The parsed form of a script in packetdrill syntax (see parse.ts for the grammar). A script is
// a list of options (`--name=value`) and a timeline of events: socket calls, packets injected
// into the stack under test (`<`), packets the stack must send (`>`), and back-quoted shell
// lines that set up the host. Every node keeps its line and column for error messages.
import type { IpAddress } from "../../core/wire/types.ts";

export interface Pos {
  line: number;
  column: number;
}

/** `+0.1` (relative to the previous event), `0.3` (absolute) or `*` (any time). */
export type TimeSpec = { kind: "relative"; usecs: number } | { kind: "absolute"; usecs: number } | { kind: "any" };

// ------------------------------------------------------------------------------- packets

/** A named key of the script (`skey`: the stack under test's, `ckey`: the script side's). */
export type KeyName = "skey" | "ckey";

/** A key reference in an option: a name (optionally set to a value), or a literal. */
export type KeyRef = { name: KeyName; value?: bigint; pos: Pos } | { literal: bigint; pos: Pos };

/** An address reference: `addr[saddr1]`, `addr[caddr0]`, or a literal (`ep=inet_addr("...")`). */
export type AddrRef = { side: "s" | "c"; index: number; pos: Pos } | { literal: IpAddress; pos: Pos };

/** A value that the runner computes (`auto`) or a literal. */
export type AutoOr<T> = "auto" | T;

/** `dsn8=N`, `dack4=N`: a data-level value relative to the IDSN of the data's sender, with its width (`dsn=N`, `dack=N`: either width, 8 when sent). */
export interface DataSeqSpec {
  value: bigint;
  width: 4 | 8 | undefined;
}

export type OptionSpec =
  | { kind: "nop"; pos: Pos }
  | { kind: "eol"; pos: Pos }
  | { kind: "mss"; value: number; pos: Pos }
  | { kind: "wscale"; value: number; pos: Pos }
  | { kind: "sackOK"; pos: Pos }
  | { kind: "sack"; blocks: Array<[number, number]>; pos: Pos }
  | { kind: "TS"; val: number; ecr: number; pos: Pos }
  | {
      kind: "mpcapable";
      version: number;
      flags: number;
      /** 0 keys (`nokey`), 1 (SYN/ACK) or 2 (third ACK / ACK + data), sender first. */
      keys: KeyRef[];
      dataLength?: number;
      checksum?: AutoOr<number> | "none";
      pos: Pos;
    }
  | {
      kind: "dss";
      dataAck?: DataSeqSpec;
      dsn?: DataSeqSpec;
      ssn?: number;
      dll?: number;
      /** `nocs`: no checksum field; `auto`: computed; a number: literal; absent: as negotiated (outbound: not compared). */
      checksum?: AutoOr<number> | "none";
      fin: boolean;
      pos: Pos;
    }
  | { kind: "mp_join_syn"; backup: boolean; addressId: number; token: { key: KeyName } | { literal: number }; rand?: number; pos: Pos }
  | { kind: "mp_join_syn_ack"; backup: boolean; addressId: number; hmac: AutoOr<Uint8Array>; rand?: number; pos: Pos }
  | { kind: "mp_join_ack"; hmac: AutoOr<Uint8Array>; pos: Pos }
  | { kind: "add_address"; addressId: number; addr: AddrRef; port?: number; hmac: AutoOr<Uint8Array> | "echo"; pos: Pos }
  | { kind: "remove_address"; addressIds: number[]; pos: Pos }
  | { kind: "mp_prio"; backup: boolean; pos: Pos }
  | { kind: "mp_fail"; dsn: DataSeqSpec; pos: Pos }
  | { kind: "mp_fastclose"; key?: KeyRef; pos: Pos }
  | { kind: "mp_tcprst"; reason: number; flags?: number; pos: Pos };

export interface PacketSpec {
  direction: "inbound" | "outbound";
  /** Source and destination address, in packet direction; undefined keeps the previous one. */
  src?: AddrRef;
  dst?: AddrRef;
  srcPort?: number;
  dstPort?: number;
  /** TCP_* flag bits. */
  flags: number;
  flagsText: string;
  /** start:end(len), relative to the sender's ISN. */
  seq?: { start: number; end: number; len: number; pos: Pos };
  ack?: number;
  win?: number;
  /** undefined: no `<...>` list written. */
  options?: OptionSpec[];
}

// ------------------------------------------------------------------------------- calls

/** One argument of a socket call, kept as text (`...`, `SOCK_STREAM`, `[0]`, `{...}`) and as a number when it is one. */
export interface CallArg {
  text: string;
  num?: number;
  pos: Pos;
}

export interface CallSpec {
  name: string;
  args: CallArg[];
  /** The expected return value. */
  ret: number;
  /** The expected errno name when ret is -1 (e.g. EINPROGRESS). */
  errno?: string;
}

// ------------------------------------------------------------------------------- events

export type EventBody =
  | { type: "packet"; packet: PacketSpec }
  | { type: "call"; call: CallSpec }
  | { type: "shell"; command: string };

export interface ScriptEvent {
  pos: Pos;
  /** The line's text, for messages. */
  text: string;
  time: TimeSpec | undefined;
  body: EventBody;
}

export interface ScriptOption {
  name: string;
  value: string;
  pos: Pos;
}

export interface Script {
  file: string;
  options: ScriptOption[];
  events: ScriptEvent[];
  /** `// @known-deviation: reason` directives: the script documents a deviation of our stack from Linux. */
  knownDeviation?: string;
  /** `// @pending: reason` directive: the script cannot run yet. */
  pending?: string;
}

/** A syntax error with its position; `toString()` gives `file:line:column: message`. */
export class ScriptSyntaxError extends Error {
  override name = "ScriptSyntaxError";
  constructor(
    readonly file: string,
    readonly pos: Pos,
    readonly detail: string,
  ) {
    super(`${file}:${pos.line}:${pos.column}: ${detail}`);
  }
}
