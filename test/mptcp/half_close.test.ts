// Half-close orders: the peer shuts down first (we are in CLOSE_WAIT), then we write 1 MiB and
// shut down too; every byte must arrive before the FIN, in plain TCP, in fallback (either side
// without MPTCP) and with MPTCP, where the client shuts down before the server sent anything
// (MPTCP not confirmed yet: its DATA_FIN must still go, RFC 8684 3.3.3).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PORT, clientAddr, scenario, sourceBytes } from "./helpers.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";

describe("mptcp half close", () => {
  for (const [cm, sm] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`the peer half-closes first, then 1 MiB and our FIN: client mptcp ${cm}, server mptcp ${sm}`, () => {
      const sc = scenario({ paths: [{ rateBps: 100e6, delayUs: 1000 }], seed: 1, clientConfig: { mptcp: cm }, serverConfig: { mptcp: sm } });
      const data = sourceBytes(1 << 20);
      let cc: MptcpConnection | undefined;
      let srv: MptcpConnection | undefined;
      let off = 0;
      let got = 0;
      let bad = -1;
      let shutC = false;
      let shutS = false;
      const buf = new Uint8Array(65536);
      sc.client.app = (now) => {
        if (!cc) return;
        while (cc.pollEvent() !== undefined);
        if (cc.state === "ESTABLISHED" && !shutC) {
          shutC = true;
          cc.shutdown(now);
        }
        let n: number;
        while ((n = cc.read(now, buf)) > 0) {
          for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== data[got + i]) bad = got + i;
          got += n;
        }
      };
      sc.server.app = (now) => {
        srv ??= sc.server.endpoint.pollAccept();
        if (!srv) return;
        while (srv.pollEvent() !== undefined);
        if (srv.state === "CLOSE_WAIT" && off < data.length) off += srv.write(now, data.subarray(off));
        if (off === data.length && !shutS) {
          shutS = true;
          srv.shutdown(now);
        }
        while (srv.read(now, buf) > 0);
      };
      sc.sim.at(0, (now) => {
        cc = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0) });
      });
      sc.sim.runUntil(30_000_000);
      assert.equal(bad, -1);
      assert.equal(got, data.length, `received ${got}`);
      assert.equal(cc!.peerClosed, true);
      assert.equal(cc!.state, "CLOSED");
      assert.equal(srv?.state, "CLOSED");
    });
  }
});
