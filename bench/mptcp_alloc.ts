// MPTCP per-segment cost: goodput per CPU-second, GC share and bytes allocated per packet of a
// two-subflow upload over in-memory links (the scenario of bench/mptcp_cpu.ts).
//   node --import tsx bench/mptcp_alloc.ts [MiB] [runs] [--alloc]
// Each run prints one JSON line: CPU seconds (user + system), Gbit/s per CPU-second, the share of
// the run's CPU time spent in GC pauses (PerformanceObserver "gc" entries: main-thread pause time
// over CPU time, so concurrent marking on helper threads is not counted; pauses stretch on a
// loaded machine), the number of scavenges and mark-compacts (load-independent: they follow the
// bytes allocated), and the packets both endpoints sent. With --alloc, one more run under V8's sampling heap profiler (collected objects
// included) prints the bytes allocated per packet and the top allocating functions.
import { PerformanceObserver } from "node:perf_hooks";
import { Session } from "node:inspector";
import { scenario, transfer } from "../test/mptcp/helpers.ts";
import { BENCH_LINK } from "./mptcp.bench.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const mib = Number(args[0] ?? 32);
const runs = Number(args[1] ?? 5);
const alloc = process.argv.includes("--alloc");
const PM = { subflows: 2, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };

let gcMs = 0;
let gcMinor = 0;
let gcMajor = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    // detail.kind: 1 minor (scavenge), 2 major (mark-compact), 4 incremental, 8 weak callbacks.
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    if (kind === 1) gcMinor++;
    else if (kind === 2) gcMajor++;
  }
}).observe({ entryTypes: ["gc"] });

/** One upload; returns delivered bytes and the packets both endpoints sent. */
function one(seed: number): { bytes: number; packets: number } {
  const sc = scenario({ paths: [BENCH_LINK, BENCH_LINK], seed, clientConfig: { pathManager: PM }, serverConfig: { pathManager: PM } });
  const r = transfer(sc, { up: mib << 20, down: 0 });
  if (!r.okA) throw new Error(`transfer not byte-exact (${r.receivedA})`);
  const packets = sc.client.endpoint.stats().packetsOut + sc.server.endpoint.stats().packetsOut;
  sc.client.endpoint.dispose();
  sc.server.endpoint.dispose();
  return { bytes: r.receivedA, packets };
}

// GC entries reach the observer asynchronously (after a timer turn, not an immediate).
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const g: number[] = [];
const share: number[] = [];
const WARM = 2;
for (let i = 0; i < runs + WARM; i++) {
  await tick();
  const gc0 = gcMs;
  const minor0 = gcMinor;
  const major0 = gcMajor;
  const c0 = process.cpuUsage();
  const r = one(1 + i);
  const c = process.cpuUsage(c0);
  await tick();
  const cpuS = (c.user + c.system) / 1e6;
  const gbit = (r.bytes * 8) / 1e9 / cpuS;
  const gcShare = (gcMs - gc0) / 1e3 / cpuS;
  if (i >= WARM) {
    g.push(gbit);
    share.push(gcShare);
  }
  console.log(JSON.stringify({ run: i, bytes: r.bytes, packets: r.packets, cpuS: +cpuS.toFixed(3), gbitPerCpuS: +gbit.toFixed(3), gcShare: +gcShare.toFixed(3), scavenges: gcMinor - minor0, markCompacts: gcMajor - major0 }));
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
if (runs > 0) console.log(JSON.stringify({ metric: "2 subflows, 2 warm-up runs excluded", runs, mib, gbitPerCpuSMedian: +med(g).toFixed(3), gcShareMedian: +med(share).toFixed(3) }));

if (alloc) {
  interface Node {
    callFrame: { functionName: string; url: string };
    selfSize: number;
    children: Node[];
  }
  const s = new Session();
  s.connect();
  const post = (m: string, p?: object): Promise<unknown> =>
    new Promise((res, rej) => s.post(m, p ?? {}, (e, v) => (e ? rej(e) : res(v))));
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const r = one(100);
  const prof = (await post("HeapProfiler.stopSampling")) as { profile: { head: Node } };
  const by = new Map<string, number>();
  let total = 0;
  // Built-ins (subarray, slice, ...) are named with their caller: "subarray < takeData".
  const name = (n: Node): string => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}`.trim();
  const walk = (n: Node, parent: string): void => {
    const own = name(n);
    const k = n.callFrame.url === "" && parent !== "" ? `${own} < ${parent}` : own;
    by.set(k, (by.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c, n.callFrame.url === "" ? parent : own);
  };
  walk(prof.profile.head, "");
  console.log(JSON.stringify({ metric: "sampled allocation", mib, packets: r.packets, totalMB: +(total / 1e6).toFixed(1), bytesPerPacket: Math.round(total / r.packets) }));
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 60)) console.log(`${(v / 1e6).toFixed(1).padStart(7)} MB  ${k}`);
}
