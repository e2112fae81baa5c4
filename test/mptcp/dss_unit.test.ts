// Unit properties of the data-sequence arithmetic (core/mptcp/dss.ts) across the 2^64 wrap.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { unwrapDsn, wireDsn } from "../../core/mptcp/dss.ts";
import { expandSeq64 } from "../../core/wire/seq.ts";

const TWO64 = 1n << 64n;

describe("mptcp DSN arithmetic", () => {
  it("unwrap(wire(ref + d), ref) = ref + d for |d| < 2^63, near and across the wrap", () => {
    const ref = fc.oneof(fc.bigInt({ min: 0n, max: 3n * TWO64 }), fc.bigInt({ min: TWO64 - (1n << 20n), max: TWO64 + (1n << 20n) }));
    const d = fc.oneof(fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }), fc.bigInt({ min: -(1n << 63n) + 1n, max: (1n << 63n) - 1n }));
    fc.assert(
      fc.property(ref, d, (r, delta) => {
        const x = r + delta;
        if (x < 0n) return;
        assert.equal(unwrapDsn(wireDsn(x), r), x);
      }),
      { numRuns: 2000 },
    );
  });

  it("a 32-bit DATA_ACK just past the wrap expands and unwraps to the unbounded value", () => {
    const una = TWO64 - 1000n; // unbounded send side, 1000 bytes before the wrap
    const ack = una + 5000n; // acknowledges past 2^64
    const low32 = Number(wireDsn(ack) & 0xffffffffn);
    assert.equal(unwrapDsn(expandSeq64(low32, wireDsn(una)), una), ack);
    assert.equal(wireDsn(ack), 4000n);
  });
});
