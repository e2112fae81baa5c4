// One plain-TCP connection over the in-memory simulator link in one process (MSS 1448, both
// hosts and the link on one thread): goodput in Gbit/s per CPU-second (user + system).
//   node --import tsx bench/tcp_goodput.ts [MiB] [runs]
import { simTransfer } from "../test/tcp/sim_helpers.ts";

const mib = Number(process.argv[2] ?? 64);
const runs = Number(process.argv[3] ?? 5);
const out: number[] = [];
for (let i = 0; i < runs + 1; i++) {
  const c0 = process.cpuUsage();
  const r = simTransfer({ bytes: mib << 20, link: { rateBps: 10e9, delayUs: 50 }, seed: 1 + i });
  const c = process.cpuUsage(c0);
  if (!r.ok) throw new Error("transfer not byte-exact");
  const cpuS = (c.user + c.system) / 1e6;
  const gbitPerCpuS = (r.received * 8) / 1e9 / cpuS;
  if (i > 0) out.push(gbitPerCpuS); // run 0 warms up the JIT
  console.log(JSON.stringify({ run: i, mss: r.sender.sndMss, bytes: r.received, cpuS: +cpuS.toFixed(3), gbitPerCpuS: +gbitPerCpuS.toFixed(3), virtualGbps: +(r.goodputBps / 1e9).toFixed(2) }));
}
out.sort((a, b) => a - b);
console.log(JSON.stringify({ median: out[out.length >> 1], min: out[0], max: out[out.length - 1] }));
