// fast-check arbitraries for the wire data model (core/wire/types.ts, ip.ts): every MPTCP
// option form, TCP options that fit the 40-byte space, segments, IP headers and packets, and
// a byte mutator for fuzzing parsers. Values are canonical: exactly what the parsers return
// for the bytes the emitters write (no `undefined` keys, 32-bit DSN/DATA_ACK below 2^32, an
// HMAC exactly when ADD_ADDR is not an echo), so `parse(emit(x))` deep-equals x.
import fc from "fast-check";
import type {
  AddAddr,
  Dss,
  DssMapping,
  MpCapable,
  MpExperimental,
  MpFail,
  MpFastclose,
  MpJoinAck,
  MpJoinSyn,
  MpJoinSynAck,
  MpPrio,
  MptcpOption,
  MpTcpRst,
  MpUnknown,
  RemoveAddr,
  SackBlock,
  TcpHeader,
  TcpOptions,
  TcpSegment,
  UnknownTcpOption,
} from "../../core/wire/types.ts";
import type { Ipv4Header, Ipv6Header } from "../../core/wire/ip.ts";
import { optionsLength, TCP_OPTIONS_MAX } from "../../core/wire/segment.ts";

/** fc.record with ordinary objects (fast-check 4 defaults to null-prototype records, which deepEqual tells apart). */
export function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

export const u8: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xff });
export const u16: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffff });
export const u32: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffffffff });
export const u64: fc.Arbitrary<bigint> = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const nibble = fc.integer({ min: 0, max: 15 });
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

export const ipv4Address: fc.Arbitrary<Uint8Array> = bytes(4);
export const ipv6Address: fc.Arbitrary<Uint8Array> = bytes(16);
export const ipAddress: fc.Arbitrary<Uint8Array> = fc.oneof(ipv4Address, ipv6Address);

// ---------------------------------------------------------------------------------------------
// MPTCP options, one arbitrary per form

export const mpCapableSyn: fc.Arbitrary<MpCapable> = rec({ version: nibble, flags: u8 }).map((r) => ({ type: "mp_capable", ...r }));
export const mpCapableSynAck: fc.Arbitrary<MpCapable> = fc
  .record({ version: nibble, flags: u8, senderKey: u64 })
  .map((r) => ({ type: "mp_capable", ...r }));
export const mpCapableAck: fc.Arbitrary<MpCapable> = fc
  .record({ version: nibble, flags: u8, senderKey: u64, receiverKey: u64 })
  .map((r) => ({ type: "mp_capable", ...r }));
export const mpCapableData: fc.Arbitrary<MpCapable> = fc
  .record({ version: nibble, flags: u8, senderKey: u64, receiverKey: u64, dataLength: u16 })
  .map((r) => ({ type: "mp_capable", ...r }));
export const mpCapableDataCsum: fc.Arbitrary<MpCapable> = fc
  .record({ version: nibble, flags: u8, senderKey: u64, receiverKey: u64, dataLength: u16, checksum: u16 })
  .map((r) => ({ type: "mp_capable", ...r }));
export const mpCapable: fc.Arbitrary<MpCapable> = fc.oneof(mpCapableSyn, mpCapableSynAck, mpCapableAck, mpCapableData, mpCapableDataCsum);

export const mpJoinSyn: fc.Arbitrary<MpJoinSyn> = fc
  .record({ backup: fc.boolean(), addressId: u8, token: u32, nonce: u32 })
  .map((r) => ({ type: "mp_join_syn", ...r }));
export const mpJoinSynAck: fc.Arbitrary<MpJoinSynAck> = fc
  .record({ backup: fc.boolean(), addressId: u8, hmac: bytes(8), nonce: u32 })
  .map((r) => ({ type: "mp_join_synack", ...r }));
export const mpJoinAck: fc.Arbitrary<MpJoinAck> = bytes(20).map((hmac) => ({ type: "mp_join_ack", hmac }));

export const dssMapping: fc.Arbitrary<DssMapping> = fc
  .record({ dsn64: fc.boolean(), dsn: u64, ssn: u32, length: u16, checksum: fc.option(u16, { nil: undefined }) })
  .map((r) => {
    const m: DssMapping = { dsn: r.dsn64 ? r.dsn : r.dsn & 0xffffffffn, dsn64: r.dsn64, ssn: r.ssn, length: r.length };
    if (r.checksum !== undefined) m.checksum = r.checksum;
    return m;
  });
/** DSS in every flag combination: A/a, M/m, F, checksum or not. */
export const dss: fc.Arbitrary<Dss> = fc
  .record({
    ack: fc.option(rec({ ack64: fc.boolean(), value: u64 }), { nil: undefined }),
    mapping: fc.option(dssMapping, { nil: undefined }),
    dataFin: fc.boolean(),
  })
  .map((r) => {
    const d: Dss = { type: "dss", dataFin: r.dataFin };
    if (r.ack !== undefined) {
      d.dataAck = r.ack.ack64 ? r.ack.value : r.ack.value & 0xffffffffn;
      d.ack64 = r.ack.ack64;
    }
    if (r.mapping !== undefined) d.mapping = r.mapping;
    return d;
  });

/** ADD_ADDR: IPv4 or IPv6, port or not, HMAC or echo (lengths 8/10/16/18, 20/22/28/30). */
export const addAddr: fc.Arbitrary<AddAddr> = fc
  .record({ echo: fc.boolean(), addressId: u8, address: ipAddress, port: fc.option(u16, { nil: undefined }), hmac: bytes(8) })
  .map((r) => {
    const a: AddAddr = { type: "add_addr", echo: r.echo, addressId: r.addressId, address: r.address };
    if (r.port !== undefined) a.port = r.port;
    if (!r.echo) a.hmac = r.hmac;
    return a;
  });
export const removeAddr: fc.Arbitrary<RemoveAddr> = fc
  .array(u8, { minLength: 1, maxLength: 8 })
  .map((addressIds) => ({ type: "remove_addr", addressIds }));
export const mpPrio: fc.Arbitrary<MpPrio> = fc.boolean().map((backup) => ({ type: "mp_prio", backup }));
export const mpFail: fc.Arbitrary<MpFail> = u64.map((dsn) => ({ type: "mp_fail", dsn }));
export const mpFastclose: fc.Arbitrary<MpFastclose> = u64.map((receiverKey) => ({ type: "mp_fastclose", receiverKey }));
export const mpTcpRst: fc.Arbitrary<MpTcpRst> = rec({ flags: nibble, reason: u8 }).map((r) => ({ type: "mp_tcprst", ...r }));
export const mpExperimental: fc.Arbitrary<MpExperimental> = fc
  .record({ low: nibble, data: fc.uint8Array({ maxLength: 12 }) })
  .map((r) => ({ type: "mp_experimental", ...r }));
/** Subtypes 0x9..0xe, which RFC 8684 does not define. */
export const mpUnknown: fc.Arbitrary<MpUnknown> = fc
  .record({ subtype: fc.integer({ min: 9, max: 14 }), low: nibble, rest: fc.uint8Array({ maxLength: 12 }) })
  .map((r) => {
    const raw = new Uint8Array(1 + r.rest.length);
    raw[0] = (r.subtype << 4) | r.low;
    raw.set(r.rest, 1);
    return { type: "mp_unknown", subtype: r.subtype, raw };
  });

/** One arbitrary per MPTCP option form, by name (for per-form properties and reports). */
export const mptcpForms: Record<string, fc.Arbitrary<MptcpOption>> = {
  "MP_CAPABLE SYN": mpCapableSyn,
  "MP_CAPABLE SYN/ACK": mpCapableSynAck,
  "MP_CAPABLE ACK": mpCapableAck,
  "MP_CAPABLE ACK+data": mpCapableData,
  "MP_CAPABLE ACK+data+csum": mpCapableDataCsum,
  "MP_JOIN SYN": mpJoinSyn,
  "MP_JOIN SYN/ACK": mpJoinSynAck,
  "MP_JOIN ACK": mpJoinAck,
  DSS: dss,
  ADD_ADDR: addAddr,
  REMOVE_ADDR: removeAddr,
  MP_PRIO: mpPrio,
  MP_FAIL: mpFail,
  MP_FASTCLOSE: mpFastclose,
  MP_TCPRST: mpTcpRst,
  MP_EXPERIMENTAL: mpExperimental,
  "unknown subtype": mpUnknown,
};

export const mptcpOption: fc.Arbitrary<MptcpOption> = fc.oneof(...Object.values(mptcpForms));

// ---------------------------------------------------------------------------------------------
// TCP options and segments

export const sackBlock: fc.Arbitrary<SackBlock> = rec({ start: u32, end: u32 });

/** Kinds that tcp.ts does not interpret (so they come back as `unknown`). */
const unknownKind = u8.filter((k) => ![0, 1, 2, 3, 4, 5, 8, 30].includes(k));
export const unknownTcpOption: fc.Arbitrary<UnknownTcpOption> = rec({ kind: unknownKind, data: fc.uint8Array({ maxLength: 8 }) });

/** Drops options (unknown, then MPTCP from the end, then SACK blocks...) until they fit in 40 bytes. */
export function fitOptions(o: TcpOptions): TcpOptions {
  const fits = (): boolean => optionsLength(o) <= TCP_OPTIONS_MAX;
  while (!fits() && o.unknown !== undefined) {
    o.unknown.pop();
    if (o.unknown.length === 0) delete o.unknown;
  }
  while (!fits() && o.mptcp.length > 0) o.mptcp.pop();
  while (!fits() && o.sack !== undefined) {
    o.sack.pop();
    if (o.sack.length === 0) delete o.sack;
  }
  if (!fits()) delete o.timestamp;
  return o;
}

/** Any TCP options that fit the 40-byte space (aligned or packed layout), canonical form. */
export const tcpOptions: fc.Arbitrary<TcpOptions> = fc
  .record({
    mss: fc.option(u16, { nil: undefined }),
    wscale: fc.option(u8, { nil: undefined }),
    sackPermitted: fc.boolean(),
    sack: fc.option(fc.array(sackBlock, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    timestamp: fc.option(rec({ val: u32, ecr: u32 }), { nil: undefined }),
    mptcp: fc.array(mptcpOption, { maxLength: 3 }),
    unknown: fc.option(fc.array(unknownTcpOption, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  })
  .map((r) => {
    // Copies: fitOptions trims arrays, and fast-check's values must not change under it.
    const o: TcpOptions = { mptcp: [...r.mptcp] };
    if (r.mss !== undefined) o.mss = r.mss;
    if (r.wscale !== undefined) o.wscale = r.wscale;
    if (r.sackPermitted) o.sackPermitted = true;
    if (r.sack !== undefined) o.sack = [...r.sack];
    if (r.timestamp !== undefined) o.timestamp = r.timestamp;
    if (r.unknown !== undefined) o.unknown = [...r.unknown];
    return fitOptions(o);
  });

export function tcpHeaderWith(options: fc.Arbitrary<TcpOptions>): fc.Arbitrary<TcpHeader> {
  return rec({ srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: u8, window: u16, checksum: u16, urgent: u16, options });
}

export const tcpHeader: fc.Arbitrary<TcpHeader> = tcpHeaderWith(tcpOptions);

export const tcpSegment: fc.Arbitrary<TcpSegment> = rec({ header: tcpHeader, payload: fc.uint8Array({ maxLength: 64 }) });

/** A segment with URG clear and urgent pointer and checksum 0 (what TCP-in-UDP can carry). */
export const tcpInUdpSegment: fc.Arbitrary<TcpSegment> = tcpSegment.map((s) => ({
  header: { ...s.header, flags: s.header.flags & ~0x20, urgent: 0, checksum: 0 },
  payload: s.payload,
}));

// ---------------------------------------------------------------------------------------------
// IP

export const ipv4Header: fc.Arbitrary<Ipv4Header> = fc
  .record({
    tos: u8,
    totalLength: u16,
    identification: u16,
    flags: fc.integer({ min: 0, max: 7 }),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
    ttl: u8,
    protocol: u8,
    checksum: u16,
    src: ipv4Address,
    dst: ipv4Address,
    optionWords: fc.integer({ min: 0, max: 10 }),
    optionBytes: bytes(40),
  })
  .map(({ optionWords, optionBytes, ...r }) => {
    const h: Ipv4Header = { version: 4, ...r, options: optionBytes.slice(0, optionWords * 4) };
    // A parsable header has totalLength >= its header length.
    if (h.totalLength < 20 + h.options.length) h.totalLength = 20 + h.options.length;
    return h;
  });

export const ipv6Header: fc.Arbitrary<Ipv6Header> = fc
  .record({
    trafficClass: u8,
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    payloadLength: u16,
    nextHeader: u8,
    hopLimit: u8,
    src: ipv6Address,
    dst: ipv6Address,
  })
  .map((r) => ({ version: 6, ...r }));

/** Header template for a whole packet (lengths and protocol are filled in by emitPacket). */
export const packetIpHeader: fc.Arbitrary<Ipv4Header | Ipv6Header> = fc.oneof(
  ipv4Header.map((h) => ({ ...h, flags: h.flags & 0x6, fragmentOffset: 0, protocol: 6 })),
  ipv6Header.map((h) => ({ ...h, nextHeader: 6 })),
);

// ---------------------------------------------------------------------------------------------
// Fuzzing

/**
 * Bytes derived from valid encodings: up to 4 bytes overwritten, then (one time in three)
 * truncated or extended with random bytes. `valid` produces well-formed encodings.
 */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      base: valid,
      edits: fc.array(rec({ at: fc.nat(), v: u8 }), { maxLength: 4 }),
      // Two times in three the length is kept, so that most mutants reach past the framing.
      cut: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
      tail: fc.uint8Array({ maxLength: 8 }),
    })
    .map(({ base, edits, cut, tail }) => {
      let b = Uint8Array.from(base);
      if (b.length > 0) for (const e of edits) b[e.at % b.length] = e.v;
      if (cut !== undefined) {
        if (cut % 2 === 0) b = b.subarray(0, cut % (b.length + 1));
        else {
          const x = new Uint8Array(b.length + tail.length);
          x.set(b);
          x.set(tail, b.length);
          b = x;
        }
      }
      return b;
    });
}

/** Bytes from hex text, whitespace ignored: hex("1e 04 01 01"). */
export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}
