// mptcp/testing (adapters/testing/): the property tests the documentation shows, plus checks
// that the arbitraries produce what they promise and that the harness reports failures.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { emitMptcpOption, mptcpOptionLength, parseMptcpOption } from "../../core/index.ts";
import { createMiddlebox, linkConditions, middleboxSpec, mptcpForms, mptcpOption, opSequence, runOps, tcpSegment } from "../../adapters/testing/index.ts";
import type { Op } from "../../adapters/testing/index.ts";
import { emitTcp, InvalidArgumentError, parseTcp } from "../../core/index.ts";

// --- the documented examples -------------------------------------------------------------

test("every generated MPTCP option round-trips through the wire codec", () => {
  fc.assert(
    fc.property(mptcpOption, (opt) => {
      const buf = new Uint8Array(64);
      const n = emitMptcpOption(opt, buf, 0);
      assert.equal(n, mptcpOptionLength(opt));
      const back = parseMptcpOption(buf, 0, n);
      assert.ok(back.ok);
      assert.deepEqual(back.value, opt);
    }),
  );
});

test("a generated operation sequence delivers each byte exactly once, in order", () => {
  fc.assert(
    fc.property(opSequence({ paths: 2 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => {
      const r = runOps(ops, { seed });
      assert.ok(r.intact, `wrong byte at ${JSON.stringify(r.mismatch)}`);
      assert.ok(r.server.read <= r.client.written && r.client.read <= r.server.written);
      // With every link back up and both sides reading, an open connection delivers it all.
      if (r.open) assert.ok(r.complete, `up ${r.server.read}/${r.client.written} down ${r.client.read}/${r.server.written}`);
    }),
    { numRuns: 20, seed: Number(process.env.TESTING_SEED ?? 42) },
  );
});

// --- the arbitraries and the harness ------------------------------------------------------

test("every MPTCP option form is generated and round-trips (per form)", () => {
  for (const [name, arb] of Object.entries(mptcpForms)) {
    fc.assert(
      fc.property(arb, (opt) => {
        const buf = new Uint8Array(64);
        const r = parseMptcpOption(buf, 0, emitMptcpOption(opt, buf, 0));
        assert.ok(r.ok, name);
        assert.deepEqual(r.value, opt, name);
      }),
      { numRuns: 50 },
    );
  }
});

test("generated TCP segments round-trip through the TCP codec", () => {
  fc.assert(
    fc.property(tcpSegment, (seg) => {
      const buf = new Uint8Array(200);
      const n = emitTcp(seg, buf, 0);
      assert.ok(n.ok);
      const r = parseTcp(buf, 0, n.value);
      assert.ok(r.ok);
      assert.deepEqual(r.value, seg);
    }),
    { numRuns: 200 },
  );
});

test("link conditions stay within their bounds", () => {
  fc.assert(
    fc.property(linkConditions({ minRateBps: 2e6, maxRateBps: 8e6, maxDelayUs: 1000, maxLossRate: 0.05, maxJitterUs: 10 }), (p) => {
      assert.ok(p.rateBps >= 2e6 && p.rateBps <= 8e6);
      assert.ok(p.delayUs >= 0 && p.delayUs <= 1000 && Number.isInteger(p.delayUs));
      assert.ok(p.lossRate >= 0 && p.lossRate <= 0.05);
      assert.ok(p.jitterUs >= 0 && p.jitterUs <= 10);
      assert.ok(p.queueBytes >= 16_000);
    }),
  );
});

test("createMiddlebox: a NAT without a public address is API misuse (typed error)", () => {
  assert.throws(() => createMiddlebox({ kind: "nat", rewritePorts: true }), InvalidArgumentError);
  assert.equal(createMiddlebox({ kind: "nat", rewritePorts: true }, { publicAddress: "198.18.1.99" }).name, "nat");
});

test("the harness sees a corrupted byte (a payload rewrite without DSS checksums)", () => {
  const r = runOps([{ at: 0, op: "write", side: "client", bytes: 100_000 }], {
    middleboxes: [{ path: 0, box: { kind: "rewrite-payload", offset: 100, xor: 1, count: 1 } }],
  });
  assert.equal(r.intact, false);
  assert.equal(r.mismatch.up, 100);
  assert.equal(r.mismatch.down, undefined);
});

test("the harness plays every operation kind and reports counters", () => {
  const ops: Op[] = [
    { at: 0, op: "open" },
    { at: 1_000, op: "write", side: "client", bytes: 300_000 },
    { at: 1_000, op: "write", side: "server", bytes: 200_000 },
    { at: 20_000, op: "join", path: 1 },
    { at: 25_000, op: "announce" },
    { at: 50_000, op: "link", path: 0, up: false },
    { at: 60_000, op: "setBackup", path: 1, backup: true },
    { at: 80_000, op: "read", side: "server", on: false },
    { at: 95_000, op: "conditions", path: 1, params: { rateBps: 20e6, delayUs: 5_000, lossRate: 0.001, jitterUs: 0, queueBytes: 100_000 } },
    { at: 120_000, op: "link", path: 0, up: true },
    { at: 150_000, op: "read", side: "server", on: true },
    { at: 200_000, op: "remove", side: "server" },
    { at: 300_000, op: "close", side: "client" },
    { at: 300_000, op: "close", side: "server" },
  ];
  const r = runOps(ops, { seed: 3 });
  assert.ok(r.intact && r.complete, JSON.stringify({ up: [r.server.read, r.client.written], down: [r.client.read, r.server.written] }));
  assert.equal(r.server.read, 300_000);
  assert.equal(r.client.read, 200_000);
  assert.deepEqual(r.skipped, []);
  const c = r.client.stats!;
  assert.equal(c.mptcp, true);
  assert.equal(c.bytesWritten, 300_000);
  assert.ok(c.counters.MPJoinSynAckRx >= 1, "the join was answered");
  assert.ok(r.client.events.some((e) => e.type === "addressAnnounced"));
  assert.ok(r.client.events.some((e) => e.type === "addressRemoved"));
  assert.ok(r.links[0]!.ab.dropped.down + r.links[0]!.ba.dropped.down > 0, "path 0 dropped while down");
});

test("through any delivery-safe middlebox, on generated link conditions, both directions arrive intact", () => {
  fc.assert(
    fc.property(
      middleboxSpec(),
      fc.integer({ min: 0, max: 1 }),
      linkConditions({ minRateBps: 10e6, maxDelayUs: 20_000, maxLossRate: 0.01 }),
      fc.integer({ min: 1, max: 1000 }),
      (box, path, cond, seed) => {
        const ops: Op[] = [
          { at: 0, op: "write", side: "client", bytes: 300_000 },
          { at: 0, op: "write", side: "server", bytes: 300_000 },
          { at: 50_000, op: "join", path: 1 },
          { at: 400_000, op: "close", side: "client" },
          { at: 400_000, op: "close", side: "server" },
        ];
        const r = runOps(ops, { seed, paths: [cond, cond], middleboxes: [{ path, box }] });
        assert.ok(r.intact && r.complete, `up ${r.server.read}/${r.client.written} down ${r.client.read}/${r.server.written}`);
      },
    ),
    { numRuns: 8, seed: Number(process.env.TESTING_SEED ?? 42) },
  );
});

// Found by the combined property (operation sequences, middleboxes and link conditions over
// three paths): a client that shut down while its join waited for the fourth ACK reported the
// join's third-ACK retransmission deadline, which handleTimeout does not serve outside
// ESTABLISHED, forever in the past (the simulator's guard: "timer fired 10001 times").
test("regression: a shutdown right after a join does not leave a timer in the past", () => {
  for (const delay of [5_000, 30_000, 58_000]) {
    const r = runOps(
      [
        { at: 0, op: "close", side: "server" },
        { at: 100_000, op: "join", path: 1 },
        { at: 100_000 + delay, op: "close", side: "client" },
        { at: 2_000_000, op: "read", side: "server", on: true },
      ],
      { paths: [{ rateBps: 50e6, delayUs: 6_000 }, { rateBps: 50e6, delayUs: 20_000 }] },
    );
    assert.ok(r.intact && r.complete);
    assert.equal(r.client.stats!.state, "CLOSED");
  }
});

// Found by the same property: one side fell back to TCP, the other stayed MPTCP, got no
// DATA_ACK and re-sent data at the data level on the same, only subflow (a subflow RTO reinjected
// there: checkStale -> reinjectFrom), and the fallen-back side delivered those copies, read 1:1,
// as new bytes (at 6d2a0b3: the client read 144 bytes of 18; the server 527,322 of 134,106).
// Fixed in core/mptcp: nothing is re-sent on the subflow that carries it; a side falls back only
// while both streams on the initial subflow are 1:1 (no join used, no data-level re-send seen);
// else it resets (MP_TCPRST, FallbackFailed), and a fallen-back side resets on a DSS mapping that
// contradicts its 1:1 map instead of delivering.
test("asymmetric fallback: options stripped on some server segments (the client falls back, the server does not)", () => {
  const r = runOps(
    [
      { at: 17_716, op: "write", side: "client", bytes: 10 },
      { at: 941_606, op: "write", side: "server", bytes: 18 },
    ],
    {
      seed: 152,
      paths: [{ rateBps: 10e6, delayUs: 8_247, lossRate: 0.0079, jitterUs: 3_878, queueBytes: 125_000 }],
      middleboxes: [{ path: 0, box: { kind: "strip", options: "mptcp", on: ["syn", "synack", "ack3", "data", "ack"], how: "nop", probability: 0.21, dir: 1 } }],
    },
  );
  assert.ok(r.intact, `client read ${r.client.read} of ${r.server.written}; client fallback ${r.client.stats?.fallback}, server fallback ${r.server.stats?.fallback}`);
  assert.ok(r.complete, `client read ${r.client.read} of ${r.server.written}`);
  assert.equal(r.server.stats!.counters.Reinjections, 0);
});

test("asymmetric fallback: coalescing on the client's first path (the server falls back on unmapped bytes)", () => {
  const r = runOps(
    [
      { at: 307_021, op: "write", side: "server", bytes: 57_221 },
      { at: 469_582, op: "write", side: "client", bytes: 134_106 },
      { at: 520_172, op: "join", path: 1 },
    ],
    {
      seed: 285,
      paths: [{ rateBps: 10_003_000, delayUs: 12_787, queueBytes: 125_038 }, { rateBps: 27_078_000, delayUs: 9_440, queueBytes: 999_997 }],
      middleboxes: [{ path: 0, box: { kind: "coalesce", holdUs: 3_375, maxPayload: 31_600, dir: 0 } }],
    },
  );
  assert.ok(r.intact, `server read ${r.server.read} of ${r.client.written}; client fallback ${r.client.stats?.fallback}, server fallback ${r.server.stats?.fallback}`);
  assert.ok(r.complete, `server read ${r.server.read} of ${r.client.written}`);
});

// Found by the property below (the base code delivered the server's bytes twice from offset
// 17,088): coalescing both ways; the client reads a coalesced segment whose second part has no
// mapping and falls back; the server, with no DATA_ACK and nothing in flight, must not send the
// acknowledged bytes again at other subflow offsets (a data-level re-send on the one subflow is
// for a peer that still speaks DSS and dropped them, Linux RcvPruned).
test("asymmetric fallback: coalescing both ways, the receiver falls back on a coalesced segment", () => {
  const r = runOps(
    [
      { at: 159_209, op: "write", side: "server", bytes: 69_415 },
      { at: 673_498, op: "close", side: "server" },
      { at: 1_106_713, op: "join", path: 1 },
      { at: 1_279_720, op: "link", path: 0, up: true },
    ],
    {
      seed: 61_690,
      paths: [{ rateBps: 5_004_000, delayUs: 961, lossRate: 0.0167, jitterUs: 3_513, queueBytes: 16_016 }, { rateBps: 5_004_000, delayUs: 961, lossRate: 0.0167, jitterUs: 3_513, queueBytes: 16_016 }],
      middleboxes: [{ path: 0, box: { kind: "coalesce", holdUs: 1_507, maxPayload: 64_999 } }],
    },
  );
  assert.ok(r.intact, `client read ${r.client.read} of ${r.server.written}, mismatch ${JSON.stringify(r.mismatch)}`);
});

// The invariant behind those: whatever a delivery-safe middlebox does to MPTCP options or segment
// boundaries (stripping on any segment class and direction, coalescing, splitting), with loss,
// joins and closes, no byte is read twice or wrong. The outcome may be MPTCP, a fallback on
// both sides, one side in fallback while the other still reads DSS 1:1, or a clean reset
// (closed with reason "reset" and FallbackFailed counted): never corruption.
test("property: option stripping, coalescing and splitting never corrupt the stream (fallback or clean reset)", () => {
  const tally = { mptcp: 0, fallback: 0, oneSided: 0, reset: 0 };
  fc.assert(
    fc.property(
      opSequence({ paths: 2, maxLength: 6, maxWrite: 150_000, untilUs: 1_500_000, kinds: ["join", "write", "read", "close", "link", "announce"] }),
      middleboxSpec(["strip", "coalesce", "split"]),
      fc.constantFrom(0, 0, 1),
      linkConditions({ minRateBps: 5e6, maxRateBps: 50e6, maxDelayUs: 20_000, maxLossRate: 0.02, maxJitterUs: 4_000 }),
      fc.integer({ min: 1, max: 100_000 }),
      (ops, box, path, cond, seed) => {
        const r = runOps(ops, { seed, paths: [cond, cond], middleboxes: [{ path, box }] });
        assert.ok(r.intact, `mismatch ${JSON.stringify(r.mismatch)}: up ${r.server.read}/${r.client.written} down ${r.client.read}/${r.server.written}`);
        const c = r.client.stats;
        const s = r.server.stats;
        const failed = [c, s].filter((x): x is NonNullable<typeof x> => x !== undefined && x.counters.FallbackFailed > 0);
        if (failed.length > 0) {
          tally.reset++;
          for (const x of failed) assert.equal(x.state, "CLOSED");
          const ev = [...r.client.events, ...r.server.events];
          assert.ok(ev.some((e) => e.type === "closed" && e.reason === "reset"), "a fatal fallback error closes the connection with reason reset");
        } else if (c?.fallback && s?.fallback) tally.fallback++;
        else if (c?.fallback || s?.fallback) tally.oneSided++;
        else tally.mptcp++;
      },
    ),
    { numRuns: 150, seed: Number(process.env.TESTING_SEED ?? 42) },
  );
  // The generators reach the fallback paths (measured with seed 42: see the commit message).
  assert.ok(tally.fallback + tally.oneSided > 0, JSON.stringify(tally));
});
