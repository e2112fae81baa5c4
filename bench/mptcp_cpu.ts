// MPTCP: goodput per CPU-second (user + system) of a two-subflow upload over in-memory links
// (MSS 1448, 10 Gbit/s / 50 µs per path, the simulator and both hosts on one thread), and the
// JS heap per idle established connection with two subflows.
//   node --import tsx bench/mptcp_cpu.ts [MiB] [runs]
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { Pair, mptcpTransfer } from "./mptcp.bench.ts";
import type { MptcpConnection } from "../core/mptcp/connection.ts";

const mib = Number(process.argv[2] ?? 64);
const runs = Number(process.argv[3] ?? 5);
const out: number[] = [];
for (let i = 0; i < runs + 1; i++) {
  const c0 = process.cpuUsage();
  const got = mptcpTransfer(mib << 20, 1 + i);
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6;
  const g = (got * 8) / 1e9 / cpuS;
  if (i > 0) out.push(g);
  console.log(JSON.stringify({ run: i, bytes: got, cpuS: +cpuS.toFixed(3), gbitPerCpuS: +g.toFixed(3) }));
}
out.sort((a, b) => a - b);
console.log(JSON.stringify({ metric: "goodput per CPU-second, 2 subflows", median: out[out.length >> 1], min: out[0], max: out[out.length - 1] }));

// Heap per idle established connection (2 subflows, both ends counted separately).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const A2 = [new Uint8Array([198, 18, 1, 1]), new Uint8Array([198, 18, 2, 1])];
const K = 200;
const heap: number[] = [];
const ext: number[] = [];
function measure(seed: number): { heap: number; ab: number; twoSub: number } {
  gc();
  gc();
  const m0 = process.memoryUsage();
  let pair: Pair | undefined = new Pair(seed, true, A2);
  let cs: MptcpConnection[] | undefined = [];
  for (let i = 0; i < K; i++) cs.push(pair.connect());
  pair.pump();
  // The server's DSS confirms MPTCP: the path manager then joins from the second address.
  for (const c of cs) c.write(pair.now, new Uint8Array(1));
  pair.pump();
  pair.pump();
  const twoSub = cs.filter((c) => c.liveSubflows.length === 2 && c.state === "ESTABLISHED").length;
  gc();
  gc();
  const m1 = process.memoryUsage();
  const keep = [pair, cs];
  pair = undefined;
  cs = undefined;
  void keep;
  return { heap: (m1.heapUsed - m0.heapUsed) / K, ab: (m1.arrayBuffers - m0.arrayBuffers) / K, twoSub };
}
for (let r = 0; r < 3; r++) {
  const m = measure(100 + r);
  heap.push(m.heap);
  ext.push(m.ab);
  console.log(JSON.stringify({ run: r, connections: K, withTwoSubflows: m.twoSub, heapBytesPerConnectionBothEnds: Math.round(m.heap), arrayBufferBytesPerConnectionBothEnds: Math.round(m.ab) }));
  if (m.twoSub !== K) throw new Error("not every connection has two subflows");
}
heap.sort((a, b) => a - b);
ext.sort((a, b) => a - b);
console.log(JSON.stringify({ metric: "per idle established 2-subflow connection (client + server ends)", heapMedian: Math.round(heap[1]!), arrayBuffersMedian: Math.round(ext[1]!) }));
