// Fuzz (DESIGN.md convention 5): network input never throws. Random MPTCP options (every form,
// random fields) replace the options of packets on a path, and random bytes of the TCP header
// and options are flipped (checksum fixed, so the segment reaches the MPTCP layer), during
// transfers with two subflows; fast-check drives the choices. Invariants: no handle*/poll*
// call throws; whatever reaches each application is a prefix of what the other side wrote
// unless mapping material was forged (an on-path rewrite that MPTCP cannot detect without
// checksums); with checksums on and no fallback, it always is.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { scenario, sourceBytes, PORT, SERVER, clientAddr } from "./helpers.ts";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum } from "../../core/wire/checksum.ts";
import { emitPacket, parsePacket } from "../../core/wire/packet.ts";
import type { MptcpOption } from "../../core/wire/types.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import { mptcpForms } from "../wire/arbitraries.ts";

const LINK = { rateBps: 50e6, delayUs: 3_000, queueBytes: 200_000 };
const PM = { subflows: 4, addAddrAccepted: 2, addAddrTimeoutUs: 1_000_000, addAddrRetries: 3 };
const anyOption: fc.Arbitrary<MptcpOption> = fc.oneof(...Object.values(mptcpForms));

interface Action {
  at: number; // packet index on the path
  kind: "options" | "flip";
  options: MptcpOption[];
  flips: Array<[number, number]>;
}

const action: fc.Arbitrary<Action> = fc.record({
  at: fc.integer({ min: 0, max: 3000 }),
  kind: fc.constantFrom<"options" | "flip">("options", "flip"),
  options: fc.array(anyOption, { minLength: 1, maxLength: 3 }),
  flips: fc.array(fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
});

describe("mptcp fuzz: network input never throws", () => {
  it("random MPTCP options and header bytes on the path", () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 100 }), fc.boolean(), (actions, seed, csum) => {
        const sc = scenario({ paths: [LINK, LINK], seed, clientConfig: { pathManager: PM, checksum: csum }, serverConfig: { pathManager: PM } });
        const byIndex = new Map<number, Action[]>();
        for (const a of actions) byIndex.set(a.at, [...(byIndex.get(a.at) ?? []), a]);
        let forgedMapping = false;
        for (const link of sc.paths) {
          let n = 0;
          link.addMiddlebox(
            new FunctionBox("fuzz", (p) => {
              const acts = byIndex.get(n++);
              if (!acts) return [p];
              let out = p;
              for (const a of acts) {
                const r = parsePacket(out);
                if (!r.ok) continue;
                const { ip, tcp, tcpOffset, tcpLength } = r.value;
                if (a.kind === "options") {
                  tcp.header.options.mptcp = a.options;
                  if (a.options.some((o) => (o.type === "dss" && o.mapping) || (o.type === "mp_capable" && o.dataLength !== undefined))) forgedMapping = true;
                  const buf = new Uint8Array(out.length + 60);
                  const e = emitPacket(ip, tcp, buf, 0);
                  if (!e.ok) continue;
                  fillTcpChecksum(ip.src, ip.dst, buf, e.value.tcpOffset, e.value.tcpLength);
                  if (ip.version === 4) fillIpv4HeaderChecksum(buf, e.value.ipOffset);
                  out = buf.subarray(0, e.value.length);
                } else {
                  const hdr = Math.min(tcpLength, 60);
                  const b = out.slice();
                  for (const [off, x] of a.flips) if (off < hdr && off !== 16 && off !== 17) b[tcpOffset + off]! ^= x;
                  forgedMapping = true; // a flipped option byte can turn into any mapping
                  fillTcpChecksum(ip.src, ip.dst, b, tcpOffset, tcpLength);
                  out = b;
                }
              }
              return [out];
            }),
          );
        }
        const src = sourceBytes(1 << 20);
        const conns: Array<MptcpConnection | undefined> = [undefined, undefined];
        const got = [0, 0];
        const wrote = [0, 0];
        let mismatch = false;
        const buf = new Uint8Array(65536);
        const app = (now: number, i: 0 | 1): void => {
          const c = conns[i];
          if (!c) return;
          while (c.pollEvent() !== undefined);
          if ((c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT") && wrote[i]! < 512 * 1024) wrote[i]! += c.write(now, src.subarray(wrote[i]!, 512 * 1024));
          let k: number;
          while ((k = c.read(now, buf)) > 0) {
            for (let j = 0; j < k; j++) if (buf[j] !== src[got[i]! + j]) mismatch = true;
            got[i]! += k;
          }
        };
        sc.client.app = (now) => app(now, 0);
        sc.server.app = (now) => {
          conns[1] ??= sc.server.endpoint.pollAccept();
          app(now, 1);
        };
        sc.sim.at(0, (now) => {
          conns[0] = sc.client.endpoint.connect(now, SERVER, PORT, { localAddress: clientAddr(0) });
        });
        try {
          sc.sim.runUntil(5_000_000); // throws if any handle*/poll* throws
        } catch (e) {
          if (process.env.MPTCP_TEST_DEBUG) console.log("RUN FAILED:", (e as Error).stack);
          throw e;
        }
        if (process.env.MPTCP_TEST_DEBUG && mismatch) console.log("MISMATCH", csum, forgedMapping, conns[0]?.isMptcp, conns[1]?.isMptcp);
        // Byte-exact unless an on-path box forged mapping material; with checksums on and MPTCP
        // kept to the end (no fallback, where checksums stop), even then.
        const kept = conns[0]?.isMptcp === true && conns[1]?.isMptcp === true;
        if (!forgedMapping || (csum && kept)) {
          assert.equal(mismatch, false, "delivered bytes are a prefix of what was written");
          assert.ok(got[0]! <= 512 * 1024 && got[1]! <= 512 * 1024);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 30), seed: Number(process.env.FUZZ_SEED ?? 5) },
    );
  });
});
