// Plain TCP: one connection over the in-memory simulator link in one process (MSS 1448:
// timestamps and SACK on, CUBIC; 10 Gbit/s / 50 µs link; both hosts, the link and the byte-level
// path: IP + TCP encode, checksum fill and verify, parse), 64 MiB per run, checked byte-exact.
// Workloads: the receive buffer on the WASM reassembly kernel, and on its pure-TS twin as the
// same-run baseline. Wall time here (`npm run bench tcp`); goodput per CPU-second (the issue's
// metric, steadier on a shared machine) comes from bench/tcp_cpu.ts in the same line format.
import type { BenchSuite } from "./harness.ts";
import { simTransfer } from "../test/tcp/sim_helpers.ts";
import type { KernelImpl } from "../core/kernels/types.ts";

export const TCP_BENCH_BYTES: number = 64 * 1024 * 1024;
export const TCP_BENCH_LINK = { rateBps: 10e9, delayUs: 50 };

/** One 64 MiB transfer with the given receive kernel; returns the bytes delivered (byte-exact). */
export function tcpTransfer(kernel: KernelImpl, seed: number, bytes: number = TCP_BENCH_BYTES): number {
  const r = simTransfer({ bytes, link: TCP_BENCH_LINK, seed, config: { kernel } });
  if (!r.ok) throw new Error(`transfer not byte-exact (${kernel}, seed ${seed}): ${r.received} bytes, mismatch at ${r.mismatchAt}`);
  if (r.sender.sndMss !== 1448) throw new Error(`MSS ${r.sender.sndMss}, expected 1448`);
  return r.received;
}

export const TCP_WORKLOADS: ReadonlyArray<{ name: string; kernel: KernelImpl; baseline?: string }> = [
  { name: "tcp 64MiB MSS 1448, receive buffer: TS twin (baseline)", kernel: "ts" },
  { name: "tcp 64MiB MSS 1448, receive buffer: WASM kernel", kernel: "wasm", baseline: "tcp 64MiB MSS 1448, receive buffer: TS twin (baseline)" },
];

export const suite: BenchSuite = {
  name: "tcp",
  timeMs: 4000,
  iterations: 5,
  workloads: TCP_WORKLOADS.map((w) => {
    let seed = 1;
    return { name: w.name, unit: "Gbit/s" as const, bytesPerOp: TCP_BENCH_BYTES, baseline: w.baseline, fn: () => void tcpTransfer(w.kernel, seed++) };
  }),
};
