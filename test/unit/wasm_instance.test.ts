import { test } from "node:test";
import assert from "node:assert/strict";
import { loadKernels, simdSupported } from "../../core/kernels/wasm/instance.ts";

test("every WASM build instantiates from the embedded bytes and reports its features", () => {
  assert.equal(simdSupported(), true, "Node 20 and Deno 2 both support WebAssembly SIMD");
  for (const v of ["debug", "simd", "scalar"] as const) {
    const k = loadKernels(v);
    assert.equal(k.variant, v);
    assert.equal(k.exports.abiVersion(), 1);
    assert.equal(k.exports.simdBuild(), v === "scalar" ? 0 : 1, `simd flag of the ${v} build`);
    assert.ok(k.u8().length >= 65536);
    assert.equal(loadKernels(v), k, "instances are shared per variant");
  }
});
