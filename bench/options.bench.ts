// TCP + MPTCP option codecs per segment (core/wire/tcp.ts, mptcp.ts, segment.ts): parseTcp of
// a whole segment (header, option walk, MPTCP option values; the payload is a view, so its
// size does not matter) and emitTcpHeader (header + option layout, no payload copy), in ns per
// segment, for:
//   data:     a 1448-byte data segment with NOP NOP TS + DSS (64-bit DATA_ACK, 64-bit DSN mapping)
//   syn:      a SYN with mss, sackOK, TS, wscale and MP_CAPABLE
//   add_addr: an ACK with TS + ADD_ADDR (IPv4, port, HMAC)
// Baseline in the same run: the same data segment with TS only (plain TCP), so the ratio
// shows the cost of the DSS option.
import type { BenchSuite, Workload } from "./harness.ts";
import { emitTcp, emitTcpHeader, parseTcp } from "../core/wire/tcp.ts";
import type { TcpHeader, TcpSegment } from "../core/wire/types.ts";
import { TCP_ACK, TCP_PSH, TCP_SYN } from "../core/wire/types.ts";

const PER_CALL = 1000;

function header(flags: number, options: TcpHeader["options"]): TcpHeader {
  return { srcPort: 40000, dstPort: 443, seq: 0x12345678, ack: 0x9abcdef0, flags, window: 502, checksum: 0, urgent: 0, options };
}

const plain: TcpHeader = header(TCP_ACK | TCP_PSH, { timestamp: { val: 123456789, ecr: 987654321 }, mptcp: [] });
const data: TcpHeader = header(TCP_ACK | TCP_PSH, {
  timestamp: { val: 123456789, ecr: 987654321 },
  mptcp: [
    {
      type: "dss",
      dataFin: false,
      dataAck: 0x0123456789abcdefn,
      ack64: true,
      mapping: { dsn: 0xfedcba9876543210n, dsn64: true, ssn: 1000001, length: 1448 },
    },
  ],
});
const syn: TcpHeader = header(TCP_SYN, {
  mss: 1460,
  sackPermitted: true,
  timestamp: { val: 123456789, ecr: 0 },
  wscale: 7,
  mptcp: [{ type: "mp_capable", version: 1, flags: 0x01 }],
});
const addAddr: TcpHeader = header(TCP_ACK, {
  timestamp: { val: 123456789, ecr: 987654321 },
  mptcp: [
    {
      type: "add_addr",
      echo: false,
      addressId: 5,
      address: Uint8Array.of(198, 18, 1, 2),
      port: 8080,
      hmac: Uint8Array.of(0xc2, 0x23, 0x40, 0x7a, 0xa4, 0xd8, 0x4b, 0x7e),
    },
  ],
});

function bytesOf(h: TcpHeader, payload: number): Uint8Array {
  const seg: TcpSegment = { header: h, payload: new Uint8Array(payload) };
  const out = new Uint8Array(60 + payload);
  const r = emitTcp(seg, out, 0);
  if (!r.ok) throw new Error(r.error.detail);
  return out.subarray(0, r.value);
}

let sink = 0;
const out = new Uint8Array(64);

function parseWorkload(name: string, h: TcpHeader, payload: number, baseline?: string): Workload {
  const b = bytesOf(h, payload);
  return {
    name,
    unit: "ns/op",
    opsPerCall: PER_CALL,
    baseline,
    fn: () => {
      for (let i = 0; i < PER_CALL; i++) {
        const r = parseTcp(b, 0, b.length);
        if (r.ok) sink += r.value.header.options.mptcp.length + r.value.payload.length;
      }
    },
  };
}

function emitWorkload(name: string, h: TcpHeader, baseline?: string): Workload {
  return {
    name,
    unit: "ns/op",
    opsPerCall: PER_CALL,
    baseline,
    fn: () => {
      for (let i = 0; i < PER_CALL; i++) {
        const r = emitTcpHeader(h, out, 0);
        if (r.ok) sink += r.value + out[r.value - 1]!;
      }
    },
  };
}

export const suite: BenchSuite = {
  name: "options",
  workloads: [
    parseWorkload("parse plain TS data segment (baseline)", plain, 1448),
    parseWorkload("parse data segment TS + DSS(ack64, dsn64)", data, 1448, "parse plain TS data segment (baseline)"),
    parseWorkload("parse SYN mss,sackOK,TS,wscale,MP_CAPABLE", syn, 0, "parse plain TS data segment (baseline)"),
    parseWorkload("parse ACK TS + ADD_ADDR(v4, port, HMAC)", addAddr, 0, "parse plain TS data segment (baseline)"),
    emitWorkload("emit plain TS header (baseline)", plain),
    emitWorkload("emit data header TS + DSS(ack64, dsn64)", data, "emit plain TS header (baseline)"),
    emitWorkload("emit SYN mss,sackOK,TS,wscale,MP_CAPABLE", syn, "emit plain TS header (baseline)"),
    emitWorkload("emit ACK TS + ADD_ADDR(v4, port, HMAC)", addAddr, "emit plain TS header (baseline)"),
  ],
};

/** Keeps the results observable so the loops are not optimised away. */
export function benchSink(): number {
  return sink;
}
