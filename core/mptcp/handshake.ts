// MP_CAPABLE acceptance rules (RFC 8684 section 3.1, Linux mptcp_parse_option /
// subflow_check_req): what makes an MP_CAPABLE usable, the flags we send, and the fallback
// table of ../shared/PROTOCOL.md as data (each trigger with the reason string carried by the
// "fallback" event).
import { MPC_FLAG_A, MPC_FLAG_B, MPC_FLAG_C, MPC_FLAG_H } from "../wire/types.ts";
import type { MpCapable, MptcpOption } from "../wire/types.ts";

/** The MP_CAPABLE of a segment, if it has one. */
export function findMpCapable(opts: readonly MptcpOption[]): MpCapable | undefined {
  for (const o of opts) if (o.type === "mp_capable") return o;
  return undefined;
}

/**
 * An MP_CAPABLE we accept: version 1 (a v0 SYN is answered as plain TCP, like Linux; a SYN
 * offering a higher version is answered with version 1, RFC 8684 3.1, Linux
 * mptcp_parse_option), H set (HMAC-SHA256), B clear (Linux ignores B=1), and the key fields of
 * the form: none on the SYN, the sender's key on the SYN/ACK.
 */
export function acceptableMpCapable(o: MpCapable | undefined, form: "syn" | "synack"): o is MpCapable {
  if (!o || (form === "syn" ? o.version < 1 : o.version !== 1) || (o.flags & MPC_FLAG_H) === 0 || (o.flags & MPC_FLAG_B) !== 0) return false;
  return form === "syn" ? o.senderKey === undefined : o.senderKey !== undefined;
}

/** Flags we send: H always, A when checksums are wanted or agreed, C when configured. */
export function mpCapableFlags(checksum: boolean, noInitialJoin: boolean): number {
  return MPC_FLAG_H | (checksum ? MPC_FLAG_A : 0) | (noInitialJoin ? MPC_FLAG_C : 0);
}

/** The reasons a connection falls back to TCP (the "fallback" event's `reason`). */
export type FallbackReason =
  | "SYN/ACK without MP_CAPABLE"
  | "third ACK without MP_CAPABLE"
  | "no DSS from the server"
  | "no DSS from the peer"
  | "no DATA_ACK from the peer"
  | "data without a DSS mapping"
  | "infinite mapping"
  | "MP_FAIL: infinite mapping";

/** PROTOCOL.md's fallback table, as implemented (trigger -> action, with the event reason). */
export const FALLBACK_TABLE: ReadonlyArray<{ trigger: string; action: string; reason?: FallbackReason }> = [
  { trigger: "SYN/ACK without a valid MP_CAPABLE (no H, B set, wrong version, absent)", action: "client continues as plain TCP", reason: "SYN/ACK without MP_CAPABLE" },
  { trigger: "third ACK without MP_CAPABLE, and no MP_CAPABLE + data either", action: "server continues as plain TCP", reason: "third ACK without MP_CAPABLE" },
  { trigger: "SYN with MP_CAPABLE unanswered twice (mpcSynRetries)", action: "third SYN retry goes without MP_CAPABLE (then the SYN/ACK rule applies)" },
  { trigger: "first data without a DSS mapping, single subflow, 1:1 stream so far", action: "fall back", reason: "data without a DSS mapping" },
  { trigger: "client: data or an ACK without any MPTCP option before the server's first DSS (MP_CAPABLE not confirmed)", action: "fall back", reason: "no DSS from the server" },
  { trigger: "no DATA_ACK, the peer's segments carry no MPTCP option (its options are stripped)", action: "fall back instead of re-sending data", reason: "no DATA_ACK from the peer" },
  { trigger: "DSS checksum failure, one subflow", action: "MP_FAIL; the sender answers with the infinite mapping and both continue as TCP", reason: "MP_FAIL: infinite mapping" },
  { trigger: "DSS checksum failure, several subflows", action: "MP_FAIL, and the subflow is reset (MP_TCPRST reason 6)" },
  { trigger: "infinite mapping received", action: "fall back from its subflow sequence number on", reason: "infinite mapping" },
  { trigger: "anything wrong on an MP_JOIN subflow", action: "reset that subflow with MP_TCPRST (reason 1), never fall back" },
];
