// Coupled congestion control for the subflows of one MPTCP connection:
//  - LIA, RFC 6356 §3 (linked increase; halve on loss);
//  - OLIA, Khalili et al., IEEE/ACM ToN 2013, "Opportunistic Linked-Increases Algorithm"
//    (increase with the alpha term that moves window from the largest paths to the best ones,
//    best = largest inter-loss distance / RTT^2; halve on loss);
//  - BALIA, Peng et al., IEEE/ACM ToN 2016, "Multipath TCP: Analysis, Design and Implementation"
//    (balanced increase; on loss the window drops by (w/2) min(alpha, 1.5)).
// One factory per MPTCP connection: its CouplingGroup holds the live subflows' windows and RTTs.
// Slow start, recovery, RTO and undo are Reno's (base.ts); only congestion avoidance is coupled.
// A subflow takes part in the coupling once it has an RTT estimate (as in the Linux MPTCP code).

import { WindowController } from "./base.ts";
import type { WindowOptions } from "./base.ts";
import type { CongestionAckSample, CongestionContext, CongestionController, CongestionFactory } from "./types.ts";

export type CoupledAlgorithm = "lia" | "olia" | "balia";

/** One subflow as the coupling formulas see it. */
export interface CoupledPath {
  /** Congestion window in bytes. */
  cwnd: number;
  /** Smoothed RTT in microseconds (> 0). */
  rttUs: number;
  /** Sender MSS in bytes. */
  mss: number;
  /** OLIA: bytes acknowledged between the last two losses, or since the last one if more. */
  lossDistance: number;
}

/**
 * LIA's alpha (RFC 6356): cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2.
 * It is the aggregate increase per RTT, in MSS, of the whole connection.
 */
export function liaAlpha(paths: readonly CoupledPath[]): number {
  let total = 0;
  let best = 0;
  let sum = 0;
  for (const p of paths) {
    total += p.cwnd;
    best = Math.max(best, p.cwnd / (p.rttUs * p.rttUs));
    sum += p.cwnd / p.rttUs;
  }
  return sum > 0 ? (total * best) / (sum * sum) : 1;
}

/**
 * OLIA's alpha_r for every path (Khalili et al. §IV): M = paths with the largest window (in whole
 * segments), B = paths with the largest lossDistance / rtt^2. If B \ M is not empty, each path of
 * B \ M gets 1 / (n |B \ M|) and each path of M gets -1 / (n |M|); otherwise all get 0. They sum to 0.
 */
export function oliaAlphas(paths: readonly CoupledPath[]): number[] {
  const n = paths.length;
  const alphas = new Array<number>(n).fill(0);
  if (n === 0) return alphas;
  const segs = paths.map((p) => Math.floor(p.cwnd / p.mss));
  const maxSegs = Math.max(...segs);
  const quality = paths.map((p) => p.lossDistance / (p.rttUs * p.rttUs));
  const bestQuality = Math.max(...quality);
  const inM = segs.map((s) => s === maxSegs);
  const inBnotM = quality.map((q, i) => q === bestQuality && !inM[i]);
  const bNotM = inBnotM.filter(Boolean).length;
  if (bNotM === 0) return alphas;
  const m = inM.filter(Boolean).length;
  for (let i = 0; i < n; i++) {
    if (inBnotM[i]) alphas[i] = 1 / (n * bNotM);
    else if (inM[i]) alphas[i] = -1 / (n * m);
  }
  return alphas;
}

/**
 * BALIA's per-ACK increase relative to Reno's (MSS * acked / cwnd_r), Peng et al. eq. (11):
 * (x_r / sum_k x_k)^2 (1 + alpha_r)(4 + alpha_r) / 10, with x_k = cwnd_k / rtt_k and
 * alpha_r = max_k x_k / x_r. It is 1 for a single path and never above 1.
 */
export function baliaIncreaseFactor(paths: readonly CoupledPath[], r: number): number {
  const x = paths.map((p) => p.cwnd / p.rttUs);
  const sum = x.reduce((a, b) => a + b, 0);
  const xr = x[r]!;
  if (!(sum > 0) || !(xr > 0)) return 1;
  const alpha = Math.max(...x) / xr;
  const share = xr / sum;
  return (share * share * (1 + alpha) * (4 + alpha)) / 10;
}

/** BALIA's alpha_r = max_k x_k / x_r (>= 1). */
export function baliaAlpha(paths: readonly CoupledPath[], r: number): number {
  const x = paths.map((p) => p.cwnd / p.rttUs);
  const xr = x[r]!;
  return xr > 0 ? Math.max(...x) / xr : 1;
}

/** The shared state of one MPTCP connection: its live subflow controllers. */
export class CouplingGroup {
  private readonly members = new Set<CoupledController>();

  /** Number of live subflows (with or without an RTT estimate). */
  get size(): number {
    return this.members.size;
  }

  add(c: CoupledController): void {
    this.members.add(c);
  }

  remove(c: CoupledController): void {
    this.members.delete(c);
  }

  /** Sum of the live subflows' windows in bytes. */
  totalCwnd(): number {
    let t = 0;
    for (const m of this.members) t += m.windowBytes;
    return t;
  }

  /** The subflows that take part in the coupling (those with an RTT estimate), in creation order. */
  paths(): { controllers: CoupledController[]; paths: CoupledPath[] } {
    const controllers: CoupledController[] = [];
    const paths: CoupledPath[] = [];
    for (const m of this.members) {
      const p = m.path();
      if (p === undefined) continue;
      controllers.push(m);
      paths.push(p);
    }
    return { controllers, paths };
  }
}

export abstract class CoupledController extends WindowController {
  protected readonly group: CouplingGroup;
  private released = false;
  /** OLIA bookkeeping: bytes acknowledged between the last two losses, and since the last one. */
  protected interLossBytes = 0;
  protected sinceLossBytes = 0;

  constructor(ctx: CongestionContext, group: CouplingGroup, opts: WindowOptions = {}) {
    super(ctx, opts);
    this.group = group;
    group.add(this);
  }

  /** The exact window in bytes (cwnd is its whole-byte floor). */
  get windowBytes(): number {
    return Math.max(this.w, this.mss);
  }

  /** Smoothed RTT from the last ACK sample (0 before the first). */
  get rttUs(): number {
    return this.srttUs;
  }

  /** This subflow as the formulas see it, or undefined without an RTT estimate. */
  path(): CoupledPath | undefined {
    if (!(this.srttUs > 0)) return undefined;
    return {
      cwnd: this.windowBytes,
      rttUs: this.srttUs,
      mss: this.mss,
      lossDistance: Math.max(this.interLossBytes, this.sinceLossBytes),
    };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.group.remove(this);
  }

  protected override observeAck(_s: CongestionAckSample, acked: number): void {
    this.sinceLossBytes += acked;
  }

  private noteLoss(): void {
    if (this.sinceLossBytes > 0) {
      this.interLossBytes = this.sinceLossBytes;
      this.sinceLossBytes = 0;
    }
  }

  /** Coupled increase in bytes for `acked` bytes, given the coupling set that contains this subflow. */
  protected abstract coupledIncrease(acked: number, paths: CoupledPath[], self: number): number;

  protected congestionAvoidance(_s: CongestionAckSample, acked: number): void {
    const w = this.windowBytes;
    const { controllers, paths } = this.group.paths();
    const self = controllers.indexOf(this);
    let inc: number;
    if (self < 0) {
      // No RTT estimate yet: grow as one Reno flow spread over the connection's total window.
      inc = (acked * this.mss) / Math.max(this.group.totalCwnd(), w);
    } else {
      inc = this.coupledIncrease(acked, paths, self);
    }
    if (Number.isFinite(inc)) this.w = Math.max(this.mss, w + inc);
  }

  /** The window after a loss (before the 1 MSS / 2 MSS floors); halving unless overridden. */
  protected reducedWindow(): number {
    return this.windowBytes / 2;
  }

  protected reduceOnCongestion(_now: number, _inFlight: number): void {
    const r = this.reducedWindow();
    this.noteLoss();
    this.ssthreshBytes = Math.max(Math.floor(r), 2 * this.mss);
    this.w = Math.max(Math.floor(r), this.mss);
  }

  protected reduceOnRto(_now: number, _inFlight: number): void {
    const r = this.reducedWindow();
    this.noteLoss();
    this.ssthreshBytes = Math.max(Math.floor(r), 2 * this.mss);
  }
}

/** LIA, RFC 6356 §3: cwnd_i += min(alpha * acked * MSS_i / cwnd_total, acked * MSS_i / cwnd_i). */
export class LiaController extends CoupledController {
  readonly name: string = "lia";
  protected coupledIncrease(acked: number, paths: CoupledPath[], self: number): number {
    const alpha = liaAlpha(paths);
    let total = 0;
    for (const p of paths) total += p.cwnd;
    const w = paths[self]!.cwnd;
    return Math.min((alpha * acked * this.mss) / total, (acked * this.mss) / w);
  }
}

/**
 * OLIA: w_r += acked * MSS * ((w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + alpha_r / w_r) per ACK in
 * congestion avoidance (windows in bytes; the paper's per-packet rule scaled by acked / MSS).
 * The alpha term may be negative: a path with the largest window can shrink toward better paths.
 */
export class OliaController extends CoupledController {
  readonly name: string = "olia";
  protected coupledIncrease(acked: number, paths: CoupledPath[], self: number): number {
    const alphas = oliaAlphas(paths);
    let sum = 0;
    for (const p of paths) sum += p.cwnd / p.rttUs;
    const me = paths[self]!;
    const first = me.cwnd / (me.rttUs * me.rttUs) / (sum * sum);
    return acked * this.mss * (first + alphas[self]! / me.cwnd);
  }
}

/** BALIA: Reno's increase times baliaIncreaseFactor; on loss w -= (w / 2) min(alpha_r, 1.5). */
export class BaliaController extends CoupledController {
  readonly name: string = "balia";
  protected coupledIncrease(acked: number, paths: CoupledPath[], self: number): number {
    return ((acked * this.mss) / paths[self]!.cwnd) * baliaIncreaseFactor(paths, self);
  }

  protected override reducedWindow(): number {
    const w = this.windowBytes;
    const { controllers, paths } = this.group.paths();
    const self = controllers.indexOf(this);
    const alpha = self < 0 ? 1 : baliaAlpha(paths, self);
    return w - (w / 2) * Math.min(alpha, 1.5);
  }
}

/** A factory for one MPTCP connection; its subflows' controllers share `group`. */
export interface CoupledFactory extends CongestionFactory {
  readonly group: CouplingGroup;
}

function coupled(
  name: CoupledAlgorithm,
  make: (ctx: CongestionContext, g: CouplingGroup) => CoupledController,
): CoupledFactory {
  const group = new CouplingGroup();
  return {
    name,
    group,
    create(ctx: CongestionContext): CongestionController {
      return make(ctx, group);
    },
  };
}

/** LIA (RFC 6356). Use one factory per MPTCP connection. */
export function liaFactory(opts: WindowOptions = {}): CoupledFactory {
  return coupled("lia", (ctx, g) => new LiaController(ctx, g, opts));
}

/** OLIA (Khalili et al. 2013). Use one factory per MPTCP connection. */
export function oliaFactory(opts: WindowOptions = {}): CoupledFactory {
  return coupled("olia", (ctx, g) => new OliaController(ctx, g, opts));
}

/** BALIA (Peng et al. 2016). Use one factory per MPTCP connection. */
export function baliaFactory(opts: WindowOptions = {}): CoupledFactory {
  return coupled("balia", (ctx, g) => new BaliaController(ctx, g, opts));
}
