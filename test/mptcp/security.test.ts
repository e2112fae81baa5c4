// Security behaviour (RFC 8684 sections 3.2, 3.4.1, 3.5, 5; RFC 5961): unknown tokens, bad
// HMACs, replayed join material, forged ADD_ADDR, out-of-window RST, MP_FASTCLOSE with a wrong
// key, DATA_ACK beyond what was sent, join floods: each refused or ignored, and counted.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PORT, SERVER, clientAddr, scenario, transfer } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import type { MiddleboxContext } from "../../adapters/memory/types.ts";
import { Endpoint } from "../../core/mptcp/endpoint.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum } from "../../core/wire/checksum.ts";
import { ipHeaderFor } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import { TCP_ACK, TCP_RST, TCP_SYN } from "../../core/wire/types.ts";
import type { TcpSegment } from "../../core/wire/types.ts";

const MiB = 1 << 20;
const LINK = { rateBps: 100e6, delayUs: 5_000, queueBytes: 250_000 };
const PM = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

function encode(src: Uint8Array, dst: Uint8Array, seg: TcpSegment): Uint8Array {
  const ip = ipHeaderFor(src, dst);
  const out = new Uint8Array(20 + 60 + seg.payload.length);
  const r = emitPacket(ip, seg, out, 0);
  assert.ok(r.ok);
  fillTcpChecksum(src, dst, out, r.value.tcpOffset, r.value.tcpLength);
  fillIpv4HeaderChecksum(out, r.value.ipOffset);
  return out.subarray(0, r.value.length);
}

/** A box that rewrites (once, or while `fn` says so) packets matching its predicate. */
function rewriter(fn: (seg: TcpSegment, ctx: MiddleboxContext) => boolean): FunctionBox & { hits: number } {
  const box = new FunctionBox("rewriter", (p, ctx) => {
    const r = parsePacket(p);
    if (!r.ok) return [p];
    const seg = r.value.tcp;
    if (!fn(seg, ctx)) return [p];
    box.hits++;
    return [encode(r.value.ip.src, r.value.ip.dst, seg)];
  }) as FunctionBox & { hits: number };
  box.hits = 0;
  return box;
}

function syn(token: number, sport: number, nonce = 1): TcpSegment {
  return {
    header: { srcPort: sport, dstPort: PORT, seq: 1000, ack: 0, flags: TCP_SYN, window: 65535, checksum: 0, urgent: 0, options: { mss: 1460, mptcp: [{ type: "mp_join_syn", backup: false, addressId: 3, token, nonce }] } },
    payload: new Uint8Array(0),
  };
}

describe("mptcp security", () => {
  it("MP_JOIN SYN with an unknown token: RST + MP_TCPRST, counted", () => {
    const ep = new Endpoint({ addresses: [{ address: SERVER }], random: new SeededRandomSource(1) });
    ep.listen(PORT);
    ep.handlePacket(0, encode(clientAddr(0), SERVER, syn(0xdeadbeef, 40000)));
    const t = ep.pollTransmit(0);
    assert.ok(t);
    const r = parsePacket(t.packet);
    assert.ok(r.ok);
    assert.ok(r.value.tcp.header.flags & TCP_RST);
    assert.deepEqual(r.value.tcp.header.options.mptcp, [{ type: "mp_tcprst", flags: 0, reason: 1 }]);
    assert.equal(ep.stats().MPJoinNoTokenFound, 1);
    assert.equal(ep.stats().MPRstTx, 1);
    assert.equal(ep.connections.length, 0);
  });

  it("MP_JOIN third ACK with a wrong HMAC (or a replayed one): subflow reset, counted; the connection goes on", () => {
    let replay: Uint8Array | undefined;
    const box = rewriter((seg) => {
      for (const o of seg.header.options.mptcp) {
        if (o.type === "mp_join_ack") {
          replay ??= o.hmac.slice();
          o.hmac[0] ^= 1; // a wrong HMAC on every third ACK of this path
          return true;
        }
      }
      return false;
    });
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    sc.paths[1]!.addMiddlebox(box);
    const r = transfer(sc, { up: 2 * MiB, down: 2 * MiB });
    assert.ok(r.okA && r.okB);
    const s = r.serverConn!.stats();
    assert.ok(s.counters.MPJoinAckHMacFailure >= 1);
    assert.ok(s.counters.MPRstTx >= 1);
    assert.equal(r.clientConn!.stats().subflows.filter((x) => x.dataBytesSent > 0).length, 1);
    assert.ok(r.clientEvents.some((e) => e.type === "subflowClosed" && e.peerResetReason === 1), "MP_TCPRST reason 1 (MPTCP error)");
    assert.ok(replay && replay.length === 20);
  });

  it("forged ADD_ADDR, forged MP_FASTCLOSE and a DATA_ACK beyond what was sent are ignored and counted", () => {
    let n = 0;
    const box = rewriter((seg, ctx) => {
      if (ctx.dir !== 1 || ctx.now < 100_000 || seg.payload.length > 0 || seg.header.flags & TCP_SYN) return false;
      n++;
      const dss = seg.header.options.mptcp.find((o) => o.type === "dss");
      if (n === 1) seg.header.options.mptcp.push({ type: "add_addr", echo: false, addressId: 9, address: new Uint8Array([198, 18, 9, 9]), hmac: new Uint8Array(8) });
      else if (n === 2) seg.header.options.mptcp.push({ type: "mp_fastclose", receiverKey: 0x1234n });
      else if (n === 3 && dss && dss.type === "dss" && dss.dataAck !== undefined) dss.dataAck += 1n << 40n;
      else return false;
      return true;
    });
    const sc = scenario({ paths: [LINK], clientConfig: { pathManager: { ...PM, addAddrAccepted: 8 } } });
    sc.paths[0]!.addMiddlebox(box);
    const r = transfer(sc, { up: 4 * MiB, down: 4 * MiB });
    assert.ok(r.okA && r.okB);
    const c = r.clientConn!.stats();
    assert.equal(c.counters.AddAddrDrop, 1);
    assert.equal(c.counters.AddAddr, 0);
    assert.equal(c.drops.BadFastcloseKey, 1);
    assert.equal(c.counters.MPFastcloseRx, 0);
    assert.equal(c.counters.MPDataAckBeyondSent, 1);
    assert.equal(r.clientConn!.closedReason, "normal");
  });

  it("an out-of-window RST is ignored", () => {
    let sent = false;
    const sc = scenario({ paths: [LINK] });
    const box = new FunctionBox("inject-rst", (p, ctx) => {
      const r = parsePacket(p);
      if (!sent && r.ok && ctx.dir === 1 && ctx.now > 200_000) {
        sent = true;
        const h = r.value.tcp.header;
        const rst: TcpSegment = { header: { ...h, seq: (h.seq + 0x40000000) >>> 0, flags: TCP_RST | TCP_ACK, options: { mptcp: [] } }, payload: new Uint8Array(0) };
        return [encode(r.value.ip.src, r.value.ip.dst, rst), p];
      }
      return [p];
    });
    sc.paths[0]!.addMiddlebox(box);
    const r = transfer(sc, { up: 4 * MiB, down: 4 * MiB });
    assert.ok(sent);
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.closedReason, "normal");
  });

  it("a flood of MP_JOIN SYNs with a valid token stays within the limits", () => {
    const sc = scenario({ paths: [LINK], serverConfig: { pathManager: PM } });
    let token = 0;
    sc.sim.at(50_000, (now) => {
      const conn = sc.server.endpoint.connections[0]!;
      token = conn.localToken;
      for (let i = 0; i < 200; i++) sc.server.endpoint.handlePacket(now, encode(new Uint8Array([198, 18, 50, 1 + (i % 200)]), SERVER, syn(token, 20000 + i, i)));
      sc.sim.poke(sc.server);
    });
    const r = transfer(sc, { up: 2 * MiB, down: 2 * MiB });
    assert.ok(r.okA && r.okB);
    const s = r.serverConn!.stats();
    assert.ok(token !== 0);
    assert.ok(s.counters.MPJoinRejected >= 200 - 8, `rejected ${s.counters.MPJoinRejected}`);
    assert.ok(s.subflows.length <= 8);
  });
});

describe("mptcp security: replay", () => {
  it("a replayed MP_JOIN (old SYN nonce and old third-ACK HMAC, new port) is reset and counted", () => {
    const A1 = new Uint8Array([198, 18, 1, 1]);
    const A2 = new Uint8Array([198, 18, 2, 1]);
    const PM2 = { subflows: 2, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
    const client = new Endpoint({ addresses: [{ address: A1 }, { address: A2, subflow: true }], random: new SeededRandomSource(3), config: { pathManager: PM2 } });
    const server = new Endpoint({ addresses: [{ address: SERVER }], random: new SeededRandomSource(4), config: { pathManager: PM2 } });
    server.listen(PORT);
    let now = 0;
    let joinSyn: Uint8Array | undefined;
    let joinAck: Uint8Array | undefined;
    const fromServer: Uint8Array[] = [];
    const pump = (): void => {
      for (let round = 0; round < 100; round++) {
        let moved = false;
        let t;
        while ((t = client.pollTransmit(now)) !== undefined) {
          const r = parsePacket(t.packet);
          if (r.ok && r.value.tcp.header.options.mptcp.some((o) => o.type === "mp_join_syn")) joinSyn ??= t.packet.slice();
          if (r.ok && r.value.tcp.header.options.mptcp.some((o) => o.type === "mp_join_ack")) joinAck ??= t.packet.slice();
          server.handlePacket(now, t.packet);
          moved = true;
        }
        while ((t = server.pollTransmit(now)) !== undefined) {
          fromServer.push(t.packet);
          client.handlePacket(now, t.packet);
          moved = true;
        }
        now += 1000;
        if (!moved) break;
      }
    };
    const c = client.connect(now, SERVER, PORT, { localAddress: A1 });
    pump();
    c.write(now, new Uint8Array(100)); // the server's DSS confirms MPTCP; the join follows
    pump();
    pump();
    assert.ok(joinSyn && joinAck, "a join happened");
    const sconn = server.connections[0]!;
    assert.equal(sconn.stats().subflows.length, 2);
    // Replay the SYN from a new source port: the server answers with a fresh nonce.
    const rs = parsePacket(joinSyn);
    assert.ok(rs.ok);
    const syn = rs.value.tcp;
    syn.header.srcPort = 40404;
    fromServer.length = 0;
    server.handlePacket(now, encode(rs.value.ip.src, rs.value.ip.dst, syn));
    let t;
    while ((t = server.pollTransmit(now)) !== undefined) fromServer.push(t.packet);
    const synack = fromServer.map((p) => parsePacket(p)).find((r) => r.ok && r.value.tcp.header.dstPort === 40404);
    assert.ok(synack && synack.ok && synack.value.tcp.header.options.mptcp.some((o) => o.type === "mp_join_synack"));
    // Replay the old third ACK (old HMAC), acknowledging the new SYN/ACK as an on-path attacker would.
    const ra = parsePacket(joinAck);
    assert.ok(ra.ok);
    const ack = ra.value.tcp;
    ack.header.srcPort = 40404;
    ack.header.seq = (syn.header.seq + 1) >>> 0;
    ack.header.ack = (synack.value.tcp.header.seq + 1) >>> 0;
    const before = sconn.counters.MPJoinAckHMacFailure;
    server.handlePacket(now, encode(ra.value.ip.src, ra.value.ip.dst, ack));
    const out: Uint8Array[] = [];
    while ((t = server.pollTransmit(now)) !== undefined) out.push(t.packet);
    assert.equal(sconn.counters.MPJoinAckHMacFailure, before + 1);
    const rst = out.map((p) => parsePacket(p)).find((r) => r.ok && r.value.tcp.header.dstPort === 40404 && (r.value.tcp.header.flags & TCP_RST) !== 0);
    assert.ok(rst && rst.ok, "RST sent to the replayed join");
    assert.ok(rst.value.tcp.header.options.mptcp.some((o) => o.type === "mp_tcprst" && o.reason === 1));
    assert.equal(sconn.liveSubflows.length, 2, "the real subflows are untouched");
  });
});
