// Byte storage of a TCP connection: the send queue's bytes (a growable ring from SND.UNA) and
// the receive buffer behind a small interface, a subset of core/kernels/types.ts's
// ReceiveBuffer, so the WASM-backed kernel or its TS twin can be plugged in unchanged.
import { seqAdd, seqDiff } from "../wire/seq.ts";

/**
 * The part of a receive buffer the TCP engine uses (width 32; same meaning as the kernels'
 * ReceiveBuffer): bytes are written at a sequence number, out of order allowed, and read in
 * order. `window` = capacity - readable = free space from the next expected byte.
 */
export interface TcpReceiveBuffer {
  readonly capacity: number;
  readonly readable: number;
  readonly window: number;
  readonly holes: number;
  /** Sequence number of the next expected byte (the cumulative ACK). */
  readonly nextSeq: number;
  /** Newly readable bytes (>= 0) or a negative refusal (-1 out of window, -2 too many holes). */
  write(seq: number, src: Uint8Array, srcOff: number, len: number): number;
  read(dst: Uint8Array, dstOff: number, max: number): number;
}

export type TcpReceiveBufferFactory = (initialSeq: number, capacity: number) => TcpReceiveBuffer;

/**
 * Pure-TS receive buffer: a ring of `capacity` bytes (grown lazily) plus a sorted list of
 * out-of-order ranges. Invariant: ranges are disjoint, non-adjacent, sorted, and every range
 * starts strictly after the contiguous end (read point + readable); all positions are byte
 * offsets from the first byte ever expected (so no wrap inside the structure).
 */
export class SimpleReceiveBuffer implements TcpReceiveBuffer {
  private buf: Uint8Array;
  private head = 0; // ring index of the read point
  private readAbs = 0; // stream offset of the read point
  private contig = 0; // readable bytes
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly baseSeq: number;

  constructor(
    initialSeq: number,
    readonly capacity: number,
    private readonly maxHoles = 32,
  ) {
    this.baseSeq = initialSeq >>> 0;
    this.buf = new Uint8Array(Math.min(capacity, 64 * 1024));
  }

  get readable(): number {
    return this.contig;
  }
  get window(): number {
    return this.capacity - this.contig;
  }
  get holes(): number {
    return this.starts.length;
  }
  get nextSeq(): number {
    return seqAdd(this.baseSeq, this.readAbs + this.contig);
  }

  private ensure(size: number): void {
    if (size <= this.buf.length) return;
    let n = this.buf.length;
    while (n < size) n *= 2;
    n = Math.min(n, this.capacity);
    const nb = new Uint8Array(n);
    // Unroll the ring so that the read point is at index 0.
    const old = this.buf;
    const first = Math.min(old.length - this.head, old.length);
    nb.set(old.subarray(this.head, this.head + first), 0);
    if (first < old.length) nb.set(old.subarray(0, old.length - first), first);
    this.buf = nb;
    this.head = 0;
  }

  write(seq: number, src: Uint8Array, srcOff: number, len: number): number {
    const nextAbs = this.readAbs + this.contig;
    let off = seqDiff(seq, seqAdd(this.baseSeq, nextAbs)); // relative to next expected byte
    if (len <= 0) return 0;
    if (off + len <= 0) return 0; // all old
    if (off < 0) {
      srcOff -= off;
      len += off;
      off = 0;
    }
    const room = this.capacity - this.contig; // offsets [0, room) are storable
    if (off >= room) return -1;
    if (off + len > room) len = room - off;
    const startAbs = nextAbs + off;
    const endAbs = startAbs + len;
    // Range bookkeeping first, so a refusal leaves everything unchanged.
    if (off > 0) {
      let i = 0;
      while (i < this.starts.length && this.ends[i]! < startAbs) i++;
      let j = i;
      while (j < this.starts.length && this.starts[j]! <= endAbs) j++;
      if (i === j) {
        if (this.starts.length >= this.maxHoles) return -2;
        this.starts.splice(i, 0, startAbs);
        this.ends.splice(i, 0, endAbs);
      } else {
        const s = Math.min(startAbs, this.starts[i]!);
        const e = Math.max(endAbs, this.ends[j - 1]!);
        this.starts.splice(i, j - i, s);
        this.ends.splice(i, j - i, e);
      }
    }
    this.ensure(this.contig + off + len);
    const size = this.buf.length;
    let pos = (this.head + this.contig + off) % size;
    const firstLen = Math.min(len, size - pos);
    this.buf.set(src.subarray(srcOff, srcOff + firstLen), pos);
    if (firstLen < len) this.buf.set(src.subarray(srcOff + firstLen, srcOff + len), 0);
    if (off > 0) return 0;
    let newEnd = endAbs;
    while (this.starts.length > 0 && this.starts[0]! <= newEnd) {
      newEnd = Math.max(newEnd, this.ends[0]!);
      this.starts.shift();
      this.ends.shift();
    }
    const added = newEnd - nextAbs;
    this.contig += added;
    pos = 0;
    return added;
  }

  read(dst: Uint8Array, dstOff: number, max: number): number {
    const n = Math.min(max, this.contig, dst.length - dstOff);
    if (n <= 0) return 0;
    const size = this.buf.length;
    const firstLen = Math.min(n, size - this.head);
    dst.set(this.buf.subarray(this.head, this.head + firstLen), dstOff);
    if (firstLen < n) dst.set(this.buf.subarray(0, n - firstLen), dstOff + firstLen);
    this.head = (this.head + n) % size;
    this.contig -= n;
    this.readAbs += n;
    return n;
  }
}

/** Growable byte ring for the send side: bytes from SND.UNA (index 0) onwards. */
export class SendBytes {
  private buf: Uint8Array;
  private head = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(Math.min(capacity, 64 * 1024));
  }

  get free(): number {
    return this.capacity - this.length;
  }

  private ensure(size: number): void {
    if (size <= this.buf.length) return;
    let n = this.buf.length;
    while (n < size) n *= 2;
    const nb = new Uint8Array(n);
    const old = this.buf;
    const first = Math.min(this.length, old.length - this.head);
    nb.set(old.subarray(this.head, this.head + first), 0);
    if (first < this.length) nb.set(old.subarray(0, this.length - first), first);
    this.buf = nb;
    this.head = 0;
  }

  /** Appends up to `free` bytes; returns how many were taken. */
  push(src: Uint8Array, srcOff = 0, len: number = src.length - srcOff): number {
    const n = Math.min(len, this.free);
    if (n <= 0) return 0;
    this.ensure(this.length + n);
    const size = this.buf.length;
    const pos = (this.head + this.length) % size;
    const firstLen = Math.min(n, size - pos);
    this.buf.set(src.subarray(srcOff, srcOff + firstLen), pos);
    if (firstLen < n) this.buf.set(src.subarray(srcOff + firstLen, srcOff + n), 0);
    this.length += n;
    return n;
  }

  /** Bytes [off, off + len): a view when contiguous in the ring, else a copy. */
  slice(off: number, len: number): Uint8Array {
    const size = this.buf.length;
    const pos = (this.head + off) % size;
    if (pos + len <= size) return this.buf.subarray(pos, pos + len);
    const out = new Uint8Array(len);
    const firstLen = size - pos;
    out.set(this.buf.subarray(pos, size), 0);
    out.set(this.buf.subarray(0, len - firstLen), firstLen);
    return out;
  }

  /** Drops the first n bytes (acknowledged). */
  drop(n: number): void {
    const k = Math.min(n, this.length);
    if (k === 0) return;
    this.head = (this.head + k) % this.buf.length;
    this.length -= k;
    if (this.length === 0) this.head = 0;
  }
}
