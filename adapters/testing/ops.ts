// Application operation sequences for model-based tests over the simulator harness
// (harness.ts `runOps`): open, join, write, read on/off, close, announce, remove, set-backup,
// link up/down and link condition changes, each at a virtual time (µs).
import fc from "fast-check";
import { linkConditions } from "./network.ts";
import type { LinkConditionsOptions, PathParams } from "./network.ts";

export type Side = "client" | "server";

/**
 * One application or network operation at virtual time `at` (µs). Paths are numbered from 0;
 * path 0 carries the initial subflow. An operation that the connection refuses (an
 * `MptcpError`: API misuse in that state) is counted in `HarnessResult.refused`, not thrown.
 */
export type Op =
  /** The client connects from path 0 (the harness opens at 0 when the sequence has no "open"). */
  | { at: number; op: "open" }
  /** The client opens a subflow from path `path`'s address to the server's address. */
  | { at: number; op: "join"; path: number }
  /** The side's application wants to send `bytes` more bytes (written as buffer space opens; skipped after its "close"). */
  | { at: number; op: "write"; side: Side; bytes: number }
  /** The side's application stops (`on: false`) or resumes reading. */
  | { at: number; op: "read"; side: Side; on: boolean }
  /** The side closes its sending direction (`shutdown`) once its wanted bytes are written. */
  | { at: number; op: "close"; side: Side }
  /** The server announces its second address (ADD_ADDR; the client may join to it). */
  | { at: number; op: "announce" }
  /** The client removes path `path`'s address, or the server its announced one (REMOVE_ADDR). */
  | { at: number; op: "remove"; side: "client"; path: number }
  | { at: number; op: "remove"; side: "server" }
  /** The client marks its subflows on path `path` backup or not (MP_PRIO). */
  | { at: number; op: "setBackup"; path: number; backup: boolean }
  /** Path `path` goes down (drops everything, in flight too) or comes back up. */
  | { at: number; op: "link"; path: number; up: boolean }
  /** Path `path` gets new conditions (both directions). */
  | { at: number; op: "conditions"; path: number; params: PathParams };

export type OpKind = Op["op"];

/** Bounds for `opSequence` (defaults in brackets). */
export interface OpSequenceOptions {
  /** Number of paths [2]. */
  paths?: number;
  /** Operations per sequence [0 .. 16]. */
  minLength?: number;
  maxLength?: number;
  /** Times are drawn in [0, untilUs] [3 s]. */
  untilUs?: number;
  /** Largest single write [200,000 bytes]. */
  maxWrite?: number;
  /** Which operations to draw [all]. */
  kinds?: readonly OpKind[];
  /** Bounds of the conditions drawn by "conditions" ops [10-100 Mbit/s, 0-20 ms, loss <= 1%, jitter <= 2 ms]. */
  conditions?: LinkConditionsOptions;
}

const ALL_KINDS: readonly OpKind[] = ["open", "join", "write", "read", "close", "announce", "remove", "setBackup", "link", "conditions"];
/** Relative frequency of each kind: writes are what a sequence is mostly about. */
const WEIGHT: { [K in OpKind]: number } = { open: 1, join: 2, write: 6, read: 2, close: 1, announce: 1, remove: 1, setBackup: 1, link: 2, conditions: 1 };
const OP_CONDITIONS: LinkConditionsOptions = { minRateBps: 10e6, maxRateBps: 100e6, maxDelayUs: 20_000, maxLossRate: 0.01, maxJitterUs: 2_000 };

/** One operation (see `Op`); options as `opSequence`. */
export function op(o: OpSequenceOptions = {}): fc.Arbitrary<Op> {
  const paths = o.paths ?? 2;
  const at = fc.integer({ min: 0, max: o.untilUs ?? 3_000_000 });
  const side = fc.constantFrom<Side>("client", "server");
  const path = fc.integer({ min: 0, max: paths - 1 });
  const extraPath = fc.integer({ min: Math.min(1, paths - 1), max: paths - 1 });
  const byKind: { [K in OpKind]: fc.Arbitrary<Op> } = {
    open: at.map((at) => ({ at, op: "open" })),
    join: fc.record({ at, path: extraPath }).map((r) => ({ at: r.at, op: "join", path: r.path })),
    write: fc.record({ at, side, bytes: fc.integer({ min: 1, max: o.maxWrite ?? 200_000 }) }).map((r) => ({ at: r.at, op: "write", side: r.side, bytes: r.bytes })),
    read: fc.record({ at, side, on: fc.boolean() }).map((r) => ({ at: r.at, op: "read", side: r.side, on: r.on })),
    close: fc.record({ at, side }).map((r) => ({ at: r.at, op: "close", side: r.side })),
    announce: at.map((at) => ({ at, op: "announce" })),
    remove: fc.oneof(
      fc.record({ at, path: extraPath }).map((r): Op => ({ at: r.at, op: "remove", side: "client", path: r.path })),
      at.map((at): Op => ({ at, op: "remove", side: "server" })),
    ),
    setBackup: fc.record({ at, path, backup: fc.boolean() }).map((r) => ({ at: r.at, op: "setBackup", path: r.path, backup: r.backup })),
    link: fc.record({ at, path, up: fc.boolean() }).map((r) => ({ at: r.at, op: "link", path: r.path, up: r.up })),
    conditions: fc.record({ at, path, params: linkConditions(o.conditions ?? OP_CONDITIONS) }).map((r) => ({ at: r.at, op: "conditions", path: r.path, params: r.params })),
  };
  return fc.oneof(...(o.kinds ?? ALL_KINDS).map((k) => ({ weight: WEIGHT[k], arbitrary: byKind[k] })));
}

/** A sequence of operations, sorted by time (ties keep their drawn order). */
export function opSequence(o: OpSequenceOptions = {}): fc.Arbitrary<Op[]> {
  return fc
    .array(op(o), { minLength: o.minLength ?? 0, maxLength: o.maxLength ?? 16 })
    .map((ops) => ops.map((x, i) => ({ x, i })).sort((a, b) => a.x.at - b.x.at || a.i - b.i).map((e) => e.x));
}
