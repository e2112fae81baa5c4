// fast-check arbitraries for the in-memory network (adapters/memory/): link conditions as the
// simulator and `mptcp sim` take them (rate, delay, loss, jitter, queue), and middlebox
// behaviours (adapters/memory/middleboxes.ts) as plain data specs that `createMiddlebox` turns
// into boxes, so a failing case prints as readable JSON and shrinks.
import fc from "fast-check";
import { CoalesceSegments, Nat, ProxyAck, RewritePayload, SeqRewrite, SplitSegments, StripOptions } from "../memory/middleboxes.ts";
import type { SegmentClass } from "../memory/middleboxes.ts";
import type { Direction, Middlebox } from "../memory/types.ts";
import { defaultQueueBytes } from "../sim/spec.ts";
import type { PathParams } from "../sim/spec.ts";
import { InvalidArgumentError } from "../../core/errors.ts";

export type { PathParams };

/** Bounds for `linkConditions` (defaults in brackets). */
export interface LinkConditionsOptions {
  /** Rate range in bit/s [1 Mbit/s .. 100 Mbit/s]. */
  minRateBps?: number;
  maxRateBps?: number;
  /** One-way delay range in µs [0 .. 50 ms]. */
  minDelayUs?: number;
  maxDelayUs?: number;
  /** Largest random loss probability [0.02]. */
  maxLossRate?: number;
  /** Largest jitter in µs [5 ms]. */
  maxJitterUs?: number;
}

/**
 * One path's conditions (both directions), as `PathParams` of `mptcp sim` (adapters/sim/spec.ts);
 * also a valid `Partial<LinkParams>` for `Simulator.connect` and `Link.set`. The queue is either
 * the sim default (100 ms at the rate, at least 16 kB) or drawn between 16 kB and 1 MB.
 */
export function linkConditions(o: LinkConditionsOptions = {}): fc.Arbitrary<PathParams> {
  const minKbit = Math.max(1, Math.round((o.minRateBps ?? 1e6) / 1e3));
  const maxKbit = Math.max(minKbit, Math.round((o.maxRateBps ?? 100e6) / 1e3));
  const maxLossBp = Math.round((o.maxLossRate ?? 0.02) * 10_000);
  return fc
    .record({
      kbit: fc.integer({ min: minKbit, max: maxKbit }),
      delayUs: fc.integer({ min: o.minDelayUs ?? 0, max: o.maxDelayUs ?? 50_000 }),
      lossBp: fc.integer({ min: 0, max: maxLossBp }),
      jitterUs: fc.integer({ min: 0, max: o.maxJitterUs ?? 5_000 }),
      queue: fc.option(fc.integer({ min: 16_000, max: 1_000_000 }), { nil: undefined }),
    })
    .map((r) => {
      const rateBps = r.kbit * 1e3;
      return { rateBps, delayUs: r.delayUs, lossRate: r.lossBp / 10_000, jitterUs: r.jitterUs, queueBytes: r.queue ?? defaultQueueBytes(rateBps) };
    });
}

// ---------------------------------------------------------------------------------------------
// Middleboxes

/** A middlebox as data: one variant per model in adapters/memory/middleboxes.ts. */
export type MiddleboxSpec =
  | { kind: "strip"; options: "mptcp" | "all"; on: SegmentClass[]; how: "remove" | "nop"; probability: number; dir?: Direction }
  | { kind: "seq-rewrite"; offsetAB: number; offsetBA: number }
  | { kind: "split"; firstBytes?: number; probability: number; dir?: Direction }
  | { kind: "coalesce"; holdUs: number; maxPayload: number; dir?: Direction }
  | { kind: "nat"; rewritePorts: boolean }
  | { kind: "proxy-ack"; dir?: Direction }
  | { kind: "rewrite-payload"; offset: number; xor: number; count: number; dir?: Direction };

export type MiddleboxKind = MiddleboxSpec["kind"];

/**
 * The kinds after which every byte read is still the right one, and all arrive as long as one
 * subflow does not cross the box (MPTCP goes on, falls back to TCP, or resets the subflow and
 * goes on; a box that breaks the mappings of every subflow gets them all reset, RFC 8684 3.7).
 * Not in the list: "proxy-ack" (the model acknowledges data it never retransmits, so it needs a
 * lossless path) and "rewrite-payload" (only DSS checksums catch it; without them the changed
 * bytes are delivered, as with TCP).
 */
export const DELIVERY_SAFE_MIDDLEBOXES: readonly MiddleboxKind[] = Object.freeze(["strip", "seq-rewrite", "split", "coalesce", "nat"] as const);

const direction: fc.Arbitrary<Direction | undefined> = fc.constantFrom<Direction | undefined>(undefined, 0, 1);
const probability: fc.Arbitrary<number> = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 99 }).map((p) => p / 100));
const segmentClasses: fc.Arbitrary<SegmentClass[]> = fc.subarray<SegmentClass>(["syn", "synack", "ack3", "data", "ack"], { minLength: 1 });

/** `{ dir }`, or nothing for both directions (so specs print without `dir: undefined`). */
function dirOf(dir: Direction | undefined): { dir?: Direction } {
  return dir === undefined ? {} : { dir };
}

const specs: { [K in MiddleboxKind]: fc.Arbitrary<Extract<MiddleboxSpec, { kind: K }>> } = {
  strip: fc
    .record({ options: fc.constantFrom<"mptcp" | "all">("mptcp", "all"), on: segmentClasses, how: fc.constantFrom<"remove" | "nop">("remove", "nop"), probability, dir: direction })
    .map(({ dir, ...r }) => ({ kind: "strip" as const, ...r, ...dirOf(dir) })),
  "seq-rewrite": fc
    .record({ offsetAB: fc.integer({ min: 0, max: 0xffffffff }), offsetBA: fc.integer({ min: 0, max: 0xffffffff }) })
    .map((r) => ({ kind: "seq-rewrite" as const, ...r })),
  split: fc
    .record({ firstBytes: fc.option(fc.integer({ min: 1, max: 1400 }), { nil: undefined }), probability, dir: direction })
    .map(({ dir, firstBytes, probability }) => {
      const s: Extract<MiddleboxSpec, { kind: "split" }> = { kind: "split", probability };
      if (firstBytes !== undefined) s.firstBytes = firstBytes;
      if (dir !== undefined) s.dir = dir;
      return s;
    }),
  coalesce: fc
    .record({ holdUs: fc.integer({ min: 0, max: 5_000 }), maxPayload: fc.integer({ min: 1_500, max: 65_000 }), dir: direction })
    .map(({ dir, ...r }) => ({ kind: "coalesce" as const, ...r, ...dirOf(dir) })),
  nat: fc.boolean().map((rewritePorts) => ({ kind: "nat" as const, rewritePorts })),
  "proxy-ack": direction.map((dir) => ({ kind: "proxy-ack" as const, ...dirOf(dir) })),
  "rewrite-payload": fc
    .record({ offset: fc.integer({ min: 0, max: 1400 }), xor: fc.integer({ min: 1, max: 255 }), count: fc.integer({ min: 1, max: 3 }), dir: direction })
    .map(({ dir, ...r }) => ({ kind: "rewrite-payload" as const, ...r, ...dirOf(dir) })),
};

/** A middlebox spec of one of `kinds` (default: `DELIVERY_SAFE_MIDDLEBOXES`). */
export function middleboxSpec(kinds: readonly MiddleboxKind[] = DELIVERY_SAFE_MIDDLEBOXES): fc.Arbitrary<MiddleboxSpec> {
  if (kinds.length === 0) throw new InvalidArgumentError("middleboxSpec: no kinds");
  return fc.oneof(...kinds.map((k) => specs[k] as fc.Arbitrary<MiddleboxSpec>));
}

/** Where a box sits, for the boxes that need it (NAT: the public address it maps to). */
export interface MiddleboxPlace {
  /** Dotted IPv4 or IPv6 text of the NAT's public address (must route back to the box's link). */
  publicAddress?: string;
}

/**
 * A middlebox from its spec. A NAT needs `place.publicAddress` and has its private side on the
 * link's side A (the side that connected first: the client in `scenario`).
 */
export function createMiddlebox(spec: MiddleboxSpec, place: MiddleboxPlace = {}): Middlebox {
  switch (spec.kind) {
    case "strip":
      return new StripOptions({ options: spec.options, on: [...spec.on], how: spec.how, probability: spec.probability, dir: spec.dir });
    case "seq-rewrite":
      return new SeqRewrite(spec.offsetAB, spec.offsetBA);
    case "split":
      return new SplitSegments({ firstBytes: spec.firstBytes, probability: spec.probability, dir: spec.dir });
    case "coalesce":
      return new CoalesceSegments({ holdUs: spec.holdUs, maxPayload: spec.maxPayload, dir: spec.dir });
    case "nat":
      if (place.publicAddress === undefined) throw new InvalidArgumentError("createMiddlebox: a NAT needs place.publicAddress");
      return new Nat({ inside: "a", publicAddress: place.publicAddress, rewritePorts: spec.rewritePorts });
    case "proxy-ack":
      return new ProxyAck(spec.dir);
    case "rewrite-payload": {
      let left = spec.count;
      return new RewritePayload((p) => {
        if (left === 0 || p.length <= spec.offset) return undefined;
        left--;
        p[spec.offset] = p[spec.offset]! ^ spec.xor;
        return p;
      }, spec.dir);
    }
  }
}
