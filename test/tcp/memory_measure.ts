// Memory and goodput of N concurrent plain-TCP connections in the in-memory simulator (a
// measurement, not a test): `node --import tsx test/tcp/memory_measure.ts [N] [MiB each] [rate Mbit/s] [queue KB]`.
// Reports the receive rings' capacity per connection (peak and at the end), the shared WASM
// memory, and the aggregate goodput.
import { Simulator } from "../../adapters/memory/simulator.ts";
import { SimTcpHost } from "../../adapters/memory/tcp_host.ts";
import { loadKernels } from "../../core/kernels/wasm/instance.ts";
import type { TcpHostConnection } from "../../core/tcp/host.ts";
import { ADDR_A, ADDR_B, sourceBytes } from "./sim_helpers.ts";
import { Prng } from "./helpers.ts";

const N = Number(process.argv[2] ?? 64);
const MIB = Number(process.argv[3] ?? 4);
const RATE = Number(process.argv[4] ?? 1000) * 1e6;
const QUEUE = Number(process.argv[5] ?? 1000) * 1000;
const bytes = MIB << 20;
const data = sourceBytes(bytes);
const mem = loadKernels().memory;
const mem0 = mem.buffer.byteLength;
const sim = new Simulator({ seed: 1 });
const a = new SimTcpHost({ address: ADDR_A, random: new Prng(4) });
const b = new SimTcpHost({ address: ADDR_B, random: new Prng(5) });
sim.connect({ host: a, iface: 0 }, { host: b, iface: 0 }, { rateBps: RATE, delayUs: 5_000, queueBytes: QUEUE, lossRate: Number(process.argv[7] ?? 0) }, "ab");
b.tcp.listen(5001);
const clients: TcpHostConnection[] = [];
const servers: TcpHostConnection[] = [];
const off: number[] = [];
const got: number[] = [];
let done = 0;
const buf = new Uint8Array(1 << 20);
const mode = process.argv[6] ?? "bulk";
a.app = () => {
  if (mode === "idle") return;
  for (let i = 0; i < clients.length; i++) {
    const c = clients[i]!.conn;
    if (!(c.state === "ESTABLISHED" || c.state === "CLOSE_WAIT")) continue;
    while (off[i]! < bytes) {
      const n = c.write(data.subarray(off[i]!, Math.min(bytes, off[i]! + (1 << 20))));
      if (n === 0) break;
      off[i]! += n;
    }
  }
};
let peakRing = 0;
let lastUs = 0;
const ringOf = (hc: TcpHostConnection): number => ((hc.conn as unknown as { rcvBuf?: { capacity: number } }).rcvBuf?.capacity ?? 0);
b.app = (now) => {
  let s;
  while ((s = b.tcp.pollAccept(5001))) {
    servers.push(s);
    got.push(0);
  }
  let ring = 0;
  for (let i = 0; i < servers.length; i++) {
    const c = servers[i]!.conn;
    let n;
    while ((n = c.read(buf)) > 0) {
      got[i]! += n;
      if (got[i] === bytes) {
        done++;
        lastUs = now;
      }
    }
    ring += ringOf(servers[i]!);
  }
  if (ring > peakRing) peakRing = ring;
};
sim.at(0, (now) => {
  for (let i = 0; i < N; i++) {
    clients.push(a.tcp.connect(now, ADDR_B, 5001));
    off.push(0);
  }
});
sim.runUntil(2_000_000);
const idleRing = servers.reduce((s, x) => s + ringOf(x), 0) + clients.reduce((s, x) => s + ringOf(x), 0);
if (mode === "idle") {
  console.log(JSON.stringify({ N, idleRingPerConnBytes: idleRing / (2 * N), wasmMemGrowthPerConn: (mem.buffer.byteLength - mem0) / (2 * N) }));
} else {
  sim.runUntilTrue(() => done === N, 600_000_000);
  const endRing = servers.reduce((s, x) => s + ringOf(x), 0);
  console.log(JSON.stringify({
    N, MiB: MIB, rateMbps: RATE / 1e6, queueKB: QUEUE / 1000, done,
    peakRingPerServerConnKiB: Math.round(peakRing / N / 1024),
    endRingPerServerConnKiB: Math.round(endRing / N / 1024),
    wasmMemMiB: Math.round((mem.buffer.byteLength - mem0) / 1048576),
    goodputMbps: Math.round((N * bytes * 8) / lastUs),
    rss: Math.round(process.memoryUsage().rss / 1048576),
  }));
}
