// stats(): the per-subflow snapshot (SubflowStats) with what a live view needs: the interface
// of the local address, cwnd / ssthresh / bytes in flight, RTT and RTO.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpStats } from "../../core/mptcp/types.ts";
import { scenario, transfer } from "./helpers.ts";

describe("mptcp stats()", () => {
  it("subflows report iface, ssthresh, inFlight and rtoUs; mid-transfer data is in flight", () => {
    const link = { rateBps: 20e6, delayUs: 10_000, lossRate: 0.002 };
    const sc = scenario({ paths: [link, link], seed: 4 });
    let mid: MptcpStats | undefined;
    sc.sim.at(1_500_000, () => {
      mid = sc.client.endpoint.connections[0]?.stats();
    });
    const r = transfer(sc, { up: 8 << 20, down: 0 });
    assert.ok(r.okA);
    assert.ok(mid);
    assert.equal(mid.subflows.length, 2);
    assert.deepEqual(mid.subflows.map((s) => s.iface).sort(), [0, 1]);
    for (const s of mid.subflows) {
      assert.ok(s.rtoUs >= 200_000, `rto ${s.rtoUs}`);
      assert.ok(s.srttUs > 20_000);
      assert.equal(typeof s.ssthresh, "number");
      assert.ok(Number.isInteger(s.inFlight) && s.inFlight >= 0);
    }
    assert.ok(mid.subflows.some((s) => s.inFlight > 0), "data in flight mid-transfer");
    // The server's subflows know their interface too (its single address, iface 0).
    for (const s of r.serverConn!.stats().subflows) assert.equal(s.iface, 0);
  });
});
