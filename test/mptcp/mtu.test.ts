// MPTCP segments fit the path MTU (RFC 9293 section 3.7.1: the payload is reduced by the TCP
// options beyond the MSS's base header; Linux tcp_current_mss with mptcp_established_options):
// over 1500-byte-MTU links a transfer completes with no packet over 1500 bytes, full-size
// packets fill the MTU (DSS with a 64-bit DATA_ACK: 1420-byte payloads with timestamps; a 32-bit
// DATA_ACK: 1424, as Linux sends), with and without DSS checksums, on two subflows; plain TCP
// keeps its 1448-byte payloads.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenario, transfer } from "./helpers.ts";
import type { Scenario, TransferResult } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import { tcpInfo, tcpOptions } from "../../adapters/memory/tcpbytes.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import type { PathManagerConfig } from "../../core/mptcp/types.ts";

const MiB = 1 << 20;
const MTU = 1500;
const PM: PathManagerConfig = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
const TCPOPT_MPTCP = 30;

interface Sizes {
  /** Largest IP packet offered to any link. */
  maxPacket: number;
  /** Payload sizes of data segments that carry an MPTCP option (size -> count). */
  mptcpPayloads: Map<number, number>;
  /** Payload sizes of data segments without an MPTCP option. */
  plainPayloads: Map<number, number>;
  packets: number;
}

/** Records every packet put on any link (before the link's MTU check). */
function watch(sc: Scenario): Sizes {
  const s: Sizes = { maxPacket: 0, mptcpPayloads: new Map(), plainPayloads: new Map(), packets: 0 };
  const box = new FunctionBox("sizes", (p) => {
    s.packets++;
    if (p.length > s.maxPacket) s.maxPacket = p.length;
    const t = tcpInfo(p);
    if (t && t.payloadLen > 0) {
      const mp = tcpOptions(p, t)?.some((o) => o.kind === TCPOPT_MPTCP) ?? false;
      const m = mp ? s.mptcpPayloads : s.plainPayloads;
      m.set(t.payloadLen, (m.get(t.payloadLen) ?? 0) + 1);
    }
    return [p];
  });
  for (const l of [...sc.paths, sc.serverLink]) l.addMiddlebox(box, 0);
  return s;
}

function mtuDrops(sc: Scenario): number {
  let n = 0;
  for (const l of [...sc.paths, sc.serverLink]) n += l.ab.counters.dropped.mtu + l.ba.counters.dropped.mtu;
  return n;
}

const maxKey = (m: Map<number, number>): number => Math.max(0, ...m.keys());
const mostCommon = (m: Map<number, number>): number => [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;

function run(o: { paths: number; csum?: boolean; mptcp?: boolean; up: number; down: number }): { r: TransferResult; sizes: Sizes; drops: number } {
  const link: LinkSpec = { rateBps: 50e6, delayUs: 5_000, queueBytes: 200_000, mtu: MTU };
  const cfg = { pathManager: PM, checksum: o.csum ?? false, mptcp: o.mptcp ?? true };
  const sc = scenario({ paths: Array.from({ length: o.paths }, () => link), serverLink: { mtu: MTU }, seed: 5, clientConfig: cfg, serverConfig: { pathManager: PM } });
  const sizes = watch(sc);
  const r = transfer(sc, { up: o.up, down: o.down, deadlineUs: 60_000_000 });
  return { r, sizes, drops: mtuDrops(sc) };
}

function summary(m: Map<number, number>): string {
  return [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k}x${v}`).join(" ");
}

describe("mptcp segments fit a 1500-byte MTU", () => {
  for (const csum of [false, true]) {
    it(`two subflows, 4 MiB each way, checksums ${csum ? "on" : "off"}: completes, no packet over the MTU, full-size payload 1420 (1424 before a 64-bit DATA_ACK)`, () => {
      const { r, sizes, drops } = run({ paths: 2, csum, up: 4 * MiB, down: 4 * MiB });
      console.log(`[mtu] csum ${csum}: max packet ${sizes.maxPacket}, MPTCP payloads ${summary(sizes.mptcpPayloads)}, mtu drops ${drops}, done ${(r.doneUs / 1e6).toFixed(2)} s`);
      assert.ok(r.okA && r.okB, `byte-exact: up ${r.receivedA} down ${r.receivedB} finished ${r.finished}`);
      const c = r.clientConn!.stats();
      assert.equal(c.mptcp, true);
      assert.equal(c.checksum, csum);
      assert.equal(c.subflows.length, 2);
      for (const x of c.subflows) assert.ok(x.dataBytesSent > 256 * 1024, `subflow ${x.id} sent ${x.dataBytesSent}`);
      assert.equal(drops, 0, "packets dropped for size");
      assert.equal(sizes.maxPacket, MTU, "full-size packets fill the MTU exactly");
      // IP 20 + TCP 20 + timestamps 12 + DSS (DATA_ACK 8, DSN 8, SSN 4, length 2 [, checksum 2]) 28;
      // 1424 (a 32-bit DATA_ACK) only until the peer's first 64-bit DSN arrives.
      assert.equal(mostCommon(sizes.mptcpPayloads), 1420);
      assert.equal(maxKey(sizes.mptcpPayloads), 1424);
      assert.equal(sizes.plainPayloads.size, 0, "every data segment carries a DSS");
    });
  }

  it("upload only: a 32-bit DATA_ACK (no DSN from the peer yet) leaves 1424-byte payloads, as Linux sends", () => {
    const { r, sizes, drops } = run({ paths: 1, up: 2 * MiB, down: 0 });
    console.log(`[mtu] upload: max packet ${sizes.maxPacket}, MPTCP payloads ${summary(sizes.mptcpPayloads)}`);
    assert.ok(r.okA && r.okB);
    assert.equal(drops, 0);
    assert.equal(sizes.maxPacket, MTU);
    assert.equal(maxKey(sizes.mptcpPayloads), 1424);
  });

  it("plain TCP (MPTCP off) keeps 1448-byte payloads", () => {
    const { r, sizes, drops } = run({ paths: 1, mptcp: false, up: 2 * MiB, down: 2 * MiB });
    console.log(`[mtu] plain TCP: max packet ${sizes.maxPacket}, payloads ${summary(sizes.plainPayloads)}`);
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.stats().mptcp, false);
    assert.equal(drops, 0);
    assert.equal(sizes.mptcpPayloads.size, 0);
    // Smaller only while SACK blocks ride on data segments (Linux does the same).
    assert.equal(mostCommon(sizes.plainPayloads), 1448);
    assert.equal(maxKey(sizes.plainPayloads), 1448);
    assert.equal(sizes.maxPacket, MTU);
  });
});
