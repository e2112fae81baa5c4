// TunFfi for Deno through Deno.dlopen (libc.so.6). poll() is a `nonblocking` symbol: Deno runs
// it on a blocking-pool thread and returns a Promise, so waiting costs no CPU. errno is read
// through __errno_location() right after a failed synchronous call (same thread).
// Deno.* is reached through globalThis with local types so that tsc (Node types) checks this file.
import type { TunFfi } from "./ffi.ts";
import { O_CLOEXEC, O_NONBLOCK } from "./ffi.ts";

type Native = "i32" | "u32" | "i64" | "u64" | "usize" | "isize" | "buffer" | "pointer" | "void";
interface SymbolDef {
  parameters: Native[];
  result: Native;
  nonblocking?: boolean;
}
interface DenoFfiApi {
  dlopen(path: string, symbols: Record<string, SymbolDef>): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
  UnsafePointerView: new (p: unknown) => { getInt32(offset?: number): number };
}

let cached: TunFfi | undefined;

function cstr(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

export function denoTunFfi(): TunFfi {
  if (cached) return cached;
  const D = (globalThis as unknown as { Deno: DenoFfiApi }).Deno;
  const lib = D.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
    if_nametoindex: { parameters: ["buffer"], result: "u32" },
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
    pipe2: { parameters: ["buffer", "i32"], result: "i32" },
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
    __errno_location: { parameters: [], result: "pointer" },
  });
  const s = lib.symbols;
  const errno = (): number => new D.UnsafePointerView(s.__errno_location!()).getInt32(0);
  const neg = (r: number | bigint): number => {
    const n = Number(r);
    return n < 0 ? -errno() : n;
  };
  cached = {
    runtime: "deno",
    open: (path, flags) => neg(s.open!(cstr(path), flags) as number),
    socket: (d, t, p) => neg(s.socket!(d, t, p) as number),
    ioctlPtr: (fd, req, arg) => neg(s.ioctl!(fd, BigInt(req), arg) as number),
    ifNameToIndex: (name) => s.if_nametoindex!(cstr(name)) as number,
    read: (fd, buf) => neg(s.read!(fd, buf, BigInt(buf.length)) as bigint),
    write: (fd, buf) => neg(s.write!(fd, buf, BigInt(buf.length)) as bigint),
    close: (fd) => void s.close!(fd),
    pipe: () => {
      const fds = new Int32Array(2);
      if ((s.pipe2!(new Uint8Array(fds.buffer), O_NONBLOCK | O_CLOEXEC) as number) < 0) throw new Error(`pipe2 failed (errno ${errno()})`);
      return [fds[0]!, fds[1]!];
    },
    pollAsync: async (fds, count, timeoutMs) => (await (s.poll!(fds, BigInt(count), timeoutMs) as Promise<number>)) as number,
  };
  return cached;
}
