// The MPTCP option, TCP option kind 30 (RFC 8684 section 3; layouts summarised in
// ../shared/PROTOCOL.md): parse, exact length and emit for every subtype and form.
//
// Forms are told apart by the option length, never by connection state:
// - MP_CAPABLE: 4 SYN, 12 SYN/ACK, 20 ACK, 22 ACK + data, 24 ACK + data + checksum. The version
//   nibble is returned as is (the engine refuses versions other than 1).
// - MP_JOIN: 12 SYN, 16 SYN/ACK, 24 ACK.
// - DSS: the A/a/M/m flags fix the length without checksum; a length 2 bytes longer means the
//   mapping carries a checksum. So the parser needs no "checksums in use" hint: the length
//   decides, unambiguously. (As Linux does, a DSS without mapping whose length is 2 longer
//   is accepted and the 2 trailing bytes ignored.) The engine, which knows whether checksums
//   were negotiated, checks `mapping.checksum !== undefined` against that (RFC 8684 3.3.0).
// - ADD_ADDR: the length gives the IP version, port and HMAC presence (8/10/16/18 for IPv4,
//   20/22/28/30 for IPv6); E=1 must come without HMAC and E=0 with one (as Linux checks).
// - 32-bit DSN and DATA_ACK values are returned as they travelled (dsn64/ack64 false); expand
//   them with expandSeq64 (seq.ts). On emit, a 32-bit field carries the low 32 bits.
//
// Byte fields (HMACs, addresses, opaque data) are copied out of the packet on parse.
// Parse never throws; emit throws InvalidArgumentError only on API misuse (a field out of
// range, an array of the wrong length, a buffer too small).
import type {
  AddAddr,
  Dss,
  DssMapping,
  MpCapable,
  MptcpOption,
  ParseErrorReason,
  ParseResult,
} from "./types.ts";
import {
  MPTCP_SUB_ADD_ADDR,
  MPTCP_SUB_CAPABLE,
  MPTCP_SUB_DSS,
  MPTCP_SUB_EXPERIMENTAL,
  MPTCP_SUB_FAIL,
  MPTCP_SUB_FASTCLOSE,
  MPTCP_SUB_JOIN,
  MPTCP_SUB_PRIO,
  MPTCP_SUB_REMOVE_ADDR,
  MPTCP_SUB_TCPRST,
  TCPOPT_MPTCP,
} from "./types.ts";
import { InvalidArgumentError } from "../errors.ts";
import { fail, u16, u32, put16, put32 } from "./bytes.ts";

/** DSS flag bits (byte 3). */
export const DSS_FLAG_A = 0x01; // DATA_ACK present
export const DSS_FLAG_a = 0x02; // DATA_ACK is 8 bytes
export const DSS_FLAG_M = 0x04; // mapping present
export const DSS_FLAG_m = 0x08; // DSN is 8 bytes
export const DSS_FLAG_F = 0x10; // DATA_FIN

/** ADD_ADDR E flag (low nibble of byte 2). */
export const ADD_ADDR_FLAG_E = 0x1;

export const MP_CAPABLE_LEN_SYN = 4;
export const MP_CAPABLE_LEN_SYNACK = 12;
export const MP_CAPABLE_LEN_ACK = 20;
export const MP_CAPABLE_LEN_DATA = 22;
export const MP_CAPABLE_LEN_DATA_CSUM = 24;
export const MP_JOIN_LEN_SYN = 12;
export const MP_JOIN_LEN_SYNACK = 16;
export const MP_JOIN_LEN_ACK = 24;
export const MP_PRIO_LEN = 3;
export const MP_FAIL_LEN = 12;
export const MP_FASTCLOSE_LEN = 12;
export const MP_TCPRST_LEN = 4;

const MAX64 = (1n << 64n) - 1n;

// 64-bit fields go through one shared 8-byte scratch and its DataView: faster than splitting
// bigints into halves, and no allocation beyond the bigint itself.
const scratch8 = new Uint8Array(8);
const scratchView = new DataView(scratch8.buffer);

function u64(b: Uint8Array, o: number): bigint {
  for (let i = 0; i < 8; i++) scratch8[i] = b[o + i]!;
  return scratchView.getBigUint64(0);
}

function put64(b: Uint8Array, o: number, v: bigint): void {
  scratchView.setBigUint64(0, v);
  for (let i = 0; i < 8; i++) b[o + i] = scratch8[i]!;
}

/** Copies a small array byte by byte (cheaper than TypedArray.prototype.set for a few bytes). */
function copy(src: Uint8Array, dst: Uint8Array, o: number): void {
  for (let i = 0; i < src.length; i++) dst[o + i] = src[i]!;
}

/**
 * Parses the MPTCP option that starts at bytes[off] (the kind byte). `len` is the number of
 * bytes available from off (at least the option's length field); the option's own length
 * byte decides how many are used.
 */
export function parseMptcpOption(bytes: Uint8Array, off: number, len: number): ParseResult<MptcpOption> {
  if (!(off >= 0 && len >= 0) || !Number.isFinite(off) || !Number.isFinite(len)) return fail("Truncated", "bad offset or length");
  const avail = Math.min(len, bytes.length - off);
  if (avail < 2) return fail("Truncated", "MPTCP option needs kind and length");
  if (bytes[off] !== TCPOPT_MPTCP) return fail("BadOption", `option kind ${bytes[off]} is not MPTCP (30)`);
  const n = bytes[off + 1]!;
  if (n > avail) return fail("Truncated", `MPTCP option of length ${n}, have ${avail} bytes`);
  if (n < 3) return fail("BadLength", `MPTCP option length ${n} < 3`);
  const b2 = bytes[off + 2]!;
  const subtype = b2 >>> 4;
  const low = b2 & 0xf;
  const o = off;
  switch (subtype) {
    case MPTCP_SUB_CAPABLE: {
      if (n !== 4 && n !== 12 && n !== 20 && n !== 22 && n !== 24) return fail("BadLength", `MP_CAPABLE length ${n}`);
      const v: MpCapable = { type: "mp_capable", version: low, flags: bytes[o + 3]! };
      if (n >= 12) v.senderKey = u64(bytes, o + 4);
      if (n >= 20) v.receiverKey = u64(bytes, o + 12);
      if (n >= 22) v.dataLength = u16(bytes, o + 20);
      if (n === 24) v.checksum = u16(bytes, o + 22);
      return { ok: true, value: v };
    }
    case MPTCP_SUB_JOIN:
      if (n === MP_JOIN_LEN_SYN) {
        return {
          ok: true,
          value: { type: "mp_join_syn", backup: (low & 1) === 1, addressId: bytes[o + 3]!, token: u32(bytes, o + 4), nonce: u32(bytes, o + 8) },
        };
      }
      if (n === MP_JOIN_LEN_SYNACK) {
        return {
          ok: true,
          value: {
            type: "mp_join_synack",
            backup: (low & 1) === 1,
            addressId: bytes[o + 3]!,
            hmac: bytes.slice(o + 4, o + 12),
            nonce: u32(bytes, o + 12),
          },
        };
      }
      if (n === MP_JOIN_LEN_ACK) return { ok: true, value: { type: "mp_join_ack", hmac: bytes.slice(o + 4, o + 24) } };
      return fail("BadLength", `MP_JOIN length ${n}`);
    case MPTCP_SUB_DSS: {
      if (n < 4) return fail("BadLength", `DSS length ${n}`);
      const f = bytes[o + 3]!;
      const hasAck = (f & DSS_FLAG_A) !== 0;
      const ack64 = (f & DSS_FLAG_a) !== 0;
      const hasMap = (f & DSS_FLAG_M) !== 0;
      const dsn64 = (f & DSS_FLAG_m) !== 0;
      const expected = 4 + (hasAck ? (ack64 ? 8 : 4) : 0) + (hasMap ? (dsn64 ? 8 : 4) + 6 : 0);
      if (n !== expected && n !== expected + 2) return fail("BadLength", `DSS flags 0x${f.toString(16)} need length ${expected} or ${expected + 2}, got ${n}`);
      const dataFin = (f & DSS_FLAG_F) !== 0;
      let p = o + 4;
      let dataAck = 0n;
      if (hasAck) {
        if (ack64) {
          dataAck = u64(bytes, p);
          p += 8;
        } else {
          dataAck = BigInt(u32(bytes, p));
          p += 4;
        }
      }
      let m: DssMapping | undefined;
      if (hasMap) {
        let dsn: bigint;
        if (dsn64) {
          dsn = u64(bytes, p);
          p += 8;
        } else {
          dsn = BigInt(u32(bytes, p));
          p += 4;
        }
        const ssn = u32(bytes, p);
        const length = u16(bytes, p + 4);
        m = n === expected + 2 ? { dsn, dsn64, ssn, length, checksum: u16(bytes, p + 6) } : { dsn, dsn64, ssn, length };
      }
      // Each form as one literal (properties added later would need a separate backing store).
      const v: Dss = hasAck
        ? m
          ? { type: "dss", dataFin, dataAck, ack64, mapping: m }
          : { type: "dss", dataFin, dataAck, ack64 }
        : m
          ? { type: "dss", dataFin, mapping: m }
          : { type: "dss", dataFin };
      return { ok: true, value: v };
    }
    case MPTCP_SUB_ADD_ADDR: {
      let alen: number;
      let rest: number;
      if (n >= 20) {
        alen = 16;
        rest = n - 20;
      } else {
        alen = 4;
        rest = n - 8;
      }
      // rest: 0 (echo), 2 (echo + port), 8 (HMAC), 10 (port + HMAC)
      if (rest !== 0 && rest !== 2 && rest !== 8 && rest !== 10) return fail("BadLength", `ADD_ADDR length ${n}`);
      const echo = (low & ADD_ADDR_FLAG_E) !== 0;
      const hasHmac = rest >= 8;
      if (echo === hasHmac) return fail("BadOption", echo ? "ADD_ADDR echo with an HMAC" : "ADD_ADDR without echo and without HMAC");
      const v: AddAddr = { type: "add_addr", echo, addressId: bytes[o + 3]!, address: bytes.slice(o + 4, o + 4 + alen) };
      let p = o + 4 + alen;
      if (rest === 2 || rest === 10) {
        v.port = u16(bytes, p);
        p += 2;
      }
      if (hasHmac) v.hmac = bytes.slice(p, p + 8);
      return { ok: true, value: v };
    }
    case MPTCP_SUB_REMOVE_ADDR: {
      if (n < 4) return fail("BadLength", "REMOVE_ADDR without an address id");
      const ids: number[] = [];
      for (let i = o + 3; i < o + n; i++) ids.push(bytes[i]!);
      return { ok: true, value: { type: "remove_addr", addressIds: ids } };
    }
    case MPTCP_SUB_PRIO:
      if (n !== MP_PRIO_LEN) return fail("BadLength", `MP_PRIO length ${n}`);
      return { ok: true, value: { type: "mp_prio", backup: (low & 1) === 1 } };
    case MPTCP_SUB_FAIL:
      if (n !== MP_FAIL_LEN) return fail("BadLength", `MP_FAIL length ${n}`);
      return { ok: true, value: { type: "mp_fail", dsn: u64(bytes, o + 4) } };
    case MPTCP_SUB_FASTCLOSE:
      if (n !== MP_FASTCLOSE_LEN) return fail("BadLength", `MP_FASTCLOSE length ${n}`);
      return { ok: true, value: { type: "mp_fastclose", receiverKey: u64(bytes, o + 4) } };
    case MPTCP_SUB_TCPRST:
      if (n !== MP_TCPRST_LEN) return fail("BadLength", `MP_TCPRST length ${n}`);
      return { ok: true, value: { type: "mp_tcprst", flags: low, reason: bytes[o + 3]! } };
    case MPTCP_SUB_EXPERIMENTAL:
      return { ok: true, value: { type: "mp_experimental", low, data: bytes.slice(o + 3, o + n) } };
    default:
      return { ok: true, value: { type: "mp_unknown", subtype, raw: bytes.slice(o + 2, o + n) } };
  }
}

function mpcLength(v: MpCapable): number {
  if (v.senderKey === undefined) return MP_CAPABLE_LEN_SYN;
  if (v.receiverKey === undefined) return MP_CAPABLE_LEN_SYNACK;
  if (v.dataLength === undefined) return MP_CAPABLE_LEN_ACK;
  return v.checksum === undefined ? MP_CAPABLE_LEN_DATA : MP_CAPABLE_LEN_DATA_CSUM;
}

function dssLength(v: Dss): number {
  let n = 4;
  if (v.dataAck !== undefined) n += v.ack64 === false ? 4 : 8;
  const m = v.mapping;
  if (m !== undefined) n += (m.dsn64 ? 8 : 4) + 6 + (m.checksum !== undefined ? 2 : 0);
  return n;
}

/**
 * The exact length in bytes of the option as emitted (kind and length bytes included, no
 * padding). For a DSS, a DATA_ACK whose `ack64` is not false is sent as 8 bytes.
 */
export function mptcpOptionLength(opt: MptcpOption): number {
  switch (opt.type) {
    case "mp_capable":
      return mpcLength(opt);
    case "mp_join_syn":
      return MP_JOIN_LEN_SYN;
    case "mp_join_synack":
      return MP_JOIN_LEN_SYNACK;
    case "mp_join_ack":
      return MP_JOIN_LEN_ACK;
    case "dss":
      return dssLength(opt);
    case "add_addr":
      return (opt.address.length === 16 ? 20 : 8) + (opt.port !== undefined ? 2 : 0) + (opt.echo ? 0 : 8);
    case "remove_addr":
      return 3 + opt.addressIds.length;
    case "mp_prio":
      return MP_PRIO_LEN;
    case "mp_fail":
      return MP_FAIL_LEN;
    case "mp_fastclose":
      return MP_FASTCLOSE_LEN;
    case "mp_tcprst":
      return MP_TCPRST_LEN;
    case "mp_experimental":
      return 3 + opt.data.length;
    case "mp_unknown":
      return 2 + opt.raw.length;
  }
}

function bad(msg: string): never {
  throw new InvalidArgumentError(msg);
}

function chk(name: string, v: number, max: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) bad(`${name} must be an integer in [0, ${max}] (got ${v})`);
}

function chk64(name: string, v: bigint, max: bigint = MAX64): void {
  if (typeof v !== "bigint" || v < 0n || v > max) bad(`${name} must be a bigint in [0, ${max}] (got ${String(v)})`);
}

function chkBytes(name: string, b: Uint8Array, n: number): void {
  if (!(b instanceof Uint8Array) || b.length !== n) bad(`${name} must be ${n} bytes`);
}

/**
 * Writes the option at out[off] and returns its length (= mptcpOptionLength(opt)); no padding.
 * Reserved bits are written as 0.
 */
export function emitMptcpOption(opt: MptcpOption, out: Uint8Array, off: number): number {
  const n = mptcpOptionLength(opt);
  if (n > 255) bad(`MPTCP option of ${n} bytes exceeds the 255-byte option length`);
  if (!(Number.isInteger(off) && off >= 0 && off + n <= out.length)) bad(`cannot write ${n} bytes at offset ${off} of a ${out.length}-byte buffer`);
  out[off] = TCPOPT_MPTCP;
  out[off + 1] = n;
  const o = off;
  switch (opt.type) {
    case "mp_capable": {
      chk("MP_CAPABLE version", opt.version, 0xf);
      chk("MP_CAPABLE flags", opt.flags, 0xff);
      out[o + 2] = (MPTCP_SUB_CAPABLE << 4) | opt.version;
      out[o + 3] = opt.flags;
      if (n >= 12) {
        chk64("senderKey", opt.senderKey!);
        put64(out, o + 4, opt.senderKey!);
      }
      if (n >= 20) {
        chk64("receiverKey", opt.receiverKey!);
        put64(out, o + 12, opt.receiverKey!);
      }
      if (n >= 22) {
        chk("dataLength", opt.dataLength!, 0xffff);
        put16(out, o + 20, opt.dataLength!);
      }
      if (n === 24) {
        chk("checksum", opt.checksum!, 0xffff);
        put16(out, o + 22, opt.checksum!);
      }
      return n;
    }
    case "mp_join_syn":
      chk("addressId", opt.addressId, 0xff);
      chk("token", opt.token, 0xffffffff);
      chk("nonce", opt.nonce, 0xffffffff);
      out[o + 2] = (MPTCP_SUB_JOIN << 4) | (opt.backup ? 1 : 0);
      out[o + 3] = opt.addressId;
      put32(out, o + 4, opt.token);
      put32(out, o + 8, opt.nonce);
      return n;
    case "mp_join_synack":
      chk("addressId", opt.addressId, 0xff);
      chk("nonce", opt.nonce, 0xffffffff);
      chkBytes("MP_JOIN SYN/ACK hmac", opt.hmac, 8);
      out[o + 2] = (MPTCP_SUB_JOIN << 4) | (opt.backup ? 1 : 0);
      out[o + 3] = opt.addressId;
      copy(opt.hmac, out, o + 4);
      put32(out, o + 12, opt.nonce);
      return n;
    case "mp_join_ack":
      chkBytes("MP_JOIN ACK hmac", opt.hmac, 20);
      out[o + 2] = MPTCP_SUB_JOIN << 4;
      out[o + 3] = 0;
      copy(opt.hmac, out, o + 4);
      return n;
    case "dss": {
      let f = opt.dataFin ? DSS_FLAG_F : 0;
      let p = o + 4;
      if (opt.dataAck !== undefined) {
        f |= DSS_FLAG_A;
        if (opt.ack64 === false) {
          chk64("DSS dataAck (32-bit)", opt.dataAck, 0xffffffffn);
          put32(out, p, Number(opt.dataAck));
          p += 4;
        } else {
          chk64("DSS dataAck", opt.dataAck);
          f |= DSS_FLAG_a;
          put64(out, p, opt.dataAck);
          p += 8;
        }
      }
      const m = opt.mapping;
      if (m !== undefined) {
        f |= DSS_FLAG_M;
        if (m.dsn64) {
          chk64("DSS dsn", m.dsn);
          f |= DSS_FLAG_m;
          put64(out, p, m.dsn);
          p += 8;
        } else {
          chk64("DSS dsn (32-bit)", m.dsn, 0xffffffffn);
          put32(out, p, Number(m.dsn));
          p += 4;
        }
        chk("DSS ssn", m.ssn, 0xffffffff);
        chk("DSS length", m.length, 0xffff);
        put32(out, p, m.ssn);
        put16(out, p + 4, m.length);
        if (m.checksum !== undefined) {
          chk("DSS checksum", m.checksum, 0xffff);
          put16(out, p + 6, m.checksum);
        }
      }
      out[o + 2] = MPTCP_SUB_DSS << 4;
      out[o + 3] = f;
      return n;
    }
    case "add_addr": {
      const al = opt.address.length;
      if (al !== 4 && al !== 16) bad(`ADD_ADDR address must be 4 or 16 bytes (got ${al})`);
      chk("addressId", opt.addressId, 0xff);
      if (!opt.echo) {
        if (opt.hmac === undefined) bad("ADD_ADDR without echo needs an 8-byte hmac");
        chkBytes("ADD_ADDR hmac", opt.hmac, 8);
      }
      out[o + 2] = (MPTCP_SUB_ADD_ADDR << 4) | (opt.echo ? ADD_ADDR_FLAG_E : 0);
      out[o + 3] = opt.addressId;
      copy(opt.address, out, o + 4);
      let p = o + 4 + al;
      if (opt.port !== undefined) {
        chk("ADD_ADDR port", opt.port, 0xffff);
        put16(out, p, opt.port);
        p += 2;
      }
      if (!opt.echo) copy(opt.hmac!, out, p);
      return n;
    }
    case "remove_addr": {
      const ids = opt.addressIds;
      if (ids.length === 0) bad("REMOVE_ADDR needs at least one address id");
      out[o + 2] = MPTCP_SUB_REMOVE_ADDR << 4;
      for (let i = 0; i < ids.length; i++) {
        chk("REMOVE_ADDR address id", ids[i]!, 0xff);
        out[o + 3 + i] = ids[i]!;
      }
      return n;
    }
    case "mp_prio":
      out[o + 2] = (MPTCP_SUB_PRIO << 4) | (opt.backup ? 1 : 0);
      return n;
    case "mp_fail":
      chk64("MP_FAIL dsn", opt.dsn);
      out[o + 2] = MPTCP_SUB_FAIL << 4;
      out[o + 3] = 0;
      put64(out, o + 4, opt.dsn);
      return n;
    case "mp_fastclose":
      chk64("MP_FASTCLOSE receiverKey", opt.receiverKey);
      out[o + 2] = MPTCP_SUB_FASTCLOSE << 4;
      out[o + 3] = 0;
      put64(out, o + 4, opt.receiverKey);
      return n;
    case "mp_tcprst":
      chk("MP_TCPRST flags", opt.flags, 0xf);
      chk("MP_TCPRST reason", opt.reason, 0xff);
      out[o + 2] = (MPTCP_SUB_TCPRST << 4) | opt.flags;
      out[o + 3] = opt.reason;
      return n;
    case "mp_experimental":
      chk("MP_EXPERIMENTAL low bits", opt.low, 0xf);
      out[o + 2] = (MPTCP_SUB_EXPERIMENTAL << 4) | opt.low;
      copy(opt.data, out, o + 3);
      return n;
    case "mp_unknown":
      if (opt.raw.length < 1) bad("mp_unknown raw must hold at least the subtype byte");
      chk("mp_unknown subtype", opt.subtype, 0xf);
      copy(opt.raw, out, o + 2);
      out[o + 2] = (opt.subtype << 4) | (opt.raw[0]! & 0xf);
      return n;
  }
}
