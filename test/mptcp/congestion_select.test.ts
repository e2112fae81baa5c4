// Congestion control selected per connection (MptcpConfig.congestion): one factory per
// connection, so the coupled algorithms couple the subflows of one connection only, and a
// subflow that closes leaves the coupling (release()).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CoupledFactory } from "../../core/congestion/coupled.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { PathManagerConfig } from "../../core/mptcp/types.ts";
import { PORT, clientAddr, scenario } from "./helpers.ts";

const PM: PathManagerConfig = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
const link = { rateBps: 20e6, delayUs: 5_000, queueBytes: 100_000 };

function group(c: MptcpConnection): CoupledFactory["group"] {
  return (c as unknown as { ccFactory: CoupledFactory }).ccFactory.group;
}

describe("congestion control per connection", () => {
  for (const cc of ["lia", "olia", "balia"] as const) {
    it(`${cc}: every subflow of a connection shares one coupling group; a closed subflow leaves it`, () => {
      const sc = scenario({ paths: [link, link], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
      const conns: MptcpConnection[] = [];
      sc.sim.at(0, (now) => {
        for (let i = 0; i < 2; i++) conns.push(sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0), config: { congestion: cc } }));
      });
      // Some data each way, so that MPTCP is fully established and the joins follow.
      const accepted: MptcpConnection[] = [];
      const buf = new Uint8Array(4096);
      sc.client.app = (now) => {
        for (const c of conns) if (c.state === "ESTABLISHED" && c.stats().bytesWritten === 0) c.write(now, new Uint8Array(1000));
      };
      sc.server.app = (now) => {
        let a: MptcpConnection | undefined;
        while ((a = sc.server.endpoint.pollAccept()) !== undefined) {
          accepted.push(a);
          a.write(now, new Uint8Array(1000));
        }
        for (const c of accepted) while (c.read(now, buf) > 0);
      };
      sc.sim.runUntil(1_000_000);
      for (const c of conns) {
        assert.equal(c.subflows.length, 2);
        for (const sf of c.subflows) assert.equal(sf.tcp.congestion?.name, cc);
        assert.equal(group(c).size, 2, "both subflows in the connection's own group");
      }
      assert.notEqual(group(conns[0]!), group(conns[1]!), "one factory per connection");
      sc.sim.at(1_000_000, (now) => sc.client.endpoint.removeAddress(now, clientAddr(1)));
      sc.sim.runUntil(2_000_000);
      for (const c of conns) {
        assert.equal(c.liveSubflows.length, 1);
        assert.equal(group(c).size, 1, "the closed subflow released its controller");
      }
    });
  }

  it("default and uncoupled choices: cubic unless told, reno when asked", () => {
    const sc = scenario({ paths: [link], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    let a: MptcpConnection | undefined;
    let b: MptcpConnection | undefined;
    sc.sim.at(0, (now) => {
      a = sc.client.endpoint.connect(now, sc.serverAddress, PORT);
      b = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { config: { congestion: "reno" } });
    });
    sc.sim.runUntil(500_000);
    assert.equal(a!.subflows[0]!.tcp.congestion?.name, "cubic");
    assert.equal(b!.subflows[0]!.tcp.congestion?.name, "reno");
  });
});
