// MPTCP transfers over the in-memory simulator: 1, 2 and 4 subflows, 64 MiB in both directions
// byte-exact, path failure without FIN (connection-level reinjection, measured stall), handover.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientAddr, scenario, transfer } from "./helpers.ts";
import type { TransferResult } from "./helpers.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import type { PathManagerConfig } from "../../core/mptcp/types.ts";

const MiB = 1 << 20;
const PM: PathManagerConfig = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

function paths(n: number, extra: Partial<LinkSpec> = {}): LinkSpec[] {
  return Array.from({ length: n }, (_, i) => ({ rateBps: 100e6, delayUs: 5_000 + 2_000 * i, queueBytes: 250_000, ...extra }) as LinkSpec);
}

function report(name: string, r: TransferResult): void {
  const c = r.clientConn!.stats();
  const s = r.serverConn!.stats();
  const per = c.subflows.map((x, i) => `sf${x.id} up ${(x.dataBytesSent / MiB).toFixed(1)} MiB / down ${((s.subflows[i]?.dataBytesSent ?? 0) / MiB).toFixed(1)} MiB`).join(", ");
  console.log(`[mptcp sim] ${name}: done at ${(r.doneUs / 1e6).toFixed(2)} s virtual; ${per}; reinjected ${c.counters.ReinjectedBytes + s.counters.ReinjectedBytes} B`);
}

describe("mptcp over the simulator", () => {
  it("one subflow, 8 MiB each way: MP_CAPABLE, DSS, DATA_ACK, DATA_FIN close", () => {
    const sc = scenario({ paths: paths(1) });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    report("1 subflow", r);
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    const c = r.clientConn!;
    const s = r.serverConn!;
    assert.equal(c.stats().mptcp, true);
    assert.equal(c.state, "CLOSED");
    assert.equal(s.state, "CLOSED");
    assert.equal(c.closedReason, "normal");
    assert.equal(c.counters.MPCapableSYNACKRX, 1);
    assert.equal(s.counters.MPCapableACKRX, 1);
    assert.equal(s.counters.MPCapableSYNRX, 1);
    assert.deepEqual(r.clientEvents.map((e) => e.type).filter((t) => t !== "subflowClosed"), ["established", "subflowEstablished", "peerClosed", "closed"]);
    assert.equal(c.stats().bytesAcked, 8 * MiB);
  });

  for (const n of [2, 4]) {
    it(`${n} subflows, 64 MiB each way, byte-exact, every subflow carries data`, () => {
      const sc = scenario({ paths: paths(n), seed: n, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
      const r = transfer(sc, { up: 64 * MiB, down: 64 * MiB });
      report(`${n} subflows`, r);
      assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
      const c = r.clientConn!.stats();
      const s = r.serverConn!.stats();
      assert.equal(c.subflows.length, n);
      assert.equal(s.counters.MPJoinAckRx, n - 1);
      for (const x of c.subflows) assert.ok(x.dataBytesSent > 1 * MiB, `client subflow ${x.id} sent ${x.dataBytesSent}`);
      for (const x of s.subflows) assert.ok(x.dataBytesSent > 1 * MiB, `server subflow ${x.id} sent ${x.dataBytesSent}`);
      assert.equal(c.counters.MPDataAckBeyondSent, 0);
    });
  }

  it("2 subflows with the WASM data-plane kernels (receive ring, send buffer, DSS tables), 16 MiB each way", () => {
    const sc = scenario({ paths: paths(2), seed: 12, clientConfig: { pathManager: PM, kernels: "wasm" }, serverConfig: { pathManager: PM, kernels: "wasm" } });
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    assert.equal(r.clientConn!.stats().subflows.length, 2);
  });

  it("a path fails mid-transfer without FIN: its data is re-sent on the other path", () => {
    const sc = scenario({ paths: paths(2), seed: 7, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(500_000, () => sc.paths[0]!.setUp(false));
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    report("path failure", r);
    console.log(`[mptcp sim] path failure: longest delivery stall ${(r.maxGapUs / 1000).toFixed(1)} ms starting at ${(r.maxGapAt / 1000).toFixed(1)} ms`);
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    const c = r.clientConn!.stats();
    const s = r.serverConn!.stats();
    assert.ok(c.counters.ReinjectedBytes > 0 && s.counters.ReinjectedBytes > 0, "data of the dead path was reinjected both ways");
    assert.ok(c.counters.Reinjections >= 1);
    assert.ok(r.maxGapUs < 3_000_000, `stall ${r.maxGapUs} µs`);
  });

  it("handover, break-before-make: path 1 disappears, path 2 appears 1 s later", () => {
    const sc = scenario({ paths: paths(2), seed: 8, latePaths: [1], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(400_000, () => sc.paths[0]!.setUp(false));
    sc.sim.at(1_400_000, (now) => {
      sc.client.endpoint.addAddress(now, { address: clientAddr(1), iface: 1, subflow: true });
      sc.sim.poke(sc.client);
    });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    report("break-before-make", r);
    console.log(`[mptcp sim] break-before-make: longest stall ${(r.maxGapUs / 1000).toFixed(1)} ms`);
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    const c = r.clientConn!.stats();
    assert.equal(c.subflows.length, 2);
    assert.ok(c.subflows[1]!.dataBytesSent > 0);
  });

  it("handover, make-before-break: path 2 appears, then path 1 disappears", () => {
    const sc = scenario({ paths: paths(2), seed: 9, latePaths: [1], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(200_000, (now) => {
      sc.client.endpoint.addAddress(now, { address: clientAddr(1), iface: 1, subflow: true });
      sc.sim.poke(sc.client);
    });
    sc.sim.at(500_000, () => sc.paths[0]!.setUp(false));
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    report("make-before-break", r);
    console.log(`[mptcp sim] make-before-break: longest stall ${(r.maxGapUs / 1000).toFixed(1)} ms`);
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    assert.ok(r.maxGapUs < 2_000_000);
    const c = r.clientConn!.stats();
    assert.ok(c.subflows[1]!.dataBytesSent > 4 * MiB);
    assert.ok(r.maxGapAt + r.maxGapUs > 500_000 || r.maxGapUs < 300_000);
  });
});

describe("mptcp over IPv6", () => {
  it("2 subflows over IPv6, 16 MiB each way, byte-exact; a path failure is survived", () => {
    const sc = scenario({ paths: paths(2), v6: true, seed: 13, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(600_000, () => sc.paths[1]!.setUp(false));
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    const c = r.clientConn!.stats();
    assert.equal(c.subflows.length, 2);
    assert.ok(c.subflows.every((x) => x.dataBytesSent > 0));
    assert.ok(c.subflows[0]!.localAddress.startsWith("[2001:2:0:1::1]:"), c.subflows[0]!.localAddress);
  });
});
