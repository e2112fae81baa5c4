import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, equalBytes, Pair, randomBytes, transfer } from "./helpers.ts";

describe("tcp segment-level transfer", () => {
  it("handshake negotiates MSS, window scale, SACK and timestamps", () => {
    const p = new Pair();
    assert.ok(p.connect());
    const sa = p.a.conn.stats();
    assert.equal(sa.sndMss, 1448);
    assert.equal(p.b.conn.stats().sndMss, 1448);
    assert.deepEqual(p.a.events.map((e) => e.type).slice(0, 1), ["connected"]);
    assert.ok(sa.srttUs >= 0);
  });

  for (const [name, link] of [
    ["clean", { delayUs: 5_000 }],
    ["1% loss", { delayUs: 5_000, loss: 0.01 }],
    ["5% loss", { delayUs: 5_000, loss: 0.05 }],
    ["10% reordering", { delayUs: 5_000, reorder: 0.1, reorderDelayUs: 3_000 }],
    ["duplication", { delayUs: 5_000, dup: 0.05 }],
    ["bottleneck", { delayUs: 5_000, rateBps: 50e6, queueBytes: 30_000 }],
  ] as const) {
    it(`1 MiB byte-exact: ${name}`, () => {
      const p = new Pair({ seed: 3, link });
      assert.ok(p.connect());
      const data = randomBytes(1 << 20, 9);
      assert.ok(transfer(p, data, 600_000_000), `stalled: got ${p.b.receivedBytes}`);
      assert.ok(equalBytes(concat(p.b.received), data));
      const st = p.a.conn.stats();
      if (!("loss" in link) && !("queueBytes" in link)) assert.equal(st.rtoExpiries, 0);
      p.runUntil(() => p.a.conn.state === "CLOSED" || p.a.conn.state === "TIME_WAIT", 10_000_000);
    });
  }
});
