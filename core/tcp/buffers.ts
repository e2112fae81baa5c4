// Byte storage of a TCP connection's send side: the send queue's bytes (a growable ring from
// SND.UNA). The receive side uses the data-plane kernels' ReceiveBuffer (core/kernels: WASM, or
// its pure-TS twin), made by TcpConnection.
/** Growable byte ring for the send side: bytes from SND.UNA (index 0) onwards. */
export class SendBytes {
  private buf: Uint8Array;
  private head = 0;
  length = 0;
  /** Bytes it takes at most (<= capacity): the autotuned send buffer (Linux sk_sndbuf). */
  limit: number;

  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(Math.min(capacity, 64 * 1024));
    this.limit = capacity;
  }

  get free(): number {
    return Math.max(0, this.limit - this.length);
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

/** Segments Linux's send-buffer autotuning counts at least (TCP_INIT_CWND). */
const SNDBUF_MIN_SEGS = 10;

/**
 * Linux's tcp_sndbuf_expand: the send buffer a connection with a congestion window of `cwndSegs`
 * segments of `mss` bytes wants, 2 * max(cwnd, 10) segments of buffer memory per MSS-sized skb,
 * roundup_pow_of_two(mss + MAX_TCP_HEADER 320 + skb_shared_info 320) + sk_buff 256 (x86-64):
 * 4352 bytes for MSS 1460, so 87040 bytes for the initial window. (Linux also counts
 * reordering + 1 segments; its default reordering, 3, is below the 10.) The bytes it bounds here
 * are payload, as the queue Linux bounds is, near enough, for the large skbs a bulk writer makes.
 */
export function sndbufFor(cwndSegs: number, mss: number): number {
  const perMss = 2 ** Math.ceil(Math.log2(mss + 640)) + 256;
  return 2 * Math.max(SNDBUF_MIN_SEGS, cwndSegs) * perMss;
}
