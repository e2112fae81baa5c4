// Range assembler (DESIGN.md convention 8): which byte positions past the next expected byte
// ("front") have arrived, as a fixed-size array of disjoint ranges. Offsets only, no bytes.
// The JS side (core/kernels/reassembly.ts) keeps the sequence-number keys (32-bit wrapping or
// 64-bit) and passes offsets relative to the front; positions here are u64 stream positions
// (bytes since creation), which never wrap.
//
// Invariant (checked by asmCheck in the debug build):
//   front < start[0] < end[0] < start[1] < end[1] < ... < start[n-1] < end[n-1],  n <= cap
// Every range is non-empty, separated from its neighbours by a hole of at least one byte, and
// strictly after the front. So n = number of holes, and an add that reaches the front merges
// into the front and never needs a new slot: it cannot fail with TooManyHoles.
//
// Layout of one assembler (heap.alloc'd, fixed size, no managed objects):
//   0  front u64 | 8 n u32 | 12 cap u32 | 16..64 six u64 counters | 64 start[cap] u64 | end[cap] u64

const OFF_FRONT: usize = 0;
const OFF_N: usize = 8;
const OFF_CAP: usize = 12;
const OFF_CTR: usize = 16;
const OFF_RANGES: usize = 64;

// Counter indexes (same order as ReassemblyCounters in core/kernels/types.ts).
const C_LEFT: usize = 0;
const C_BEYOND: usize = 1;
const C_REF_OOW: usize = 2;
const C_REF_TMH: usize = 3;
const C_BYTES_TMH: usize = 4;
const C_ASSEMBLED: usize = 5;

const R_OUT_OF_WINDOW: i32 = -1;
const R_TOO_MANY_HOLES: i32 = -2;

@inline function sAt(h: usize, i: u32): u64 {
  return load<u64>(h + OFF_RANGES + ((<usize>i) << 3));
}
@inline function eAt(h: usize, i: u32): u64 {
  return load<u64>(h + OFF_RANGES + ((<usize>load<u32>(h + OFF_CAP)) << 3) + ((<usize>i) << 3));
}
@inline function setS(h: usize, i: u32, v: u64): void {
  store<u64>(h + OFF_RANGES + ((<usize>i) << 3), v);
}
@inline function setE(h: usize, i: u32, v: u64): void {
  store<u64>(h + OFF_RANGES + ((<usize>load<u32>(h + OFF_CAP)) << 3) + ((<usize>i) << 3), v);
}
@inline function bump(h: usize, c: usize, by: u64): void {
  const p = h + OFF_CTR + (c << 3);
  store<u64>(p, load<u64>(p) + by);
}

/** Creates an assembler with room for `cap` ranges; returns its handle (a pointer). */
export function asmNew(cap: u32): usize {
  const size = OFF_RANGES + ((<usize>cap) << 4);
  const h = heap.alloc(size);
  memory.fill(h, 0, size);
  store<u32>(h + OFF_CAP, cap);
  return h;
}

export function asmFree(h: usize): void {
  heap.free(h);
}

export function asmHoles(h: usize): u32 {
  return load<u32>(h + OFF_N);
}

/** Counter `i` as f64 (exact below 2^53). */
export function asmCounter(h: usize, i: u32): f64 {
  return <f64>load<u64>(h + OFF_CTR + ((<usize>i) << 3));
}

/** Range i as offsets relative to the front. */
export function asmRangeStart(h: usize, i: u32): f64 {
  return <f64>(sAt(h, i) - load<u64>(h + OFF_FRONT));
}
export function asmRangeEnd(h: usize, i: u32): f64 {
  return <f64>(eAt(h, i) - load<u64>(h + OFF_FRONT));
}

/** Counts a write refused before it reached the assembler (a DSN far outside the window). */
export function asmRefuseFar(h: usize, len: u32): i32 {
  bump(h, C_BEYOND, <u64>len);
  bump(h, C_REF_OOW, 1);
  return R_OUT_OF_WINDOW;
}

/** 1 when the invariant holds (debug aid; also asserted after every add in the debug build). */
export function asmCheck(h: usize): u32 {
  const n = load<u32>(h + OFF_N);
  if (n > load<u32>(h + OFF_CAP)) return 0;
  let prev = load<u64>(h + OFF_FRONT);
  for (let i: u32 = 0; i < n; i++) {
    const s = sAt(h, i);
    const e = eAt(h, i);
    if (!(s > prev && e > s)) return 0;
    prev = e;
  }
  return 1;
}

/**
 * Adds [off, off + len) relative to the front; `window` is the first offset not storable.
 * Returns the bytes that became contiguous (>= 0) or a refusal code (-1 out of window,
 * -2 too many holes); a refusal changes nothing but the refusal counters.
 */
export function asmAdd(h: usize, off: i32, len: u32, window: u32): i32 {
  if (len == 0) return 0;
  let s: i64 = <i64>off;
  let e: i64 = s + <i64>len;
  if (e <= 0) {
    bump(h, C_LEFT, <u64>len);
    return 0;
  }
  const w: i64 = <i64>window;
  if (s >= w) {
    bump(h, C_BEYOND, <u64>len);
    bump(h, C_REF_OOW, 1);
    return R_OUT_OF_WINDOW;
  }
  let left: u64 = 0;
  let beyond: u64 = 0;
  if (s < 0) {
    left = <u64>(-s);
    s = 0;
  }
  if (e > w) {
    beyond = <u64>(e - w);
    e = w;
  }
  const front = load<u64>(h + OFF_FRONT);
  const n = load<u32>(h + OFF_N);
  const as: u64 = front + <u64>s;
  const ae: u64 = front + <u64>e;
  if (s == 0) {
    // At the front: advance, swallow every range that now touches it.
    let nf = ae;
    let k: u32 = 0;
    while (k < n && sAt(h, k) <= nf) {
      const ke = eAt(h, k);
      if (ke > nf) nf = ke;
      k++;
    }
    if (k > 0) {
      for (let i: u32 = k; i < n; i++) {
        setS(h, i - k, sAt(h, i));
        setE(h, i - k, eAt(h, i));
      }
      store<u32>(h + OFF_N, n - k);
    }
    store<u64>(h + OFF_FRONT, nf);
    const got = nf - front;
    bump(h, C_LEFT, left);
    bump(h, C_BEYOND, beyond);
    bump(h, C_ASSEMBLED, got);
    if (ASC_NO_ASSERT == false) assert(asmCheck(h) == 1, "assembler invariant");
    return <i32>got;
  }
  // Out of order: ranges [i, j) touch or overlap [as, ae] and merge with it.
  let i: u32 = 0;
  while (i < n && eAt(h, i) < as) i++;
  let j: u32 = i;
  while (j < n && sAt(h, j) <= ae) j++;
  if (i == j) {
    if (n >= load<u32>(h + OFF_CAP)) {
      bump(h, C_REF_TMH, 1);
      bump(h, C_BYTES_TMH, <u64>(e - s));
      return R_TOO_MANY_HOLES;
    }
    for (let k: u32 = n; k > i; k--) {
      setS(h, k, sAt(h, k - 1));
      setE(h, k, eAt(h, k - 1));
    }
    setS(h, i, as);
    setE(h, i, ae);
    store<u32>(h + OFF_N, n + 1);
  } else {
    const ns = min<u64>(as, sAt(h, i));
    const ne = max<u64>(ae, eAt(h, j - 1));
    setS(h, i, ns);
    setE(h, i, ne);
    const drop = j - i - 1;
    if (drop > 0) {
      for (let k: u32 = j; k < n; k++) {
        setS(h, k - drop, sAt(h, k));
        setE(h, k - drop, eAt(h, k));
      }
      store<u32>(h + OFF_N, n - drop);
    }
  }
  bump(h, C_LEFT, left);
  bump(h, C_BEYOND, beyond);
  if (ASC_NO_ASSERT == false) assert(asmCheck(h) == 1, "assembler invariant");
  return 0;
}

// ---- byte storage (ring regions for the receive and send buffers) ----

/** Allocates `size` zeroed bytes of storage; returns the pointer. */
export function kbufAlloc(size: u32): usize {
  const p = heap.alloc(<usize>max<u32>(size, 1));
  memory.fill(p, 0, <usize>size);
  return p;
}

export function kbufFree(p: usize): void {
  heap.free(p);
}

/**
 * Re-homes a ring: a new region of `newCap` bytes holding the old ring's `oldCap` bytes
 * unwrapped from `head` (so the new head is 0); frees the old region; returns the new pointer.
 */
export function kbufRegrow(p: usize, oldCap: u32, head: u32, newCap: u32): usize {
  const q = heap.alloc(<usize>newCap);
  memory.fill(q, 0, <usize>newCap);
  const first = oldCap - head;
  memory.copy(q, p + <usize>head, <usize>first);
  memory.copy(q + <usize>first, p, <usize>head);
  heap.free(p);
  return q;
}

/**
 * asmAdd for bytes that already live in this memory at `src`, plus their copy into the ring
 * (`ring`, `cap` bytes, read point at `head`, `avail` readable): one call, no JS view.
 * `off` is relative to the front (= read point + avail). Returns what asmAdd returns.
 */
export function rbWriteFrom(h: usize, off: i32, len: u32, window: u32, ring: usize, cap: u32, head: u32, avail: u32, src: usize): i32 {
  const r = asmAdd(h, off, len, window);
  if (r < 0) return r;
  // Ring offsets (from the read point) of the bytes to copy: [max(off, 0), min(off + len, window)) + avail.
  let s: i64 = <i64>off;
  let e: i64 = s + <i64>len;
  if (e > <i64>window) e = <i64>window;
  if (s < 0) s = 0;
  if (s >= e) return r;
  const n = <u32>(e - s);
  const from = src + <usize>(s - <i64>off);
  let pos = head + avail + <u32>s;
  if (pos >= cap) pos -= cap;
  if (pos >= cap) pos -= cap;
  const first = cap - pos < n ? cap - pos : n;
  memory.copy(ring + <usize>pos, from, <usize>first);
  if (first < n) memory.copy(ring, from + <usize>first, <usize>(n - first));
  return r;
}
