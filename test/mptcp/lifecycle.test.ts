// Connection lifecycle over the simulator: MP_JOIN third-ACK retransmission, MP_FASTCLOSE,
// plain-TCP mode (mptcp: false) against an MPTCP server, lossy paths with two subflows,
// DATA_FIN retransmission.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenario, transfer } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import { parsePacket } from "../../core/wire/packet.ts";
import type { MptcpEvent } from "../../core/mptcp/types.ts";

const MiB = 1 << 20;
const LINK = { rateBps: 100e6, delayUs: 5_000, queueBytes: 250_000 };
const PM = { subflows: 4, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

function dropFirst(pred: (o: { type: string; dataFin?: boolean }) => boolean, count = 1): FunctionBox & { dropped: number } {
  const box = new FunctionBox("drop-first", (p) => {
    const r = parsePacket(p);
    if (r.ok && box.dropped < count && r.value.tcp.header.options.mptcp.some((o) => pred(o as { type: string; dataFin?: boolean }))) {
      box.dropped++;
      return [];
    }
    return [p];
  }) as FunctionBox & { dropped: number };
  box.dropped = 0;
  return box;
}

describe("mptcp lifecycle", () => {
  it("a lost MP_JOIN third ACK is retransmitted; no data on the subflow before the fourth ACK", () => {
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const box = dropFirst((o) => o.type === "mp_join_ack");
    sc.paths[1]!.addMiddlebox(box);
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(box.dropped, 1);
    const s = r.serverConn!.stats();
    assert.equal(s.counters.MPJoinAckRx, 1);
    assert.equal(s.subflows.length, 2);
    assert.ok(r.clientConn!.stats().subflows[1]!.dataBytesSent > 0);
  });

  it("lost DATA_FINs are retransmitted and the connection closes normally", () => {
    const sc = scenario({ paths: [LINK] });
    const box = dropFirst((o) => o.type === "dss" && o.dataFin === true, 2);
    sc.paths[0]!.addMiddlebox(box);
    const r = transfer(sc, { up: 1 * MiB, down: 1 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(box.dropped, 2);
    assert.equal(r.clientConn!.state, "CLOSED");
    assert.equal(r.serverConn!.state, "CLOSED");
    assert.equal(r.clientConn!.closedReason, "normal");
  });

  it("MP_FASTCLOSE: an abort resets every subflow and the peer closes with reason fastclose", () => {
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const ev: MptcpEvent[] = [];
    sc.sim.at(300_000, (now) => {
      sc.client.endpoint.connections[0]!.fastClose(now);
      sc.sim.poke(sc.client);
    });
    sc.server.app = () => {
      const c = sc.server.endpoint.connections[0];
      let e;
      while (c && (e = c.pollEvent()) !== undefined) ev.push(e);
    };
    sc.sim.at(0, (now) => {
      const c = sc.client.endpoint.connect(now, new Uint8Array([198, 18, 100, 1]), 5001);
      c.write(now, new Uint8Array(4 * MiB));
    });
    sc.sim.runUntil(2_000_000);
    const server = sc.server.endpoint.connections[0];
    const client = sc.client.endpoint.connections[0];
    assert.ok(ev.some((e) => e.type === "fastclose"));
    assert.ok(ev.some((e) => e.type === "closed" && e.reason === "fastclose"));
    assert.ok(server === undefined || server.state === "CLOSED");
    assert.ok(client === undefined || client.state === "CLOSED");
    assert.equal(sc.server.endpoint.stats().connections, 0);
  });

  it("plain-TCP mode (mptcp: false) against an MPTCP server: plain TCP, byte-exact", () => {
    const sc = scenario({ paths: [LINK], clientConfig: { mptcp: false } });
    const r = transfer(sc, { up: 4 * MiB, down: 4 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.isMptcp, false);
    assert.equal(r.serverConn!.isMptcp, false);
    assert.equal(r.serverConn!.counters.MPCapableSYNRX, 0);
  });

  it("two lossy paths (1% and 2% loss, reordering): byte-exact both ways", () => {
    const sc = scenario({
      paths: [
        { ...LINK, lossRate: 0.01, reorderRate: 0.02, reorderDelayUs: 2_000 },
        { ...LINK, delayUs: 15_000, lossRate: 0.02 },
      ],
      seed: 11,
      clientConfig: { pathManager: PM },
      serverConfig: { pathManager: PM },
    });
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB, `up ${r.receivedA} down ${r.receivedB}`);
    const c = r.clientConn!.stats();
    assert.ok(c.subflows.every((x) => x.dataBytesSent > 0 && x.retransSegments > 0));
  });
});

describe("mptcp lifecycle: joins, ports, IPv6", () => {
  it("a join whose SYN/ACK never comes is given up after the join timeout", () => {
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM, joinTimeoutUs: 500_000 }, serverConfig: { pathManager: PM } });
    sc.paths[1]!.addMiddlebox(
      new FunctionBox("drop-join-synack", (p) => {
        const r = parsePacket(p);
        return r.ok && r.value.tcp.header.options.mptcp.some((o) => o.type === "mp_join_synack") ? [] : [p];
      }),
    );
    const r = transfer(sc, { up: 16 * MiB, down: 16 * MiB });
    assert.ok(r.okA && r.okB);
    assert.ok(r.clientEvents.some((e) => e.type === "subflowClosed" && e.reason === "join_failed"));
    assert.equal(r.clientConn!.stats().subflows.filter((x) => x.dataBytesSent > 0).length, 1);
  });

  it("ADD_ADDR with a port: the client joins the announced address and port", () => {
    const SERVER2 = new Uint8Array([198, 18, 101, 1]);
    const sc = scenario({ paths: [LINK], serverExtra: [{ address: SERVER2 }], clientConfig: { pathManager: { ...PM, addAddrAccepted: 1 } }, serverConfig: { pathManager: PM } });
    sc.sim.at(50_000, (now) => {
      sc.server.endpoint.connections[0]!.announceAddress(now, 2, SERVER2, 6000);
      sc.sim.poke(sc.server);
    });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    assert.ok(r.clientEvents.some((e) => e.type === "addressAnnounced" && e.port === 6000));
    const subs = r.clientConn!.stats().subflows;
    assert.equal(subs.length, 2);
    assert.equal(subs[1]!.remoteAddress, "198.18.101.1:6000");
    assert.ok(subs[1]!.dataBytesSent > 0);
  });
});

describe("mptcp Endpoint API", () => {
  it("Endpoint.pollEvent drains every connection's events with the connection", () => {
    const sc = scenario({ paths: [LINK] });
    const seen: string[] = [];
    sc.server.app = () => {
      let e;
      while ((e = sc.server.endpoint.pollEvent()) !== undefined) {
        assert.ok(sc.server.endpoint.connections.includes(e.conn));
        seen.push(e.event.type);
      }
    };
    sc.sim.at(0, (now) => {
      const c = sc.client.endpoint.connect(now, new Uint8Array([198, 18, 100, 1]), 5001);
      c.write(now, new Uint8Array(1000));
      c.close(now);
    });
    sc.sim.runUntil(1_000_000);
    assert.deepEqual(seen.slice(0, 2), ["established", "subflowEstablished"]);
    assert.ok(seen.includes("peerClosed"));
  });
});

describe("mptcp Endpoint API: caller-owned transmit buffer", () => {
  it("pollTransmitInto moves a transfer through one reused buffer, byte-exact", async () => {
    const { Endpoint } = await import("../../core/mptcp/endpoint.ts");
    const { SeededRandomSource } = await import("../../core/crypto/random.ts");
    const A = new Uint8Array([198, 18, 1, 1]);
    const B = new Uint8Array([198, 18, 100, 1]);
    const client = new Endpoint({ addresses: [{ address: A }], random: new SeededRandomSource(1) });
    const server = new Endpoint({ addresses: [{ address: B }], random: new SeededRandomSource(2) });
    server.listen(80);
    assert.throws(() => client.pollTransmitInto(0, new Uint8Array(100)), { name: "InvalidArgumentError" });
    const out = new Uint8Array(2048);
    const data = new Uint8Array(3 << 20).map((_, i) => (i * 7 + (i >>> 11)) & 0xff);
    let now = 0;
    const c = client.connect(now, B, 80);
    let s: ReturnType<typeof server.pollAccept>;
    let off = 0;
    let got = 0;
    let bad = -1;
    const buf = new Uint8Array(1 << 16);
    for (let round = 0; round < 200_000 && got < data.length; round++) {
      let t;
      while ((t = client.pollTransmitInto(now, out)) !== undefined) server.handlePacket(now, out.subarray(0, t.length));
      while ((t = server.pollTransmitInto(now, out)) !== undefined) client.handlePacket(now, out.subarray(0, t.length));
      s ??= server.pollAccept();
      if (c.state === "ESTABLISHED" && off < data.length) off += c.write(now, data.subarray(off));
      let n: number;
      while (s && (n = s.read(now, buf)) > 0) {
        for (let i = 0; i < n && bad < 0; i++) if (buf[i] !== data[got + i]) bad = got + i;
        got += n;
      }
      now += 100;
      for (const ep of [client, server]) {
        const to = ep.pollTimeout();
        if (to !== undefined && to <= now) ep.handleTimeout(now);
      }
    }
    assert.equal(bad, -1);
    assert.equal(got, data.length);
    assert.equal(c.isMptcp, true);
  });
});

describe("mptcp against a plain TCP host", () => {
  it("falls back to TCP against core/tcp's TcpHost with a 64 KiB window (echo, 1 MiB each way, byte-exact, no early FIN)", async () => {
    const { Simulator } = await import("../../adapters/memory/simulator.ts");
    const { SimMptcpHost } = await import("../../adapters/memory/mptcp_host.ts");
    const { SimTcpHost } = await import("../../adapters/memory/tcp_host.ts");
    const { SeededRandomSource } = await import("../../core/crypto/random.ts");
    const A = new Uint8Array([198, 18, 0, 2]);
    const K = new Uint8Array([198, 18, 0, 1]);
    for (let seed = 1; seed <= 3; seed++) {
      const sim = new Simulator({ seed });
      const c = new SimMptcpHost({ addresses: [{ address: A, iface: 0 }], random: new SeededRandomSource(seed) });
      const s = new SimTcpHost({ address: K, random: new SeededRandomSource(seed + 100), config: { receiveBufferSize: 65536, sendBufferSize: 65536 } });
      sim.connect({ host: c, iface: 0 }, { host: s, iface: 0 }, { rateBps: 1e9, delayUs: 500, queueBytes: 1e6 });
      s.tcp.listen(5000);
      const n = 1 << 20;
      const data = new Uint8Array(n).map((_, i) => (i * 13 + (i >>> 10)) & 0xff);
      let conn: ReturnType<typeof c.endpoint.connect> | undefined;
      let off = 0;
      let got = 0;
      let bad = -1;
      const buf = new Uint8Array(65536);
      const pending: Uint8Array[] = [];
      let sc: ReturnType<typeof s.tcp.pollAccept>;
      c.app = (now) => {
        if (!conn) return;
        while (conn.pollEvent() !== undefined);
        if (conn.state === "ESTABLISHED" && off < n) {
          off += conn.write(now, data.subarray(off));
          if (off === n) conn.shutdown(now);
        }
        let k: number;
        while ((k = conn.read(now, buf)) > 0) {
          for (let i = 0; i < k && bad < 0; i++) if (buf[i] !== data[got + i]) bad = got + i;
          got += k;
        }
      };
      s.app = () => {
        sc ??= s.tcp.pollAccept(5000);
        if (!sc) return;
        const t = sc.conn;
        while (pending.length > 0) {
          const p = pending[0]!;
          const w = t.write(p);
          if (w < p.length) {
            pending[0] = p.subarray(w);
            break;
          }
          pending.shift();
        }
        let k: number;
        while ((k = t.read(buf)) > 0) {
          const p = buf.slice(0, k);
          if (pending.length > 0) pending.push(p);
          else {
            const w = t.write(p);
            if (w < k) pending.push(p.subarray(w));
          }
        }
        if (t.peerFinReceived && t.state === "CLOSE_WAIT" && pending.length === 0) t.shutdown();
      };
      sim.at(0, (now) => {
        conn = c.endpoint.connect(now, K, 5000, { localAddress: A });
      });
      sim.runUntil(30_000_000);
      assert.equal(conn!.fallback, true);
      assert.equal(bad, -1);
      assert.equal(got, n, `seed ${seed}: echoed ${got} of ${n}`);
    }
  });
});
