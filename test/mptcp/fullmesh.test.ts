// The full-mesh path manager (the default, pathManager.kind "fullmesh") against a server that
// announces its second address: every (client address, server address) pair gets a subflow that
// carries data, as Linux does for endpoints with the fullmesh flag. The simulator twin of
// interop case 9 (test/interop/mptcp_kernel.test.ts): before, the ADD_ADDR opened one subflow
// only, from the client's initial address, and the pair (second address, announced address)
// never got one.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatIp } from "../../core/wire/ip.ts";
import { clientAddr, scenario, SERVER, transfer } from "./helpers.ts";

const MiB = 1 << 20;
const LINK = { rateBps: 50e6, delayUs: 5_000, queueBytes: 250_000 };
const SERVER2 = new Uint8Array([198, 18, 101, 1]);
const PM = { subflows: 3, addAddrAccepted: 1, addAddrTimeoutUs: 1_000_000, addAddrRetries: 3 };

describe("full-mesh path manager", () => {
  it("two client addresses x two server addresses (one announced): four subflows, each carries data both ways", () => {
    const sc = scenario({ paths: [LINK, LINK], serverExtra: [{ address: SERVER2, signal: true }], clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
    const r = transfer(sc, { up: 8 * MiB, down: 8 * MiB });
    assert.ok(r.okA && r.okB);
    const subs = r.clientConn!.stats().subflows;
    const pair = (s: { localAddress: string; remoteAddress: string }): string => `${s.localAddress.split(":")[0]} ${s.remoteAddress.split(":")[0]}`;
    const want = [clientAddr(0), clientAddr(1)].flatMap((l) => [SERVER, SERVER2].map((rm) => `${formatIp(l)} ${formatIp(rm)}`));
    assert.deepEqual(subs.map(pair).sort(), want.sort());
    for (const s of subs) assert.ok(s.dataBytesSent > 0, `${pair(s)} sent no data`);
    for (const s of r.serverConn!.stats().subflows) assert.ok(s.dataBytesSent > 0, `server: ${pair(s)} sent no data`);
  });
});
