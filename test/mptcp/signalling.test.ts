// Signalling over the simulator (RFC 8684 sections 3.4, 3.3.8): ADD_ADDR with HMAC, echo and
// retransmission, REMOVE_ADDR, MP_PRIO / backup subflows, path-manager limits, events.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientAddr, scenario, transfer } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import { parsePacket } from "../../core/wire/packet.ts";

const MiB = 1 << 20;
const LINK = { rateBps: 100e6, delayUs: 5_000, queueBytes: 250_000 };
const SERVER2 = new Uint8Array([198, 18, 101, 1]);
const PM = { subflows: 4, addAddrAccepted: 0, addAddrTimeoutUs: 1_000_000, addAddrRetries: 3 };

describe("mptcp signalling", () => {
  it("ADD_ADDR: announced with an HMAC, echoed, the client joins the announced address (add_addr_accepted 1)", () => {
    const sc = scenario({ paths: [LINK], serverExtra: [{ address: SERVER2, signal: true }], clientConfig: { pathManager: { ...PM, addAddrAccepted: 1 } }, serverConfig: { pathManager: PM } });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    const c = r.clientConn!.stats();
    const s = r.serverConn!.stats();
    assert.equal(s.counters.AddAddrTx, 1);
    assert.equal(c.counters.AddAddr, 1);
    assert.equal(c.counters.EchoAddTx, 1);
    assert.equal(s.counters.EchoAdd, 1);
    assert.ok(r.clientEvents.some((e) => e.type === "addressAnnounced" && e.id === 2));
    assert.equal(c.subflows.length, 2);
    assert.equal(c.subflows[1]!.remoteAddress.startsWith("198.18.101.1"), true);
    assert.ok(c.subflows[1]!.dataBytesSent > 0 && s.subflows[1]!.dataBytesSent > 0);
  });

  it("ADD_ADDR with Linux's default add_addr_accepted 0: echoed, no join", () => {
    const sc = scenario({ paths: [LINK], serverExtra: [{ address: SERVER2, signal: true }], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const r = transfer(sc, { up: 2 * MiB, down: 2 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.stats().counters.AddAddr, 1);
    assert.equal(r.clientConn!.stats().subflows.length, 1);
  });

  it("an ADD_ADDR whose echo is lost is retransmitted (add_addr_timeout)", () => {
    let dropped = 0;
    const sc = scenario({ paths: [LINK], serverExtra: [{ address: SERVER2, signal: true }], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.paths[0]!.addMiddlebox(
      new FunctionBox("drop-echo", (p) => {
        const r = parsePacket(p);
        if (r.ok && dropped < 1 && r.value.tcp.header.options.mptcp.some((o) => o.type === "add_addr" && o.echo)) {
          dropped++;
          return [];
        }
        return [p];
      }),
    );
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB);
    const s = r.serverConn!.stats();
    assert.equal(dropped, 1);
    assert.equal(s.counters.AddAddrTx, 2);
    assert.equal(s.counters.EchoAdd, 1);
  });

  it("REMOVE_ADDR: the client withdraws an address mid-transfer; the subflow closes, the data is re-sent on the other", () => {
    const sc = scenario({ paths: [LINK, LINK], seed: 4, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(400_000, (now) => {
      sc.client.endpoint.removeAddress(now, clientAddr(1));
      sc.sim.poke(sc.client);
    });
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB);
    const c = r.clientConn!.stats();
    const s = r.serverConn!.stats();
    assert.equal(c.counters.RmAddrTx, 1);
    assert.equal(s.counters.RmAddr, 1);
    assert.ok(r.clientEvents.some((e) => e.type === "subflowClosed" && e.reason === "removed"));
    assert.ok(r.serverEvents.some((e) => e.type === "addressRemoved" && e.id === 2));
  });

  it("backup subflow: idle while the regular one works, takes over when it fails; MP_PRIO on setBackup", () => {
    const sc = scenario({ paths: [LINK, LINK], seed: 5, clientFlags: [{}, { subflow: true, backup: true }], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    let backupBefore = -1;
    sc.sim.at(600_000, () => {
      const c = sc.client.endpoint.connections[0]!;
      backupBefore = c.stats().subflows[1]!.dataBytesSent;
      sc.paths[0]!.setUp(false);
    });
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB);
    const c = r.clientConn!.stats();
    const s = r.serverConn!.stats();
    assert.equal(c.subflows[1]!.backup, true);
    assert.equal(s.subflows[1]!.backup, true, "the join's B bit makes the server treat it as backup too");
    assert.equal(backupBefore, 0, "no data on the backup subflow while the regular one is active");
    assert.ok(c.subflows[1]!.dataBytesSent > 4 * MiB, "the backup subflow carried the rest");
  });

  it("setBackup sends MP_PRIO; the peer changes the subflow's priority", () => {
    const sc = scenario({ paths: [LINK, LINK], seed: 6, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.sim.at(300_000, (now) => {
      const c = sc.client.endpoint.connections[0]!;
      c.setBackup(now, c.subflows[1]!.id, true);
      sc.sim.poke(sc.client);
    });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.stats().counters.MPPrioTx, 1);
    assert.equal(r.serverConn!.stats().counters.MPPrioRx, 1);
    assert.ok(r.serverEvents.some((e) => e.type === "priorityChanged" && e.backup));
    assert.equal(r.serverConn!.stats().subflows[1]!.backup, true);
  });
});
