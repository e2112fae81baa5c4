// A packet in script syntax, for messages: the stack's sequence numbers relative to its ISN,
// DSNs and DATA_ACKs relative to the IDSNs when the keys are known.
import { keyMaterial } from "../../core/crypto/keys.ts";
import { formatIp, ipEquals } from "../../core/wire/ip.ts";
import { parsePacket } from "../../core/wire/packet.ts";
import { TCP_ACK } from "../../core/wire/types.ts";
import type { MptcpOption } from "../../core/wire/types.ts";
import { flagText } from "./packets.ts";
import type { ScriptWorld } from "./packets.ts";

const hex = (b: Uint8Array): string => "0x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function describePacket(world: ScriptWorld, bytes: Uint8Array): string {
  const r = parsePacket(bytes);
  if (!r.ok) return `<malformed packet: ${r.error.detail}>`;
  const { ip, tcp } = r.value;
  const h = tcp.header;
  let outbound = false;
  let isn: number | undefined;
  for (const s of world.subflows) {
    if (ipEquals(s.stackAddr, ip.src) && s.stackPort === h.srcPort && ipEquals(s.scriptAddr, ip.dst) && s.scriptPort === h.dstPort) {
      outbound = true;
      isn = s.stackIsn;
    } else if (ipEquals(s.stackAddr, ip.dst) && s.stackPort === h.dstPort && ipEquals(s.scriptAddr, ip.src) && s.scriptPort === h.srcPort) {
      isn = s.stackIsn;
    }
  }
  const rel = (v: number): number => (isn === undefined ? v >>> 0 : (v - isn) >>> 0);
  const seq = outbound ? rel(h.seq) : h.seq >>> 0;
  const len = tcp.payload.length;
  let s = `${formatIp(ip.src)}:${h.srcPort} > ${formatIp(ip.dst)}:${h.dstPort} ${flagText(h.flags)} ${seq}:${(seq + len) >>> 0}(${len})`;
  if (h.flags & TCP_ACK) s += ` ack ${outbound ? h.ack >>> 0 : rel(h.ack)}`;
  s += ` win ${h.window}`;
  const o = h.options;
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.sackPermitted) parts.push("sackOK");
  if (o.timestamp) {
    const off = world.tsOffset;
    const val = outbound && off !== undefined ? (o.timestamp.val - off) >>> 0 : o.timestamp.val >>> 0;
    parts.push(`TS val ${val} ecr ${o.timestamp.ecr >>> 0}`);
  }
  if (o.wscale !== undefined) parts.push(`wscale ${o.wscale}`);
  if (o.sack) parts.push(`sack ${o.sack.map((b) => (outbound ? `${b.start >>> 0}:${b.end >>> 0}` : `${rel(b.start)}:${rel(b.end)}`)).join(" ")}`);
  for (const m of o.mptcp) parts.push(describeMptcp(world, m, outbound));
  if (o.unknown) for (const u of o.unknown) parts.push(`kind${u.kind}(${u.data.length})`);
  if (parts.length > 0) s += ` <${parts.join(", ")}>`;
  return s;
}

function idsnOf(k: bigint | undefined): bigint | undefined {
  return k === undefined ? undefined : keyMaterial(k).idsn;
}

function relData(v: bigint, idsn: bigint | undefined, w: 4 | 8): string {
  if (idsn === undefined) return `0x${v.toString(16)}`;
  return String(w === 4 ? (v - (idsn & 0xffffffffn)) & 0xffffffffn : BigInt.asUintN(64, v - idsn));
}

function describeMptcp(world: ScriptWorld, m: MptcpOption, outbound: boolean): string {
  const senderIdsn = idsnOf(outbound ? world.skey : world.ckey);
  const receiverIdsn = idsnOf(outbound ? world.ckey : world.skey);
  switch (m.type) {
    case "mp_capable": {
      const flags: string[] = [];
      const names = ["flag_a", "flag_b", "flag_c", "flag_d", "flag_e", "flag_f", "flag_g", "flag_h"];
      for (let i = 0; i < 8; i++) if (m.flags & (0x80 >> i)) flags.push(names[i]!);
      const keys = [m.senderKey, m.receiverKey].filter((k) => k !== undefined).map((k) => `0x${k.toString(16)}`);
      let s = `mpcapable v${m.version} flags[${flags.join(", ")}] ${keys.length ? `key[${keys.join(", ")}]` : "nokey"}`;
      if (m.dataLength !== undefined) s += ` mpcdatalen ${m.dataLength}`;
      if (m.checksum !== undefined) s += ` cksum=0x${m.checksum.toString(16)}`;
      return s;
    }
    case "dss": {
      let s = "dss";
      if (m.dataAck !== undefined) s += ` dack${m.ack64 === false ? 4 : 8}=${relData(m.dataAck, receiverIdsn, m.ack64 === false ? 4 : 8)}`;
      if (m.mapping) {
        const mp = m.mapping;
        s += ` dsn${mp.dsn64 ? 8 : 4}=${relData(mp.dsn, senderIdsn, mp.dsn64 ? 8 : 4)} ssn=${mp.ssn >>> 0} dll=${mp.length}`;
        s += mp.checksum !== undefined ? ` cksum=0x${mp.checksum.toString(16)}` : " nocs";
      }
      if (m.dataFin) s += " fin";
      return s;
    }
    case "mp_join_syn":
      return `mp_join_syn${m.backup ? " backup" : ""} address_id=${m.addressId} token=0x${(m.token >>> 0).toString(16)} rand=${m.nonce >>> 0}`;
    case "mp_join_synack":
      return `mp_join_syn_ack${m.backup ? " backup" : ""} address_id=${m.addressId} sender_hmac=${hex(m.hmac)} rand=${m.nonce >>> 0}`;
    case "mp_join_ack":
      return `mp_join_ack sender_hmac=${hex(m.hmac)}`;
    case "add_addr":
      return `add_address address_id=${m.addressId} addr[ep=${formatIp(m.address)}]${m.port !== undefined ? ` port=${m.port}` : ""} ${m.echo ? "addr_echo" : `hmac=${m.hmac ? hex(m.hmac) : "none"}`}`;
    case "remove_addr":
      return `remove_address address_id[${m.addressIds.join(", ")}]`;
    case "mp_prio":
      return `mp_prio${m.backup ? " backup" : ""}`;
    case "mp_fail":
      return `mp_fail dsn8=${relData(m.dsn, receiverIdsn, 8)}`;
    case "mp_fastclose":
      return `mp_fastclose key=0x${m.receiverKey.toString(16)}`;
    case "mp_tcprst":
      return `mp_reset ${m.reason}${m.flags ? ` flags=${m.flags}` : ""}`;
    case "mp_experimental":
      return `mp_experimental(${m.data.length})`;
    case "mp_unknown":
      return `mptcp subtype ${m.subtype}`;
  }
}
