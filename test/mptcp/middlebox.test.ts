// Every middlebox model of the simulator against MPTCP (PROTOCOL.md fallback table): the
// expected outcome (MPTCP continues, falls back to TCP, or the subflow is reset) and
// byte-exact delivery in every case; DSS checksums catching a payload-rewriting box.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenario, transfer } from "./helpers.ts";
import type { Scenario } from "./helpers.ts";
import { CoalesceSegments, FunctionBox, Nat, ProxyAck, RewritePayload, SeqRewrite, SplitSegments, StripOptions } from "../../adapters/memory/middleboxes.ts";
import type { SegmentClass } from "../../adapters/memory/middleboxes.ts";
import { tcpInfo, tcpOptions } from "../../adapters/memory/tcpbytes.ts";
import type { Middlebox } from "../../adapters/memory/types.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";

const MiB = 1 << 20;
const LINK: LinkSpec = { rateBps: 100e6, delayUs: 5_000, queueBytes: 250_000 };
const PM = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

function run(box: Middlebox | undefined, o: { paths?: number; csum?: boolean; bytes?: number; seed?: number; setup?: (sc: Scenario) => void } = {}) {
  const n = o.paths ?? 1;
  const sc = scenario({ paths: Array.from({ length: n }, () => LINK), seed: o.seed ?? 3, clientConfig: { pathManager: PM, checksum: o.csum ?? false }, serverConfig: { pathManager: PM } });
  if (box) sc.paths[0]!.addMiddlebox(box);
  o.setup?.(sc);
  const r = transfer(sc, { up: o.bytes ?? 4 * MiB, down: o.bytes ?? 4 * MiB });
  assert.ok(r.okA && r.okB, `byte-exact: up ${r.receivedA} down ${r.receivedB} finished ${r.finished}`);
  return { r, c: r.clientConn!.stats(), s: r.serverConn!.stats(), sc };
}

describe("mptcp through middleboxes", () => {
  for (const on of ["syn", "synack", "ack3", "data", "ack"] as SegmentClass[]) {
    it(`MPTCP options stripped on ${on}: falls back to TCP`, () => {
      const { c, s } = run(new StripOptions({ on: [on] }));
      assert.equal(c.mptcp, false);
      assert.equal(s.mptcp, false);
      if (on === "synack") assert.equal(c.counters.MPCapableFallbackSYNACK, 1);
      if (on === "ack3") assert.equal(s.counters.MPCapableFallbackACK, 1);
    });
  }

  it("MPTCP options stripped on every segment: plain TCP", () => {
    const { c, s } = run(new StripOptions({}));
    assert.equal(c.mptcp, false);
    assert.equal(s.mptcp, false);
  });

  it("SYNs with MP_CAPABLE dropped: the third SYN goes without it (plain TCP)", () => {
    let dropped = 0;
    const box = new FunctionBox("drop-mpc-syn", (p) => {
      const info = tcpInfo(p);
      if (info && info.flags & 0x02 && !(info.flags & 0x10) && (tcpOptions(p, info) ?? []).some((x) => x.kind === 30)) {
        dropped++;
        return [];
      }
      return [p];
    });
    const { c, s } = run(box);
    assert.equal(dropped, 3);
    assert.equal(c.counters.MPCapableSYNTXDrop, 1);
    assert.equal(c.mptcp, false);
    assert.equal(s.mptcp, false);
  });

  it("sequence-number rewriting firewall: MPTCP continues (relative subflow sequence numbers)", () => {
    const { c, s } = run(new SeqRewrite(123456789, 987654321), { paths: 2 });
    assert.equal(c.mptcp, true);
    assert.equal(s.mptcp, true);
    assert.equal(c.subflows.length, 2);
  });

  it("segment splitting (TSO / resegmenting proxy): MPTCP continues", () => {
    const box = new SplitSegments({});
    const { c } = run(box);
    assert.ok(box.splits > 100);
    assert.equal(c.mptcp, true);
  });

  it("segment coalescing (options of the second segment lost), one subflow: falls back to TCP", () => {
    const box = new CoalesceSegments({});
    const { c, s } = run(box);
    assert.ok(box.merged > 0);
    assert.equal(c.mptcp && s.mptcp, false);
  });

  it("NAT on path 1: MPTCP continues and joins work through it", () => {
    const nat = new Nat({ inside: "a", publicAddress: "198.18.1.99" });
    const { c } = run(nat, { paths: 2 });
    assert.ok(nat.translated > 0);
    assert.equal(c.mptcp, true);
    assert.equal(c.subflows.length, 2);
  });

  it("proxy ACKs (performance-enhancing proxy): the client's first data acknowledged without a DSS before the server's DSS: fallback to TCP (as Linux), byte-exact", () => {
    const box = new ProxyAck();
    // The model acknowledges data it never retransmits: give it a lossless path.
    const { c, s } = run(box, { setup: (sc) => sc.paths[0]!.set({ queueBytes: Infinity }) });
    assert.ok(box.acksSent > 0);
    assert.equal(c.counters.MPCapableDataFallback, 1);
    assert.equal(c.mptcp, false);
    assert.equal(s.mptcp, false);
  });

  it("proxy ACKs after MPTCP is confirmed (server sends first): option-less ACKs are ignored, MPTCP continues end to end", () => {
    const box = new ProxyAck(1); // acknowledges the server's data only
    const sc = scenario({ paths: [LINK], seed: 3, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.paths[0]!.set({ queueBytes: Infinity });
    sc.paths[0]!.addMiddlebox(box);
    const r = transfer(sc, { up: 0, down: 4 * MiB });
    assert.ok(r.okB);
    assert.ok(box.acksSent > 0);
    assert.equal(r.clientConn!.isMptcp, true);
    assert.equal(r.serverConn!.isMptcp, true);
  });

  // RFC 8684 3.7: until the client saw a DSS from the server, MPTCP is not confirmed; a pure ACK
  // without one means the options are stripped (Linux check_fully_established).
  for (const dir of [undefined, 1] as const) {
    it(`MPTCP options stripped on pure ACKs${dir === 1 ? " from the server" : ""}, upload: the client falls back on the first option-less ACK, without a stall`, () => {
      const go = (strip: boolean) => {
        const sc = scenario({ paths: [LINK], seed: 3, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
        if (strip) sc.paths[0]!.addMiddlebox(new StripOptions({ on: ["ack"], ...(dir !== undefined ? { dir } : {}) }));
        const r = transfer(sc, { up: 4 * MiB, down: 0 });
        assert.ok(r.okA && r.finished);
        return r;
      };
      const base = go(false);
      const r = go(true);
      const c = r.clientConn!.stats();
      assert.equal(c.counters.MPCapableDataFallback, 1);
      assert.ok(r.clientEvents.some((e) => e.type === "fallback" && e.reason === "no DSS from the server"));
      assert.equal(c.mptcp, false);
      assert.equal(r.serverConn!.isMptcp, false);
      // No data-level retransmission timeout on the way: as fast as without the middlebox.
      assert.ok(r.doneUs <= base.doneUs + 100_000, `${r.doneUs} vs ${base.doneUs} µs`);
    });
  }

  it("MPTCP options stripped on pure ACKs, both ways: both fall back and both close (the peer's FIN that came while MPTCP was on counts)", () => {
    const { r } = run(new StripOptions({ on: ["ack"] }));
    assert.ok(r.finished);
    assert.equal(r.clientConn!.peerClosed, true);
    assert.equal(r.serverConn!.peerClosed, true);
  });

  it("checksums on, one subflow: a payload rewrite is caught (MP_FAIL, infinite mapping), no corrupted byte delivered", () => {
    let done = false;
    const box = new RewritePayload((p) => {
      if (done || p.length < 100) return undefined;
      done = true;
      p[50] = p[50]! ^ 0xff;
      return p;
    }, 0);
    const { c, s, r } = run(box, { csum: true, seed: 5 });
    assert.ok(done);
    assert.equal(c.checksum, true);
    assert.equal(s.counters.DataCsumErr, 1);
    assert.equal(s.counters.MPFailTx, 1);
    assert.equal(c.counters.MPFailRx, 1);
    assert.equal(c.counters.InfiniteMapTx, 1);
    assert.equal(s.counters.InfiniteMapRx, 1);
    assert.ok(r.serverEvents.some((e) => e.type === "fallback"));
  });

  it("checksums on, two subflows: the subflow with rewritten payload is reset, data re-sent on the other", () => {
    let done = false;
    let armed = false;
    const box = new RewritePayload((p) => {
      if (!armed || done || p.length < 100) return undefined;
      done = true;
      p[10] = p[10]! ^ 0x55;
      return p;
    }, 0);
    const { c, s, r } = run(box, {
      paths: 2,
      csum: true,
      seed: 6,
      bytes: 16 * MiB,
      setup: (sc) => sc.sim.at(300_000, () => (armed = true)), // after the join
    });
    assert.ok(done);
    assert.equal(s.counters.DataCsumErr, 1);
    assert.equal(s.counters.MPFailTx, 1);
    assert.equal(s.counters.MPRstTx, 1);
    assert.ok(r.serverEvents.some((e) => e.type === "subflowClosed" && e.reason === "mp_fail"));
    assert.ok(r.clientEvents.some((e) => e.type === "subflowClosed" && e.peerResetReason === 6), "MP_TCPRST reason 6 (middlebox interference)");
    assert.equal(c.mptcp, true);
    assert.ok(c.counters.ReinjectedBytes > 0);
  });
});
