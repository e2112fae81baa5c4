// The parsed form of everything this stack puts on the wire: IP addresses, TCP headers and
// options, and every MPTCP option subtype of RFC 8684 section 3 (see ../shared/PROTOCOL.md).
// Codecs in this folder turn bytes into these values and back; the TCP and MPTCP engines only
// ever see these values. 32-bit sequence numbers are plain numbers in [0, 2^32); 64-bit
// data-level values (keys, DSN, DATA_ACK) are bigint.

/** An IP address as network-order bytes: 4 for IPv4, 16 for IPv6. */
export type IpAddress = Uint8Array;

// ---------------------------------------------------------------------------------------------
// TCP (RFC 9293 header; RFC 7323, RFC 2018 options)

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** A SACK block: [start, end) in 32-bit sequence space. */
export interface SackBlock {
  start: number;
  end: number;
}

export interface TcpTimestamp {
  val: number;
  ecr: number;
}

/** A TCP option this stack does not interpret, kept so it can be counted or re-emitted. */
export interface UnknownTcpOption {
  kind: number;
  data: Uint8Array;
}

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  sack?: SackBlock[];
  timestamp?: TcpTimestamp;
  /** Every MPTCP option (kind 30) on the segment, in wire order. */
  mptcp: MptcpOption[];
  unknown?: UnknownTcpOption[];
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The 8 flag bits (CWR..FIN), TCP_* constants above. */
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOptions;
}

export interface TcpSegment {
  header: TcpHeader;
  payload: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// MPTCP options (TCP option kind 30), RFC 8684 section 3

export const TCPOPT_MPTCP = 30;

export const MPTCP_SUB_CAPABLE = 0x0;
export const MPTCP_SUB_JOIN = 0x1;
export const MPTCP_SUB_DSS = 0x2;
export const MPTCP_SUB_ADD_ADDR = 0x3;
export const MPTCP_SUB_REMOVE_ADDR = 0x4;
export const MPTCP_SUB_PRIO = 0x5;
export const MPTCP_SUB_FAIL = 0x6;
export const MPTCP_SUB_FASTCLOSE = 0x7;
export const MPTCP_SUB_TCPRST = 0x8;
export const MPTCP_SUB_EXPERIMENTAL = 0xf;

/** MP_CAPABLE flag bits (byte 3, high bit first: A B C D E F G H). */
export const MPC_FLAG_A = 0x80; // checksum required
export const MPC_FLAG_B = 0x40; // extensibility, must be 0
export const MPC_FLAG_C = 0x20; // no more subflows to my initial address
export const MPC_FLAG_H = 0x01; // HMAC-SHA256

/**
 * MP_CAPABLE. The form follows from which fields are present:
 * SYN (len 4): no key; SYN/ACK (12): senderKey; ACK (20): senderKey + receiverKey;
 * ACK + data (22 without checksum, 24 with): senderKey + receiverKey + dataLength [+ checksum].
 */
export interface MpCapable {
  type: "mp_capable";
  version: number;
  flags: number;
  senderKey?: bigint;
  receiverKey?: bigint;
  dataLength?: number;
  checksum?: number;
}

/** MP_JOIN on a SYN (len 12). */
export interface MpJoinSyn {
  type: "mp_join_syn";
  backup: boolean;
  addressId: number;
  token: number;
  nonce: number;
}

/** MP_JOIN on a SYN/ACK (len 16): the truncated (64-bit) HMAC. */
export interface MpJoinSynAck {
  type: "mp_join_synack";
  backup: boolean;
  addressId: number;
  hmac: Uint8Array; // 8 bytes
  nonce: number;
}

/** MP_JOIN on the third ACK (len 24): 160 bits of HMAC. */
export interface MpJoinAck {
  type: "mp_join_ack";
  hmac: Uint8Array; // 20 bytes
}

/** A DSS mapping. dsn64 says whether the DSN travelled as 8 bytes (else 4, to be expanded). */
export interface DssMapping {
  dsn: bigint;
  dsn64: boolean;
  /** Relative subflow sequence number (first data byte of the subflow = 1). */
  ssn: number;
  /** Data-level length; 0 is the infinite mapping. */
  length: number;
  /** Present only when DSS checksums are in use on the connection. */
  checksum?: number;
}

export interface Dss {
  type: "dss";
  /** DATA_ACK, if the A flag is set; ack64 says whether it was 8 bytes. */
  dataAck?: bigint;
  ack64?: boolean;
  mapping?: DssMapping;
  /** The F flag. */
  dataFin: boolean;
}

export interface AddAddr {
  type: "add_addr";
  echo: boolean;
  addressId: number;
  address: IpAddress;
  port?: number;
  /** The 64-bit truncated HMAC; absent on an echo. */
  hmac?: Uint8Array;
}

export interface RemoveAddr {
  type: "remove_addr";
  addressIds: number[];
}

export interface MpPrio {
  type: "mp_prio";
  backup: boolean;
}

export interface MpFail {
  type: "mp_fail";
  dsn: bigint;
}

export interface MpFastclose {
  type: "mp_fastclose";
  receiverKey: bigint;
}

/** MP_TCPRST flag bits (low nibble of byte 2: U V W T). */
export const MPRST_FLAG_T = 0x1; // transient

export const MPRST_REASON_UNSPECIFIED = 0;
export const MPRST_REASON_MPTCP_ERROR = 1;
export const MPRST_REASON_RESOURCES = 2;
export const MPRST_REASON_ADMIN_PROHIBITED = 3;
export const MPRST_REASON_TOO_MUCH_OUTSTANDING = 4;
export const MPRST_REASON_UNACCEPTABLE_PERFORMANCE = 5;
export const MPRST_REASON_MIDDLEBOX = 6;

export interface MpTcpRst {
  type: "mp_tcprst";
  flags: number;
  reason: number;
}

/** MP_EXPERIMENTAL (subtype 0xf): opaque. `data` is everything after the subtype byte. */
export interface MpExperimental {
  type: "mp_experimental";
  /** The low 4 bits of the subtype byte. */
  low: number;
  data: Uint8Array;
}

/** A subtype this stack does not know: ignored by the engines (RFC 8684 section 3). */
export interface MpUnknown {
  type: "mp_unknown";
  subtype: number;
  /** The option's bytes after kind and length. */
  raw: Uint8Array;
}

export type MptcpOption =
  | MpCapable
  | MpJoinSyn
  | MpJoinSynAck
  | MpJoinAck
  | Dss
  | AddAddr
  | RemoveAddr
  | MpPrio
  | MpFail
  | MpFastclose
  | MpTcpRst
  | MpExperimental
  | MpUnknown;

// ---------------------------------------------------------------------------------------------
// Parse results: codecs never throw on input bytes.

/** Why bytes were refused by a codec. */
export type ParseErrorReason =
  | "Truncated" // fewer bytes than the header or option says
  | "BadLength" // a length field that no form of the format has
  | "BadVersion" // IP version, MP_CAPABLE version
  | "BadHeader" // a header field out of range (IHL < 5, data offset < 5, ...)
  | "BadOption"; // an option whose fields contradict each other

export interface ParseError {
  reason: ParseErrorReason;
  /** Human-readable detail, for logs and test failures. */
  detail: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ParseError };
