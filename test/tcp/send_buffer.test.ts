// Send-buffer autotuning (Linux tcp_sndbuf_expand / tcp_new_space): write() takes up to
// 2 * max(cwnd, 10) segments of Linux's per-segment buffer memory, grown with the congestion
// window, never above sendBufferSize; sendBufferAutotune: false keeps sendBufferSize.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sndbufFor } from "../../core/tcp/buffers.ts";
import { Pair, Writer, randomBytes, equalBytes, concat } from "./helpers.ts";

const MiB = 1 << 20;

describe("tcp send-buffer autotuning", () => {
  it("Linux's sizes: 87040 bytes for the initial window at MSS 1460, 2 x 4352 per segment beyond", () => {
    assert.equal(sndbufFor(0, 1460), 87040);
    assert.equal(sndbufFor(10, 1448), 87040);
    assert.equal(sndbufFor(100, 1448), 870400);
    assert.equal(sndbufFor(10, 8948), 2 * 10 * (16384 + 256));
  });

  it("write() takes the autotuned size, which grows with cwnd; 'writable' fires when it grows; bytes arrive intact", () => {
    // 20 Mbit/s, 20 ms RTT (BDP 50 kB), 30 kB queue: the window stays below ~60 segments.
    const p = new Pair({ seed: 3, link: { delayUs: 10_000, rateBps: 20e6, queueBytes: 30_000 } });
    assert.ok(p.connect());
    const a = p.a.conn;
    const start = a.sendBuffer;
    assert.equal(start, sndbufFor(0, a.mss));
    // Before anything is sent, write() takes exactly the send buffer.
    assert.equal(a.writable, start);
    const data = randomBytes(4 * MiB, 5);
    const w = new Writer(data);
    let maxQueued = 0;
    let maxBuf = start;
    let bufAboveQueue = true;
    p.app = (pp) => {
      w.pump(pp.a.conn);
      const c = pp.a.conn;
      if (c.unacked > c.sendBuffer) bufAboveQueue = false;
      maxQueued = Math.max(maxQueued, c.unacked);
      maxBuf = Math.max(maxBuf, c.sendBuffer);
      if (pp.b.conn.peerFinReceived && pp.b.conn.state === "CLOSE_WAIT") pp.b.conn.shutdown();
    };
    assert.ok(p.runUntil(() => p.b.receivedBytes >= data.length && p.b.conn.peerFinReceived, 60_000_000));
    assert.ok(equalBytes(concat(p.b.received), data));
    assert.ok(bufAboveQueue, "the queue never exceeded the send buffer");
    assert.ok(maxBuf > start, `grew from ${start} to ${maxBuf}`);
    assert.ok(maxQueued < MiB, `queued at most ${maxQueued} (without autotuning: 4 MiB)`);
    assert.ok(maxBuf >= sndbufFor(Math.ceil(a.stats().cwnd / a.mss), a.mss) || maxBuf === 4 * MiB, "follows the window");
    const writable = p.a.events.filter((e) => e.type === "writable").length;
    assert.ok(writable > 1, `writable events: ${writable}`);
  });

  it("never above sendBufferSize; sendBufferAutotune: false takes sendBufferSize at once", () => {
    const small = new Pair({ config: { sendBufferSize: 50_000 } });
    assert.ok(small.connect());
    assert.equal(small.a.conn.sendBuffer, 50_000);
    assert.equal(small.a.conn.writable, 50_000);
    const off = new Pair({ config: { sendBufferAutotune: false } });
    assert.ok(off.connect());
    assert.equal(off.a.conn.writable, 4 * MiB);
    assert.equal(off.a.conn.write(new Uint8Array(3 * MiB)), 3 * MiB);
    const on = new Pair({});
    assert.ok(on.connect());
    assert.equal(on.a.conn.write(new Uint8Array(3 * MiB)), on.a.conn.sendBuffer);
    assert.equal(on.a.conn.writable, 0);
  });
});
