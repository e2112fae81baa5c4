// Loads the AssemblyScript data plane (assembly/ compiled by scripts/build-wasm.mjs) from the
// bytes embedded in bytes.generated.ts. One instance per build variant, created on first use and
// shared by every caller: all kernel state of one variant lives in that instance's memory.
//
// Views on memory: `u8()` re-creates its Uint8Array only when memory has grown (the old
// ArrayBuffer is then detached), so callers must call `u8()` again after any export that may
// allocate, and never keep a view across such a call.
import { WasmKernelError } from "../../errors.ts";
import { DEBUG_WASM_BASE64, SCALAR_WASM_BASE64, SIMD_WASM_BASE64 } from "./bytes.generated.ts";

export type WasmVariant = "simd" | "scalar" | "debug";

/** An instantiated data-plane module. `exports` holds the raw (ptr, len) functions. */
export interface WasmKernels {
  readonly variant: WasmVariant;
  readonly memory: WebAssembly.Memory;
  // deno-lint-ignore no-explicit-any
  readonly exports: Record<string, any>;
  /** A byte view on the whole memory; re-created after memory growth. */
  u8(): Uint8Array;
}

const cache = new Map<WasmVariant, WasmKernels>();

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return "";
  const u32 = new Uint32Array(memory.buffer);
  const len = u32[(ptr - 4) >>> 2]! >>> 1;
  const u16 = new Uint16Array(memory.buffer, ptr, len);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(u16[i]!);
  return s;
}

// A minimal module that uses one SIMD instruction (v128.const + drop), to probe support.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 26, 11,
]);

/** True when this host's WebAssembly engine accepts SIMD (v128) code. */
export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The build used when the caller does not choose: SIMD where supported, scalar otherwise. */
export function defaultVariant(): WasmVariant {
  return simdSupported() ? "simd" : "scalar";
}

/** Returns the shared instance of one build variant, instantiating it on first use. */
export function loadKernels(variant: WasmVariant = defaultVariant()): WasmKernels {
  const hit = cache.get(variant);
  if (hit) return hit;
  const b64 = variant === "simd" ? SIMD_WASM_BASE64 : variant === "scalar" ? SCALAR_WASM_BASE64 : DEBUG_WASM_BASE64;
  let instance: WebAssembly.Instance;
  let memory: WebAssembly.Memory | undefined;
  try {
    const module = new WebAssembly.Module(decodeBase64(b64));
    instance = new WebAssembly.Instance(module, {
      env: {
        abort(msg: number, file: number, line: number, col: number): never {
          const m = memory ? readAsString(memory, msg) : "";
          const f = memory ? readAsString(memory, file) : "";
          throw new WasmKernelError(`wasm kernel (${variant}) aborted: ${m} at ${f}:${line}:${col}`);
        },
      },
    });
  } catch (e) {
    throw new WasmKernelError(`cannot instantiate the ${variant} WebAssembly data plane`, { cause: e });
  }
  memory = instance.exports.memory as WebAssembly.Memory;
  const mem = memory;
  let view = new Uint8Array(mem.buffer);
  const k: WasmKernels = {
    variant,
    memory: mem,
    exports: instance.exports as Record<string, unknown>,
    u8(): Uint8Array {
      if (view.buffer !== mem.buffer) view = new Uint8Array(mem.buffer);
      return view;
    },
  };
  cache.set(variant, k);
  return k;
}
