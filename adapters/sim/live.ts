// The terminal views of a running experiment, as strings (writing them is the CLI's job):
// a live frame (ANSI colours, one sparkline + bar per subflow) redrawn in place on a TTY, and
// one plain progress line for logs and pipes.
import type { ExperimentResult, LiveSnapshot } from "./runner.ts";

const SPARK = "▁▂▃▄▅▆▇█";
const COLORS = [36, 33, 35, 32, 34, 31, 96, 93]; // cyan, yellow, magenta, green, blue, red, ...

function color(on: boolean, code: number, s: string): string {
  return on ? `\x1b[${code}m${s}\x1b[0m` : s;
}

function fmtMbps(v: number): string {
  return v.toFixed(1).padStart(5);
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + " GiB";
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(0) + " KiB";
  return n + " B";
}

/** A sparkline of values scaled to `max`. */
export function sparkline(values: readonly number[], max: number, width: number): string {
  const v = values.slice(-width);
  let s = "";
  for (const x of v) {
    const k = max > 0 ? Math.min(SPARK.length - 1, Math.floor((x / max) * (SPARK.length - 1) + 0.5)) : 0;
    s += x <= 0 ? " " : SPARK[k];
  }
  return s.padStart(width);
}

/** A horizontal bar of `width` cells for value/max (eighth-cell resolution). */
export function bar(value: number, max: number, width: number): string {
  const eighths = max > 0 ? Math.max(0, Math.min(width * 8, Math.round((value / max) * width * 8))) : 0;
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const partial = part > 0 ? " ▏▎▍▌▋▊▉"[part]! : "";
  return ("█".repeat(full) + partial).padEnd(width, "·");
}

export interface LiveViewOptions {
  /** Terminal columns (default 100). */
  columns?: number;
  /** ANSI colours (default true). */
  color?: boolean;
  /** Title shown on the first line. */
  title?: string;
}

/** The lines of one live frame. */
export function liveLines(s: LiveSnapshot, o: LiveViewOptions = {}): string[] {
  const cols = Math.max(60, o.columns ?? 100);
  const c = o.color ?? true;
  const t = (s.tUs / 1e6).toFixed(1).padStart(5);
  const total = s.endUs !== undefined ? ` / ${(s.endUs / 1e6).toFixed(0)} s` : " s";
  const pw = cols >= 100 ? 20 : 8;
  const prog = bar(s.progress, 1, pw);
  const head = `${color(c, 1, o.title ?? "mptcp sim")}  t=${t}${total}  ${prog} ${Math.floor(s.progress * 100)
    .toString()
    .padStart(3)}%  goodput ${color(c, 1, fmtMbps(s.goodputMbps))} Mbit/s  ${fmtBytes(s.bytes)}${s.targetBytes !== undefined ? " of " + fmtBytes(s.targetBytes) : ""}`;
  const lines = [head];
  const nameW = Math.max(4, ...s.series.map((x) => x.key.length));
  const scale = Math.max(1, ...s.series.map((x) => x.maxMbps));
  // name, sparkline, bar, "xxx.x Mbit/s  cwnd xxxx KiB  rtt xxxx ms": keep within the columns.
  const avail = cols - 1 - (nameW + 3 + 5 + 9 + 26);
  const barW = Math.max(6, Math.min(24, Math.floor(avail * 0.35)));
  const sparkW = Math.max(8, Math.min(40, avail - barW));
  s.series.forEach((x, i) => {
    const code = COLORS[i % COLORS.length]!;
    const name = color(c, code, x.key.padEnd(nameW));
    const spark = color(c, code, sparkline(x.history, scale, sparkW));
    const b = color(c, code, bar(x.mbps, scale, barW));
    const extra = x.live ? `cwnd ${x.cwnd !== null ? (x.cwnd / 1024).toFixed(0).padStart(4) + " KiB" : "   -    "}  rtt ${x.rttMs !== null ? x.rttMs.toFixed(0).padStart(4) + " ms" : "   -   "}` : color(c, 2, "no subflow");
    lines.push(`${name} ${spark} ${b} ${fmtMbps(x.mbps)} Mbit/s  ${extra}`);
  });
  const ev = s.lastEvent ? `last event: ${(s.lastEvent.tUs / 1e6).toFixed(1)} s ${s.lastEvent.text}` : "last event: -";
  lines.push(color(c, 2, ev));
  return lines.map((l) => truncate(l, cols - 1));
}

/** Cuts a line to `width` visible characters (ANSI colour codes do not count; a reset ends it). */
export function truncate(line: string, width: number): string {
  let out = "";
  let n = 0;
  for (let i = 0; i < line.length; ) {
    if (line.charCodeAt(i) === 0x1b) {
      const m = /^\x1b\[[0-9;]*m/.exec(line.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const cp = line.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (n >= width) return out + (line.includes("\x1b[") ? "\x1b[0m" : "");
    out += ch;
    n++;
    i += ch.length;
  }
  return out;
}

/**
 * A frame as bytes for a terminal: moves the cursor up over the previous frame (`prevLines`
 * lines), then writes each line, clearing what was there.
 */
export function liveFrame(lines: readonly string[], prevLines: number): string {
  const up = prevLines > 0 ? `\x1b[${prevLines}F` : "";
  return up + lines.map((l) => `\x1b[2K${l}\n`).join("");
}

/** One plain progress line (no ANSI), for logs and pipes. */
export function progressLine(s: LiveSnapshot): string {
  const parts = s.series.map((x) => `${x.key} ${x.live ? x.mbps.toFixed(1) : "-"}`);
  return `t=${(s.tUs / 1e6).toFixed(1)}s goodput ${s.goodputMbps.toFixed(1)} Mbit/s (${parts.join(", ")}) ${fmtBytes(s.bytes)}${
    s.lastEvent ? ` | ${(s.lastEvent.tUs / 1e6).toFixed(1)}s ${s.lastEvent.text}` : ""
  }`;
}

/** The human summary printed at the end (plain text). */
export function summaryLines(r: ExperimentResult): string[] {
  const s = r.summary;
  const names = r.options.paths.map((p) => p.name);
  const out: string[] = [];
  out.push(
    `${s.ok ? "ok" : s.interrupted ? "interrupted" : "FAILED"}${s.error && !s.interrupted ? ` (${s.error})` : ""}: ${fmtBytes(s.bytes)} in ${s.simSeconds.toFixed(1)} s of virtual time, goodput ${s.goodputMbps.toFixed(2)} Mbit/s, longest stall ${s.maxStallMs.toFixed(0)} ms at ${s.maxStallAtS.toFixed(1)} s (cc ${s.cc}, seed ${s.seed})`,
  );
  out.push(`per path: ${s.subflows.map((x) => `${x.path} ${fmtBytes(x.bytes)} (${(x.share * 100).toFixed(1)}%, ${x.retransmits} retransmitted)`).join(", ")}`);
  if (s.phases.length > 1) {
    const w = Math.max(...s.phases.map((p) => p.label.length), 5);
    out.push(`phases:  ${"time".padEnd(11)} ${"start".padEnd(w)}  goodput  ${names.map((n) => n.padStart(14)).join(" ")}`);
    for (const p of s.phases) {
      const cells = names.map((n) => `${(p.mbps[n] ?? 0).toFixed(1).padStart(5)} (${((p.share[n] ?? 0) * 100).toFixed(0).padStart(3)}%)`.padStart(14));
      out.push(`         ${`${p.fromS}-${p.toS} s`.padEnd(11)} ${p.label.padEnd(w)}  ${p.goodputMbps.toFixed(1).padStart(7)}  ${cells.join(" ")}`);
    }
    out.push(`         (Mbit/s per path, share of the bytes in the phase)`);
  }
  return out;
}
