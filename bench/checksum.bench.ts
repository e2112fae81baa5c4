// Internet checksum (RFC 1071) throughput: the WebAssembly SIMD and scalar builds against the
// pure-TS twin (the baseline, measured in the same run).
//   - bulk: one 64 MiB buffer per call (twice the 32 MiB L3 of the reference machine, so bound by
//     memory bandwidth), and one 512 KiB buffer per call (L2-resident: bound by the kernel);
//   - packets: 1024 packets of 1460 bytes per call (1.5 MB, cache-resident), packet i at
//     offset i * 1461 so half of them start at an odd address, one kernel call per packet.
// "resident" = the bytes already live in WASM memory (the data-plane case, no copy);
// "copy-in" = the bytes live in a JS Uint8Array and `sum()` copies them into the scratch area.
import type { BenchSuite } from "./harness.ts";
import { tsChecksumKernel, wasmChecksumKernel } from "../core/kernels/checksum.ts";
import type { WasmChecksumKernel } from "../core/kernels/checksum.ts";
import { SeededRandomSource } from "../core/crypto/random.ts";

const BULK = 64 * 1024 * 1024;
const SMALL = 512 * 1024;
const PKT = 1460;
const STRIDE = 1461;
const NPKT = 1024;
const PKT_AREA = NPKT * STRIDE;

const bulk = new Uint8Array(BULK);
new SeededRandomSource(1).fill(bulk);
const pkts = new Uint8Array(PKT_AREA);
new SeededRandomSource(2).fill(pkts);

let sink = 0;
const simd = wasmChecksumKernel("simd");
const scalar = wasmChecksumKernel("scalar");

/** Puts bulk + packet data into the kernel's scratch; returns [bulkPtr, pktPtr]. */
const resident = new Map<WasmChecksumKernel, [number, number]>();
function place(k: WasmChecksumKernel): [number, number] {
  let r = resident.get(k);
  if (!r) {
    const base = k.scratch(BULK + PKT_AREA + 64);
    const u8 = k.kernels.u8();
    u8.set(bulk, base);
    u8.set(pkts, base + BULK);
    r = [base, base + BULK];
    resident.set(k, r);
  }
  return r;
}

function bulkResident(k: WasmChecksumKernel): () => void {
  return () => {
    const [p] = place(k);
    sink ^= k.sumAt(p, BULK, 0);
  };
}

function smallResident(k: WasmChecksumKernel): () => void {
  return () => {
    const [p] = place(k);
    sink ^= k.sumAt(p, SMALL, 0);
  };
}

function pktsResident(k: WasmChecksumKernel): () => void {
  return () => {
    const [, p] = place(k);
    let x = 0;
    for (let i = 0; i < NPKT; i++) x ^= k.sumAt(p + i * STRIDE, PKT, 0);
    sink ^= x;
  };
}

// Copy-in: each packet is copied from the JS buffer into the scratch area, then summed there.
function pktsCopyIn(k: WasmChecksumKernel): () => void {
  return () => {
    let x = 0;
    for (let i = 0; i < NPKT; i++) x ^= k.sum(pkts, i * STRIDE, PKT);
    sink ^= x;
  };
}

export const suite: BenchSuite = {
  name: "checksum",
  workloads: [
    { name: "ts 64MiB", fn: () => void (sink ^= tsChecksumKernel.sum(bulk, 0, BULK)), bytesPerOp: BULK, unit: "Gbit/s" },
    { name: "wasm-simd 64MiB resident", fn: bulkResident(simd), bytesPerOp: BULK, unit: "Gbit/s", baseline: "ts 64MiB", setup: () => void place(simd) },
    { name: "wasm-scalar 64MiB resident", fn: bulkResident(scalar), bytesPerOp: BULK, unit: "Gbit/s", baseline: "ts 64MiB", setup: () => void place(scalar) },
    { name: "ts 512KiB", fn: () => void (sink ^= tsChecksumKernel.sum(bulk, 0, SMALL)), bytesPerOp: SMALL, unit: "Gbit/s" },
    { name: "wasm-simd 512KiB resident", fn: smallResident(simd), bytesPerOp: SMALL, unit: "Gbit/s", baseline: "ts 512KiB" },
    { name: "wasm-scalar 512KiB resident", fn: smallResident(scalar), bytesPerOp: SMALL, unit: "Gbit/s", baseline: "ts 512KiB" },
    {
      name: "ts 1460B x1024",
      fn: () => {
        let x = 0;
        for (let i = 0; i < NPKT; i++) x ^= tsChecksumKernel.sum(pkts, i * STRIDE, PKT);
        sink ^= x;
      },
      bytesPerOp: NPKT * PKT,
      unit: "Gbit/s",
    },
    { name: "wasm-simd 1460B x1024 resident", fn: pktsResident(simd), bytesPerOp: NPKT * PKT, unit: "Gbit/s", baseline: "ts 1460B x1024" },
    { name: "wasm-scalar 1460B x1024 resident", fn: pktsResident(scalar), bytesPerOp: NPKT * PKT, unit: "Gbit/s", baseline: "ts 1460B x1024" },
    { name: "wasm-simd 1460B x1024 copy-in", fn: pktsCopyIn(simd), bytesPerOp: NPKT * PKT, unit: "Gbit/s", baseline: "ts 1460B x1024" },
    {
      name: "wasm-simd 64MiB copy-in",
      fn: () => void (sink ^= simd.sum(bulk, 0, BULK)),
      bytesPerOp: BULK,
      unit: "Gbit/s",
      baseline: "ts 64MiB",
      // Copy-in overwrites the scratch area: re-place the resident data on the next resident run.
      setup: () => void resident.delete(simd),
    },
  ],
};

/** Keeps the results observable so no engine can drop the work. */
export function benchSink(): number {
  return sink;
}
