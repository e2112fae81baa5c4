// The receive window as Linux sizes it (core/tcp/connection.ts: tcp_select_window,
// tcp_grow_window, tcp_rcv_space_adjust) and the memory behind it: a connection starts with a
// 16 KiB ring and a 128 KiB buffer (tcp_rmem[1]) whose share is the window, autotuning grows both
// with the rate the application reads at, the advertised right edge never moves backwards
// (RFC 7323 2.4), and delayed-ACK "pingpong" mode after a quick reply.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { seqGe } from "../../core/wire/seq.ts";
import { TCP_SYN } from "../../core/wire/types.ts";
import { Pair, Writer, concat, equalBytes, randomBytes } from "./helpers.ts";

const MiB = 1 << 20;

describe("tcp receive window (Linux model)", () => {
  it("a new connection: 16 KiB ring, 128 KiB buffer, window 65160 (45 segments of 1448: half the buffer, tcp_adv_win_scale)", () => {
    const p = new Pair({ link: { delayUs: 1000 } });
    assert.ok(p.connect());
    for (const side of [p.a, p.b]) {
      const s = side.conn.stats();
      assert.equal(s.rcvRing, 16 * 1024);
      assert.equal(s.rcvBuf, 131072);
    }
    // B's SYN/ACK offered 65160; A's third ACK rounds its 65160 up to the window scale unit (128).
    assert.equal(p.b.conn.stats().rcvWnd, 65160);
    assert.equal(p.a.conn.stats().rcvWnd, 510 * 128);
  });

  it("bulk transfer with loss: autotuning grows the buffer and the ring, the right edge never moves back, byte-exact", () => {
    const p = new Pair({ seed: 7, link: { delayUs: 10_000, rateBps: 200e6, loss: 0.002 } });
    let lastEdge: number | undefined;
    let acks = 0;
    p.ba.filter = (seg) => {
      if (!(seg.header.flags & TCP_SYN)) {
        const edge = (seg.header.ack + seg.header.window * 128) >>> 0;
        if (lastEdge !== undefined) assert.ok(seqGe(edge, lastEdge), `right edge moved back: ${edge} < ${lastEdge}`);
        lastEdge = edge;
        acks++;
      }
      return true;
    };
    assert.ok(p.connect());
    const d = randomBytes(16 * MiB, 11);
    const w = new Writer(d);
    let ring = 0;
    p.app = (pp) => {
      w.pump(pp.a.conn);
      ring = Math.max(ring, pp.b.conn.stats().rcvRing);
    };
    assert.ok(p.runUntil(() => p.b.receivedBytes === d.length, 120_000_000));
    assert.ok(equalBytes(concat(p.b.received), d));
    const s = p.b.conn.stats();
    console.log(`[tcp rwnd] 16 MiB at 200 Mbit/s, 20 ms, 0.2% loss: ${((8 * d.length) / p.now).toFixed(1)} Mbit/s; rcvBuf ${s.rcvBuf}, peak ring ${ring}, rcv_ssthresh ${s.rcvSsthresh}, window ${s.rcvWnd}`);
    assert.ok(acks > 1000);
    assert.ok(s.outOfOrderSegments > 0, "the loss exercised reassembly");
    // Bursts of in-order bytes after each repaired loss drive the buffer up (Linux before 6.16
    // does the same); the ring only holds what the sender's window put in flight.
    assert.ok(s.rcvBuf > 1 * MiB && s.rcvBuf <= 6 * MiB, `rcvBuf ${s.rcvBuf}`);
    assert.ok(ring > 16 * 1024 && ring <= 1 * MiB, `ring ${ring}`);
    assert.ok(s.rcvSsthresh > 500_000, `rcv_ssthresh ${s.rcvSsthresh}`);
  });

  it("a reader that does not read: the window closes at the buffer's share, the ring stays at what it let in", () => {
    const p = new Pair({ link: { delayUs: 2000 } });
    p.autoRead = false;
    assert.ok(p.connect());
    const w = new Writer(randomBytes(1 * MiB, 3), false);
    p.app = (pp) => w.pump(pp.a.conn);
    p.runFor(2_000_000);
    const s = p.b.conn.stats();
    // No read, no autotuning: 128 KiB x 160/256 (the scaling ratio of 1448-byte segments).
    assert.ok(p.b.conn.readable <= 81920 + 1448 && p.b.conn.readable > 65160, `readable ${p.b.conn.readable}`);
    assert.equal(s.rcvWnd, 0);
    assert.equal(s.rcvRing, 128 * 1024);
    assert.equal(p.a.conn.stats().sndWnd, 0);
    p.autoRead = true;
    p.drainRead(p.b);
    assert.ok(p.runUntil(() => p.b.receivedBytes === 1 * MiB, 60_000_000));
  });

  it("pingpong: after replying to the peer's data at once, the next data is ACKed after the 40 ms delayed-ACK timeout", () => {
    const p = new Pair({ link: { delayUs: 5000 } });
    assert.ok(p.connect());
    const fromB: { at: number; ack: number; len: number }[] = [];
    p.ba.filter = (seg, now) => {
      fromB.push({ at: now, ack: seg.header.ack, len: seg.payload.length });
      return true;
    };
    let replied = false;
    p.app = (pp) => {
      if (!replied && pp.b.receivedBytes === 100) {
        replied = true;
        pp.b.conn.write(randomBytes(100, 2)); // the reply, right after the request
      }
    };
    p.a.conn.write(randomBytes(100, 1));
    p.runFor(100_000);
    assert.ok(replied);
    // Request 1: quick-ACK mode acknowledges it at once (a pure ACK), then the reply goes.
    assert.deepEqual(fromB.map((x) => x.len), [0, 100]);
    fromB.length = 0;
    const t0 = p.now;
    p.a.conn.write(randomBytes(100, 3));
    p.runFor(200_000);
    // Request 2 arrives 5 ms later; B is interactive now: its ACK waits 40 ms.
    assert.equal(fromB.length, 1);
    assert.equal(fromB[0]!.len, 0);
    assert.equal(fromB[0]!.at - t0, 5000 + 40_000);
  });
});
