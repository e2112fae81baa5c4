// Entry point of the WebAssembly data plane. Each kernel lives in its own file and is
// re-exported here; scripts/build-wasm.mjs compiles this file into the debug, simd and scalar builds.

/** Bumped whenever an export changes signature, so a stale generated module is caught by tests. */
export function abiVersion(): u32 {
  return 1;
}

/** 1 when this build was compiled with SIMD (v128) enabled, else 0. */
export function simdBuild(): u32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
export * from "./checksum";
export * from "./assembler";
export * from "./dssmap";
