// Byte-level scenarios: two SimTcpHosts (core/tcp/host.ts) over the in-memory simulator.
import { Simulator } from "../../adapters/memory/simulator.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import { SimTcpHost } from "../../adapters/memory/tcp_host.ts";
import type { TcpHostConnection } from "../../core/tcp/host.ts";
import type { TcpConfig, TcpStats } from "../../core/tcp/types.ts";
import type { LinkCounters } from "../../adapters/memory/types.ts";
import { Prng } from "./helpers.ts";

export const ADDR_A = new Uint8Array([198, 18, 0, 1]);
export const ADDR_B = new Uint8Array([198, 18, 0, 2]);
/** 2001:2::1 and 2001:2::2 (RFC 5180, the IPv6 benchmarking range). */
export const ADDR6_A = new Uint8Array([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
export const ADDR6_B = new Uint8Array([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

let source: Uint8Array | undefined;
/** A deterministic pseudo-random source of up to 64 MiB (generated once per process). */
export function sourceBytes(n: number): Uint8Array {
  if (!source || source.length < n) {
    source = new Uint8Array(Math.max(n, 1 << 20));
    const r = new Prng(0xc0ffee);
    const v = new Uint32Array(source.buffer, 0, source.length >>> 2);
    for (let i = 0; i < v.length; i++) v[i] = (r.next() * 4294967296) >>> 0;
  }
  return source.subarray(0, n);
}

export interface SimResult {
  ok: boolean;
  mismatchAt: number;
  received: number;
  /** Virtual time from connect to the last byte read (µs). */
  transferUs: number;
  goodputBps: number;
  sender: TcpStats;
  receiver: TcpStats | undefined;
  ab: LinkCounters;
  ba: LinkCounters;
}

export function simTransfer(o: { bytes: number; link: LinkSpec; seed?: number; config?: Partial<TcpConfig>; deadlineUs?: number; trust?: boolean; ipv6?: boolean }): SimResult {
  const data = sourceBytes(o.bytes);
  const sim = new Simulator({ seed: o.seed ?? 1 });
  const [addrA, addrB] = o.ipv6 ? [ADDR6_A, ADDR6_B] : [ADDR_A, ADDR_B];
  const a = new SimTcpHost({ address: addrA, random: new Prng((o.seed ?? 1) * 3 + 1), config: o.config, trustChecksums: o.trust });
  const b = new SimTcpHost({ address: addrB, random: new Prng((o.seed ?? 1) * 3 + 2), config: o.config, trustChecksums: o.trust });
  const link = sim.connect({ host: a, iface: 0 }, { host: b, iface: 0 }, o.link, "ab");
  b.tcp.listen(5001);
  let client: TcpHostConnection | undefined;
  let server: TcpHostConnection | undefined;
  let off = 0;
  let rcvd = 0;
  let mismatchAt = -1;
  let doneAt = -1;
  const buf = new Uint8Array(1 << 20);
  a.app = () => {
    const c = client?.conn;
    if (!c || !(c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT")) return;
    while (off < data.length) {
      const n = c.write(data.subarray(off, Math.min(data.length, off + (1 << 20))));
      if (n === 0) break;
      off += n;
    }
    if (off === data.length && c.state === "ESTABLISHED") c.shutdown();
  };
  b.app = (now) => {
    server ??= b.tcp.pollAccept(5001);
    const c = server?.conn;
    if (!c) return;
    let n: number;
    while ((n = c.read(buf)) > 0) {
      if (mismatchAt < 0) {
        for (let i = 0; i < n; i++) {
          if (buf[i] !== data[rcvd + i]) {
            mismatchAt = rcvd + i;
            break;
          }
        }
      }
      rcvd += n;
    }
    if (c.peerFinReceived && c.state === "CLOSE_WAIT") {
      c.shutdown();
      if (doneAt < 0) doneAt = now;
    }
  };
  sim.at(0, (now) => {
    client = a.tcp.connect(now, addrB, 5001);
  });
  sim.runUntilTrue(() => doneAt >= 0 && rcvd >= data.length, o.deadlineUs ?? 3_600_000_000);
  const transferUs = doneAt >= 0 ? doneAt : sim.now;
  return {
    ok: mismatchAt < 0 && rcvd === data.length,
    mismatchAt,
    received: rcvd,
    transferUs,
    goodputBps: (rcvd * 8 * 1e6) / Math.max(1, transferUs),
    sender: client!.conn.stats(),
    receiver: server?.conn.stats(),
    ab: link.ab.counters,
    ba: link.ba.counters,
  };
}
