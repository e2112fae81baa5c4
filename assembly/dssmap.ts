// Per-subflow DSS mapping table (RFC 8684 section 3.3.1; twin: core/kernels/dssmap.ts).
// Receive side: mappings (relative SSN, DSN, data-level length, checksum) sorted by SSN,
// refused when they contradict an installed one or do not cover their segment; translation of
// subflow bytes to DSNs; the DSS checksum verified once a mapping's bytes are all fed.
// Send side: the DSN ranges that went out on this subflow, until DATA_ACKed.
//
// Invariant: the n receive mappings are pairwise disjoint in subflow space, sorted by SSN
// (wrap-aware), each with subLen >= 1 and fed <= subLen; sentN <= sentCap.
//
// Layout (heap.alloc'd, fixed size):
//   0 n | 4 cap | 8 sentN | 12 sentCap | 16 infinite | 20 infSsn | 24 infDsn u64 | 32 outDsn u64
//   40 nine u64 counters | 112 cap entries of 40 bytes | sentCap sent entries of 16 bytes
// Entry: 0 ssn | 4 length | 8 subLen | 12 csum (i32, -1 none) | 16 fin | 20 fed | 24 dsn u64 | 32 sum u64
// Sent:  0 ssn | 4 len | 8 dsn u64

const H_N: usize = 0;
const H_CAP: usize = 4;
const H_SN: usize = 8;
const H_SCAP: usize = 12;
const H_INF: usize = 16;
const H_INFSSN: usize = 20;
const H_INFDSN: usize = 24;
const H_OUT: usize = 32;
const H_CTR: usize = 40;
const H_ENTRIES: usize = 112;
const E_SIZE: usize = 40;
const S_SIZE: usize = 16;

const C_INSTALLED: usize = 0;
const C_DUP: usize = 1;
const C_CONFLICT: usize = 2;
const C_OVERRUN: usize = 3;
const C_NOMAP: usize = 4;
const C_CSUM_OK: usize = 5;
const C_CSUM_BAD: usize = 6;
const C_FULL: usize = 7;
const C_INF: usize = 8;

const R_CONFLICT: i32 = -3;
const R_OVERRUN: i32 = -4;
const R_NOMAP: i32 = -5;
const R_CSUM: i32 = -6;
const R_FULL: i32 = -7;
/** Returned to JS for API misuse (bytes fed out of order / across a mapping): JS throws. */
const MISUSE: i32 = -100;

@inline function ctr(h: usize, c: usize): void {
  const p = h + H_CTR + (c << 3);
  store<u64>(p, load<u64>(p) + 1);
}
@inline function ent(h: usize, i: u32): usize {
  return h + H_ENTRIES + (<usize>i) * E_SIZE;
}
@inline function sent(h: usize, i: u32): usize {
  return h + H_ENTRIES + (<usize>load<u32>(h + H_CAP)) * E_SIZE + (<usize>i) * S_SIZE;
}

export function dssNew(cap: u32, sentCap: u32): usize {
  const size = H_ENTRIES + (<usize>cap) * E_SIZE + (<usize>sentCap) * S_SIZE;
  const h = heap.alloc(size);
  memory.fill(h, 0, size);
  store<u32>(h + H_CAP, cap);
  store<u32>(h + H_SCAP, sentCap);
  return h;
}

export function dssFree(h: usize): void {
  heap.free(h);
}

export function dssCount(h: usize): u32 {
  return load<u32>(h + H_N);
}
export function dssInfinite(h: usize): u32 {
  return load<u32>(h + H_INF);
}
export function dssCounter(h: usize, i: u32): f64 {
  return <f64>load<u64>(h + H_CTR + ((<usize>i) << 3));
}
export function dssOutHi(h: usize): u32 {
  return <u32>(load<u64>(h + H_OUT) >> 32);
}
export function dssOutLo(h: usize): u32 {
  return <u32>load<u64>(h + H_OUT);
}

export function dssInstall(h: usize, ssn: u32, dsnHi: u32, dsnLo: u32, length: u32, csum: i32, fin: u32, segSsn: u32, segLen: u32): i32 {
  const dsn: u64 = ((<u64>dsnHi) << 32) | <u64>dsnLo;
  if (length == 0) {
    if (load<u32>(h + H_INF) != 0) {
      ctr(h, C_DUP);
      return 0;
    }
    store<u32>(h + H_INF, 1);
    store<u32>(h + H_INFSSN, ssn);
    store<u64>(h + H_INFDSN, dsn);
    ctr(h, C_INF);
    ctr(h, C_INSTALLED);
    return 1;
  }
  if (load<u32>(h + H_INF) != 0) {
    ctr(h, C_DUP);
    return 0;
  }
  const subLen: u32 = length - (fin != 0 ? 1 : 0);
  if (segLen > 0) {
    const d0 = <i32>(segSsn - ssn);
    if (d0 < 0 || <i64>d0 + <i64>segLen > <i64>subLen) {
      ctr(h, C_OVERRUN);
      return R_OVERRUN;
    }
  }
  if (subLen == 0) {
    ctr(h, C_INSTALLED);
    return 1;
  }
  const n = load<u32>(h + H_N);
  let at: u32 = n;
  for (let i: u32 = 0; i < n; i++) {
    const e = ent(h, i);
    const es = load<u32>(e);
    const eLen = load<u32>(e + 8);
    if (<i32>(ssn - es) < <i32>eLen && <i32>(es - ssn) < <i32>subLen) {
      if (es == ssn && load<u64>(e + 24) == dsn && load<u32>(e + 4) == length && load<u32>(e + 16) == fin && load<i32>(e + 12) == csum) {
        ctr(h, C_DUP);
        return 0;
      }
      ctr(h, C_CONFLICT);
      return R_CONFLICT;
    }
    if (at == n && <i32>(es - ssn) > 0) at = i;
  }
  if (n >= load<u32>(h + H_CAP)) {
    ctr(h, C_FULL);
    return R_FULL;
  }
  if (at < n) memory.copy(ent(h, at + 1), ent(h, at), (<usize>(n - at)) * E_SIZE);
  const e = ent(h, at);
  store<u32>(e, ssn);
  store<u32>(e + 4, length);
  store<u32>(e + 8, subLen);
  store<i32>(e + 12, csum);
  store<u32>(e + 16, fin);
  store<u32>(e + 20, 0);
  store<u64>(e + 24, dsn);
  store<u64>(e + 32, 0);
  store<u32>(h + H_N, n + 1);
  ctr(h, C_INSTALLED);
  return 1;
}

/** Index of the mapping holding `ssn`, or -1. */
function find(h: usize, ssn: u32): i32 {
  const n = load<u32>(h + H_N);
  for (let i: u32 = 0; i < n; i++) {
    const e = ent(h, i);
    const d = <i32>(ssn - load<u32>(e));
    if (d >= 0 && <u32>d < load<u32>(e + 8)) return <i32>i;
  }
  return -1;
}

export function dssTranslate(h: usize, ssn: u32, len: u32): i32 {
  const i = find(h, ssn);
  if (i >= 0) {
    const e = ent(h, <u32>i);
    const d = ssn - load<u32>(e);
    store<u64>(h + H_OUT, load<u64>(e + 24) + <u64>d);
    const rest = load<u32>(e + 8) - d;
    return <i32>(len < rest ? len : rest);
  }
  if (load<u32>(h + H_INF) != 0) {
    const d = <i32>(ssn - load<u32>(h + H_INFSSN));
    if (d >= 0) {
      store<u64>(h + H_OUT, load<u64>(h + H_INFDSN) + <u64>d);
      return <i32>len;
    }
  }
  ctr(h, C_NOMAP);
  return R_NOMAP;
}

@inline function fold(s: u64): u32 {
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  return <u32>s;
}

/** Feeds `len` mapped bytes at `p` (subflow bytes from `ssn`, in order) to the DSS checksum. */
export function dssFeed(h: usize, ssn: u32, p: usize, len: u32): i32 {
  const i = find(h, ssn);
  if (i < 0) {
    ctr(h, C_NOMAP);
    return R_NOMAP;
  }
  const e = ent(h, <u32>i);
  const d = ssn - load<u32>(e);
  const fed = load<u32>(e + 20);
  const subLen = load<u32>(e + 8);
  if (d != fed || <u64>d + <u64>len > <u64>subLen) return MISUSE;
  store<u32>(e + 20, fed + len);
  const csum = load<i32>(e + 12);
  if (csum < 0) return 0;
  let sum = load<u64>(e + 32);
  let k: u32 = 0;
  if ((fed & 1) != 0 && len > 0) {
    sum += <u64>load<u8>(p);
    k = 1;
  }
  // Pairs of bytes as big-endian 16-bit words.
  for (; k + 1 < len; k += 2) {
    const w = <u32>load<u16>(p + <usize>k);
    sum += <u64>(((w & 0xff) << 8) | (w >> 8));
  }
  if (k < len) sum += (<u64>load<u8>(p + <usize>k)) << 8;
  store<u64>(e + 32, sum);
  if (fed + len != subLen) return 0;
  const dsn = load<u64>(e + 24);
  const ssnM = load<u32>(e);
  let t: u64 = sum;
  t += (dsn >> 48) + ((dsn >> 32) & 0xffff) + ((dsn >> 16) & 0xffff) + (dsn & 0xffff);
  t += <u64>(ssnM >> 16) + <u64>(ssnM & 0xffff);
  t += <u64>load<u32>(e + 4) + <u64>(<u32>csum);
  if (fold(t) == 0xffff) {
    ctr(h, C_CSUM_OK);
    return 1;
  }
  ctr(h, C_CSUM_BAD);
  return R_CSUM;
}

export function dssReleaseBefore(h: usize, ssn: u32): void {
  const n = load<u32>(h + H_N);
  let w: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = ent(h, i);
    const end = load<u32>(e) + load<u32>(e + 8);
    if (<i32>(end - ssn) <= 0) continue;
    if (w != i) memory.copy(ent(h, w), e, E_SIZE);
    w++;
  }
  store<u32>(h + H_N, w);
}

export function dssRecordSent(h: usize, ssn: u32, dsnHi: u32, dsnLo: u32, len: u32): i32 {
  if (len == 0) return 0;
  const dsn: u64 = ((<u64>dsnHi) << 32) | <u64>dsnLo;
  const n = load<u32>(h + H_SN);
  if (n > 0) {
    const s = sent(h, n - 1);
    const sl = load<u32>(s + 4);
    if (load<u32>(s) + sl == ssn && load<u64>(s + 8) + <u64>sl == dsn && <u64>sl + <u64>len <= 0xffffffff) {
      store<u32>(s + 4, sl + len);
      return 0;
    }
  }
  if (n >= load<u32>(h + H_SCAP)) {
    ctr(h, C_FULL);
    return R_FULL;
  }
  const s = sent(h, n);
  store<u32>(s, ssn);
  store<u32>(s + 4, len);
  store<u64>(s + 8, dsn);
  store<u32>(h + H_SN, n + 1);
  return 0;
}

export function dssAckSent(h: usize, ackHi: u32, ackLo: u32): void {
  const ack: u64 = ((<u64>ackHi) << 32) | <u64>ackLo;
  const n = load<u32>(h + H_SN);
  let w: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const s = sent(h, i);
    let ssn = load<u32>(s);
    let len = load<u32>(s + 4);
    let dsn = load<u64>(s + 8);
    if (<i64>(dsn + <u64>len - ack) <= 0) continue;
    const before = <i64>(ack - dsn);
    if (before > 0) {
      dsn = ack;
      ssn += <u32>before;
      len -= <u32>before;
    }
    const t = sent(h, w);
    store<u32>(t, ssn);
    store<u32>(t + 4, len);
    store<u64>(t + 8, dsn);
    w++;
  }
  store<u32>(h + H_SN, w);
}

export function dssSentCount(h: usize): u32 {
  return load<u32>(h + H_SN);
}
export function dssSentSsn(h: usize, i: u32): u32 {
  return load<u32>(sent(h, i));
}
export function dssSentLen(h: usize, i: u32): u32 {
  return load<u32>(sent(h, i) + 4);
}
export function dssSentDsnHi(h: usize, i: u32): u32 {
  return <u32>(load<u64>(sent(h, i) + 8) >> 32);
}
export function dssSentDsnLo(h: usize, i: u32): u32 {
  return <u32>load<u64>(sent(h, i) + 8);
}
