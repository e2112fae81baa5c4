// fast-check model test over the public API: random sequences of open, join, write, read,
// close, announce, remove, set-backup, link up/down and link-condition changes, played on the
// simulator by the `mptcp/testing` harness (adapters/testing: opSequence, runOps). Invariants:
// no handle*/poll* throws (API misuse may throw typed MptcpErrors only: runOps rethrows anything
// else), each direction's bytes arrive exactly once and in order (a prefix of what was written,
// all of it once the links are back and the connection is open), counters consistent.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { opSequence, runOps } from "../../adapters/testing/index.ts";
import type { HarnessResult, SideResult } from "../../adapters/testing/index.ts";

/** Prints the failure of a run when MPTCP_TEST_DEBUG is set (fast-check only reports the input). */
function debugged(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (process.env.MPTCP_TEST_DEBUG) console.log("RUN FAILED:", (e as Error).message);
    throw e;
  }
}

function checkSide(name: string, me: SideResult, peer: SideResult, r: HarnessResult): void {
  const s = me.stats;
  if (!s) return;
  assert.ok(s.bytesAcked <= s.bytesWritten, `${name}: acked ${s.bytesAcked} > written ${s.bytesWritten}`);
  assert.equal(s.bytesWritten, me.written, `${name}: bytesWritten`);
  assert.equal(s.bytesRead, me.read, `${name}: bytesRead`);
  assert.ok(s.subflows.length <= 8, `${name}: ${s.subflows.length} subflows`);
  // What arrived here is a prefix of what the peer wrote, never more.
  assert.ok(me.read <= peer.written, `${name} read ${me.read} of ${peer.written}`);
  // With every link up again and both sides reading, an open connection delivers all.
  if (r.open) assert.equal(me.read, peer.written, `${name}: all of the peer's bytes delivered`);
}

describe("mptcp model (fast-check)", () => {
  it("random command sequences keep the invariants", () => {
    fc.assert(
      fc.property(opSequence({ paths: 2 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => debugged(() => {
        const r = runOps(ops, { seed, healAtUs: 3_100_000 });
        assert.ok(r.intact, `a wrong byte: ${JSON.stringify(r.mismatch)}`);
        checkSide("client", r.client, r.server, r);
        checkSide("server", r.server, r.client, r);
      })),
      { numRuns: Number(process.env.MODEL_RUNS ?? 40), seed: Number(process.env.MODEL_SEED ?? 42) },
    );
  });
});
