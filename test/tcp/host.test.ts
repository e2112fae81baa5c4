// TcpHost (core/tcp/host.ts) at the byte level: RST to segments for closed ports (RFC 9293
// 3.10.7.1 and 3.10.7.2), TIME-WAIT reuse by a new SYN (RFC 9293 3.6.1, RFC 6191, as Linux's
// tcp_timewait_state_process), and a transfer over IPv6.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TcpHost } from "../../core/tcp/host.ts";
import type { TcpHostConnection } from "../../core/tcp/host.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum, verifyTcpChecksum } from "../../core/wire/checksum.ts";
import { ipHeaderFor } from "../../core/wire/ip.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import type { Packet } from "../../core/wire/packet.ts";
import { seqAdd } from "../../core/wire/seq.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from "../../core/wire/types.ts";
import type { IpAddress, TcpOptions, TcpSegment } from "../../core/wire/types.ts";
import { Prng, randomBytes } from "./helpers.ts";
import { ADDR6_A, ADDR6_B, ADDR_A, ADDR_B, simTransfer } from "./sim_helpers.ts";

function packet(src: IpAddress, dst: IpAddress, h: { sport: number; dport: number; seq: number; ack?: number; flags: number; options?: Partial<TcpOptions> }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const seg: TcpSegment = {
    header: { srcPort: h.sport, dstPort: h.dport, seq: h.seq >>> 0, ack: (h.ack ?? 0) >>> 0, flags: h.flags, window: 65535, checksum: 0, urgent: 0, options: { mptcp: [], ...h.options } },
    payload,
  };
  const ip = ipHeaderFor(src, dst);
  const out = new Uint8Array(100 + payload.length);
  const r = emitPacket(ip, seg, out, 0);
  assert.ok(r.ok);
  fillTcpChecksum(src, dst, out, r.value.tcpOffset, r.value.tcpLength);
  if (src.length === 4) fillIpv4HeaderChecksum(out, r.value.ipOffset);
  return out.subarray(0, r.value.length);
}

function parse(p: Uint8Array): Packet {
  const r = parsePacket(p);
  assert.ok(r.ok, "host output parses");
  assert.ok(verifyTcpChecksum(r.value.ip.src, r.value.ip.dst, p, r.value.tcpOffset, r.value.tcpLength), "valid TCP checksum");
  return r.value;
}

function drain(h: TcpHost, now: number): Packet[] {
  const out: Packet[] = [];
  let p: Uint8Array | undefined;
  while ((p = h.pollTransmit(now)) !== undefined) out.push(parse(p));
  return out;
}

describe("tcp host", () => {
  for (const [fam, local, peer] of [["IPv4", ADDR_B, ADDR_A], ["IPv6", ADDR6_B, ADDR6_A]] as const) {
    it(`${fam}: RST to segments for closed ports (RFC 9293 3.10.7.1), none to a RST`, () => {
      const h = new TcpHost({ address: local, random: new Prng(1) });
      const rst = (pkt: Uint8Array): Packet | undefined => {
        h.handlePacket(0, pkt);
        const out = drain(h, 0);
        assert.ok(out.length <= 1);
        return out[0];
      };
      // No ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting SYN and FIN.
      let r = rst(packet(peer, local, { sport: 40000, dport: 81, seq: 0xfffffff0, flags: TCP_SYN }))!;
      assert.deepEqual([r.tcp.header.flags, r.tcp.header.seq, r.tcp.header.ack], [TCP_RST | TCP_ACK, 0, 0xfffffff1]);
      assert.deepEqual([r.tcp.header.srcPort, r.tcp.header.dstPort, r.tcp.payload.length], [81, 40000, 0]);
      assert.deepEqual([...r.ip.src, ...r.ip.dst], [...local, ...peer]);
      r = rst(packet(peer, local, { sport: 40000, dport: 81, seq: 0xfffffffa, flags: TCP_FIN | TCP_PSH }, randomBytes(10, 1)))!;
      assert.deepEqual([r.tcp.header.flags, r.tcp.header.seq, r.tcp.header.ack], [TCP_RST | TCP_ACK, 0, 5], "10 bytes + FIN, wrapping");
      r = rst(packet(peer, local, { sport: 40000, dport: 81, seq: 1000, flags: TCP_SYN | TCP_FIN }, randomBytes(3, 2)))!;
      assert.equal(r.tcp.header.ack, 1005);
      // ACK bit on: <SEQ=SEG.ACK><CTL=RST>, no ACK.
      r = rst(packet(peer, local, { sport: 40000, dport: 81, seq: 1000, ack: 777_777, flags: TCP_ACK | TCP_PSH }, randomBytes(100, 3)))!;
      assert.deepEqual([r.tcp.header.flags, r.tcp.header.seq, r.tcp.header.ack], [TCP_RST, 777_777, 0]);
      r = rst(packet(peer, local, { sport: 40000, dport: 81, seq: 1000, ack: 5, flags: TCP_ACK | TCP_FIN }))!;
      assert.deepEqual([r.tcp.header.flags, r.tcp.header.seq], [TCP_RST, 5]);
      // A RST is never answered.
      assert.equal(rst(packet(peer, local, { sport: 40000, dport: 81, seq: 1000, flags: TCP_RST })), undefined);
      assert.equal(rst(packet(peer, local, { sport: 40000, dport: 81, seq: 1000, ack: 9, flags: TCP_RST | TCP_ACK })), undefined);
      // A listening port (RFC 9293 3.10.7.2): an ACK gets <SEQ=SEG.ACK><CTL=RST>; a segment with
      // neither SYN nor ACK is dropped.
      h.listen(80);
      r = rst(packet(peer, local, { sport: 40000, dport: 80, seq: 1000, ack: 4242, flags: TCP_SYN | TCP_ACK }))!;
      assert.deepEqual([r.tcp.header.flags, r.tcp.header.seq], [TCP_RST, 4242]);
      assert.equal(rst(packet(peer, local, { sport: 40000, dport: 80, seq: 1000, flags: TCP_FIN }, randomBytes(5, 4))), undefined);
      const st = h.stats();
      assert.equal(st.rstSent, 6);
      assert.equal(st.drops.NoListener, 7);
      assert.equal(st.drops.NoAck, 1);
      assert.equal(h.connections.length, 0);
    });
  }

  /**
   * Client 198.18.0.1:40000 -> server 198.18.0.2:80; the server closes first, so the server's
   * side of the 4-tuple sits in TIME-WAIT. Returns the server host, its old connection, and the
   * client's last SEG.SEQ / TSval (what the server saw last).
   */
  function serverInTimeWait(config: Partial<TcpConfig>): { b: TcpHost; old: TcpHostConnection; now: number; lastSeq: number; lastTs: number | undefined } {
    const a = new TcpHost({ address: ADDR_A, random: new Prng(11), config });
    const b = new TcpHost({ address: ADDR_B, random: new Prng(12), config });
    b.listen(80);
    let now = 0;
    let lastSeq = 0;
    let lastTs: number | undefined;
    const pump = (): void => {
      for (let i = 0; i < 1000; i++) {
        let moved = false;
        let p: Uint8Array | undefined;
        while ((p = a.pollTransmit(now)) !== undefined) {
          const q = parse(p);
          lastSeq = q.tcp.header.seq;
          lastTs = q.tcp.header.options.timestamp?.val;
          b.handlePacket(now, p);
          moved = true;
        }
        while ((p = b.pollTransmit(now)) !== undefined) {
          a.handlePacket(now, p);
          moved = true;
        }
        now += 1000;
        const t = Math.min(a.pollTimeout() ?? Infinity, b.pollTimeout() ?? Infinity);
        if (t <= now) {
          a.handleTimeout(now);
          b.handleTimeout(now);
          moved = true;
        }
        if (!moved) return;
      }
    };
    const c = a.connect(now, ADDR_B, 80, { localPort: 40000 });
    pump();
    const s = b.pollAccept(80)!;
    assert.equal(s.conn.state, "ESTABLISHED");
    assert.equal(c.conn.write(randomBytes(5000, 1)), 5000);
    pump();
    s.conn.shutdown();
    pump();
    c.conn.shutdown();
    pump();
    assert.equal(s.conn.state, "TIME_WAIT");
    assert.equal(c.conn.state, "CLOSED");
    return { b, old: s, now, lastSeq, lastTs };
  }

  const cases: Array<{ name: string; ts: boolean; dSeq: number; dTs: number; reuse: boolean }> = [
    { name: "higher ISN and newer timestamp", ts: true, dSeq: 100_000, dTs: 5, reuse: true },
    { name: "lower ISN, newer timestamp (RFC 6191)", ts: true, dSeq: -100_000, dTs: 5, reuse: true },
    { name: "higher ISN, timestamp older than TS.Recent (PAWS)", ts: true, dSeq: 100_000, dTs: -5, reuse: false },
    { name: "lower ISN, same timestamp", ts: true, dSeq: -100_000, dTs: 0, reuse: false },
    { name: "no timestamps, higher ISN", ts: false, dSeq: 100_000, dTs: 0, reuse: true },
    { name: "no timestamps, lower ISN", ts: false, dSeq: -100_000, dTs: 0, reuse: false },
  ];
  for (const k of cases) {
    it(`TIME-WAIT reuse by a new SYN: ${k.name} -> ${k.reuse ? "new connection" : "challenge ACK, TIME-WAIT kept"}`, () => {
      const { b, old, now, lastSeq, lastTs } = serverInTimeWait({ timestamps: k.ts, timeWaitUs: 60_000_000 });
      const oldSndNxt = old.conn.sendNext;
      const rcvNxt = old.conn.receiveNext;
      assert.equal(lastSeq, seqAdd(rcvNxt, -1), "the client's last segment was its FIN");
      const isn = seqAdd(rcvNxt, k.dSeq);
      const opts: Partial<TcpOptions> = { mss: 1460, wscale: 7, sackPermitted: true };
      if (k.ts) opts.timestamp = { val: (lastTs! + k.dTs) >>> 0, ecr: 0 };
      const t = now + 1_000_000;
      b.handlePacket(t, packet(ADDR_A, ADDR_B, { sport: 40000, dport: 80, seq: isn, flags: TCP_SYN, options: opts }));
      const out = drain(b, t);
      assert.equal(out.length, 1);
      const r = out[0]!.tcp.header;
      if (!k.reuse) {
        assert.equal(b.stats().timeWaitReused, 0);
        assert.equal(old.conn.state, "TIME_WAIT");
        assert.deepEqual([r.flags, r.seq, r.ack], [TCP_ACK, oldSndNxt, rcvNxt], "an ACK for the old connection");
        return;
      }
      assert.equal(b.stats().timeWaitReused, 1);
      assert.equal(old.conn.state, "CLOSED");
      assert.ok(old.events.some((e) => e.type === "closed" && e.reason === "aborted"), "the old connection's close is reported");
      // SYN/ACK of the new connection, its ISN above the old SND.NXT (Linux: + 65535 + 2).
      assert.deepEqual([r.flags, r.seq, r.ack], [TCP_SYN | TCP_ACK, seqAdd(oldSndNxt, 65537), seqAdd(isn, 1)]);
      const ack: Partial<TcpOptions> = k.ts ? { timestamp: { val: (lastTs! + k.dTs + 1) >>> 0, ecr: out[0]!.tcp.header.options.timestamp!.val } } : {};
      b.handlePacket(t + 1000, packet(ADDR_A, ADDR_B, { sport: 40000, dport: 80, seq: seqAdd(isn, 1), ack: seqAdd(r.seq, 1), flags: TCP_ACK, options: ack }, new TextEncoder().encode("hello")));
      drain(b, t + 1000);
      const n = b.pollAccept(80)!;
      assert.ok(n && n !== old);
      assert.equal(n.conn.state, "ESTABLISHED");
      const buf = new Uint8Array(16);
      assert.equal(new TextDecoder().decode(buf.subarray(0, n.conn.read(buf))), "hello");
      assert.equal(b.connections.length, 1);
    });
  }

  it("IPv6: 8 MiB byte-exact between two hosts (40-byte IP header: MSS 1428 with timestamps)", () => {
    const r = simTransfer({ bytes: 8 << 20, link: { rateBps: 1e9, delayUs: 1_000, lossRate: 0.01 }, seed: 9, ipv6: true });
    assert.ok(r.ok, `mismatch at ${r.mismatchAt}, got ${r.received}`);
    assert.equal(r.sender.sndMss, 1500 - 40 - 20 - 12);
    assert.ok(r.sender.retransSegments > 0, "loss was repaired");
    assert.equal(r.ab.dropped.loss, r.sender.retransSegments - r.sender.spuriousRetransmits);
  });
});
