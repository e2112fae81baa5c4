// fast-check properties of the TCP engine: random links and application command sequences
// deliver both directions exactly once and in order; handle* never throws; random and mutated
// segments injected into an established connection never throw and never corrupt the stream.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from "../../core/wire/types.ts";
import type { TcpSegment } from "../../core/wire/types.ts";
import { concat, copySeg, equalBytes, Pair, randomBytes } from "./helpers.ts";

const linkArb = fc.record({
  delayUs: fc.integer({ min: 0, max: 50_000 }),
  loss: fc.constantFrom(0, 0, 0.01, 0.05, 0.2),
  reorder: fc.constantFrom(0, 0.1, 0.3),
  reorderDelayUs: fc.integer({ min: 0, max: 20_000 }),
  dup: fc.constantFrom(0, 0.05),
  rateBps: fc.constantFrom(undefined, 10e6, 100e6),
  queueBytes: fc.constantFrom(undefined, 20_000),
});

const cmdArb = fc.oneof(
  fc.record({ t: fc.constant("write" as const), side: fc.constantFrom("a" as const, "b" as const), n: fc.integer({ min: 1, max: 40_000 }) }),
  fc.record({ t: fc.constant("read" as const), side: fc.constantFrom("a" as const, "b" as const), n: fc.integer({ min: 1, max: 30_000 }) }),
  fc.record({ t: fc.constant("wait" as const), us: fc.integer({ min: 0, max: 300_000 }) }),
  fc.record({ t: fc.constant("shutdown" as const), side: fc.constantFrom("a" as const, "b" as const) }),
);

function hasPrefix(got: Uint8Array, sent: Uint8Array): boolean {
  return got.length <= sent.length && equalBytes(got, sent.subarray(0, got.length));
}

describe("tcp properties (fast-check)", () => {
  it("random links and command sequences: both directions exactly once, in order", () => {
    fc.assert(
      fc.property(linkArb, fc.array(cmdArb, { maxLength: 25 }), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (link, cmds, seed, sack) => {
        const p = new Pair({ seed, link, config: { sack, receiveBufferSize: 64 * 1024, sendBufferSize: 64 * 1024 } });
        p.autoRead = false;
        // A handshake can legitimately fail when every SYN/ACK round trip hits 20% loss.
        const up = p.connect();
        fc.pre(up || link.loss < 0.2);
        assert.ok(up, "handshake");
        const sent = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
        const shut = { a: false, b: false };
        const buf = new Uint8Array(65536);
        let k = 0;
        for (const c of cmds) {
          if (c.t === "write" && !shut[c.side]) {
            const d = randomBytes(c.n, seed + k++);
            const n = p[c.side].conn.write(d);
            sent[c.side].push(d.subarray(0, n));
          } else if (c.t === "read") {
            const s = p[c.side];
            const n = s.conn.read(buf.subarray(0, c.n));
            if (n > 0) s.received.push(buf.slice(0, n));
          } else if (c.t === "shutdown" && !shut[c.side]) {
            p[c.side].conn.shutdown();
            shut[c.side] = true;
          } else if (c.t === "wait") p.runFor(c.us);
        }
        // Then: everything is read, both sides shut down, and the run drains.
        p.autoRead = true;
        p.app = (pp) => {
          for (const side of ["a", "b"] as const) {
            const st = pp[side].conn.state;
            if (!shut[side] && (st === "ESTABLISHED" || st === "CLOSE_WAIT")) {
              pp[side].conn.shutdown();
              shut[side] = true;
            }
          }
        };
        const sa = concat(sent.a);
        const sb = concat(sent.b);
        p.runUntil(() => p.b.conn.peerFinReceived && p.a.conn.peerFinReceived, 600_000_000);
        p.flush();
        assert.ok(equalBytes(concat(p.b.received), sa), `b got ${concat(p.b.received).length} of ${sa.length}`);
        assert.ok(equalBytes(concat(p.a.received), sb), `a got ${concat(p.a.received).length} of ${sb.length}`);
      }),
      { numRuns: 40 },
    );
  });

  it("injected random and mutated segments never throw and never corrupt the stream", () => {
    const mutation = fc.record({
      kind: fc.constantFrom("seq", "ack", "flags", "window", "sack", "ts", "trim", "random"),
      x: fc.integer({ min: -0x7fffffff, max: 0x7fffffff }),
      y: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 0, max: 1, noNaN: true }), (muts, seed, when) => {
        const p = new Pair({ seed, link: { delayUs: 2_000, loss: 0.02 } });
        assert.ok(p.connect());
        const data = randomBytes(200_000, seed);
        let off = 0;
        p.app = (pp) => {
          if (off < data.length && pp.a.conn.state === "ESTABLISHED") off += pp.a.conn.write(data.subarray(off));
        };
        // Capture real segments a -> b to mutate them.
        const seen: TcpSegment[] = [];
        p.ab.filter = (s) => {
          if (seen.length < 200) seen.push(copySeg(s));
          return true;
        };
        p.runFor(Math.floor(when * 100_000));
        const iss = seen.length ? seen[0]!.header.seq : 0; // sequence number of data[0]
        const victim = p.b.conn;
        for (const m of muts) {
          const base = seen.length ? copySeg(seen[(m.y % seen.length) >>> 0]!) : undefined;
          let seg: TcpSegment;
          if (!base || m.kind === "random") {
            seg = {
              header: { srcPort: 40000, dstPort: 80, seq: (iss + m.x) >>> 0, ack: (m.x * 7) >>> 0, flags: m.flags, window: m.y, checksum: 0, urgent: 0, options: { mptcp: [], sack: m.y % 2 ? [{ start: m.x >>> 0, end: (m.x + m.y) >>> 0 }] : undefined } },
              payload: randomBytes(m.y % 3000, m.x),
            };
            // Random payload only far outside the window (in-window bytes would be real data).
            seg.header.seq = (iss + 0x40000000 + (m.x & 0x3fffffff)) >>> 0;
            if (m.flags & TCP_RST || m.flags & TCP_SYN) seg.payload = new Uint8Array(0);
          } else {
            seg = base;
            const h = seg.header;
            if (m.kind === "seq") {
              // Shift into the true stream: payload must be the real bytes at the new seq.
              const rel = ((h.seq - iss) >>> 0) + (m.x % 5000);
              const start = Math.max(0, Math.min(rel, off));
              h.seq = (iss + start) >>> 0;
              // (seen[0] is the first data segment: its seq is data[0].)
              seg.payload = data.subarray(start, start + Math.min(seg.payload.length, Math.max(0, off - start)));
            } else if (m.kind === "ack") h.ack = (h.ack + m.x) >>> 0;
            else if (m.kind === "flags") h.flags = (m.flags & ~(TCP_RST | TCP_SYN | TCP_FIN)) | (h.flags & TCP_ACK) | (m.flags & TCP_PSH);
            else if (m.kind === "window") h.window = m.y;
            else if (m.kind === "sack") h.options.sack = [{ start: (h.ack + m.x) >>> 0, end: (h.ack + m.x + m.y) >>> 0 }, { start: m.y, end: m.x >>> 0 }];
            else if (m.kind === "ts") h.options.timestamp = { val: m.x >>> 0, ecr: m.y };
            else if (m.kind === "trim") {
              const k = Math.min(seg.payload.length, m.y % 1500);
              seg.payload = seg.payload.subarray(k);
              h.seq = (h.seq + k) >>> 0;
            }
          }
          victim.handleSegment(p.now, seg); // must not throw
          p.a.conn.handleSegment(p.now, seg); // the sender side too (mostly garbage for it)
          p.flush();
        }
        p.ab.filter = undefined;
        p.runUntil(() => p.b.receivedBytes >= data.length || p.b.conn.state === "CLOSED" || p.a.conn.state === "CLOSED", 300_000_000);
        p.flush();
        const got = concat(p.b.received);
        assert.ok(hasPrefix(got, data), "delivered stream is a prefix of the sent stream");
        // Liveness too, except after a forged far-future TSval: RFC 7323 PAWS then rejects the
        // genuine segments (TS.Recent poisoning, a known limit of PAWS, Linux alike).
        const poisoned = muts.some((m) => m.kind === "ts");
        if (!poisoned && p.a.conn.state !== "CLOSED" && p.b.conn.state !== "CLOSED") assert.equal(got.length, data.length);
      }),
      { numRuns: 60 },
    );
  });

  it("handle* never throws on arbitrary segments in any state", () => {
    const segArb = fc.record({
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      ack: fc.integer({ min: 0, max: 0xffffffff }),
      flags: fc.integer({ min: 0, max: 255 }),
      window: fc.integer({ min: 0, max: 0xffff }),
      mss: fc.option(fc.integer({ min: 0, max: 0xffff })),
      wscale: fc.option(fc.integer({ min: 0, max: 255 })),
      sackp: fc.boolean(),
      ts: fc.option(fc.record({ val: fc.integer({ min: 0, max: 0xffffffff }), ecr: fc.integer({ min: 0, max: 0xffffffff }) })),
      sack: fc.option(fc.array(fc.record({ start: fc.integer({ min: 0, max: 0xffffffff }), end: fc.integer({ min: 0, max: 0xffffffff }) }), { maxLength: 4 })),
      len: fc.integer({ min: 0, max: 2000 }),
      dt: fc.integer({ min: 0, max: 2_000_000 }),
    });
    fc.assert(
      fc.property(fc.constantFrom("listen", "connect", "established"), fc.array(segArb, { maxLength: 30 }), (start, segs) => {
        const p = new Pair({ link: { delayUs: 1000 } });
        if (start === "listen") p.b.conn.listen();
        else if (start === "connect") p.a.conn.connect(0);
        else p.connect();
        for (const s of segs) {
          p.now += s.dt;
          const seg: TcpSegment = {
            header: {
              srcPort: 40000, dstPort: 80, seq: s.seq, ack: s.ack, flags: s.flags, window: s.window, checksum: 0, urgent: 0,
              options: { mptcp: [], mss: s.mss ?? undefined, wscale: s.wscale ?? undefined, sackPermitted: s.sackp || undefined, timestamp: s.ts ?? undefined, sack: s.sack ?? undefined },
            },
            payload: new Uint8Array(s.len),
          };
          for (const c of [p.a.conn, p.b.conn]) {
            c.handleSegment(p.now, seg);
            c.handleTimeout(p.now);
            while (c.pollTransmit(p.now)) {
              /* drain */
            }
            while (c.pollEvent()) {
              /* drain */
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
