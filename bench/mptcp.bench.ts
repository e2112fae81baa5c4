// MPTCP benchmarks (bench/harness.ts): a two-subflow transfer over in-memory links (MSS 1448,
// byte-level path included: IP/TCP encode, checksums, parse, DSS), with a single plain-TCP
// connection over the same kind of link as the same-run baseline; and the handshake rate
// (MPTCP connections per second, key generation and SHA-256 included) against plain TCP
// handshakes through the same Endpoint. CPU-second goodput and heap per idle connection:
// bench/mptcp_cpu.ts.
import type { BenchSuite } from "./harness.ts";
import { scenario, transfer } from "../test/mptcp/helpers.ts";
import { simTransfer } from "../test/tcp/sim_helpers.ts";
import { Endpoint } from "../core/mptcp/endpoint.ts";
import { SeededRandomSource } from "../core/crypto/random.ts";
import type { MptcpConnection } from "../core/mptcp/connection.ts";

const MiB = 1 << 20;
export const BENCH_LINK = { rateBps: 10e9, delayUs: 50 };
const PM = { subflows: 2, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

/** One upload of `bytes` over two subflows; returns the bytes delivered (checked byte-exact). */
export function mptcpTransfer(bytes: number, seed: number, paths = 2): number {
  const sc = scenario({ paths: Array.from({ length: paths }, () => BENCH_LINK), seed, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
  const r = transfer(sc, { up: bytes, down: 0 });
  if (!r.okA) throw new Error(`transfer not byte-exact (${r.receivedA})`);
  const subs = r.clientConn!.stats().subflows;
  if (subs.length !== paths || subs.some((s) => s.dataBytesSent === 0)) throw new Error("a subflow carried no data");
  return r.receivedA;
}

const A = new Uint8Array([198, 18, 1, 1]);
const B = new Uint8Array([198, 18, 100, 1]);

/** Client and server Endpoints wired back to back (no simulator): packets are moved at once. */
export class Pair {
  readonly client: Endpoint;
  readonly server: Endpoint;
  now = 0;
  constructor(seed: number, mptcp = true, clientAddrs: Uint8Array[] = [A]) {
    this.client = new Endpoint({ addresses: clientAddrs.map((address, i) => ({ address, subflow: i > 0 })), random: new SeededRandomSource(seed), config: { mptcp } });
    this.server = new Endpoint({ addresses: [{ address: B }], random: new SeededRandomSource(seed + 1), config: { mptcp } });
    this.server.listen(80);
  }
  /** Moves packets both ways until none is left (time advances 10 µs per round). */
  pump(): void {
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      let p;
      while ((p = this.client.pollTransmit(this.now)) !== undefined) {
        this.server.handlePacket(this.now, p.packet);
        moved = true;
      }
      while ((p = this.server.pollTransmit(this.now)) !== undefined) {
        this.client.handlePacket(this.now, p.packet);
        moved = true;
      }
      this.now += 10;
      if (!moved) return;
    }
  }
  connect(): MptcpConnection {
    return this.client.connect(this.now, B, 80, { localAddress: A });
  }
}

const N = 64;
function handshakes(mptcp: boolean): () => void {
  let seed = 1;
  return () => {
    const pair = new Pair(seed++, mptcp);
    const cs: MptcpConnection[] = [];
    for (let i = 0; i < N; i++) cs.push(pair.connect());
    pair.pump();
    let ok = 0;
    for (const c of cs) if (c.state === "ESTABLISHED" && c.isMptcp === mptcp) ok++;
    if (ok !== N) throw new Error(`${ok}/${N} established`);
  };
}

export const suite: BenchSuite = {
  name: "mptcp",
  timeMs: 3000,
  iterations: 5,
  workloads: [
    { name: "tcp 1 connection 16MiB (baseline)", unit: "Gbit/s", bytesPerOp: 16 * MiB, fn: () => void simTransfer({ bytes: 16 * MiB, link: BENCH_LINK, seed: 1 }) },
    { name: "mptcp 1 subflow 16MiB (router topology)", unit: "Gbit/s", bytesPerOp: 16 * MiB, fn: () => void mptcpTransfer(16 * MiB, 1, 1), baseline: "tcp 1 connection 16MiB (baseline)" },
    { name: "mptcp 2 subflows 16MiB", unit: "Gbit/s", bytesPerOp: 16 * MiB, fn: () => void mptcpTransfer(16 * MiB, 1), baseline: "tcp 1 connection 16MiB (baseline)" },
    { name: "handshake plain TCP via Endpoint x64 (baseline)", unit: "ops/s", opsPerCall: N, fn: handshakes(false) },
    { name: "handshake MPTCP x64", unit: "ops/s", opsPerCall: N, fn: handshakes(true), baseline: "handshake plain TCP via Endpoint x64 (baseline)" },
  ],
};
