// Connection-level send buffer (types.ts SendBuffer): application bytes by DSN in a ring,
// released by DATA_ACK, read by DSN range for (re)transmission on any subflow. The TS twin keeps
// the ring in a JS ArrayBuffer, the WASM class in a heap region of the shared WASM memory
// (assembly/assembler.ts kbufAlloc/kbufRegrow), so segments can be built from WASM memory.
// DSNs are two u32 halves on the per-packet path (DESIGN.md convention 9).
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { Refusal } from "./types.ts";
import type { ReadViews, SendBuffer, SendBufferOptions } from "./types.ts";
import { MAX_CAPACITY } from "./reassembly.ts";
import { loadKernels } from "./wasm/instance.ts";
import type { WasmKernels, WasmVariant } from "./wasm/instance.ts";

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;

abstract class SendBufferBase implements SendBuffer {
  protected cap: number;
  protected head = 0;
  protected used = 0;
  protected uHi: number;
  protected uLo: number;

  constructor(opts: SendBufferOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1 || opts.capacity > MAX_CAPACITY) throw new InvalidArgumentError(`capacity ${opts.capacity} out of range`);
    if (opts.initialDsn < 0n || opts.initialDsn > MASK64) throw new InvalidArgumentError(`initialDsn ${opts.initialDsn} is not a u64`);
    this.cap = opts.capacity;
    this.uHi = Number(opts.initialDsn >> 32n);
    this.uLo = Number(opts.initialDsn & 0xffffffffn);
  }

  protected abstract mem(): Uint8Array;
  protected abstract base(): number;
  protected abstract regrow(newCap: number): void;
  abstract dispose(): void;

  get capacity(): number {
    return this.cap;
  }
  get buffered(): number {
    return this.used;
  }
  get free(): number {
    return this.cap - this.used;
  }
  get una64(): bigint {
    return (BigInt(this.uHi) << 32n) | BigInt(this.uLo);
  }
  get nxt64(): bigint {
    return (this.una64 + BigInt(this.used)) & MASK64;
  }

  write(src: Uint8Array, srcOff: number, len: number): number {
    const n = Math.min(len, this.cap - this.used, src.length - srcOff);
    if (n <= 0) return 0;
    const mem = this.mem();
    const base = this.base();
    let pos = this.head + this.used;
    if (pos >= this.cap) pos -= this.cap;
    const first = Math.min(n, this.cap - pos);
    mem.set(new Uint8Array(src.buffer, src.byteOffset + srcOff, first), base + pos);
    if (first < n) mem.set(new Uint8Array(src.buffer, src.byteOffset + srcOff + first, n - first), base);
    this.used += n;
    return n;
  }

  /** Signed distance (dsn - una) when within +-2^32, else +-Infinity. */
  private dist(hi: number, lo: number): number {
    const dHi = (hi - this.uHi) | 0;
    if (dHi > 1) return Infinity;
    if (dHi < -1) return -Infinity;
    return dHi * TWO32 + (lo - this.uLo);
  }

  ack64(hi: number, lo: number): number {
    const d = this.dist(hi, lo);
    if (d > this.used) return Refusal.AckBeyondSent;
    if (d <= 0) return 0;
    this.used -= d;
    let h = this.head + d;
    if (h >= this.cap) h -= this.cap;
    this.head = h;
    const l = this.uLo + d;
    if (l >= TWO32) {
      this.uLo = l - TWO32;
      this.uHi = (this.uHi + 1) >>> 0;
    } else this.uLo = l;
    return d;
  }

  ack(dataAck: bigint): number {
    const a = dataAck & MASK64;
    return this.ack64(Number(a >> 32n), Number(a & 0xffffffffn));
  }

  readAt(offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    if (!(offset >= 0 && offset <= this.used)) return Refusal.OutOfWindow;
    const n = Math.min(len, this.used - offset, dst.length - dstOff);
    if (n <= 0) return 0;
    const mem = this.mem();
    const base = this.base();
    let pos = this.head + offset;
    if (pos >= this.cap) pos -= this.cap;
    const first = Math.min(n, this.cap - pos);
    dst.set(mem.subarray(base + pos, base + pos + first), dstOff);
    if (first < n) dst.set(mem.subarray(base, base + n - first), dstOff + first);
    return n;
  }

  read64(hi: number, lo: number, dst: Uint8Array, dstOff: number, len: number): number {
    return this.readAt(this.dist(hi, lo), dst, dstOff, len);
  }

  peekAt(offset: number, len: number): ReadViews {
    const mem = this.mem();
    const base = this.base();
    const o = Math.max(0, Math.min(offset, this.used));
    const n = Math.max(0, Math.min(len, this.used - o));
    let pos = this.head + o;
    if (pos >= this.cap) pos -= this.cap;
    const first = Math.min(n, this.cap - pos);
    return { first: mem.subarray(base + pos, base + pos + first), second: mem.subarray(base, base + n - first) };
  }

  grow(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < this.cap || capacity > MAX_CAPACITY) throw new InvalidArgumentError(`grow(${capacity}) invalid (capacity ${this.cap})`);
    if (capacity === this.cap) return;
    this.regrow(capacity);
    this.head = 0;
    this.cap = capacity;
  }
}

/** Pure-TS send buffer. */
export class TsSendBuffer extends SendBufferBase {
  private buf: Uint8Array;
  constructor(opts: SendBufferOptions) {
    super(opts);
    this.buf = new Uint8Array(this.cap);
  }
  protected mem(): Uint8Array {
    return this.buf;
  }
  protected base(): number {
    return 0;
  }
  protected regrow(newCap: number): void {
    const nb = new Uint8Array(newCap);
    nb.set(this.buf.subarray(this.head), 0);
    nb.set(this.buf.subarray(0, this.head), this.cap - this.head);
    this.buf = nb;
  }
  dispose(): void {
    this.buf = new Uint8Array(0);
    this.cap = 1;
    this.used = 0;
    this.head = 0;
  }
}

/** Send buffer whose bytes live in the shared WASM memory. */
export class WasmSendBuffer extends SendBufferBase {
  readonly kernels: WasmKernels;
  private ptr: number;
  constructor(opts: SendBufferOptions, variant?: WasmVariant) {
    super(opts);
    this.kernels = loadKernels(variant);
    this.ptr = (this.kernels.exports.kbufAlloc(this.cap) as number) >>> 0;
  }
  protected mem(): Uint8Array {
    return this.kernels.u8();
  }
  protected base(): number {
    if (this.ptr === 0) throw new InvalidStateError("send buffer used after dispose()");
    return this.ptr;
  }
  protected regrow(newCap: number): void {
    this.ptr = (this.kernels.exports.kbufRegrow(this.ptr, this.cap, this.head, newCap) as number) >>> 0;
  }
  dispose(): void {
    if (this.ptr === 0) return;
    this.kernels.exports.kbufFree(this.ptr);
    this.ptr = 0;
    this.cap = 1;
    this.used = 0;
    this.head = 0;
  }
}
