// Connection-level send-buffer autotuning (Linux __mptcp_sync_sndbuf): write() takes up to
// tcp_wmem[0] + the sum of the subflows' autotuned send buffers, at least 64 KiB, at most
// sendBufferSize; the ring behind it grows only as far as that lets in.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenario, transfer } from "./helpers.ts";
import type { PathManagerConfig } from "../../core/mptcp/types.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";

const MiB = 1 << 20;
const PM: PathManagerConfig = { subflows: 7, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
const PATHS: LinkSpec[] = [
  { rateBps: 20e6, delayUs: 5_000, queueBytes: 40_000 },
  { rateBps: 20e6, delayUs: 8_000, queueBytes: 40_000 },
];

interface Run {
  doneUs: number;
  maxRing: number;
  maxBuffered: number;
  maxLimit: number;
  limitOk: boolean;
}

function run(autotune: boolean): Run {
  const sc = scenario({ paths: PATHS, seed: 2, clientConfig: { pathManager: PM, sendBufferAutotune: autotune }, serverConfig: { pathManager: PM } });
  const out = { maxRing: 0, maxBuffered: 0, maxLimit: 0, limitOk: true };
  const sample = (): void => {
    const c: MptcpConnection | undefined = sc.client.endpoint.connections[0];
    if (!c) return;
    out.maxRing = Math.max(out.maxRing, c.sendBuf.capacity);
    out.maxBuffered = Math.max(out.maxBuffered, c.unacked);
    out.maxLimit = Math.max(out.maxLimit, c.sendBufferLimit);
    if (c.state !== "ESTABLISHED") return;
    let sum = 4096;
    for (const s of c.subflows) if (s.tcp.state !== "CLOSED") sum += s.tcp.sendBuffer;
    const want = autotune ? Math.min(4 * MiB, Math.max(65536, sum)) : 4 * MiB;
    if (c.sendBufferLimit !== want || c.unacked > want) out.limitOk = false;
  };
  for (let t = 0; t < 20e6; t += 5_000) sc.sim.at(t, sample);
  const r = transfer(sc, { up: 16 * MiB, down: 0 });
  assert.ok(r.okA && r.okB, `up ${r.receivedA}`);
  assert.equal(r.clientConn!.subflows.length, 2);
  return { doneUs: r.doneUs, ...out };
}

describe("mptcp send-buffer autotuning", () => {
  it("2 subflows, 16 MiB: the buffer follows the subflows' windows, the ring stays small, goodput holds", () => {
    const on = run(true);
    const off = run(false);
    console.log(`[mptcp sndbuf] autotuned: done ${(on.doneUs / 1e6).toFixed(2)} s, ring ${on.maxRing} B, buffered <= ${on.maxBuffered}, limit <= ${on.maxLimit}; fixed 4 MiB: done ${(off.doneUs / 1e6).toFixed(2)} s, ring ${off.maxRing} B`);
    assert.ok(on.limitOk, "write() bounded by tcp_wmem[0] + the subflows' send buffers");
    assert.ok(off.limitOk);
    assert.equal(off.maxRing, 4 * MiB);
    assert.ok(on.maxRing <= 2 * MiB, `ring ${on.maxRing}`);
    assert.ok(on.doneUs <= 1.02 * off.doneUs, `done at ${on.doneUs} vs ${off.doneUs} µs`);
  });

  it("before the handshake: 4 KiB + the initial subflow's initial-window size; at most sendBufferSize", () => {
    const sc = scenario({ paths: PATHS });
    const c = sc.client.endpoint.connect(0, sc.serverAddress, 80);
    assert.equal(c.writable, 4096 + 87040);
    assert.equal(c.write(0, new Uint8Array(100_000)), 4096 + 87040);
    assert.equal(c.writable, 0);
    // A subflow MSS of 536 (256 + 512 + 256 bytes per segment): the 64 KiB floor holds.
    const sc1 = scenario({ paths: PATHS, clientConfig: { tcp: { mss: 536 } } });
    assert.equal(sc1.client.endpoint.connect(0, sc1.serverAddress, 80).writable, 65536);
    const sc2 = scenario({ paths: PATHS, clientConfig: { sendBufferSize: 10_000 } });
    const c2 = sc2.client.endpoint.connect(0, sc2.serverAddress, 80);
    assert.equal(c2.writable, 10_000);
    const sc3 = scenario({ paths: PATHS, clientConfig: { sendBufferAutotune: false } });
    const c3 = sc3.client.endpoint.connect(0, sc3.serverAddress, 80);
    assert.equal(c3.writable, 4 * MiB);
  });
});
