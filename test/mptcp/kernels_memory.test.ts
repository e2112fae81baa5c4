// The data-level kernels (MptcpConfig.kernels, WASM by default): memory returned when the
// Endpoint forgets a connection (connection after connection, the shared WASM memory stops
// growing), unread bytes still readable after that, and the same bytes as with the TS twins.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadKernels } from "../../core/kernels/wasm/instance.ts";
import { DEFAULT_MPTCP_CONFIG } from "../../core/mptcp/types.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import { PORT, clientAddr, scenario, sourceBytes, transfer } from "./helpers.ts";

const LINK = { rateBps: 1e9, delayUs: 1000 };

describe("mptcp data-level kernels", () => {
  it("default is WASM; ts and wasm deliver the same bytes", () => {
    assert.equal(DEFAULT_MPTCP_CONFIG.kernels, "wasm");
    for (const k of ["ts", "wasm"] as const) {
      const sc = scenario({ paths: [LINK, LINK], seed: 3, clientConfig: { kernels: k }, serverConfig: { kernels: k } });
      const r = transfer(sc, { up: 1 << 20, down: 1 << 20 });
      assert.ok(r.okA && r.okB, `${k}: byte-exact both ways`);
    }
  });

  it("WASM memory is returned when connections are forgotten: 16 connections after 4 do not grow it", () => {
    const mem = loadKernels().memory;
    let after4 = 0;
    for (let i = 0; i < 20; i++) {
      const sc = scenario({ paths: [LINK, LINK], seed: 10 + i });
      const r = transfer(sc, { up: 2 << 20, down: 2 << 20 });
      assert.ok(r.okA && r.okB);
      // Past TIME-WAIT: the Endpoints forget their connections (and dispose them).
      sc.sim.runUntil(sc.sim.now + 300_000_000);
      assert.equal(sc.client.endpoint.connections.length, 0, "client forgot its connection");
      assert.equal(sc.server.endpoint.connections.length, 0, "server forgot its connection");
      if (i === 3) after4 = mem.buffer.byteLength;
    }
    assert.equal(mem.buffer.byteLength, after4, `WASM memory grew from ${after4} to ${mem.buffer.byteLength} bytes`);
  });

  it("Endpoint.dispose() returns the memory of connections still open: 16 abandoned runs after 4 do not grow it; the disposed endpoint drops packets and refuses commands", () => {
    const mem = loadKernels().memory;
    let after4 = 0;
    for (let i = 0; i < 20; i++) {
      const sc = scenario({ paths: [LINK, LINK], seed: 40 + i });
      const r = transfer(sc, { up: 1 << 20, down: 1 << 20 });
      assert.ok(r.okA && r.okB);
      // Abandoned with the connection still open (no close, no TIME-WAIT): only dispose() frees it.
      assert.ok(sc.client.endpoint.connections.length > 0, "the connection is still open");
      sc.client.endpoint.dispose();
      sc.server.endpoint.dispose();
      sc.client.endpoint.dispose(); // idempotent
      if (i === 3) after4 = mem.buffer.byteLength;
      if (i === 19) {
        assert.equal(sc.client.endpoint.connections.length, 0);
        assert.throws(() => sc.client.endpoint.connect(sc.sim.now, sc.serverAddress, PORT), { name: "InvalidStateError" });
        assert.throws(() => sc.server.endpoint.listen(PORT + 1), { name: "InvalidStateError" });
        const before = sc.server.endpoint.stats().drops.Disposed ?? 0;
        sc.sim.runUntil(sc.sim.now + 5_000_000); // packets in flight arrive at the disposed endpoints
        sc.server.endpoint.handlePacket(sc.sim.now, new Uint8Array(40), 0);
        assert.ok((sc.server.endpoint.stats().drops.Disposed ?? 0) > before, "packets after dispose() are dropped and counted");
        assert.equal(sc.server.endpoint.pollTransmit(sc.sim.now), undefined);
      }
    }
    assert.equal(mem.buffer.byteLength, after4, `WASM memory grew from ${after4} to ${mem.buffer.byteLength} bytes`);
  });

  it("bytes not read before the Endpoint forgets the connection stay readable", () => {
    const sc = scenario({ paths: [LINK], seed: 5 });
    const data = sourceBytes(300_000);
    let cc: MptcpConnection | undefined;
    let srv: MptcpConnection | undefined;
    let off = 0;
    sc.server.app = (now) => {
      srv ??= sc.server.endpoint.pollAccept();
      if (!srv) return;
      while (srv.pollEvent() !== undefined);
      if (off < data.length && srv.state === "ESTABLISHED") {
        off += srv.write(now, data.subarray(off));
        if (off === data.length) srv.shutdown(now);
      }
      const b = new Uint8Array(1024);
      while (srv.read(now, b) > 0);
      if (srv.peerClosed && srv.state === "CLOSE_WAIT") srv.shutdown(now);
    };
    sc.client.app = (now) => {
      if (!cc) return;
      while (cc.pollEvent() !== undefined);
      // The client reads nothing; it half-closes once the server's DATA_FIN is in.
      if (cc.peerClosed && cc.state === "CLOSE_WAIT") cc.shutdown(now);
    };
    sc.sim.at(0, (now) => {
      cc = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0), config: { receiveBufferSize: 512 * 1024 } });
    });
    sc.sim.runUntil(400_000_000);
    assert.ok(cc);
    assert.equal(cc.state, "CLOSED");
    assert.equal(sc.client.endpoint.connections.length, 0, "forgotten (and disposed)");
    assert.equal(cc.readable, data.length);
    // The rest of the API still answers after the kernels were freed.
    assert.equal(cc.stats().bytesRead, 0);
    assert.equal(cc.unacked, 0);
    assert.equal(cc.writable, 0);
    assert.equal(cc.pollTimeout(), undefined);
    assert.throws(() => cc!.write(sc.sim.now, new Uint8Array(1)), { name: "InvalidStateError" });
    const out = new Uint8Array(data.length + 10);
    let got = 0;
    let n: number;
    while ((n = cc.read(sc.sim.now, out.subarray(got, got + 7000))) > 0) got += n;
    assert.equal(got, data.length);
    assert.deepEqual(out.subarray(0, got), data);
    assert.equal(cc.readable, 0);
  });
});
