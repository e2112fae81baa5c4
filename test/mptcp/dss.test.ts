// DSS details over the simulator (RFC 8684 sections 3.1, 3.3): the unreliable third ACK,
// 32-bit DSNs and DATA_ACKs from the peer, the C flag, ADD_ADDR floods within the limits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenario, transfer } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum } from "../../core/wire/checksum.ts";
import { ipHeaderFor } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";

const MiB = 1 << 20;
const LINK = { rateBps: 100e6, delayUs: 5_000, queueBytes: 250_000 };
const PM = { subflows: 4, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

function reencode(p: Uint8Array, edit: (opts: ReturnType<typeof parsePacket> & { ok: true }) => boolean): Uint8Array {
  const r = parsePacket(p);
  if (!r.ok || !edit(r)) return p;
  const { ip, tcp } = r.value;
  const out = new Uint8Array(p.length + 40);
  const e = emitPacket(ip.version === 4 ? ipHeaderFor(ip.src, ip.dst) : ip, tcp, out, 0);
  if (!e.ok) return p;
  fillTcpChecksum(ip.src, ip.dst, out, e.value.tcpOffset, e.value.tcpLength);
  fillIpv4HeaderChecksum(out, e.value.ipOffset);
  return out.subarray(0, e.value.length);
}

describe("mptcp DSS and handshake details", () => {
  it("the pure third ACK (MP_CAPABLE with both keys) is lost: the next ACK repeats it, MPTCP continues", () => {
    let dropped = 0;
    const sc = scenario({ paths: [LINK] });
    sc.paths[0]!.addMiddlebox(
      new FunctionBox("drop-ack3", (p) => {
        const r = parsePacket(p);
        if (r.ok && dropped === 0 && r.value.tcp.payload.length === 0 && r.value.tcp.header.options.mptcp.some((o) => o.type === "mp_capable" && o.receiverKey !== undefined)) {
          dropped++;
          return [];
        }
        return [p];
      }),
    );
    // The client only receives first: nothing of its own carries the keys but its ACKs.
    const r = transfer(sc, { up: 0, down: 2 * MiB });
    assert.equal(dropped, 1);
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.isMptcp, true);
    assert.equal(r.serverConn!.isMptcp, true);
    assert.equal(r.serverConn!.counters.MPCapableACKRX, 1);
  });

  it("32-bit DSNs and DATA_ACKs from the peer are expanded against the 64-bit values", () => {
    let converted = 0;
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    for (const link of sc.paths) {
      link.addMiddlebox(
        new FunctionBox("dss32", (p, ctx) => {
          if (ctx.dir !== 1) return [p]; // server -> client only
          return [
            reencode(p, (r) => {
              let hit = false;
              for (const o of r.value.tcp.header.options.mptcp) {
                if (o.type !== "dss") continue;
                if (o.dataAck !== undefined && o.ack64 !== false) {
                  o.dataAck &= 0xffffffffn;
                  o.ack64 = false;
                  hit = true;
                }
                if (o.mapping && o.mapping.dsn64) {
                  o.mapping.dsn &= 0xffffffffn;
                  o.mapping.dsn64 = false;
                  hit = true;
                }
              }
              if (hit) converted++;
              return hit;
            }),
          ];
        }),
      );
    }
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(converted > 1000);
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.stats().counters.MPDataAckBeyondSent, 0);
    assert.equal(r.clientConn!.isMptcp, true);
  });

  it("the C flag: the client opens no subflow to the server's initial address", () => {
    const sc = scenario({ paths: [LINK, LINK], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM, noInitialJoin: true } });
    const r = transfer(sc, { up: 2 * MiB, down: 2 * MiB });
    assert.ok(r.okA && r.okB);
    assert.equal(r.clientConn!.stats().subflows.length, 1);
    assert.equal(r.clientConn!.counters.MPJoinSynTx, 0);
  });

  it("a flood of (valid) ADD_ADDR stays within the limits: at most 8 remembered, add_addr_accepted joins", () => {
    const sc = scenario({ paths: [LINK], clientConfig: { pathManager: { ...PM, addAddrAccepted: 1 } }, serverConfig: { pathManager: PM } });
    sc.sim.at(100_000, (now) => {
      const s = sc.server.endpoint.connections[0]!;
      for (let i = 0; i < 40; i++) s.announceAddress(now, 10 + i, new Uint8Array([198, 18, 102, 1 + i]));
      sc.sim.poke(sc.server);
    });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    const c = r.clientConn!;
    assert.ok(c.counters.AddAddr >= 8, `AddAddr ${c.counters.AddAddr}`);
    assert.ok(c.remoteAddrs.length <= 8);
    assert.ok(c.stats().subflows.length <= 2, "one join at most (add_addr_accepted 1)");
    assert.ok((c.stats().drops.AddAddrLimit ?? 0) > 0);
  });
});
