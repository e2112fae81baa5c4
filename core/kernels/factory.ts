// Factories for the reassembly and buffering kernels (signatures in ./types.ts). `impl` picks the
// pure-TS twin ("ts") or the WASM data plane ("wasm" = the default build variant, or a named
// variant: "simd", "scalar", "debug" — the debug build keeps the kernels' asserts on).
import { TsDssMap, WasmDssMap } from "./dssmap.ts";
import { TsAssembler, TsReceiveBuffer, WasmAssembler, WasmReceiveBuffer } from "./reassembly.ts";
import { TsSendBuffer, WasmSendBuffer } from "./sendbuf.ts";
import type {
  AssemblerOptions,
  DssMap,
  DssMapOptions,
  KernelImpl,
  RangeAssembler,
  ReceiveBuffer,
  ReceiveBufferOptions,
  SendBuffer,
  SendBufferOptions,
} from "./types.ts";
import type { WasmVariant } from "./wasm/instance.ts";

function variantOf(impl: KernelImpl): WasmVariant | undefined {
  return impl === "wasm" ? undefined : (impl as WasmVariant);
}

/** A range assembler (offsets only). */
export function createAssembler(opts: AssemblerOptions, impl: KernelImpl = "wasm"): RangeAssembler {
  return impl === "ts" ? new TsAssembler(opts) : new WasmAssembler(opts, variantOf(impl));
}

/** A receive buffer (assembler + ring), subflow level (width 32) or data level (width 64). */
export function createReceiveBuffer(opts: ReceiveBufferOptions, impl: KernelImpl = "wasm"): ReceiveBuffer {
  return impl === "ts" ? new TsReceiveBuffer(opts) : new WasmReceiveBuffer(opts, variantOf(impl));
}

/** A connection-level send buffer. */
export function createSendBuffer(opts: SendBufferOptions, impl: KernelImpl = "wasm"): SendBuffer {
  return impl === "ts" ? new TsSendBuffer(opts) : new WasmSendBuffer(opts, variantOf(impl));
}

/** A per-subflow DSS mapping table. */
export function createDssMap(opts: DssMapOptions = {}, impl: KernelImpl = "wasm"): DssMap {
  return impl === "ts" ? new TsDssMap(opts) : new WasmDssMap(opts, variantOf(impl));
}
