import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TcpConnection, TcpTimer } from "../../core/tcp/connection.ts";
import { InvalidStateError } from "../../core/errors.ts";
import { TCP_ACK, TCP_RST, TCP_SYN } from "../../core/wire/types.ts";
import type { TcpSegment } from "../../core/wire/types.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";
import { concat, copySeg, equalBytes, Pair, Prng, randomBytes, transfer } from "./helpers.ts";

function closedReason(p: Pair, side: "a" | "b"): string | undefined {
  const e = p[side].events.find((x) => x.type === "closed");
  return e && e.type === "closed" ? e.reason : undefined;
}

describe("tcp state machine", () => {
  it("orderly close: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED, LAST_ACK -> CLOSED", () => {
    const p = new Pair({ config: { timeWaitUs: 1_000_000 }, link: { delayUs: 1000 } });
    assert.ok(p.connect());
    p.a.conn.shutdown();
    assert.equal(p.a.conn.state, "FIN_WAIT_1");
    p.runUntil(() => p.a.conn.state === "FIN_WAIT_2", 1_000_000);
    assert.equal(p.b.conn.state, "CLOSE_WAIT");
    assert.ok(p.b.events.some((e) => e.type === "peerFin"));
    p.b.conn.shutdown();
    assert.equal(p.b.conn.state, "LAST_ACK");
    p.runUntil(() => p.a.conn.state === "TIME_WAIT", 1_000_000);
    p.runUntil(() => p.b.conn.state === "CLOSED", 1_000_000);
    assert.equal(closedReason(p, "b"), "normal");
    const t0 = p.now;
    p.runUntil(() => p.a.conn.state === "CLOSED", 5_000_000);
    assert.ok(p.now - t0 >= 900_000, "TIME-WAIT lasted its configured duration");
    assert.equal(closedReason(p, "a"), "normal");
  });

  it("simultaneous open: both SYN_SENT -> SYN_RECEIVED -> ESTABLISHED", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    p.a.conn.connect(0);
    p.b.conn.connect(0);
    p.runUntil(() => p.a.conn.state === "ESTABLISHED" && p.b.conn.state === "ESTABLISHED", 5_000_000);
    assert.equal(p.a.conn.state, "ESTABLISHED");
    assert.equal(p.b.conn.state, "ESTABLISHED");
    const d1 = randomBytes(50_000, 1);
    const d2 = randomBytes(30_000, 2);
    assert.equal(p.a.conn.write(d1), d1.length);
    assert.equal(p.b.conn.write(d2), d2.length);
    p.runUntil(() => p.b.receivedBytes === d1.length && p.a.receivedBytes === d2.length, 5_000_000);
    assert.ok(equalBytes(concat(p.b.received), d1));
    assert.ok(equalBytes(concat(p.a.received), d2));
  });

  it("simultaneous close: both FIN_WAIT_1 -> CLOSING -> TIME_WAIT", () => {
    const p = new Pair({ link: { delayUs: 1000 }, config: { timeWaitUs: 100_000 } });
    assert.ok(p.connect());
    p.a.conn.shutdown();
    p.b.conn.shutdown();
    const seen = new Set<string>();
    p.runUntil(() => {
      seen.add(p.a.conn.state);
      seen.add(p.b.conn.state);
      return p.a.conn.state === "TIME_WAIT" && p.b.conn.state === "TIME_WAIT";
    }, 2_000_000);
    assert.ok(seen.has("CLOSING"));
    assert.equal(p.a.conn.state, "TIME_WAIT");
    p.runUntil(() => p.a.conn.state === "CLOSED" && p.b.conn.state === "CLOSED", 1_000_000);
    assert.equal(closedReason(p, "a"), "normal");
  });

  it("half-close: data keeps flowing towards the side that sent FIN", () => {
    const p = new Pair({ link: { delayUs: 2000 } });
    assert.ok(p.connect());
    p.a.conn.shutdown();
    p.runUntil(() => p.b.conn.state === "CLOSE_WAIT", 1_000_000);
    const d = randomBytes(300_000, 5);
    let off = 0;
    p.app = (pp) => {
      if (off < d.length) off += pp.b.conn.write(d.subarray(off));
    };
    p.runUntil(() => p.a.receivedBytes === d.length, 10_000_000);
    assert.ok(equalBytes(concat(p.a.received), d));
    assert.equal(p.a.conn.state, "FIN_WAIT_2");
    p.b.conn.close();
    p.runUntil(() => p.b.conn.state === "CLOSED", 1_000_000);
    assert.equal(p.a.conn.state, "TIME_WAIT");
  });

  it("bidirectional transfer at once", () => {
    const p = new Pair({ link: { delayUs: 3000, loss: 0.01 }, seed: 11 });
    assert.ok(p.connect());
    const d1 = randomBytes(400_000, 1);
    const d2 = randomBytes(300_000, 2);
    let o1 = 0;
    let o2 = 0;
    p.app = (pp) => {
      if (o1 < d1.length) o1 += pp.a.conn.write(d1.subarray(o1));
      if (o2 < d2.length) o2 += pp.b.conn.write(d2.subarray(o2));
    };
    p.runUntil(() => p.b.receivedBytes === d1.length && p.a.receivedBytes === d2.length, 60_000_000);
    assert.ok(equalBytes(concat(p.b.received), d1));
    assert.ok(equalBytes(concat(p.a.received), d2));
  });

  it("RST in every state closes with 'reset' only when exactly at RCV.NXT (RFC 5961)", () => {
    const states = ["SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"] as const;
    for (const target of states) {
      const p = new Pair({ link: { delayUs: 1000 } });
      const c = target === "SYN_RECEIVED" || target === "CLOSE_WAIT" || target === "LAST_ACK" ? p.b.conn : p.a.conn;
      // Capture the last segment c received so we know RCV.NXT.
      let lastFromPeer: TcpSegment | undefined;
      let lastFromC: TcpSegment | undefined;
      const toC = c === p.a.conn ? p.ba : p.ab;
      const fromC = c === p.a.conn ? p.ab : p.ba;
      toC.filter = (s) => {
        lastFromPeer = s;
        return !(target === "SYN_RECEIVED" && (s.header.flags & (TCP_SYN | TCP_ACK)) === TCP_ACK);
      };
      fromC.filter = (s) => {
        lastFromC = s;
        // Hold the FIN's ACK to stay in FIN_WAIT_1 / CLOSING / LAST_ACK.
        return !((target === "FIN_WAIT_1" || target === "CLOSING" || target === "LAST_ACK") && (s.header.flags & 1) !== 0);
      };
      p.b.conn.listen();
      p.a.conn.connect(0);
      if (target === "SYN_RECEIVED") {
        p.runUntil(() => p.b.conn.state === "SYN_RECEIVED" && p.a.conn.state === "ESTABLISHED", 1_000_000);
      } else {
        p.runUntil(() => p.a.conn.state === "ESTABLISHED" && p.b.conn.state === "ESTABLISHED", 1_000_000);
        if (target === "FIN_WAIT_1" || target === "FIN_WAIT_2" || target === "TIME_WAIT") p.a.conn.shutdown();
        if (target === "TIME_WAIT") {
          p.runUntil(() => p.a.conn.state === "FIN_WAIT_2", 1_000_000);
          p.b.conn.shutdown();
        }
        if (target === "CLOSE_WAIT" || target === "LAST_ACK") p.a.conn.shutdown();
        if (target === "LAST_ACK") p.runUntil(() => p.b.conn.state === "CLOSE_WAIT", 1_000_000) && p.b.conn.shutdown();
        if (target === "CLOSING") {
          p.a.conn.shutdown();
          p.b.conn.shutdown();
        }
      }
      p.runUntil(() => c.state === target, 1_000_000);
      assert.equal(c.state, target, `reached ${target}`);
      void lastFromC;
      // Expected RCV.NXT: after the last segment the peer sent to c.
      const ls = lastFromPeer!;
      const flen = (ls.header.flags & TCP_SYN ? 1 : 0) + (ls.header.flags & 1 ? 1 : 0) + ls.payload.length;
      const rcvNxt = (ls.header.seq + flen) >>> 0;
      const mk = (seq: number): TcpSegment => ({
        header: { srcPort: c.remotePort, dstPort: c.localPort, seq, ack: 0, flags: TCP_RST, window: 0, checksum: 0, urgent: 0, options: { mptcp: [] } },
        payload: new Uint8Array(0),
      });
      const before = c.stats().challengeAcks;
      c.handleSegment(p.now, mk((rcvNxt + 10) >>> 0)); // in window, not exact: challenge ACK
      assert.equal(c.state, target, `${target}: in-window RST ignored`);
      assert.equal(c.stats().challengeAcks, before + 1, `${target}: challenge ACK`);
      const ch = c.pollTransmit(p.now);
      assert.ok(ch && ch.header.flags & TCP_ACK && !(ch.header.flags & TCP_RST), `${target}: challenge ACK sent`);
      c.handleSegment(p.now, mk((rcvNxt + 0x40000000) >>> 0)); // out of window: dropped
      assert.equal(c.state, target);
      c.handleSegment(p.now, mk(rcvNxt));
      assert.equal(c.state, "CLOSED", `${target}: exact RST resets`);
      const ev = [];
      let e;
      while ((e = c.pollEvent())) ev.push(e);
      assert.ok(ev.some((x) => x.type === "closed" && x.reason === "reset"), `${target}: closed by reset`);
    }
  });

  it("RST answering our SYN: refused; SYN_SENT ignores RST without ACK", () => {
    const c = new TcpConnection({ localPort: 1, remotePort: 2, random: new Prng(1) });
    c.connect(0);
    const syn = c.pollTransmit(0)!;
    assert.equal(syn.header.flags, TCP_SYN);
    const rst = (flags: number, ack: number): TcpSegment => ({
      header: { srcPort: 2, dstPort: 1, seq: 0, ack, flags, window: 0, checksum: 0, urgent: 0, options: { mptcp: [] } },
      payload: new Uint8Array(0),
    });
    c.handleSegment(1, rst(TCP_RST, 0));
    assert.equal(c.state, "SYN_SENT");
    c.handleSegment(1, rst(TCP_RST | TCP_ACK, (syn.header.seq + 5) >>> 0)); // unacceptable ACK
    assert.equal(c.state, "SYN_SENT");
    c.handleSegment(1, rst(TCP_RST | TCP_ACK, (syn.header.seq + 1) >>> 0));
    assert.equal(c.state, "CLOSED");
    assert.equal(c.closedReason, "refused");
  });

  it("abort() sends RST and the peer closes with reset", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    p.a.conn.abort();
    assert.equal(p.a.conn.state, "CLOSED");
    p.runUntil(() => p.b.conn.state === "CLOSED", 1_000_000);
    assert.equal(closedReason(p, "b"), "reset");
    assert.equal(closedReason(p, "a"), "aborted");
  });

  it("SYN in ESTABLISHED gets a challenge ACK (RFC 5961 section 4)", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    const c = p.b.conn;
    c.handleSegment(p.now, {
      header: { srcPort: 40000, dstPort: 80, seq: 12345, ack: 0, flags: TCP_SYN, window: 1000, checksum: 0, urgent: 0, options: { mptcp: [] } },
      payload: new Uint8Array(0),
    });
    assert.equal(c.state, "ESTABLISHED");
    assert.equal(c.stats().challengeAcks, 1);
  });

  function synTimes(config: Partial<TcpConfig>): { times: number[]; closedAt: number; c: TcpConnection } {
    const c = new TcpConnection({ localPort: 1, remotePort: 2, random: new Prng(1), config });
    c.connect(0);
    const times: number[] = [];
    let now = 0;
    for (let i = 0; i < 20 && c.state !== "CLOSED"; i++) {
      while (c.pollTransmit(now)) times.push(now);
      const t = c.pollTimeout();
      if (t === undefined) break;
      now = t;
      c.handleTimeout(now);
    }
    return { times, closedAt: now, c };
  }

  it("SYN retransmission with exponential backoff, then timeout", () => {
    const { times, closedAt, c } = synTimes({ synRetries: 3, synLinearTimeouts: 0 });
    assert.deepEqual(times, [0, 1_000_000, 3_000_000, 7_000_000]);
    assert.equal(closedAt, 15_000_000);
    assert.equal(c.state, "CLOSED");
    assert.equal(c.closedReason, "timeout");
  });

  it("SYN retransmission: linear timeouts first (Linux 6.18 tcp_syn_linear_timeouts = 4), then exponential", () => {
    const { times, closedAt, c } = synTimes({});
    assert.deepEqual(times.map((t) => t / 1e6), [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    assert.equal(closedAt, 131_000_000);
    assert.equal(c.closedReason, "timeout");
  });

  it("early handleTimeout is a no-op; API misuse throws typed errors", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    const before = JSON.stringify(p.a.conn.stats());
    p.a.conn.handleTimeout(p.now);
    assert.equal(JSON.stringify(p.a.conn.stats()), before);
    assert.throws(() => p.a.conn.connect(p.now), InvalidStateError);
    p.a.conn.shutdown();
    assert.throws(() => p.a.conn.write(new Uint8Array(1)), InvalidStateError);
  });

  it("close() with unread data answers RST (RFC 1122 4.2.2.13)", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    p.autoRead = false;
    assert.ok(p.connect());
    p.a.conn.write(randomBytes(1000, 1));
    p.runUntil(() => p.b.conn.readable === 1000, 1_000_000);
    p.b.conn.close();
    assert.equal(p.b.conn.closedReason, "aborted");
    p.runUntil(() => p.a.conn.state === "CLOSED", 1_000_000);
    assert.equal(closedReason(p, "a"), "reset");
  });

  it("zero window: persist probes until the reader drains, then the stream completes", () => {
    const p = new Pair({ link: { delayUs: 2000 }, configB: { receiveBufferSize: 20_000 } });
    p.autoRead = false;
    assert.ok(p.connect());
    const d = randomBytes(100_000, 3);
    let off = 0;
    p.app = (pp) => {
      if (off < d.length) off += pp.a.conn.write(d.subarray(off));
    };
    p.runFor(3_000_000);
    // The window is the share of the 20 000-byte buffer Linux leaves after its per-segment
    // overhead (tcp_adv_win_scale / scaling ratio): 8 segments of 1448 bytes here.
    assert.equal(p.b.conn.readable, 8 * 1448);
    assert.equal(p.a.conn.stats().sndWnd, 0);
    assert.ok(p.a.conn.stats().zeroWindowProbes >= 2, `probes ${p.a.conn.stats().zeroWindowProbes}`);
    assert.ok(p.a.conn.timerDeadline(TcpTimer.Persist) !== undefined);
    p.autoRead = true;
    p.drainRead(p.b);
    p.runUntil(() => p.b.receivedBytes === d.length, 60_000_000);
    assert.ok(equalBytes(concat(p.b.received), d));
  });

  it("NewReno (no SACK) recovers from loss byte-exactly", () => {
    const p = new Pair({ seed: 5, link: { delayUs: 5000, loss: 0.02 }, config: { sack: false } });
    assert.ok(p.connect());
    const d = randomBytes(1 << 20, 4);
    assert.ok(transfer(p, d, 600_000_000));
    assert.ok(equalBytes(concat(p.b.received), d));
    const s = p.a.conn.stats();
    assert.ok(s.fastRetransmits > 0, "fast retransmit used");
    assert.equal(s.sackBlocksIn, 0);
  });

  it("keepalive probes an idle peer and times out when it is gone", () => {
    const cfg = { keepalive: true, keepaliveIdleUs: 10_000_000, keepaliveIntervalUs: 1_000_000, keepaliveProbes: 3 };
    const p = new Pair({ link: { delayUs: 1000 }, config: cfg });
    assert.ok(p.connect());
    p.runFor(25_000_000);
    assert.equal(p.a.conn.state, "ESTABLISHED");
    assert.ok(p.a.conn.stats().keepaliveProbes >= 2);
    p.ba.filter = () => false; // the peer vanishes
    p.ab.filter = () => false;
    p.runUntil(() => p.a.conn.state === "CLOSED", 60_000_000);
    assert.equal(p.a.conn.closedReason, "timeout");
  });

  it("user timeout aborts when data stays unacknowledged", () => {
    const p = new Pair({ link: { delayUs: 1000 }, configA: { userTimeoutUs: 5_000_000 } });
    assert.ok(p.connect());
    p.ab.filter = () => false;
    p.a.conn.write(randomBytes(10_000, 1));
    const t0 = p.now;
    p.runUntil(() => p.a.conn.state === "CLOSED", 60_000_000);
    assert.equal(p.a.conn.closedReason, "timeout");
    assert.ok(p.now - t0 >= 5_000_000 && p.now - t0 < 6_000_000, `after ${p.now - t0}`);
  });

  it("delayed ACK: one ACK per two segments, or after 40 ms", () => {
    const p = new Pair({ link: { delayUs: 1000 }, config: { quickAckSegments: 0 } });
    assert.ok(p.connect());
    // The first data opens B's scaled window (an immediate window update); then settle.
    p.a.conn.write(randomBytes(1000, 1));
    p.runFor(200_000);
    const d0 = p.b.conn.stats().delayedAcks;
    const sent0 = p.b.conn.stats().segmentsOut;
    const t0 = p.now;
    p.a.conn.write(randomBytes(1000, 2));
    p.runUntil(() => p.b.conn.stats().segmentsOut > sent0, 1_000_000);
    // The ACK for one small segment waited for the delayed-ACK timer (40 ms).
    assert.equal(p.b.conn.stats().delayedAcks, d0 + 1);
    assert.ok(p.now - t0 >= 40_000);
    // Two full segments are acknowledged at once.
    const d1 = p.b.conn.stats().delayedAcks;
    p.a.conn.write(randomBytes(2 * 1448, 3));
    p.runFor(200_000);
    assert.equal(p.b.conn.stats().delayedAcks, d1);
  });

  it("ACKs to unacceptable segments without data are throttled (RFC 5961 section 7, 500 ms); with data never", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    p.a.conn.write(randomBytes(20_000, 1));
    p.runFor(100_000);
    const c = p.b.conn;
    const rcvNxt = c.receiveNext;
    const stale = (len: number): TcpSegment => ({
      header: { srcPort: 40000, dstPort: 80, seq: (rcvNxt - 5000) >>> 0, ack: p.a.conn.initialSendSeq, flags: TCP_ACK, window: 1000, checksum: 0, urgent: 0, options: { mptcp: [] } },
      payload: new Uint8Array(len),
    });
    // A stale pure ACK of the peer's: not acceptable (SEG.SEQ < RCV.NXT, length 0).
    const acksAfter = (seg: TcpSegment, now: number): number => {
      c.handleSegment(now, seg);
      let n = 0;
      while (c.pollTransmit(now)) n++;
      return n;
    };
    const t = p.now;
    const before = c.stats();
    assert.equal(acksAfter(stale(0), t), 1, "the first one is answered");
    assert.equal(acksAfter(stale(0), t + 100_000), 0, "within 500 ms: throttled");
    assert.equal(acksAfter(stale(0), t + 499_999), 0);
    assert.equal(acksAfter(stale(100), t + 499_999), 1, "old data always gets its duplicate ACK (D-SACK)");
    assert.equal(acksAfter(stale(0), t + 500_000), 1, "500 ms later: answered again");
    const st = c.stats();
    assert.equal(st.oowAcksSkipped - before.oowAcksSkipped, 2);
    assert.equal((st.drops.OutOfWindow ?? 0) - (before.drops.OutOfWindow ?? 0), 5);
    assert.equal(c.state, "ESTABLISHED");
  });

  it("FIN_WAIT_2 after close() ends after finWait2TimeoutUs (Linux tcp_fin_timeout, 60 s); after shutdown() it waits", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    p.a.conn.close();
    p.runUntil(() => p.a.conn.state === "FIN_WAIT_2", 1_000_000);
    const t0 = p.now;
    assert.equal(p.b.conn.state, "CLOSE_WAIT"); // B never closes
    p.runFor(59_000_000);
    assert.equal(p.a.conn.state, "FIN_WAIT_2");
    p.runUntil(() => p.a.conn.state === "CLOSED", 2_000_000);
    assert.equal(p.a.conn.closedReason, "timeout");
    assert.ok(p.now - t0 >= 59_990_000 && p.now - t0 <= 60_010_000, `after ${p.now - t0}`);

    const q = new Pair({ link: { delayUs: 1000 } });
    assert.ok(q.connect());
    q.a.conn.shutdown();
    q.runFor(180_000_000);
    assert.equal(q.a.conn.state, "FIN_WAIT_2", "half-closed: the peer may still send");
    q.a.conn.close();
    const t1 = q.now;
    q.runUntil(() => q.a.conn.state === "CLOSED", 120_000_000);
    assert.equal(q.a.conn.closedReason, "timeout");
    assert.ok(q.now - t1 >= 59_990_000 && q.now - t1 <= 60_010_000, `after ${q.now - t1}`);
  });

  it("a duplicate that fails PAWS (older TSval than TS.Recent) is answered with its D-SACK (RFC 2883, as Linux)", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    const data = randomBytes(5000, 1);
    p.a.conn.write(data);
    const copies: TcpSegment[] = [];
    p.ab.filter = (seg) => {
      if (seg.payload.length > 0) copies.push(copySeg(seg));
      return true;
    };
    p.runFor(200_000);
    assert.equal(p.b.receivedBytes, 5000);
    const c = p.b.conn;
    const old = copies[0]!;
    old.header.options.timestamp!.val = (old.header.options.timestamp!.val - 100) >>> 0;
    const before = c.stats();
    c.handleSegment(p.now, old);
    const reply = c.pollTransmit(p.now)!;
    assert.equal((c.stats().drops.PawsFailed ?? 0) - (before.drops.PawsFailed ?? 0), 1);
    assert.deepEqual(reply.header.options.sack, [{ start: old.header.seq, end: (old.header.seq + old.payload.length) >>> 0 }]);
    assert.equal(c.stats().dsacksOut, before.dsacksOut + 1);
  });
});
