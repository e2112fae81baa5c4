// MPTCP scenarios over the in-memory simulator: a client with one address per path, a router,
// and a server behind a fast link. Path i: client iface i (198.18.(i+1).1) <-> router iface i;
// router iface N <-> server (198.18.100.1, plus optional extra server addresses). The topology
// (`scenario`) lives in adapters/testing/harness.ts (published as `mptcp/testing`).
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import type { MptcpConfig, MptcpEvent } from "../../core/mptcp/types.ts";
import { clientAddr, PORT } from "../../adapters/testing/harness.ts";
import type { Scenario } from "../../adapters/testing/harness.ts";
import { sourceBytes } from "../tcp/sim_helpers.ts";

export { clientAddr, PORT, scenario, SERVER, SERVER6 } from "../../adapters/testing/harness.ts";
export type { Scenario, ScenarioOptions } from "../../adapters/testing/harness.ts";
export { sourceBytes };

export interface TransferResult {
  okA: boolean;
  okB: boolean;
  receivedA: number;
  receivedB: number;
  doneUs: number;
  clientConn: MptcpConnection | undefined;
  serverConn: MptcpConnection | undefined;
  clientEvents: MptcpEvent[];
  serverEvents: MptcpEvent[];
  /** Longest gap between two deliveries to the server app (µs), with its start time. */
  maxGapUs: number;
  maxGapAt: number;
  finished: boolean;
}

/**
 * Client sends `up` bytes, server sends `down` bytes, both close after writing; checks every
 * byte. `hooks.onTick` runs after each host input (time-driven scenario changes go in sim.at).
 */
export function transfer(sc: Scenario, o: { up: number; down: number; deadlineUs?: number; connectConfig?: Partial<MptcpConfig> }): TransferResult {
  const { sim, client, server } = sc;
  const dataUp = sourceBytes(Math.max(o.up, o.down, 1));
  const dataDown = dataUp; // same source, both directions
  let cc: MptcpConnection | undefined;
  let sc2: MptcpConnection | undefined;
  let offA = 0;
  let offB = 0;
  let rcvA = 0; // bytes the server received from the client
  let rcvB = 0; // bytes the client received from the server
  let badA = -1;
  let badB = -1;
  let closedA = false;
  let closedB = false;
  let lastRx = 0;
  let maxGap = 0;
  let maxGapAt = 0;
  const clientEvents: MptcpEvent[] = [];
  const serverEvents: MptcpEvent[] = [];
  const buf = new Uint8Array(1 << 18);
  const pump = (now: number, c: MptcpConnection, isClient: boolean): void => {
    let e: MptcpEvent | undefined;
    while ((e = c.pollEvent()) !== undefined) if (e.type !== "readable" && e.type !== "writable") (isClient ? clientEvents : serverEvents).push(e);
    const total = isClient ? o.up : o.down;
    let off = isClient ? offA : offB;
    if (c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT") {
      while (off < total) {
        const n = c.write(now, dataUp.subarray(off, Math.min(total, off + (1 << 18))));
        if (n === 0) break;
        off += n;
      }
      if (off === total) {
        if (isClient && !closedA) {
          closedA = true;
          c.shutdown(now);
        } else if (!isClient && !closedB) {
          closedB = true;
          c.shutdown(now);
        }
      }
    }
    if (isClient) offA = off;
    else offB = off;
    let n: number;
    while ((n = c.read(now, buf)) > 0) {
      const src = isClient ? dataDown : dataUp;
      const base = isClient ? rcvB : rcvA;
      let bad = isClient ? badB : badA;
      if (bad < 0) {
        for (let i = 0; i < n; i++) {
          if (buf[i] !== src[base + i]) {
            bad = base + i;
            break;
          }
        }
      }
      if (isClient) {
        rcvB += n;
        badB = bad;
      } else {
        rcvA += n;
        badA = bad;
        if (now - lastRx > maxGap && rcvA > n) {
          maxGap = now - lastRx;
          maxGapAt = lastRx;
        }
        lastRx = now;
      }
    }
  };
  client.app = (now) => {
    if (cc) pump(now, cc, true);
  };
  server.app = (now) => {
    sc2 ??= server.endpoint.pollAccept();
    if (sc2) pump(now, sc2, false);
  };
  sim.at(0, (now) => {
    cc = client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0, sc.v6), config: o.connectConfig });
  });
  const done = (): boolean => rcvA >= o.up && rcvB >= o.down && !!cc && !!sc2 && cc.peerClosed && sc2.peerClosed;
  const finished = sim.runUntilTrue(done, o.deadlineUs ?? 600_000_000);
  // Let the close handshakes finish.
  sim.runUntil(sim.now + 2_000_000);
  if (cc) pump(sim.now, cc, true);
  if (sc2) pump(sim.now, sc2, false);
  return {
    okA: badA < 0 && rcvA === o.up,
    okB: badB < 0 && rcvB === o.down,
    receivedA: rcvA,
    receivedB: rcvB,
    doneUs: sim.now,
    clientConn: cc,
    serverConn: sc2,
    clientEvents,
    serverEvents,
    maxGapUs: maxGap,
    maxGapAt,
    finished,
  };
}
