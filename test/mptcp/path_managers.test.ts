// Path-manager policies chosen by pathManager.kind: ndiffports (N subflows over one address
// pair, distinct source ports), userspace (events out, commands in; nothing automatic), signal
// (announce every local address).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { MptcpEvent, PathManagerConfig } from "../../core/mptcp/types.ts";
import { UserspacePathManager } from "../../core/path_manager/userspace.ts";
import type { UserspacePmEvent } from "../../core/path_manager/userspace.ts";
import { PORT, clientAddr, scenario } from "./helpers.ts";

const PM: PathManagerConfig = { subflows: 7, addAddrAccepted: 4, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
const link = { rateBps: 20e6, delayUs: 5_000, queueBytes: 100_000 };

/** Connects and exchanges a little data both ways (MPTCP fully established), returns the client connection. */
function connectAndTalk(sc: ReturnType<typeof scenario>, config: object, until = 1_000_000): { client: MptcpConnection; server: () => MptcpConnection | undefined; clientEvents: MptcpEvent[] } {
  let c: MptcpConnection | undefined;
  let s: MptcpConnection | undefined;
  const clientEvents: MptcpEvent[] = [];
  const buf = new Uint8Array(4096);
  sc.sim.at(0, (now) => {
    c = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0), config });
  });
  let wrote = false;
  sc.client.app = (now) => {
    if (!c) return;
    let e;
    while ((e = c.pollEvent()) !== undefined) clientEvents.push(e);
    if (!wrote && c.state === "ESTABLISHED") {
      wrote = true;
      c.write(now, new Uint8Array(2000));
    }
    while (c.read(now, buf) > 0);
  };
  sc.server.app = (now) => {
    const a = sc.server.endpoint.pollAccept();
    if (a) {
      s = a;
      s.write(now, new Uint8Array(2000));
    }
    if (s) while (s.read(now, buf) > 0);
  };
  sc.sim.runUntil(until);
  return { client: c!, server: () => s, clientEvents };
}

describe("path-manager policies", () => {
  it("ndiffports: 4 subflows between the same addresses, each from its own port", () => {
    const sc = scenario({ paths: [link], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const { client } = connectAndTalk(sc, { pathManager: { ...PM, kind: "ndiffports", ndiffports: 4 } });
    const subs = client.liveSubflows;
    assert.equal(subs.length, 4);
    assert.equal(new Set(subs.map((s) => s.localPort)).size, 4);
    for (const s of subs) {
      assert.deepEqual([...s.localAddress], [...clientAddr(0)]);
      assert.equal(s.usable, true);
    }
  });

  it("userspace: nothing automatic; events reach the application, which opens a subflow by command", () => {
    const sc = scenario({ paths: [link, link], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const { client } = connectAndTalk(sc, { pathManager: { ...PM, kind: "userspace" } }, 500_000);
    assert.equal(client.liveSubflows.length, 1, "no join without a command (the second address is a subflow endpoint)");
    const pm = client.pm as UserspacePathManager;
    assert.ok(pm instanceof UserspacePathManager);
    const evs: UserspacePmEvent[] = [];
    let e;
    while ((e = pm.pollEvent()) !== undefined) evs.push(e);
    assert.deepEqual(evs.map((x) => x.type), ["established"]);
    sc.sim.at(600_000, (now) => pm.createSubflow(now, client, clientAddr(1), undefined, undefined, true));
    sc.sim.runUntil(1_200_000);
    assert.equal(client.liveSubflows.length, 2);
    assert.equal(client.liveSubflows[1]!.backup, true);
    assert.equal(client.liveSubflows[1]!.usable, true);
  });

  it("signal: the server announces every local address, flagged or not", () => {
    const extra = new Uint8Array([198, 18, 101, 1]);
    const sc = scenario({
      paths: [link],
      serverExtra: [{ address: extra, id: 5 }],
      clientConfig: { pathManager: PM },
      serverConfig: { pathManager: { ...PM, kind: "signal" } },
    });
    const { clientEvents } = connectAndTalk(sc, { pathManager: PM });
    const ann = clientEvents.filter((x) => x.type === "addressAnnounced");
    assert.equal(ann.length, 1);
    assert.deepEqual(ann[0], { type: "addressAnnounced", id: 5, address: extra });
  });
});
