// Interfaces of the reassembly and buffering kernels (DESIGN.md conventions 8, 9, 13 and "The
// WASM boundary"; RFC 8684 section 3.3 for the DSS mapping). Each interface has two
// implementations with identical behaviour: a pure-TS twin and a class backed by the WASM data
// plane (assembly/). Build them with the factories in core/kernels/factory.ts:
//
//   createAssembler(opts, impl)      -> RangeAssembler   offsets only, no bytes
//   createReceiveBuffer(opts, impl)  -> ReceiveBuffer    assembler + byte ring (subflow or data level)
//   createSendBuffer(opts, impl)     -> SendBuffer       application bytes by DSN, released by DATA_ACK
//   createDssMap(opts, impl)         -> DssMap           per-subflow DSS mappings (receive) + sent ranges
//
// Units and numbers:
// - Lengths, offsets and capacities are byte counts (non-negative integer `number`s).
// - An *offset* is relative to a named point (the read point, the next expected byte, the
//   oldest unacknowledged byte); a *sequence number* is a wire value: 32-bit subflow sequence
//   numbers are `number`s in [0, 2^32) with wrapping arithmetic (core/wire/seq.ts); 64-bit data
//   sequence numbers (DSN) are `bigint`s in [0, 2^64) on control paths, and two u32 halves
//   (`hi`, `lo`) on the per-packet path (never a lossy `number`).
// - Network input never throws: a bad write/mapping returns a negative `Refusal` code, is
//   counted, and leaves the state unchanged. Only API misuse (bad argument, use after
//   dispose) throws (InvalidArgumentError / InvalidStateError from core/errors.ts).
// - The hot-path methods return plain numbers and allocate nothing.
//
// How the engines chain them (receive side, per subflow segment with payload):
//   1. subflow level: sub = createReceiveBuffer({ width: 32, initialSeq: irs + 1, capacity })
//      r = sub.write(seg.seq, pkt, payloadOff, payloadLen)   // r < 0: drop + count (typed)
//      cumulative ACK = sub.nextSeq; advertised window from the data-level buffer's `window`.
//   2. DSS: map.install(...) for a segment with a mapping; then for the in-order subflow bytes
//      (sub.peek() views), split with map.translate(ssn, len) -> DSN (map.dsnHi/dsnLo), feed
//      map.checksumFeed() when checksums are on, and
//   3. data level: data = createReceiveBuffer({ width: 64, initialSeq: idsn + 1, capacity })
//      data.write64(map.dsnHi, map.dsnLo, view, off, n); then sub.release(n).
//      DATA_ACK = data.nextSeq64; the application reads with data.read()/peek()+release().
// Send side: sb = createSendBuffer(...); app write() -> sb.write; a subflow sends DSN range
// [d, d + n) with sb.peekAt/readAt and map.recordSent(ssn, dHi, dLo, n); DATA_ACK -> sb.ack64
// and map.ackSent on every subflow; a dead subflow's map.unacked() is re-sent on another.
import type { WasmVariant } from "./wasm/instance.ts";

/** Which implementation: the TS twin, or WASM ("wasm" = the default build variant). */
export type KernelImpl = "ts" | "wasm" | WasmVariant;

/**
 * Typed refusal reasons. Methods that take network input return a byte count (>= 0) on
 * success or one of these negative codes; the state is then unchanged and a counter moved.
 */
export const Refusal = {
  /** The data starts at or beyond the window (read point + capacity), or is so far from the
   * read point (>= 2^31 bytes either way at the data level) that it cannot be placed. */
  OutOfWindow: -1,
  /** Storing the data would need more disjoint out-of-order ranges than the cap. */
  TooManyHoles: -2,
  /** A DSS mapping contradicts an installed one (same subflow bytes, different DSN or length):
   * Linux's DSSNotMatching. */
  MappingConflict: -3,
  /** The mapping does not cover the segment that carries it (the segment's bytes start before
   * the mapping or run past its data-level length). */
  MappingOverrun: -4,
  /** Subflow bytes with no installed mapping. */
  NoMapping: -5,
  /** The DSS checksum of a completed mapping did not verify (Linux's DataCsumErr). */
  ChecksumMismatch: -6,
  /** The per-subflow mapping table is full. */
  MappingTableFull: -7,
  /** A DATA_ACK beyond the last byte written to the send buffer. */
  AckBeyondSent: -8,
} as const;
export type RefusalName = keyof typeof Refusal;
export type RefusalCode = (typeof Refusal)[RefusalName];

/** The name of a refusal code (for logs and counters); "" for a non-negative value. */
export function refusalName(code: number): RefusalName | "" {
  for (const k of Object.keys(Refusal) as RefusalName[]) if (Refusal[k] === code) return k;
  return "";
}

/** Sequence-number width of a reassembly instance: 32 = subflow level, 64 = data level. */
export type SeqWidth = 32 | 64;

/** Counters common to the assembler and the receive buffer (plain snapshot). */
export interface ReassemblyCounters {
  /** Bytes received left of the next expected byte (already contiguous / read): ignored. */
  bytesLeftOfReadPoint: number;
  /** Bytes at or beyond the window: trimmed off, or the whole segment refused; never stored. */
  bytesBeyondWindow: number;
  /** Writes refused with OutOfWindow. */
  refusedOutOfWindow: number;
  /** Writes refused with TooManyHoles (and their bytes). */
  refusedTooManyHoles: number;
  bytesTooManyHoles: number;
  /** Bytes that became contiguous (delivered to the reader side) since creation. */
  bytesAssembled: number;
}

/**
 * Range assembler (smoltcp style): tracks which byte offsets past the next expected byte
 * ("front") have arrived, as at most `maxHoles` disjoint, non-adjacent ranges. No bytes.
 *
 * Invariant: front < start[0] < end[0] < start[1] < end[1] < ... < end[n-1] (strict: every
 * range non-empty, consecutive ranges separated by a hole of >= 1 byte, every range strictly
 * after the front), n <= maxHoles. Hence the number of holes equals n, and adding at the front
 * never needs a new range: an add at offset <= 0 that reaches past the front cannot fail.
 */
export interface RangeAssembler {
  readonly width: SeqWidth;
  readonly maxHoles: number;
  /** Number of out-of-order ranges held (= holes before them). */
  readonly holes: number;
  /** Sequence number of the next expected byte (32-bit width), in [0, 2^32). */
  readonly frontSeq: number;
  /** Sequence number of the next expected byte as a bigint (either width). */
  readonly frontSeq64: bigint;
  /**
   * Records bytes [offset, offset + len) relative to the front; `window` is the first offset
   * (relative to the front) that may not be stored. Bytes left of the front are ignored and
   * counted; bytes at/after `window` are trimmed and counted.
   * Returns the number of bytes that became contiguous (the front moved by that much), or a
   * Refusal (OutOfWindow when nothing is left inside the window, TooManyHoles).
   */
  add(offset: number, len: number, window: number): number;
  /** add() keyed by a 32-bit sequence number (width 32). */
  addSeq(seq: number, len: number, window: number): number;
  /** add() keyed by a 64-bit sequence number as two u32 halves (width 64). */
  addSeq64(hi: number, lo: number, len: number, window: number): number;
  /** The ranges as [start, end) offsets relative to the front (for tests and stats). */
  ranges(): Array<[number, number]>;
  counters(): ReassemblyCounters;
  /** Frees the WASM region (no-op for the TS twin). The object is unusable afterwards. */
  dispose(): void;
}

export interface AssemblerOptions {
  width: SeqWidth;
  /** Initial front sequence number: number (width 32) or bigint (either width). */
  initialSeq: number | bigint;
  /** Cap on out-of-order ranges (default 32). */
  maxHoles?: number;
}

/**
 * Zero-copy read views: at most two views on the buffer's storage (WASM memory for the WASM
 * kernels), `first` then `second` (the part after the ring wraps; empty when none).
 *
 * View-validity rule: a view stays valid until (a) `release()` consumes its bytes, or (b) any
 * call that may allocate in the same WASM instance: `grow()` on any kernel, or creating or
 * disposing any kernel of the same variant (memory growth detaches the old ArrayBuffer).
 * Writes never invalidate views (they only touch bytes past the readable region).
 * Read or copy the bytes, then call `release(n)`; do not keep views across those calls.
 */
export interface ReadViews {
  first: Uint8Array;
  second: Uint8Array;
}

/**
 * Receive buffer = range assembler + byte ring. Bytes are written at an offset past the read
 * point (out of order allowed) and delivered in order. Capacity is the connection (or subflow)
 * receive buffer; `window` is the free space to advertise.
 *
 * Coordinates: read point = the next byte the reader will get (`readSeq`); readable bytes are
 * [read point, read point + readable); the next expected byte is read point + readable.
 * Data is stored only within [read point, read point + capacity).
 */
export interface ReceiveBuffer {
  readonly width: SeqWidth;
  readonly capacity: number;
  /** In-order bytes ready to read. */
  readonly readable: number;
  /** capacity - readable: free space from the next expected byte (the receive window). */
  readonly window: number;
  readonly holes: number;
  /** Sequence number of the read point (32-bit width). */
  readonly readSeq: number;
  /** Sequence number of the read point as bigint (either width). */
  readonly readSeq64: bigint;
  /** Sequence number of the next expected byte, i.e. the cumulative ACK (32-bit width). */
  readonly nextSeq: number;
  readonly nextSeq64: bigint;
  /**
   * Writes src[srcOff, srcOff + len) at `offset` bytes past the read point.
   * Returns newly readable bytes (>= 0) or a Refusal (OutOfWindow, TooManyHoles).
   */
  writeAt(offset: number, src: Uint8Array, srcOff: number, len: number): number;
  /** writeAt() keyed by a 32-bit sequence number (width 32). */
  write(seq: number, src: Uint8Array, srcOff: number, len: number): number;
  /** writeAt() keyed by a 64-bit DSN as two u32 halves (width 64). */
  write64(hi: number, lo: number, src: Uint8Array, srcOff: number, len: number): number;
  /** Copies up to `max` readable bytes into dst and releases them; returns the count. */
  read(dst: Uint8Array, dstOff: number, max: number): number;
  /** Zero-copy views on the readable bytes (see ReadViews for validity). */
  peek(): ReadViews;
  /** Consumes n readable bytes (n <= readable, else InvalidArgumentError). */
  release(n: number): void;
  /** Grows the capacity (never shrinks); keeps every stored byte. */
  grow(capacity: number): void;
  counters(): ReassemblyCounters;
  dispose(): void;
}

export interface ReceiveBufferOptions {
  width: SeqWidth;
  /** Sequence number of the first byte to receive. */
  initialSeq: number | bigint;
  /** Capacity in bytes (the receive window); >= 1. */
  capacity: number;
  maxHoles?: number;
}

/**
 * Connection-level send buffer: application bytes by DSN. Bytes [una, nxt) are held:
 * `una` = oldest byte not DATA_ACKed, `nxt` = DSN after the last byte written by the app.
 * Any DSN range inside [una, nxt) can be read (again) for (re)transmission on any subflow.
 */
export interface SendBuffer {
  readonly capacity: number;
  /** nxt - una: bytes held. */
  readonly buffered: number;
  /** capacity - buffered. */
  readonly free: number;
  readonly una64: bigint;
  readonly nxt64: bigint;
  /** Appends up to `len` application bytes; returns how many were taken (<= free). */
  write(src: Uint8Array, srcOff: number, len: number): number;
  /**
   * Releases bytes up to (excluding) the DATA_ACK. Returns bytes released (0 for an old or
   * duplicate ack), or Refusal.AckBeyondSent (ack > nxt; nothing changes).
   */
  ack64(hi: number, lo: number): number;
  ack(dataAck: bigint): number;
  /**
   * Copies `len` bytes starting `offset` bytes past una into dst. Returns the count copied
   * (less when the range passes nxt), or Refusal.OutOfWindow when offset < 0 or > buffered.
   */
  readAt(offset: number, dst: Uint8Array, dstOff: number, len: number): number;
  /** readAt() keyed by DSN halves. */
  read64(hi: number, lo: number, dst: Uint8Array, dstOff: number, len: number): number;
  /** Zero-copy views of [una + offset, una + offset + len) clipped to nxt (same validity rule). */
  peekAt(offset: number, len: number): ReadViews;
  grow(capacity: number): void;
  dispose(): void;
}

export interface SendBufferOptions {
  /** DSN of the first application byte (IDSN + 1). */
  initialDsn: bigint;
  capacity: number;
}

/** One DSS mapping (RFC 8684 section 3.3.1). */
export interface DssMapping {
  /** Relative subflow sequence number of the first mapped byte (first data byte = 1), u32. */
  ssn: number;
  /** DSN of the first mapped byte. */
  dsn: bigint;
  /** Data-level length (includes the DATA_FIN byte when `dataFin`); 0 = infinite mapping. */
  length: number;
  /** The DSS checksum from the option, or -1 when checksums are not in use. */
  checksum: number;
  /** DATA_FIN is the last byte of the mapping (it has no subflow byte). */
  dataFin: boolean;
}

export interface DssCounters {
  installed: number;
  duplicates: number;
  /** Refusals by reason. */
  conflicts: number;
  overruns: number;
  noMapping: number;
  checksumOk: number;
  checksumFailed: number;
  tableFull: number;
  infinite: number;
}

/** A DSN range sent on a subflow, not yet DATA_ACKed. */
export interface SentRange {
  dsn: bigint;
  ssn: number;
  length: number;
}

/**
 * Per-subflow DSS mapping table.
 * Receive side: install mappings, translate in-order subflow bytes to DSN ranges, verify the
 * DSS checksum once a mapping's bytes are complete. Subflow bytes are fed in subflow order
 * (after subflow-level reassembly).
 * Send side: records which DSN ranges went out on this subflow so a dead subflow's data can be
 * re-sent elsewhere (`unacked()`).
 */
export interface DssMap {
  readonly mappings: number;
  /** True once an infinite mapping was installed (the subflow then maps 1:1 forever). */
  readonly infinite: boolean;
  /**
   * Installs a mapping carried by a segment whose payload is subflow bytes
   * [segSsn, segSsn + segLen) (relative SSNs; segLen 0 for a pure ACK / DATA_FIN).
   * Returns 1 installed, 0 identical to an installed one (duplicate), or a Refusal
   * (MappingConflict, MappingOverrun, MappingTableFull).
   */
  install(m: DssMapping, segSsn: number, segLen: number): number;
  /** install() with the DSN as u32 halves (hot path; checksum -1 when unused). */
  install64(ssn: number, dsnHi: number, dsnLo: number, length: number, checksum: number, dataFin: boolean, segSsn: number, segLen: number): number;
  /**
   * Translates subflow bytes starting at `ssn` (at most `len`): returns how many consecutive
   * bytes one mapping covers (1..len), and sets `dsnHi`/`dsnLo` to the DSN of `ssn`; or
   * Refusal.NoMapping.
   */
  translate(ssn: number, len: number): number;
  readonly dsnHi: number;
  readonly dsnLo: number;
  /**
   * Feeds mapped subflow bytes in subflow order for the DSS checksum. Returns 0 while the
   * mapping is incomplete or checksums are off, 1 when this call completed a mapping whose
   * checksum verified, Refusal.ChecksumMismatch when it did not, Refusal.NoMapping.
   * The bytes must continue the mapping's fed bytes and not cross its end (use translate() to
   * split); otherwise InvalidArgumentError (caller bug: feed after subflow-level reassembly).
   */
  checksumFeed(ssn: number, src: Uint8Array, srcOff: number, len: number): number;
  /** Drops receive mappings wholly before `ssn` (already delivered). */
  releaseBefore(ssn: number): void;
  /** Send side: records that [dsn, dsn + length) went out at subflow bytes ssn..; a range that
   * continues the previous one in both spaces is merged. Returns 0, or MappingTableFull. */
  recordSent(ssn: number, dsnHi: number, dsnLo: number, length: number): number;
  /** Send side: forgets ranges wholly below the DATA_ACK (trims a straddling one). */
  ackSent(dataAck: bigint): void;
  /** Send side: the DSN ranges sent here and not DATA_ACKed, in send order (for reinjection). */
  unacked(): SentRange[];
  counters(): DssCounters;
  dispose(): void;
}

export interface DssMapOptions {
  /** Cap on installed receive mappings (default 64). */
  maxMappings?: number;
  /** Cap on recorded (unmerged) sent ranges (default 4096). */
  maxSent?: number;
}

/** Factory signatures (implemented in core/kernels/factory.ts). Default impl: "wasm". */
export type CreateAssembler = (opts: AssemblerOptions, impl?: KernelImpl) => RangeAssembler;
export type CreateReceiveBuffer = (opts: ReceiveBufferOptions, impl?: KernelImpl) => ReceiveBuffer;
export type CreateSendBuffer = (opts: SendBufferOptions, impl?: KernelImpl) => SendBuffer;
export type CreateDssMap = (opts: DssMapOptions, impl?: KernelImpl) => DssMap;
