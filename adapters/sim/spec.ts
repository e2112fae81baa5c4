// Text specs of `mptcp sim` experiments: paths ("wifi:rate=20Mbit,delay=10ms,loss=0.1%"),
// timed events ("8s:wifi:loss=5%", "16s:wifi:down"), and the units they use. Pure: text in, a
// value or a SpecError with a message that says what was wrong and what is expected.

/** A bad spec (the CLI turns it into a usage error, exit status 2). */
export class SpecError extends Error {
  override name = "SpecError";
}

/** Parameters of one path (both directions), in base units. */
export interface PathParams {
  /** Bits per second (Infinity: no serialisation delay). */
  rateBps: number;
  /** One-way propagation delay, µs. */
  delayUs: number;
  /** Random loss probability per packet, 0..1. */
  lossRate: number;
  /** Drop-tail queue limit in bytes (default: rate × 100 ms, at least 16 kB). */
  queueBytes: number;
  /** Extra uniformly random delay in [0, jitter] µs (arrival order is kept). */
  jitterUs: number;
}

export interface PathSpec {
  name: string;
  params: PathParams;
  /** The queue was given explicitly (else it follows the rate). */
  queueSet: boolean;
}

/** A change of a path at a time: new parameters, or the path's interface going down / up. */
export type PathChange = { kind: "set"; params: Partial<PathParams> } | { kind: "down" } | { kind: "up" };

export interface EventSpec {
  atUs: number;
  path: string;
  change: PathChange;
  /** The event as the user wrote it (for the report). */
  text: string;
}

const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };

/** "500kbit", "10Mbit", "1Gbit", "2.5mbit" (decimal SI units, bits per second). */
export function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/.exec(s.trim());
  const mul = m ? RATE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || mul === undefined) throw new SpecError(`bad rate "${s}" (expected e.g. 500kbit, 10Mbit, 1Gbit)`);
  const v = Number(m[1]) * mul;
  if (!(v > 0)) throw new SpecError(`bad rate "${s}" (must be > 0)`);
  return v;
}

/** "20ms", "1.5s", "300us", "0" -> µs (integer). */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (t === "0") return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s)$/.exec(t);
  if (!m) throw new SpecError(`bad duration "${s}" (expected e.g. 300us, 20ms, 1.5s)`);
  const mul = { us: 1, ms: 1e3, s: 1e6 }[m[2] as "us" | "ms" | "s"];
  return Math.round(Number(m[1]) * mul);
}

/** "1%", "0.1%", "0.02" -> probability 0..1. */
export function parseProbability(s: string): number {
  const t = s.trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(t);
  if (!m) throw new SpecError(`bad loss "${s}" (expected a percentage like 1% or a fraction like 0.01)`);
  const v = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (v < 0 || v > 1) throw new SpecError(`bad loss "${s}" (must be between 0% and 100%)`);
  return v;
}

/** "65536", "64k", "1M", "64kB", "1MiB" (k/M/G: powers of 1024) -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*([kKmMgG]?)(?:i?[bB])?$/.exec(s.trim());
  if (!m) throw new SpecError(`bad byte count "${s}" (expected e.g. 65536, 64k, 16M)`);
  const mul = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mul;
}

/** Default drop-tail queue of a path: 100 ms at its rate, at least 16 kB. */
export function defaultQueueBytes(rateBps: number): number {
  if (!Number.isFinite(rateBps)) return Infinity;
  return Math.max(16 * 1024, Math.round((rateBps * 0.1) / 8));
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,15}$/;

function parseParams(text: string, where: string): { params: Partial<PathParams>; queueSet: boolean } {
  const params: Partial<PathParams> = {};
  let queueSet = false;
  for (const kv of text.split(",")) {
    if (kv.trim() === "") continue;
    const eq = kv.indexOf("=");
    if (eq < 0) throw new SpecError(`${where}: "${kv}" is not KEY=VALUE (keys: rate, delay, loss, queue, jitter)`);
    const k = kv.slice(0, eq).trim().toLowerCase();
    const v = kv.slice(eq + 1).trim();
    switch (k) {
      case "rate":
        params.rateBps = parseRate(v);
        break;
      case "delay":
        params.delayUs = parseDuration(v);
        break;
      case "loss":
        params.lossRate = parseProbability(v);
        break;
      case "queue":
        params.queueBytes = parseSize(v);
        if (params.queueBytes < 1500) throw new SpecError(`${where}: queue ${v} is smaller than one packet (1500 bytes)`);
        queueSet = true;
        break;
      case "jitter":
        params.jitterUs = parseDuration(v);
        break;
      default:
        throw new SpecError(`${where}: unknown key "${k}" (keys: rate, delay, loss, queue, jitter)`);
    }
  }
  return { params, queueSet };
}

/** One path: "NAME:rate=10Mbit,delay=20ms[,loss=1%][,queue=BYTES][,jitter=5ms]". rate and delay are required. */
export function parsePath(text: string): PathSpec {
  const t = text.trim();
  const colon = t.indexOf(":");
  if (colon < 0) throw new SpecError(`path "${text}": expected NAME:rate=...,delay=...`);
  const name = t.slice(0, colon);
  if (!NAME_RE.test(name)) throw new SpecError(`path "${text}": bad name "${name}" (a letter, then up to 15 letters, digits, _ or -)`);
  const { params, queueSet } = parseParams(t.slice(colon + 1), `path ${name}`);
  if (params.rateBps === undefined) throw new SpecError(`path ${name}: rate is required (e.g. rate=10Mbit)`);
  if (params.delayUs === undefined) throw new SpecError(`path ${name}: delay is required (one-way, e.g. delay=20ms)`);
  const full: PathParams = {
    rateBps: params.rateBps,
    delayUs: params.delayUs,
    lossRate: params.lossRate ?? 0,
    jitterUs: params.jitterUs ?? 0,
    queueBytes: params.queueBytes ?? defaultQueueBytes(params.rateBps),
  };
  return { name, params: full, queueSet };
}

/** Several paths separated by ";" (names must be unique; 1 to 8 paths). */
export function parsePaths(text: string): PathSpec[] {
  const parts = text.split(";").filter((p) => p.trim() !== "");
  if (parts.length === 0) throw new SpecError("--paths: no path given");
  if (parts.length > 8) throw new SpecError(`--paths: ${parts.length} paths, at most 8`);
  const out = parts.map(parsePath);
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.name)) throw new SpecError(`--paths: path name "${p.name}" used twice`);
    seen.add(p.name);
  }
  return out;
}

/** One event: "TIME:NAME:down", "TIME:NAME:up" or "TIME:NAME:KEY=VALUE[,KEY=VALUE]". */
export function parseEvent(text: string, pathNames?: readonly string[]): EventSpec {
  const t = text.trim();
  const parts = t.split(":");
  if (parts.length !== 3) throw new SpecError(`event "${text}": expected TIME:PATH:CHANGE, e.g. 5s:wifi:loss=5%, 10s:wifi:down, 15s:wifi:up`);
  const [ts, path, what] = parts as [string, string, string];
  let atUs: number;
  try {
    atUs = parseDuration(ts);
  } catch {
    throw new SpecError(`event "${text}": bad time "${ts}" (expected e.g. 5s, 2500ms)`);
  }
  if (pathNames && !pathNames.includes(path)) throw new SpecError(`event "${text}": unknown path "${path}" (paths: ${pathNames.join(", ")})`);
  const w = what.trim().toLowerCase();
  let change: PathChange;
  if (w === "down") change = { kind: "down" };
  else if (w === "up") change = { kind: "up" };
  else {
    const { params } = parseParams(what, `event "${text}"`);
    if (Object.keys(params).length === 0) throw new SpecError(`event "${text}": nothing to change (down, up, or KEY=VALUE)`);
    change = { kind: "set", params };
  }
  return { atUs, path, change, text: t };
}

/** Formats bit/s compactly: 20Mbit, 500kbit, 1.5Gbit. */
export function formatRate(bps: number): string {
  if (!Number.isFinite(bps)) return "unlimited";
  const f = (v: number): string => String(Number(v.toFixed(2)));
  if (bps >= 1e9) return f(bps / 1e9) + "Gbit";
  if (bps >= 1e6) return f(bps / 1e6) + "Mbit";
  if (bps >= 1e3) return f(bps / 1e3) + "kbit";
  return f(bps) + "bit";
}

/** Formats a path back as a spec string. */
export function formatPath(p: PathSpec): string {
  const q = p.params;
  const parts = [`rate=${formatRate(q.rateBps)}`, `delay=${q.delayUs / 1000}ms`];
  if (q.lossRate > 0) parts.push(`loss=${Number((q.lossRate * 100).toFixed(4))}%`);
  if (q.jitterUs > 0) parts.push(`jitter=${q.jitterUs / 1000}ms`);
  if (p.queueSet) parts.push(`queue=${q.queueBytes}`);
  return `${p.name}:${parts.join(",")}`;
}
