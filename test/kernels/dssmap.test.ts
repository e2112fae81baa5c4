import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createDssMap } from "../../core/kernels/factory.ts";
import { Refusal } from "../../core/kernels/types.ts";
import { IMPLS } from "./model.ts";

const enc = new TextEncoder();

/** The DSS checksum a sender puts in the option (RFC 8684 section 3.3.1), computed plainly. */
function dssChecksum(dsn: bigint, ssn: number, length: number, payload: Uint8Array): number {
  const words: number[] = [];
  for (let i = 3; i >= 0; i--) words.push(Number((dsn >> BigInt(16 * i)) & 0xffffn));
  words.push(ssn >>> 16, ssn & 0xffff, length, 0);
  for (let i = 0; i < payload.length; i += 2) words.push((payload[i]! << 8) | (payload[i + 1] ?? 0));
  let s = words.reduce((a, b) => a + b, 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

test("dss map: checksum of the PROTOCOL.md vector verifies; a corrupted byte fails", () => {
  assert.equal(dssChecksum(0x1122334455667788n, 1, 4, enc.encode("abcd")), 0x29df);
  for (const impl of IMPLS) {
    const m = createDssMap({}, impl);
    assert.equal(m.install({ ssn: 1, dsn: 0x1122334455667788n, length: 4, checksum: 0x29df, dataFin: false }, 1, 4), 1, impl);
    assert.equal(m.translate(1, 4), 4);
    assert.equal(m.dsnHi, 0x11223344);
    assert.equal(m.dsnLo, 0x55667788);
    assert.equal(m.checksumFeed(1, enc.encode("ab"), 0, 1), 0, "odd split: incomplete");
    assert.equal(m.checksumFeed(2, enc.encode("abcd"), 1, 3), 1, "completed and verified");
    assert.equal(m.install({ ssn: 5, dsn: 0x112233445566778cn, length: 4, checksum: 0x29df, dataFin: false }, 5, 4), 1);
    assert.equal(m.checksumFeed(5, enc.encode("abce"), 0, 4), Refusal.ChecksumMismatch);
    assert.throws(() => m.checksumFeed(5, enc.encode("abce"), 0, 4), { name: "InvalidArgumentError" }, "fed twice");
    const c = m.counters();
    assert.equal(c.checksumOk, 1);
    assert.equal(c.checksumFailed, 1);
    m.dispose();
  }
});

test("dss map: contradictions, overruns, duplicates, DATA_FIN and a full table are refused and counted", () => {
  for (const impl of IMPLS) {
    const m = createDssMap({ maxMappings: 2 }, impl);
    const base = { ssn: 100, dsn: 5000n, length: 50, checksum: -1, dataFin: false };
    assert.equal(m.install(base, 100, 20), 1, impl);
    assert.equal(m.install(base, 120, 30), 0, "same mapping again (next segment)");
    assert.equal(m.install({ ...base, dsn: 5001n }, 100, 20), Refusal.MappingConflict, "different DSN for the same bytes");
    assert.equal(m.install({ ...base, ssn: 140, dsn: 5040n, length: 30 }, 140, 30), Refusal.MappingConflict, "overlap with another length");
    assert.equal(m.install({ ...base, ssn: 150, dsn: 6000n, length: 10 }, 150, 11), Refusal.MappingOverrun, "segment runs past the mapping");
    assert.equal(m.install({ ...base, ssn: 150, dsn: 6000n, length: 10 }, 149, 5), Refusal.MappingOverrun, "segment starts before the mapping");
    assert.equal(m.install({ ...base, ssn: 150, dsn: 6000n, length: 11, dataFin: true }, 150, 10), 1, "DATA_FIN is not a subflow byte");
    assert.equal(m.install({ ...base, ssn: 0, dsn: 6010n, length: 1, dataFin: true }, 0, 0), 1, "DATA_FIN-only mapping");
    assert.equal(m.install({ ...base, ssn: 160, dsn: 7000n, length: 10 }, 160, 10), Refusal.MappingTableFull);
    assert.equal(m.mappings, 2);
    assert.equal(m.translate(99, 5), Refusal.NoMapping);
    assert.equal(m.translate(160, 5), Refusal.NoMapping, "the DATA_FIN byte maps no subflow byte");
    assert.equal(m.translate(140, 100), 10, "stops at the mapping's end");
    assert.equal(m.dsnLo, 5040);
    m.releaseBefore(150);
    assert.equal(m.mappings, 1);
    assert.deepEqual(m.counters(), { installed: 3, duplicates: 1, conflicts: 2, overruns: 2, noMapping: 2, checksumOk: 0, checksumFailed: 0, tableFull: 1, infinite: 0 });
    m.dispose();
  }
});

test("dss map: SSN wrap at 2^32, DSN wrap at 2^64 and the infinite mapping", () => {
  for (const impl of IMPLS) {
    const m = createDssMap({}, impl);
    assert.equal(m.install({ ssn: 0xfffffff0, dsn: 2n ** 64n - 4n, length: 100, checksum: -1, dataFin: false }, 0xfffffff0, 100), 1, impl);
    assert.equal(m.translate(0x10, 1000), 100 - 0x20);
    assert.equal(m.dsnHi, 0);
    assert.equal(m.dsnLo, 0x1c, "2^64 - 4 + 32 wraps to 28");
    assert.equal(m.install({ ssn: 0x50, dsn: 0x1000n, length: 0, checksum: -1, dataFin: false }, 0x50, 0), 1, "infinite mapping");
    assert.ok(m.infinite);
    assert.equal(m.install({ ssn: 0x100, dsn: 0n, length: 10, checksum: -1, dataFin: false }, 0x100, 10), 0, "ignored after the infinite mapping");
    assert.equal(m.translate(0x80000, 1 << 20), 1 << 20);
    assert.equal(m.dsnLo, 0x1000 + 0x80000 - 0x50);
    assert.equal(m.counters().infinite, 1);
    m.dispose();
  }
});

test("dss map: sent ranges merge, are trimmed by DATA_ACK and list what to re-send", () => {
  for (const impl of IMPLS) {
    const m = createDssMap({ maxSent: 2 }, impl);
    assert.equal(m.recordSent(1, 0xffffffff, 0xfffffff0, 0x10), 0, impl);
    assert.equal(m.recordSent(0x11, 0, 0, 0x20), 0, "continues in both spaces (across the 2^64 wrap): merged");
    assert.equal(m.recordSent(0x100, 0, 0x500, 10), 0, "a reinjection elsewhere");
    assert.equal(m.recordSent(0x200, 0, 0x900, 10), Refusal.MappingTableFull);
    assert.deepEqual(m.unacked(), [
      { dsn: 2n ** 64n - 16n, ssn: 1, length: 0x30 },
      { dsn: 0x500n, ssn: 0x100, length: 10 },
    ]);
    m.ackSent(8n);
    assert.deepEqual(m.unacked(), [
      { dsn: 8n, ssn: 0x19, length: 0x18 },
      { dsn: 0x500n, ssn: 0x100, length: 10 },
    ]);
    m.ackSent(0x505n);
    assert.deepEqual(m.unacked(), [{ dsn: 0x505n, ssn: 0x105, length: 5 }]);
    m.dispose();
  }
});

test("dss map: WASM builds and the TS twin agree on random operation sequences", () => {
  const op = fc.oneof(
    fc.record({
      k: fc.constant("install" as const),
      ssn: fc.integer({ min: 0, max: 400 }),
      dsn: fc.integer({ min: 0, max: 400 }),
      length: fc.integer({ min: 0, max: 60 }),
      csum: fc.integer({ min: -1, max: 0xffff }),
      fin: fc.boolean(),
      seg: fc.integer({ min: -5, max: 60 }),
      segLen: fc.integer({ min: 0, max: 60 }),
    }),
    fc.record({ k: fc.constant("translate" as const), ssn: fc.integer({ min: 0, max: 500 }), len: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ k: fc.constant("feed" as const), ssn: fc.integer({ min: 0, max: 500 }), len: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ k: fc.constant("release" as const), ssn: fc.integer({ min: 0, max: 500 }) }),
    fc.record({ k: fc.constant("sent" as const), ssn: fc.integer({ min: 0, max: 500 }), dsn: fc.integer({ min: 0, max: 500 }), len: fc.integer({ min: 0, max: 50 }) }),
    fc.record({ k: fc.constant("ack" as const), dsn: fc.integer({ min: 0, max: 600 }) }),
  );
  const payload = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.array(op, { maxLength: 40 }), (ssnBase, dsnBase, ops) => {
      const maps = IMPLS.map((i) => createDssMap({ maxMappings: 4, maxSent: 4 }, i));
      try {
        for (const o of ops) {
          const rs = maps.map((m) => {
            switch (o.k) {
              case "install": {
                if (o.fin && o.length === 0) return "skip";
                const dsn = (dsnBase + BigInt(o.dsn)) & (2n ** 64n - 1n);
                return m.install({ ssn: (ssnBase + o.ssn) >>> 0, dsn, length: o.length, checksum: o.csum, dataFin: o.fin }, (ssnBase + o.ssn + o.seg) >>> 0, o.segLen);
              }
              case "translate": {
                const r = m.translate((ssnBase + o.ssn) >>> 0, o.len);
                return r >= 0 ? [r, m.dsnHi, m.dsnLo] : r;
              }
              case "feed": {
                // Feed only where it is legal (in order, within the mapping): found via translate.
                const s = (ssnBase + o.ssn) >>> 0;
                const n = m.translate(s, o.len);
                if (n < 0) return n;
                try {
                  return m.checksumFeed(s, payload, 0, n);
                } catch (e) {
                  return (e as Error).name;
                }
              }
              case "release":
                m.releaseBefore((ssnBase + o.ssn) >>> 0);
                return m.mappings;
              case "sent": {
                const dsn = (dsnBase + BigInt(o.dsn)) & (2n ** 64n - 1n);
                return m.recordSent((ssnBase + o.ssn) >>> 0, Number(dsn >> 32n), Number(dsn & 0xffffffffn), o.len);
              }
              case "ack":
                m.ackSent((dsnBase + BigInt(o.dsn)) & (2n ** 64n - 1n));
                return m.unacked().map((r) => `${r.dsn}/${r.ssn}/${r.length}`).join(",");
            }
          });
          for (const r of rs.slice(1)) assert.deepEqual(r, rs[0], `${o.k}`);
        }
        const cs = maps.map((m) => [m.counters(), m.mappings, m.infinite, m.unacked().map((r) => `${r.dsn}/${r.ssn}/${r.length}`)]);
        for (const c of cs.slice(1)) assert.deepEqual(c, cs[0]);
      } finally {
        for (const m of maps) m.dispose();
      }
    }),
    { numRuns: 300 },
  );
});
