// Child process of high_memory.test.ts (run by Node with tsx or by `deno run`): pushes the WASM
// data plane's memory past 2 GiB with ballast buffers, then checks that buffers, the DSS map's
// checksum scratch and the checksum kernel placed above 2 GiB still work. WASM returns a
// pointer as a signed i32, so without `>>> 0` an address >= 2^31 reached JS as a negative
// number and the first copy threw RangeError. Prints "ok <highest address>" and exits 0.
import { createDssMap, createReceiveBuffer, createSendBuffer } from "../../core/kernels/factory.ts";
import { tsChecksumKernel, wasmChecksumKernel } from "../../core/kernels/checksum.ts";
import { MAX_CAPACITY } from "../../core/kernels/reassembly.ts";
import { loadKernels } from "../../core/kernels/wasm/instance.ts";

const fail = (why: string): never => {
  console.log(`FAIL ${why}`);
  (globalThis as { process?: { exit(code: number): never } }).process?.exit(1);
  throw new Error(why);
};
const k = loadKernels();
// Two rings of ballast of the largest capacity (just under 1 GiB each) and a few MiB more: whatever
// is allocated next lies above 2 GiB.
const ballast = [MAX_CAPACITY, MAX_CAPACITY, 4 << 20].map((capacity) => createSendBuffer({ initialDsn: 1n, capacity }));
const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const send = createSendBuffer({ initialDsn: 5n, capacity: 1 << 20 });
const data = pattern(300_000, 7);
if (send.write(data, 0, data.length) !== data.length) fail("send.write");
const back = new Uint8Array(data.length);
if (send.readAt(0, back, 0, back.length) !== back.length || !back.every((b, i) => b === data[i])) fail("send.readAt");
const v = send.peekAt(1000, 10);
if (v.first.length !== 10 || v.first[3] !== data[1003]) fail("send.peekAt");

const recv = createReceiveBuffer({ width: 64, initialSeq: 1n, capacity: 1 << 20 });
if (recv.writeAt(1000, data, 1000, 2000) !== 0) fail("recv.writeAt out of order");
if (recv.writeAt(0, data, 0, 1000) !== 3000) fail("recv.writeAt fills the hole");
const got = new Uint8Array(3000);
if (recv.read(got, 0, 3000) !== 3000 || !got.every((b, i) => b === data[i])) fail("recv.read");

const big = pattern(8 << 20, 3); // larger than any scratch so far: a new scratch above 2 GiB
const wasm = wasmChecksumKernel();
if (wasm.sum(big, 1, big.length - 1) !== tsChecksumKernel.sum(big, 1, big.length - 1)) fail("checksum scratch");
const high = wasm.scratch(big.length);
if (!(high >= 2 ** 31)) fail(`checksum scratch at ${high}, expected above 2 GiB`);

// The DSS map's checksum scratch grows to the largest fed chunk: above 2 GiB now. Same verdict
// as the TS twin on the same mapping.
const mapping = { ssn: 1, dsn: 9n, length: 60_000, checksum: 0x1234, dataFin: false };
const verdicts = (["wasm", "ts"] as const).map((impl) => {
  const m = createDssMap({}, impl);
  if (m.install(mapping, 1, 60_000) !== 1) fail(`${impl} install`);
  const r = m.checksumFeed(1, big, 0, 60_000);
  m.dispose();
  return r;
});
if (verdicts[0] !== verdicts[1]) fail(`dss checksumFeed ${verdicts[0]} (wasm) vs ${verdicts[1]} (ts)`);

for (const b of [...ballast, send, recv]) b.dispose();
console.log(`ok ${k.memory.buffer.byteLength}`);
