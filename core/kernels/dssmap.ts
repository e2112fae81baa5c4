// Per-subflow DSS mapping table (RFC 8684 section 3.3.1; types.ts DssMap): the pure-TS twin
// and the class backed by assembly/dssmap.ts. Both follow the same rules:
// - a data-level length of 0 is the infinite mapping: from its SSN on, subflow bytes map 1:1 to
//   DSNs forever; later finite mappings are ignored (counted as duplicates);
// - a mapping must cover the bytes of the segment that carries it (else MappingOverrun);
// - a mapping overlapping an installed one in subflow space must be identical to it (then it
//   is a duplicate, 0) or it is refused with MappingConflict (Linux: DSSNotMatching);
// - a DATA_FIN-only mapping (length 1 with DATA_FIN) maps no subflow byte and is not stored;
// - the DSS checksum covers the pseudo-header DSN(64) | SSN(32) | length(16) | checksum(16) and
//   the mapped payload; it is checked once the mapping's last subflow byte is fed.
//
// Invariant: receive mappings are pairwise disjoint in subflow space and sorted by SSN
// (wrap-aware); each has subLen >= 1 and fed <= subLen.
import { InvalidArgumentError, InvalidStateError } from "../errors.ts";
import { Refusal } from "./types.ts";
import type { DssCounters, DssMap, DssMapOptions, DssMapping, SentRange } from "./types.ts";
import { loadKernels } from "./wasm/instance.ts";
import type { WasmKernels, WasmVariant } from "./wasm/instance.ts";

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;
const MISUSE = -100;

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= TWO32) throw new InvalidArgumentError(`${what} ${v} is not a u32`);
}

function checkMapping(m: DssMapping): void {
  checkU32("ssn", m.ssn);
  if (m.dsn < 0n || m.dsn > MASK64) throw new InvalidArgumentError(`dsn ${m.dsn} is not a u64`);
  if (!Number.isInteger(m.length) || m.length < 0 || m.length > 0xffff) throw new InvalidArgumentError(`data-level length ${m.length} is not a u16`);
  if (!Number.isInteger(m.checksum) || m.checksum < -1 || m.checksum > 0xffff) throw new InvalidArgumentError(`checksum ${m.checksum}`);
  if (m.dataFin && m.length === 0) throw new InvalidArgumentError("DATA_FIN on the infinite mapping");
}

function emptyCounters(): DssCounters {
  return { installed: 0, duplicates: 0, conflicts: 0, overruns: 0, noMapping: 0, checksumOk: 0, checksumFailed: 0, tableFull: 0, infinite: 0 };
}

abstract class DssMapBase implements DssMap {
  protected readonly cap: number;
  protected readonly sentCap: number;
  constructor(opts: DssMapOptions) {
    this.cap = opts.maxMappings ?? 64;
    this.sentCap = opts.maxSent ?? 4096;
    if (!Number.isInteger(this.cap) || this.cap < 1 || this.cap > 65536) throw new InvalidArgumentError(`maxMappings ${this.cap}`);
    if (!Number.isInteger(this.sentCap) || this.sentCap < 1 || this.sentCap > 1 << 20) throw new InvalidArgumentError(`maxSent ${this.sentCap}`);
  }
  abstract readonly mappings: number;
  abstract readonly infinite: boolean;
  abstract readonly dsnHi: number;
  abstract readonly dsnLo: number;
  abstract install64(ssn: number, dsnHi: number, dsnLo: number, length: number, checksum: number, dataFin: boolean, segSsn: number, segLen: number): number;
  abstract translate(ssn: number, len: number): number;
  abstract checksumFeed(ssn: number, src: Uint8Array, srcOff: number, len: number): number;
  abstract releaseBefore(ssn: number): void;
  abstract recordSent(ssn: number, dsnHi: number, dsnLo: number, length: number): number;
  abstract ackSent(dataAck: bigint): void;
  abstract unacked(): SentRange[];
  abstract counters(): DssCounters;
  abstract dispose(): void;

  install(m: DssMapping, segSsn: number, segLen: number): number {
    checkMapping(m);
    checkU32("segSsn", segSsn);
    return this.install64(m.ssn, Number(m.dsn >> 32n), Number(m.dsn & 0xffffffffn), m.length, m.checksum, m.dataFin, segSsn, segLen);
  }

  protected misuse(ssn: number, len: number): never {
    throw new InvalidArgumentError(`checksumFeed(${ssn}, ${len}): bytes must be fed in subflow order, within one mapping`);
  }
}

/** Pure-TS DSS mapping table. */
export class TsDssMap extends DssMapBase {
  // Receive mappings, parallel arrays sorted by SSN.
  private n = 0;
  private readonly ssn: Uint32Array;
  private readonly len: Uint32Array;
  private readonly subLen: Uint32Array;
  private readonly csum: Int32Array;
  private readonly fin: Uint8Array;
  private readonly fed: Uint32Array;
  private readonly dHi: Uint32Array;
  private readonly dLo: Uint32Array;
  private readonly sum: Float64Array;
  private inf = false;
  private infSsn = 0;
  private infHi = 0;
  private infLo = 0;
  private oHi = 0;
  private oLo = 0;
  private sent: SentRange[] = [];
  private readonly c: DssCounters = emptyCounters();

  constructor(opts: DssMapOptions = {}) {
    super(opts);
    const k = this.cap;
    this.ssn = new Uint32Array(k);
    this.len = new Uint32Array(k);
    this.subLen = new Uint32Array(k);
    this.csum = new Int32Array(k);
    this.fin = new Uint8Array(k);
    this.fed = new Uint32Array(k);
    this.dHi = new Uint32Array(k);
    this.dLo = new Uint32Array(k);
    this.sum = new Float64Array(k);
  }

  get mappings(): number {
    return this.n;
  }
  get infinite(): boolean {
    return this.inf;
  }
  get dsnHi(): number {
    return this.oHi;
  }
  get dsnLo(): number {
    return this.oLo;
  }

  install64(ssn: number, dsnHi: number, dsnLo: number, length: number, checksum: number, dataFin: boolean, segSsn: number, segLen: number): number {
    ssn >>>= 0;
    if (length === 0) {
      if (this.inf) {
        this.c.duplicates++;
        return 0;
      }
      this.inf = true;
      this.infSsn = ssn;
      this.infHi = dsnHi >>> 0;
      this.infLo = dsnLo >>> 0;
      this.c.infinite++;
      this.c.installed++;
      return 1;
    }
    if (this.inf) {
      this.c.duplicates++;
      return 0;
    }
    const fin = dataFin ? 1 : 0;
    const subLen = length - fin;
    if (segLen > 0) {
      const d0 = (segSsn - ssn) | 0;
      if (d0 < 0 || d0 + segLen > subLen) {
        this.c.overruns++;
        return Refusal.MappingOverrun;
      }
    }
    if (subLen === 0) {
      this.c.installed++;
      return 1;
    }
    const n = this.n;
    let at = n;
    for (let i = 0; i < n; i++) {
      const es = this.ssn[i]!;
      if (((ssn - es) | 0) < this.subLen[i]! && ((es - ssn) | 0) < subLen) {
        if (es === ssn && this.dHi[i] === dsnHi >>> 0 && this.dLo[i] === dsnLo >>> 0 && this.len[i] === length && this.fin[i] === fin && this.csum[i] === checksum) {
          this.c.duplicates++;
          return 0;
        }
        this.c.conflicts++;
        return Refusal.MappingConflict;
      }
      if (at === n && ((es - ssn) | 0) > 0) at = i;
    }
    if (n >= this.cap) {
      this.c.tableFull++;
      return Refusal.MappingTableFull;
    }
    for (const a of [this.ssn, this.len, this.subLen, this.csum, this.fin, this.fed, this.dHi, this.dLo, this.sum]) a.copyWithin(at + 1, at, n);
    this.ssn[at] = ssn;
    this.len[at] = length;
    this.subLen[at] = subLen;
    this.csum[at] = checksum;
    this.fin[at] = fin;
    this.fed[at] = 0;
    this.dHi[at] = dsnHi;
    this.dLo[at] = dsnLo;
    this.sum[at] = 0;
    this.n = n + 1;
    this.c.installed++;
    return 1;
  }

  private find(ssn: number): number {
    for (let i = 0; i < this.n; i++) {
      const d = (ssn - this.ssn[i]!) | 0;
      if (d >= 0 && d < this.subLen[i]!) return i;
    }
    return -1;
  }

  private setOut(hi: number, lo: number, d: number): void {
    const l = lo + d;
    if (l >= TWO32) {
      this.oLo = l - TWO32;
      this.oHi = (hi + 1) >>> 0;
    } else {
      this.oLo = l;
      this.oHi = hi;
    }
  }

  translate(ssn: number, len: number): number {
    const i = this.find(ssn);
    if (i >= 0) {
      const d = (ssn - this.ssn[i]!) >>> 0;
      this.setOut(this.dHi[i]!, this.dLo[i]!, d);
      return Math.min(len, this.subLen[i]! - d);
    }
    if (this.inf) {
      const d = (ssn - this.infSsn) | 0;
      if (d >= 0) {
        this.setOut(this.infHi, this.infLo, d);
        return len;
      }
    }
    this.c.noMapping++;
    return Refusal.NoMapping;
  }

  checksumFeed(ssn: number, src: Uint8Array, srcOff: number, len: number): number {
    const i = this.find(ssn);
    if (i < 0) {
      this.c.noMapping++;
      return Refusal.NoMapping;
    }
    const d = (ssn - this.ssn[i]!) >>> 0;
    const fed = this.fed[i]!;
    const subLen = this.subLen[i]!;
    if (d !== fed || d + len > subLen) return this.misuse(ssn, len);
    this.fed[i] = fed + len;
    const csum = this.csum[i]!;
    if (csum < 0) return 0;
    let sum = this.sum[i]!;
    for (let k = 0; k < len; k++) {
      const b = src[srcOff + k]!;
      sum += ((fed + k) & 1) === 0 ? b << 8 : b;
    }
    this.sum[i] = sum;
    if (fed + len !== subLen) return 0;
    const hi = this.dHi[i]!;
    const lo = this.dLo[i]!;
    const s = this.ssn[i]!;
    let t = sum + (hi >>> 16) + (hi & 0xffff) + (lo >>> 16) + (lo & 0xffff) + (s >>> 16) + (s & 0xffff) + this.len[i]! + csum;
    while (t > 0xffff) t = (t % 65536) + Math.floor(t / 65536);
    if (t === 0xffff) {
      this.c.checksumOk++;
      return 1;
    }
    this.c.checksumFailed++;
    return Refusal.ChecksumMismatch;
  }

  releaseBefore(ssn: number): void {
    let w = 0;
    const arrays = [this.ssn, this.len, this.subLen, this.csum, this.fin, this.fed, this.dHi, this.dLo, this.sum];
    for (let i = 0; i < this.n; i++) {
      if (((this.ssn[i]! + this.subLen[i]! - ssn) | 0) <= 0) continue;
      if (w !== i) for (const a of arrays) a[w] = a[i]!;
      w++;
    }
    this.n = w;
  }

  recordSent(ssn: number, dsnHi: number, dsnLo: number, length: number): number {
    if (length === 0) return 0;
    const dsn = (BigInt(dsnHi >>> 0) << 32n) | BigInt(dsnLo >>> 0);
    const last = this.sent[this.sent.length - 1];
    if (last && ((last.ssn + last.length) >>> 0) === ssn >>> 0 && ((last.dsn + BigInt(last.length)) & MASK64) === dsn && last.length + length < TWO32) {
      last.length += length;
      return 0;
    }
    if (this.sent.length >= this.sentCap) {
      this.c.tableFull++;
      return Refusal.MappingTableFull;
    }
    this.sent.push({ dsn, ssn: ssn >>> 0, length });
    return 0;
  }

  ackSent(dataAck: bigint): void {
    const ack = dataAck & MASK64;
    const out: SentRange[] = [];
    for (const r of this.sent) {
      if (BigInt.asIntN(64, r.dsn + BigInt(r.length) - ack) <= 0n) continue;
      const before = BigInt.asIntN(64, ack - r.dsn);
      if (before > 0n) out.push({ dsn: ack, ssn: (r.ssn + Number(before)) >>> 0, length: r.length - Number(before) });
      else out.push(r);
    }
    this.sent = out;
  }

  unacked(): SentRange[] {
    return this.sent.map((r) => ({ ...r }));
  }

  counters(): DssCounters {
    return { ...this.c };
  }

  dispose(): void {
    this.n = 0;
    this.sent = [];
  }
}

/** DSS mapping table held in the shared WASM memory (assembly/dssmap.ts). */
export class WasmDssMap extends DssMapBase {
  readonly kernels: WasmKernels;
  private h: number;
  private scratch = 0;
  private scratchLen = 0;
  // deno-lint-ignore no-explicit-any
  private readonly x: Record<string, any>;

  constructor(opts: DssMapOptions = {}, variant?: WasmVariant) {
    super(opts);
    this.kernels = loadKernels(variant);
    this.x = this.kernels.exports;
    this.h = (this.x.dssNew(this.cap, this.sentCap) as number) >>> 0;
  }

  private handle(): number {
    if (this.h === 0) throw new InvalidStateError("DSS map used after dispose()");
    return this.h;
  }

  get mappings(): number {
    return this.x.dssCount(this.handle()) as number;
  }
  get infinite(): boolean {
    return this.x.dssInfinite(this.handle()) === 1;
  }
  get dsnHi(): number {
    return (this.x.dssOutHi(this.handle()) as number) >>> 0;
  }
  get dsnLo(): number {
    return (this.x.dssOutLo(this.handle()) as number) >>> 0;
  }

  install64(ssn: number, dsnHi: number, dsnLo: number, length: number, checksum: number, dataFin: boolean, segSsn: number, segLen: number): number {
    return this.x.dssInstall(this.handle(), ssn, dsnHi, dsnLo, length, checksum, dataFin ? 1 : 0, segSsn, segLen) as number;
  }

  translate(ssn: number, len: number): number {
    return this.x.dssTranslate(this.handle(), ssn, len) as number;
  }

  checksumFeed(ssn: number, src: Uint8Array, srcOff: number, len: number): number {
    const h = this.handle();
    if (len > this.scratchLen) {
      if (this.scratch !== 0) this.x.kbufFree(this.scratch);
      this.scratchLen = Math.max(len, 2048);
      this.scratch = (this.x.kbufAlloc(this.scratchLen) as number) >>> 0;
    }
    this.kernels.u8().set(src.subarray(srcOff, srcOff + len), this.scratch);
    const r = this.x.dssFeed(h, ssn, this.scratch, len) as number;
    if (r === MISUSE) return this.misuse(ssn, len);
    return r;
  }

  releaseBefore(ssn: number): void {
    this.x.dssReleaseBefore(this.handle(), ssn);
  }

  recordSent(ssn: number, dsnHi: number, dsnLo: number, length: number): number {
    return this.x.dssRecordSent(this.handle(), ssn, dsnHi, dsnLo, length) as number;
  }

  ackSent(dataAck: bigint): void {
    const a = dataAck & MASK64;
    this.x.dssAckSent(this.handle(), Number(a >> 32n), Number(a & 0xffffffffn));
  }

  unacked(): SentRange[] {
    const h = this.handle();
    const n = this.x.dssSentCount(h) as number;
    const out: SentRange[] = [];
    for (let i = 0; i < n; i++) {
      const hi = (this.x.dssSentDsnHi(h, i) as number) >>> 0;
      const lo = (this.x.dssSentDsnLo(h, i) as number) >>> 0;
      out.push({ dsn: (BigInt(hi) << 32n) | BigInt(lo), ssn: (this.x.dssSentSsn(h, i) as number) >>> 0, length: (this.x.dssSentLen(h, i) as number) >>> 0 });
    }
    return out;
  }

  counters(): DssCounters {
    const h = this.handle();
    const c = (i: number): number => this.x.dssCounter(h, i) as number;
    return { installed: c(0), duplicates: c(1), conflicts: c(2), overruns: c(3), noMapping: c(4), checksumOk: c(5), checksumFailed: c(6), tableFull: c(7), infinite: c(8) };
  }

  dispose(): void {
    if (this.h === 0) return;
    this.x.dssFree(this.h);
    if (this.scratch !== 0) this.x.kbufFree(this.scratch);
    this.h = 0;
    this.scratch = 0;
  }
}
