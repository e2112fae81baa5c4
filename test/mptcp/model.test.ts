// fast-check model test over the public API: random sequences of open, join, write, read,
// close, announce, remove, set-backup and link events, run on the simulator. Invariants: no
// handle*/poll* throws (API misuse may throw typed MptcpErrors only), each direction's bytes
// arrive exactly once and in order (a prefix of what was written), counters consistent.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { clientAddr, scenario, sourceBytes, PORT, SERVER } from "./helpers.ts";
import { MptcpError } from "../../core/errors.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";

const PM = { subflows: 4, addAddrAccepted: 2, addAddrTimeoutUs: 2_000_000, addAddrRetries: 3 };

type Cmd =
  | { t: number; k: "write"; side: 0 | 1; n: number }
  | { t: number; k: "read"; side: 0 | 1; on: boolean }
  | { t: number; k: "close"; side: 0 | 1 }
  | { t: number; k: "join" }
  | { t: number; k: "announce" }
  | { t: number; k: "remove" }
  | { t: number; k: "backup"; on: boolean }
  | { t: number; k: "link"; path: 0 | 1; up: boolean };

const side = fc.constantFrom<0 | 1>(0, 1);
const t = fc.integer({ min: 1, max: 3_000_000 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ t, k: fc.constant("write" as const), side, n: fc.integer({ min: 1, max: 200_000 }) }),
  fc.record({ t, k: fc.constant("read" as const), side, on: fc.boolean() }),
  fc.record({ t, k: fc.constant("close" as const), side }),
  fc.record({ t, k: fc.constant("join" as const) }),
  fc.record({ t, k: fc.constant("announce" as const) }),
  fc.record({ t, k: fc.constant("remove" as const) }),
  fc.record({ t, k: fc.constant("backup" as const), on: fc.boolean() }),
  fc.record({ t, k: fc.constant("link" as const), path: fc.constantFrom<0 | 1>(0, 1), up: fc.boolean() }),
);

/** Prints the failure of a run when MPTCP_TEST_DEBUG is set (fast-check only reports the input). */
function debugged(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (process.env.MPTCP_TEST_DEBUG) console.log("RUN FAILED:", (e as Error).message);
    throw e;
  }
}

function misuse(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof MptcpError)) throw e;
  }
}

describe("mptcp model (fast-check)", () => {
  it("random command sequences keep the invariants", () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 16 }), fc.integer({ min: 1, max: 1000 }), (cmds, seed) => debugged(() => {
        const link = { rateBps: 50e6, delayUs: 3_000, queueBytes: 200_000 };
        const sc = scenario({ paths: [link, link], seed, clientFlags: [{}, { subflow: false }], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
        const src = sourceBytes(4 << 20);
        const conns: Array<MptcpConnection | undefined> = [undefined, undefined];
        const written = [0, 0];
        const got = [0, 0];
        const reading = [true, true];
        const closed = [false, false];
        const buf = new Uint8Array(65536);
        const drain = (now: number, i: 0 | 1): void => {
          const c = conns[i];
          if (!c) return;
          while (c.pollEvent() !== undefined);
          if (!reading[i]) return;
          let n: number;
          while ((n = c.read(now, buf)) > 0) {
            for (let j = 0; j < n; j++) if (buf[j] !== src[got[i]! + j]) throw new Error(`side ${i}: byte ${got[i]! + j} differs`);
            got[i]! += n;
          }
        };
        sc.client.app = (now) => drain(now, 0);
        sc.server.app = (now) => {
          conns[1] ??= sc.server.endpoint.pollAccept();
          drain(now, 1);
        };
        sc.sim.at(0, (now) => {
          conns[0] = sc.client.endpoint.connect(now, SERVER, PORT, { localAddress: clientAddr(0) });
        });
        for (const c of cmds) {
          sc.sim.at(c.t, (now) => {
            const cc = conns[0];
            const i = "side" in c ? c.side : 0;
            const me = conns[i];
            switch (c.k) {
              case "write":
                if (me && !closed[i]) misuse(() => (written[i]! += me.write(now, src.subarray(written[i]!, Math.min(src.length, written[i]! + c.n)))));
                break;
              case "read":
                reading[i] = c.on;
                break;
              case "close":
                if (me) {
                  closed[i] = true;
                  me.shutdown(now);
                }
                break;
              case "join":
                if (cc) misuse(() => cc.openSubflow(now, clientAddr(1)));
                break;
              case "announce":
                if (conns[1]) misuse(() => conns[1]!.announceAddress(now, 7, new Uint8Array([198, 18, 100, 7])));
                break;
              case "remove":
                if (cc) cc.removeAddress(now, 2);
                break;
              case "backup":
                if (cc && cc.subflows.length > 0) misuse(() => cc.setBackup(now, cc.subflows[cc.subflows.length - 1]!.id, c.on));
                break;
              case "link":
                sc.paths[c.path]!.setUp(c.up);
                break;
            }
            sc.sim.poke(sc.client);
            sc.sim.poke(sc.server);
          });
        }
        sc.sim.at(3_100_000, () => {
          sc.paths[0]!.setUp(true);
          sc.paths[1]!.setUp(true);
          reading[0] = reading[1] = true;
        });
        sc.sim.runUntil(20_000_000);
        drain(sc.sim.now, 0);
        drain(sc.sim.now, 1);
        // Client bytes arrive at the server (index 1) and vice versa: a prefix, never more.
        assert.ok(got[1]! <= written[0]!, `server got ${got[1]} of ${written[0]}`);
        assert.ok(got[0]! <= written[1]!, `client got ${got[0]} of ${written[1]}`);
        for (const [i, c] of conns.entries()) {
          if (!c) continue;
          const s = c.stats();
          assert.ok(s.bytesAcked <= s.bytesWritten);
          assert.equal(s.bytesWritten, written[i]);
          assert.equal(s.bytesRead, got[i]);
          assert.ok(s.subflows.length <= 8);
          // With every link up again and both sides reading, an open connection delivers all.
          const peer = conns[1 - i];
          if (peer && c.isMptcp && c.state !== "CLOSED" && peer.state !== "CLOSED" && !closed[1 - i]) {
            assert.equal(got[1 - i], written[i], `all of side ${i}'s bytes delivered`);
          }
        }
      })),
      { numRuns: Number(process.env.MODEL_RUNS ?? 40), seed: Number(process.env.MODEL_SEED ?? 42) },
    );
  });
});
