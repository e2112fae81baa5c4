// Range assembler and receive buffer (DESIGN.md conventions 8, 9, 13): the pure-TS twins and
// the WASM-backed classes (assembly/assembler.ts). Interfaces and semantics: ./types.ts.
//
// Split of work: sequence-number keys (32-bit wrapping, or 64-bit as two u32 halves) are turned
// into offsets here, once, by code shared by both implementations; the range bookkeeping is
// either TS (`TsAssembler`) or WASM (`WasmAssembler`); the ring bytes live in a JS ArrayBuffer
// (TS) or in a heap region of the shared WASM memory (WASM), and payload is copied in with one
// or two `Uint8Array.prototype.set` calls.
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { Refusal } from "./types.ts";
import type {
  AssemblerOptions,
  RangeAssembler,
  ReadViews,
  ReassemblyCounters,
  ReceiveBuffer,
  ReceiveBufferOptions,
  SeqWidth,
} from "./types.ts";
import { loadKernels } from "./wasm/instance.ts";
import type { WasmKernels, WasmVariant } from "./wasm/instance.ts";

const TWO32 = 4294967296;
const I31 = 2147483648;
const MASK64 = (1n << 64n) - 1n;
/**
 * Largest capacity accepted: 1 GiB less 64 KiB. Offsets stay far inside i32, and a ring is one
 * block of the WASM allocator, whose largest block is just under 1 GiB (AssemblyScript's TLSF).
 */
export const MAX_CAPACITY: number = (1 << 30) - (1 << 16);
const DEFAULT_HOLES = 32;

function splitSeq(width: SeqWidth, seq: number | bigint): [number, number] {
  if (typeof seq === "number") {
    if (!Number.isInteger(seq) || seq < 0 || seq >= TWO32) throw new InvalidArgumentError(`sequence number ${seq} is not a u32`);
    return [0, seq];
  }
  if (seq < 0n || seq > MASK64 || (width === 32 && seq >= 1n << 32n)) throw new InvalidArgumentError(`sequence number ${seq} out of range for width ${width}`);
  return [Number(seq >> 32n), Number(seq & 0xffffffffn)];
}

function checkLen(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`${what} ${n} not an integer in [0, ${max}]`);
}

function badWrite(offset: number, src: Uint8Array, srcOff: number, len: number): never {
  throw new InvalidArgumentError(`write at ${offset} of [${srcOff}, ${srcOff + len}) from a ${src.length}-byte buffer: integer offset and a source range inside the buffer expected`);
}

function joinSeq(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// ------------------------------------------------------------------------------------------
// Assembler: key handling shared by both implementations.

abstract class AssemblerBase implements RangeAssembler {
  readonly width: SeqWidth;
  readonly maxHoles: number;
  /** Front sequence number: high and low u32 halves (hi is always 0 at width 32). */
  protected fHi: number;
  protected fLo: number;
  protected disposed = false;

  constructor(opts: AssemblerOptions) {
    if (opts.width !== 32 && opts.width !== 64) throw new InvalidArgumentError(`width must be 32 or 64`);
    this.width = opts.width;
    this.maxHoles = opts.maxHoles ?? DEFAULT_HOLES;
    checkLen("maxHoles", this.maxHoles, 4096);
    if (this.maxHoles < 1) throw new InvalidArgumentError("maxHoles must be >= 1");
    [this.fHi, this.fLo] = splitSeq(this.width, opts.initialSeq);
  }

  protected abstract core(off: number, len: number, window: number): number;
  protected abstract coreFar(len: number): number;
  abstract get holes(): number;
  abstract ranges(): Array<[number, number]>;
  abstract counters(): ReassemblyCounters;
  abstract dispose(): void;

  get frontSeq(): number {
    return this.fLo;
  }

  get frontSeq64(): bigint {
    return joinSeq(this.fHi, this.fLo);
  }

  add(offset: number, len: number, window: number): number {
    if (this.disposed) throw new InvalidStateError("assembler used after dispose()");
    if ((len >>> 0) !== len || (window >>> 0) !== window || window >= I31 || Math.trunc(offset) !== offset) {
      throw new InvalidArgumentError(`add(${offset}, ${len}, ${window}): integer offset, u32 length and window < 2^31 expected`);
    }
    if (offset <= -I31 || offset >= I31) return this.coreFar(len);
    const r = this.core(offset, len, window);
    if (r > 0) this.advanceFront(r);
    return r;
  }

  /** @internal Moves the front key by r bytes (used by the WASM receive buffer's resident write). */
  advanceFront(r: number): void {
    const lo = this.fLo + r;
    if (lo >= TWO32) {
      this.fLo = lo - TWO32;
      this.fHi = this.width === 64 ? (this.fHi + 1) >>> 0 : 0;
    } else this.fLo = lo;
  }

  addSeq(seq: number, len: number, window: number): number {
    return this.add((seq - this.fLo) | 0, len, window);
  }

  addSeq64(hi: number, lo: number, len: number, window: number): number {
    const dHi = (hi - this.fHi) | 0;
    if (dHi > 1 || dHi < -1) return this.coreFar(len);
    return this.add(dHi * TWO32 + (lo - this.fLo), len, window);
  }
}

/**
 * Pure-TS range assembler. Positions are stream positions (bytes since creation) as numbers,
 * exact up to 2^53 bytes (8 PiB).
 *
 * Invariant: front < start[0] < end[0] < start[1] < ... < end[n-1], n <= maxHoles (see
 * RangeAssembler in types.ts): ranges non-empty, non-adjacent, strictly after the front.
 */
export class TsAssembler extends AssemblerBase {
  private front = 0;
  private n = 0;
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private left = 0;
  private beyond = 0;
  private refOow = 0;
  private refTmh = 0;
  private bytesTmh = 0;
  private assembled = 0;

  constructor(opts: AssemblerOptions) {
    super(opts);
    this.starts = new Float64Array(this.maxHoles);
    this.ends = new Float64Array(this.maxHoles);
  }

  get holes(): number {
    return this.n;
  }

  protected coreFar(len: number): number {
    this.beyond += len;
    this.refOow++;
    return Refusal.OutOfWindow;
  }

  protected core(off: number, len: number, window: number): number {
    if (len === 0) return 0;
    let s = off;
    let e = off + len;
    if (e <= 0) {
      this.left += len;
      return 0;
    }
    if (s >= window) {
      this.beyond += len;
      this.refOow++;
      return Refusal.OutOfWindow;
    }
    let left = 0;
    let beyond = 0;
    if (s < 0) {
      left = -s;
      s = 0;
    }
    if (e > window) {
      beyond = e - window;
      e = window;
    }
    const front = this.front;
    const n = this.n;
    const st = this.starts;
    const en = this.ends;
    const as = front + s;
    const ae = front + e;
    if (s === 0) {
      let nf = ae;
      let k = 0;
      while (k < n && st[k]! <= nf) {
        if (en[k]! > nf) nf = en[k]!;
        k++;
      }
      if (k > 0) {
        st.copyWithin(0, k, n);
        en.copyWithin(0, k, n);
        this.n = n - k;
      }
      this.front = nf;
      const got = nf - front;
      this.left += left;
      this.beyond += beyond;
      this.assembled += got;
      return got;
    }
    let i = 0;
    while (i < n && en[i]! < as) i++;
    let j = i;
    while (j < n && st[j]! <= ae) j++;
    if (i === j) {
      if (n >= this.maxHoles) {
        this.refTmh++;
        this.bytesTmh += e - s;
        return Refusal.TooManyHoles;
      }
      st.copyWithin(i + 1, i, n);
      en.copyWithin(i + 1, i, n);
      st[i] = as;
      en[i] = ae;
      this.n = n + 1;
    } else {
      st[i] = Math.min(as, st[i]!);
      en[i] = Math.max(ae, en[j - 1]!);
      const drop = j - i - 1;
      if (drop > 0) {
        st.copyWithin(i + 1, j, n);
        en.copyWithin(i + 1, j, n);
        this.n = n - drop;
      }
    }
    this.left += left;
    this.beyond += beyond;
    return 0;
  }

  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.n; i++) out.push([this.starts[i]! - this.front, this.ends[i]! - this.front]);
    return out;
  }

  counters(): ReassemblyCounters {
    return {
      bytesLeftOfReadPoint: this.left,
      bytesBeyondWindow: this.beyond,
      refusedOutOfWindow: this.refOow,
      refusedTooManyHoles: this.refTmh,
      bytesTooManyHoles: this.bytesTmh,
      bytesAssembled: this.assembled,
    };
  }

  dispose(): void {
    this.disposed = true;
  }
}

type AddFn = (h: number, off: number, len: number, window: number) => number;

/** Range assembler whose ranges live in WASM memory (assembly/assembler.ts). */
export class WasmAssembler extends AssemblerBase {
  readonly kernels: WasmKernels;
  private h: number;
  private readonly fAdd: AddFn;

  constructor(opts: AssemblerOptions, variant?: WasmVariant) {
    super(opts);
    this.kernels = loadKernels(variant);
    this.fAdd = this.kernels.exports.asmAdd as AddFn;
    this.h = (this.kernels.exports.asmNew(this.maxHoles) as number) >>> 0;
  }

  get holes(): number {
    return this.kernels.exports.asmHoles(this.h) as number;
  }

  protected core(off: number, len: number, window: number): number {
    return this.fAdd(this.h, off, len, window);
  }

  protected coreFar(len: number): number {
    return this.kernels.exports.asmRefuseFar(this.h, len) as number;
  }

  ranges(): Array<[number, number]> {
    const x = this.kernels.exports;
    const out: Array<[number, number]> = [];
    const n = x.asmHoles(this.h) as number;
    for (let i = 0; i < n; i++) out.push([x.asmRangeStart(this.h, i) as number, x.asmRangeEnd(this.h, i) as number]);
    return out;
  }

  /** @internal The handle of this assembler in WASM memory. */
  get handle(): number {
    if (this.disposed) throw new InvalidStateError("assembler used after dispose()");
    return this.h;
  }

  /** 1 when the invariant holds in WASM memory (test aid). */
  check(): boolean {
    return this.kernels.exports.asmCheck(this.h) === 1;
  }

  counters(): ReassemblyCounters {
    const c = (i: number): number => this.kernels.exports.asmCounter(this.h, i) as number;
    return {
      bytesLeftOfReadPoint: c(0),
      bytesBeyondWindow: c(1),
      refusedOutOfWindow: c(2),
      refusedTooManyHoles: c(3),
      bytesTooManyHoles: c(4),
      bytesAssembled: c(5),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.kernels.exports.asmFree(this.h);
    this.h = 0;
  }
}

// ------------------------------------------------------------------------------------------
// Receive buffer: assembler + ring. Ring geometry is mirrored in JS numbers (head, readable,
// capacity); only the byte storage differs between the two implementations.

abstract class ReceiveBufferBase implements ReceiveBuffer {
  readonly width: SeqWidth;
  protected cap: number;
  protected head = 0;
  protected avail = 0;
  protected rHi: number;
  protected rLo: number;
  protected readonly asm: AssemblerBase;
  protected disposed = false;

  constructor(opts: ReceiveBufferOptions, asm: AssemblerBase) {
    this.width = opts.width;
    checkLen("capacity", opts.capacity, MAX_CAPACITY);
    if (opts.capacity < 1) throw new InvalidArgumentError("capacity must be >= 1");
    this.cap = opts.capacity;
    this.asm = asm;
    [this.rHi, this.rLo] = splitSeq(opts.width, opts.initialSeq);
  }

  /** A view of exactly the ring's bytes (re-created by WASM buffers after memory growth). */
  protected abstract ring(): Uint8Array;
  protected abstract regrow(newCap: number): void;
  protected abstract freeStorage(): void;

  get capacity(): number {
    return this.cap;
  }
  get readable(): number {
    return this.avail;
  }
  get window(): number {
    return this.cap - this.avail;
  }
  get holes(): number {
    return this.asm.holes;
  }
  get readSeq(): number {
    return this.rLo;
  }
  get readSeq64(): bigint {
    return joinSeq(this.rHi, this.rLo);
  }
  get nextSeq(): number {
    return this.asm.frontSeq;
  }
  get nextSeq64(): bigint {
    return this.asm.frontSeq64;
  }

  writeAt(offset: number, src: Uint8Array, srcOff: number, len: number): number {
    if ((len >>> 0) !== len || (srcOff >>> 0) !== srcOff || srcOff + len > src.length || Math.trunc(offset) !== offset) badWrite(offset, src, srcOff, len);
    const avail = this.avail;
    const cap = this.cap;
    const r = this.asm.add(offset - avail, len, cap - avail);
    if (r < 0) return r;
    const s = offset < avail ? avail : offset;
    const end = offset + len;
    const e = end > cap ? cap : end;
    if (s < e) {
      const ring = this.ring();
      let pos = this.head + s;
      if (pos >= cap) pos -= cap;
      const a = srcOff + (s - offset);
      const n = e - s;
      const first = cap - pos < n ? cap - pos : n;
      // A fresh view over the source's buffer is about twice as cheap as subarray() in V8.
      if (a === 0 && n === src.length && first === n) ring.set(src, pos);
      else ring.set(new Uint8Array(src.buffer, src.byteOffset + a, first), pos);
      if (first < n) ring.set(new Uint8Array(src.buffer, src.byteOffset + a + first, n - first), 0);
    }
    this.avail = avail + r;
    return r;
  }

  write(seq: number, src: Uint8Array, srcOff: number, len: number): number {
    return this.writeAt((seq - this.rLo) | 0, src, srcOff, len);
  }

  write64(hi: number, lo: number, src: Uint8Array, srcOff: number, len: number): number {
    const dHi = (hi - this.rHi) | 0;
    if (dHi > 1 || dHi < -1) return this.asm.add(-I31, len, 0);
    return this.writeAt(dHi * TWO32 + (lo - this.rLo), src, srcOff, len);
  }

  read(dst: Uint8Array, dstOff: number, max: number): number {
    const n = Math.min(max, this.avail, dst.length - dstOff);
    if (n <= 0) return 0;
    const ring = this.ring();
    const first = Math.min(n, this.cap - this.head);
    dst.set(ring.subarray(this.head, this.head + first), dstOff);
    if (first < n) dst.set(ring.subarray(0, n - first), dstOff + first);
    this.release(n);
    return n;
  }

  peek(): ReadViews {
    const ring = this.ring();
    const first = Math.min(this.avail, this.cap - this.head);
    return {
      first: ring.subarray(this.head, this.head + first),
      second: ring.subarray(0, this.avail - first),
    };
  }

  release(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.avail) throw new InvalidArgumentError(`release(${n}) with ${this.avail} readable`);
    this.avail -= n;
    let h = this.head + n;
    if (h >= this.cap) h -= this.cap;
    this.head = h;
    const lo = this.rLo + n;
    if (lo >= TWO32) {
      this.rLo = lo - TWO32;
      this.rHi = this.width === 64 ? (this.rHi + 1) >>> 0 : 0;
    } else this.rLo = lo;
  }

  grow(capacity: number): void {
    checkLen("capacity", capacity, MAX_CAPACITY);
    if (capacity < this.cap) throw new InvalidArgumentError(`grow(${capacity}) below the capacity ${this.cap}`);
    if (capacity === this.cap) return;
    this.regrow(capacity);
    this.head = 0;
    this.cap = capacity;
  }

  counters(): ReassemblyCounters {
    return this.asm.counters();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.asm.dispose();
    this.freeStorage();
  }
}

/** Pure-TS receive buffer (ring in a JS ArrayBuffer). */
export class TsReceiveBuffer extends ReceiveBufferBase {
  private buf: Uint8Array;

  constructor(opts: ReceiveBufferOptions) {
    super(opts, new TsAssembler({ width: opts.width, initialSeq: opts.initialSeq, maxHoles: opts.maxHoles }));
    this.buf = new Uint8Array(this.cap);
  }
  protected ring(): Uint8Array {
    return this.buf;
  }
  protected regrow(newCap: number): void {
    const nb = new Uint8Array(newCap);
    nb.set(this.buf.subarray(this.head), 0);
    nb.set(this.buf.subarray(0, this.head), this.cap - this.head);
    this.buf = nb;
  }
  protected freeStorage(): void {
    this.buf = new Uint8Array(0);
  }
}

/** Receive buffer whose ranges and ring bytes live in the shared WASM memory. */
export class WasmReceiveBuffer extends ReceiveBufferBase {
  readonly kernels: WasmKernels;
  private ptr: number;
  private readonly wasmAsm: WasmAssembler;
  private readonly fAdd: AddFn;
  private asmH: number;

  /** writeAt() specialised for WASM: calls the kernel directly (no virtual calls on the hot path). */
  override writeAt(offset: number, src: Uint8Array, srcOff: number, len: number): number {
    if ((len >>> 0) !== len || (srcOff >>> 0) !== srcOff || srcOff + len > src.length || Math.trunc(offset) !== offset) badWrite(offset, src, srcOff, len);
    const avail = this.avail;
    const cap = this.cap;
    const off = offset - avail;
    if (off <= -I31 || off >= I31 || this.asmH === 0) return this.asm.add(off, len, cap - avail);
    const r = this.fAdd(this.asmH, off, len, cap - avail);
    if (r < 0) return r;
    const s = offset < avail ? avail : offset;
    const end = offset + len;
    const e = end > cap ? cap : end;
    if (s < e) {
      const ring = this.ring();
      let pos = this.head + s;
      if (pos >= cap) pos -= cap;
      const a = srcOff + (s - offset);
      const n = e - s;
      const first = cap - pos < n ? cap - pos : n;
      if (a === 0 && n === src.length && first === n) ring.set(src, pos);
      else ring.set(new Uint8Array(src.buffer, src.byteOffset + a, first), pos);
      if (first < n) ring.set(new Uint8Array(src.buffer, src.byteOffset + a + first, n - first), 0);
    }
    if (r > 0) {
      this.wasmAsm.advanceFront(r);
      this.avail = avail + r;
    }
    return r;
  }

  private readonly fWriteFrom: (...args: number[]) => number;

  /**
   * writeAt() for payload that already lives in this instance's memory (`this.kernels`), at
   * byte address `srcPtr` (e.g. an adapter's packet pool in WASM memory): the assembler update
   * and the copy into the ring happen in one WASM call, with no JS view per packet.
   */
  writeResidentAt(offset: number, srcPtr: number, len: number): number {
    const avail = this.avail;
    const cap = this.cap;
    const off = offset - avail;
    if (off <= -I31 || off >= I31 || this.ptr === 0) return this.asm.add(off, len, cap - avail);
    const r = this.fWriteFrom(this.asmH, off, len, cap - avail, this.ptr, cap, this.head, avail, srcPtr);
    if (r > 0) {
      this.wasmAsm.advanceFront(r);
      this.avail = avail + r;
    }
    return r;
  }

  /** writeResidentAt() keyed by a 64-bit DSN as two u32 halves (width 64). */
  write64Resident(hi: number, lo: number, srcPtr: number, len: number): number {
    const dHi = (hi - this.rHi) | 0;
    if (dHi > 1 || dHi < -1) return this.asm.add(-I31, len, 0);
    return this.writeResidentAt(dHi * TWO32 + (lo - this.rLo), srcPtr, len);
  }

  constructor(opts: ReceiveBufferOptions, variant?: WasmVariant) {
    const asm = new WasmAssembler({ width: opts.width, initialSeq: opts.initialSeq, maxHoles: opts.maxHoles }, variant);
    super(opts, asm);
    this.wasmAsm = asm;
    this.kernels = asm.kernels;
    this.fWriteFrom = this.kernels.exports.rbWriteFrom as (...args: number[]) => number;
    this.fAdd = this.kernels.exports.asmAdd as AddFn;
    this.asmH = asm.handle;
    this.ptr = (this.kernels.exports.kbufAlloc(this.cap) as number) >>> 0;
  }
  private view: Uint8Array = new Uint8Array(0);
  protected ring(): Uint8Array {
    // A view over a detached buffer (WASM memory grew since) has length 0: re-create it.
    let v = this.view;
    if (v.length !== this.cap) {
      if (this.ptr === 0) throw new InvalidStateError("receive buffer used after dispose()");
      v = this.view = new Uint8Array(this.kernels.memory.buffer, this.ptr, this.cap);
    }
    return v;
  }
  protected regrow(newCap: number): void {
    this.ptr = (this.kernels.exports.kbufRegrow(this.ptr, this.cap, this.head, newCap) as number) >>> 0;
    this.view = new Uint8Array(0);
  }
  protected freeStorage(): void {
    this.kernels.exports.kbufFree(this.ptr);
    this.ptr = 0;
    this.asmH = 0;
    this.view = new Uint8Array(0);
  }
}
