// Data-level reassembly throughput (core/kernels/reassembly.ts): a 64 MiB stream is copied into
// a receive buffer segment by segment (write64: DSN -> offset, range assembler, payload copied
// into the ring with Uint8Array.prototype.set), delivered in order and read out. Workloads:
//   in-order 1448-byte segments; 4 subflows with random per-subflow delay (~25% of segments
//   arrive out of order); a hole storm (every other segment missing, up to the hole cap, then
//   filled); 64 KiB (GRO-sized) segments. Each for the WASM kernel (simd build) and its TS twin.
//   Read-out: "read" copies into a 256 KiB application buffer (read()); "zero-copy" takes the
//   views (peek()) and releases them, as a caller that hands the views to a sink would.
// Baseline in the same run: Uint8Array.prototype.set of the same 64 MiB (the memcpy limit).
import type { BenchSuite, Workload } from "./harness.ts";
import { createAssembler, createReceiveBuffer } from "../core/kernels/factory.ts";
import { WasmReceiveBuffer } from "../core/kernels/reassembly.ts";
import type { KernelImpl, ReceiveBuffer } from "../core/kernels/types.ts";
import { loadKernels } from "../core/kernels/wasm/instance.ts";

const STREAM = 64 * 1024 * 1024;
const MSS = 1448;
const GRO = 65536;
const CAPACITY = 2 * 1024 * 1024;
const HOLES = 64;
const READ_AT = 64 * 1024;

const stream = new Uint8Array(STREAM);
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
for (let i = 0; i < STREAM; i += 4) {
  const v = (rnd() * 4294967296) >>> 0;
  stream[i] = v;
  stream[i + 1] = v >>> 8;
  stream[i + 2] = v >>> 16;
  stream[i + 3] = v >>> 24;
}
const memcpyDst = new Uint8Array(STREAM);
const app = new Uint8Array(256 * 1024);

/** Segment order: offsets and lengths, in arrival order. */
interface Plan {
  off: Int32Array;
  len: Int32Array;
}

function inOrder(seg: number): Plan {
  const n = Math.ceil(STREAM / seg);
  const off = new Int32Array(n);
  const len = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    off[i] = i * seg;
    len[i] = Math.min(seg, STREAM - i * seg);
  }
  return { off, len };
}

/**
 * 4 subflows, round-robin; each segment's arrival time = send time + its subflow's delay, a
 * random walk per subflow; each subflow stays FIFO. Returns the plan and the fraction of
 * segments that arrive before some segment sent earlier (out of order).
 */
function fourSubflows(): { plan: Plan; ooo: number } {
  const base = inOrder(MSS);
  const n = base.off.length;
  const delay = [0, 0, 0, 0];
  const last = [-1, -1, -1, -1];
  const arrival = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = i & 3;
    delay[s] = Math.max(0, Math.min(3, delay[s]! + (rnd() - 0.5) * 0.6));
    const t = Math.max(i + delay[s]!, last[s]! + 1e-6);
    last[s] = t;
    arrival[i] = t;
  }
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => arrival[a]! - arrival[b]!);
  const off = new Int32Array(n);
  const len = new Int32Array(n);
  idx.forEach((i, k) => {
    off[k] = base.off[i]!;
    len[k] = base.len[i]!;
  });
  // Fraction of segments not at the next expected offset when they arrive.
  let exp = 0;
  const seen = new Set<number>();
  let ooo = 0;
  for (let k = 0; k < n; k++) {
    if (off[k] !== exp) ooo++;
    seen.add(off[k]!);
    while (seen.has(exp)) {
      seen.delete(exp);
      exp += MSS;
    }
  }
  return { plan: { off, len }, ooo: ooo / n };
}

/** Every other segment first (HOLES holes), then the missing ones, per group of 2*HOLES. */
function holeStorm(): Plan {
  const base = inOrder(MSS);
  const n = base.off.length;
  const off = new Int32Array(n);
  const len = new Int32Array(n);
  let k = 0;
  for (let g = 0; g < n; g += 2 * HOLES) {
    const end = Math.min(n, g + 2 * HOLES);
    for (let i = g + 1; i < end; i += 2) {
      off[k] = base.off[i]!;
      len[k++] = base.len[i]!;
    }
    for (let i = g; i < end; i += 2) {
      off[k] = base.off[i]!;
      len[k++] = base.len[i]!;
    }
  }
  return { off, len };
}

const plans = {
  inorder: inOrder(MSS),
  reorder: fourSubflows(),
  storm: holeStorm(),
  gro: inOrder(GRO),
};
console.error(`reassembly bench: 4-subflow plan has ${(plans.reorder.ooo * 100).toFixed(1)}% of segments out of order`);

/** One pass over the 64 MiB stream; DSNs continue across passes (they start near 2^64). */
function runner(impl: KernelImpl, plan: Plan, zeroCopy: boolean, views?: Uint8Array[], resident?: () => number): () => void {
  let rb: ReceiveBuffer | null = null;
  let hi = 0xffffffff;
  let lo = 0xfffff000;
  return () => {
    rb ??= createReceiveBuffer({ width: 64, initialSeq: (BigInt(hi) << 32n) | BigInt(lo), capacity: CAPACITY, maxHoles: HOLES }, impl);
    const b = rb;
    const { off, len } = plan;
    const ptr = resident ? resident() : 0;
    const wb = resident ? (b as WasmReceiveBuffer) : null;
    let got = 0;
    for (let k = 0; k < off.length; k++) {
      const o = off[k]!;
      let l = lo + o;
      let h = hi;
      if (l >= 4294967296) {
        l -= 4294967296;
        h = (h + 1) >>> 0;
      }
      const r = wb ? wb.write64Resident(h, l, ptr + o, len[k]!) : views ? b.write64(h, l, views[k]!, 0, len[k]!) : b.write64(h, l, stream, o, len[k]!);
      if (r < 0) throw new Error(`refused ${r} at ${o}`);
      if (b.readable >= READ_AT) {
        if (zeroCopy) {
          const v = b.peek();
          const n = v.first.length + v.second.length;
          b.release(n);
          got += n;
        } else {
          while (b.readable > 0) got += b.read(app, 0, app.length);
        }
      }
    }
    while (b.readable > 0) got += b.read(app, 0, app.length);
    if (got !== STREAM) throw new Error(`delivered ${got} of ${STREAM}`);
    const nl = lo + STREAM;
    if (nl >= 4294967296) {
      lo = nl - 4294967296;
      hi = (hi + 1) >>> 0;
    } else lo = nl;
  };
}

/** The range assembler alone (no bytes) on a plan: what differs between WASM and its TS twin. */
function assemblerOnly(impl: KernelImpl, plan: Plan): () => void {
  const a = createAssembler({ width: 64, initialSeq: 0n, maxHoles: HOLES }, impl);
  let front = 0;
  let base = 0;
  return () => {
    const { off, len } = plan;
    for (let k = 0; k < off.length; k++) {
      const r = a.add(base + off[k]! - front, len[k]!, CAPACITY);
      if (r < 0) throw new Error(`refused ${r}`);
      front += r;
    }
    base += STREAM;
  };
}

/** One Uint8Array per packet, made before the timed runs (as a NIC/socket hands them over). */
const packetViews = Array.from(plans.inorder.off, (o, k) => stream.subarray(o, o + plans.inorder.len[k]!));

/** The stream placed in the simd instance's memory, as by an adapter that receives into WASM
 * memory; writes then go through writeResidentAt (assembler + copy in one WASM call). */
let wasmStreamPtr = 0;
function streamInWasm(): number {
  const k = loadKernels("simd");
  if (wasmStreamPtr === 0) {
    wasmStreamPtr = k.exports.kbufAlloc(STREAM) as number;
    k.u8().set(stream, wasmStreamPtr);
  }
  return wasmStreamPtr;
}

const w = (name: string, fn: () => void, baseline: string | undefined = "memcpy 64 MiB (Uint8Array.set)"): Workload => ({
  name,
  fn,
  bytesPerOp: STREAM,
  unit: "Gbit/s",
  ...(baseline ? { baseline } : {}),
});

export const suite: BenchSuite = {
  name: "reassembly",
  timeMs: 1500,
  iterations: 10,
  workloads: [
    w("memcpy 64 MiB (Uint8Array.set)", () => memcpyDst.set(stream), undefined),
    // The per-call bound: the same 64 MiB copied by one Uint8Array.set per 1448-byte packet
    // (views made outside the timing), no reassembly at all.
    w("memcpy in 1448 B pieces (one set() per packet)", () => {
      for (let k = 0; k < packetViews.length; k++) memcpyDst.set(packetViews[k]!, plans.inorder.off[k]!);
    }),
    w("wasm in-order 1448 B, read", runner("simd", plans.inorder, false)),
    w("wasm in-order 1448 B, zero-copy", runner("simd", plans.inorder, true)),
    w("wasm in-order 1448 B, read, per-packet views made outside the timing", runner("simd", plans.inorder, false, packetViews)),
    w("wasm in-order 1448 B, read, payload already in WASM memory", runner("simd", plans.inorder, false, undefined, streamInWasm)),
    w("wasm 4 subflows ~25% reordered, read, payload already in WASM memory", runner("simd", plans.reorder.plan, false, undefined, streamInWasm)),
    w("ts in-order 1448 B, read", runner("ts", plans.inorder, false)),
    w("wasm 4 subflows ~25% reordered, read", runner("simd", plans.reorder.plan, false)),
    w("wasm 4 subflows ~25% reordered, zero-copy", runner("simd", plans.reorder.plan, true)),
    w("ts 4 subflows ~25% reordered, read", runner("ts", plans.reorder.plan, false), "wasm 4 subflows ~25% reordered, read"),
    {
      name: "wasm assembler only, 4 subflows",
      fn: assemblerOnly("simd", plans.reorder.plan),
      opsPerCall: plans.reorder.plan.off.length,
      unit: "ns/op",
    },
    {
      name: "ts assembler only, 4 subflows",
      fn: assemblerOnly("ts", plans.reorder.plan),
      opsPerCall: plans.reorder.plan.off.length,
      unit: "ns/op",
      baseline: "wasm assembler only, 4 subflows",
    },
    w("wasm hole storm (64 holes), read", runner("simd", plans.storm, false)),
    w("ts hole storm (64 holes), read", runner("ts", plans.storm, false), "wasm hole storm (64 holes), read"),
    w("wasm 64 KiB segments, read", runner("simd", plans.gro, false)),
    w("ts 64 KiB segments, read", runner("ts", plans.gro, false)),
  ],
};
