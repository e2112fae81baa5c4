// Public entry point of the mptcp library (sans-IO core). Adapters live in adapters/.
export * from "./errors.ts";
export { defaultVariant, loadKernels, simdSupported } from "./kernels/wasm/instance.ts";
export type { WasmKernels, WasmVariant } from "./kernels/wasm/instance.ts";
