// The HTML report of an experiment: one self-contained file (inline CSS and SVG, no script, no
// external asset) with the scenario, the summary, the phases, and three charts over time (per
// subflow throughput, congestion window, RTT) with the path events and subflow events marked.
import type { ExperimentResult, TimelineEvent } from "./runner.ts";
import { formatPath } from "./spec.ts";

const PALETTE = ["#0e7c86", "#d9822b", "#8e44ad", "#2e8b57", "#2c5aa0", "#c0392b", "#7f8c8d", "#b8860b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtNum(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

/** Moving average over `w` samples (nulls stay null; the average skips them). */
function smooth(v: readonly (number | null)[], w: number): (number | null)[] {
  if (w <= 1) return [...v];
  return v.map((x, i) => {
    if (x === null) return null;
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - w + 1); j <= i; j++) {
      const y = v[j];
      if (y !== null && y !== undefined) {
        s += y;
        n++;
      }
    }
    return n > 0 ? s / n : null;
  });
}

interface Line {
  name: string;
  color: string;
  values: (number | null)[];
  dash?: string;
}

interface ChartOpts {
  title: string;
  unit: string;
  tS: number[];
  endS: number;
  lines: Line[];
  events: TimelineEvent[];
  /** A shaded time span (the longest stall), with its label. */
  band?: { fromS: number; toS: number; label: string };
  width?: number;
  height?: number;
}

/** One SVG line chart with x = seconds, event markers, legend. */
export function lineChart(o: ChartOpts): string {
  const W = o.width ?? 1000;
  const H = o.height ?? 260;
  const L = 62;
  const R = 16;
  const T = 34;
  const B = 40;
  const pw = W - L - R;
  const ph = H - T - B;
  let ymax = 0;
  for (const l of o.lines) for (const v of l.values) if (v !== null && v > ymax) ymax = v;
  if (ymax <= 0) ymax = 1;
  const ystep = niceStep(ymax, 5);
  ymax = Math.ceil(ymax / ystep) * ystep;
  const xmax = Math.max(o.endS, 1e-3);
  const xstep = niceStep(xmax, 10);
  const X = (t: number): number => L + (t / xmax) * pw;
  const Y = (v: number): number => T + ph - (v / ymax) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${L}" y="20" class="ct">${esc(o.title)}</text>`);
  // grid and axes
  for (let v = 0; v <= ymax + 1e-9; v += ystep) {
    const y = Y(v).toFixed(1);
    parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${y}" class="yl">${fmtNum(v)}</text>`);
  }
  for (let t = 0; t <= xmax + 1e-9; t += xstep) {
    const x = X(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${T + ph}" x2="${x}" y2="${T + ph + 4}" class="axis"/>`);
    parts.push(`<text x="${x}" y="${T + ph + 16}" class="xl">${fmtNum(t)}</text>`);
  }
  parts.push(`<text x="${L + pw / 2}" y="${H - 6}" class="xl">time (s)</text>`);
  parts.push(`<text x="14" y="${T + ph / 2}" class="yt" transform="rotate(-90 14 ${T + ph / 2})">${esc(o.unit)}</text>`);
  parts.push(`<line x1="${L}" y1="${T + ph}" x2="${W - R}" y2="${T + ph}" class="axis"/><line x1="${L}" y1="${T}" x2="${L}" y2="${T + ph}" class="axis"/>`);
  if (o.band && o.band.toS > o.band.fromS) {
    const x0 = X(o.band.fromS);
    const w = Math.max(1.5, X(o.band.toS) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${T}" width="${w.toFixed(1)}" height="${ph}" class="band"><title>${esc(o.band.label)}</title></rect>`);
  }
  // path events: vertical lines with a label; subflow events: small marks at the bottom
  let labelRow = 0;
  let lastLabelX = -1e9;
  for (const e of o.events) {
    const x = X(e.tUs / 1e6);
    if (e.kind === "path") {
      parts.push(`<line x1="${x.toFixed(1)}" y1="${T}" x2="${x.toFixed(1)}" y2="${T + ph}" class="ev"><title>${esc(`${(e.tUs / 1e6).toFixed(3)} s ${e.text}`)}</title></line>`);
      labelRow = x - lastLabelX < 150 ? labelRow + 1 : 0;
      lastLabelX = x;
      parts.push(`<text x="${(x + 3).toFixed(1)}" y="${T + 11 + labelRow * 12}" class="evl">${esc(e.text)}</text>`);
    } else {
      parts.push(`<path d="M${x.toFixed(1)} ${T + ph} l-4 7 h8 z" class="${e.kind === "subflow" ? "sfm" : "cm"}"><title>${esc(`${(e.tUs / 1e6).toFixed(3)} s ${e.text}`)}</title></path>`);
    }
  }
  // lines (a gap where a value is null)
  for (const l of o.lines) {
    let d = "";
    let pen = false;
    l.values.forEach((v, i) => {
      const t = o.tS[i];
      if (v === null || t === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${X(t).toFixed(1)} ${Y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}><title>${esc(l.name)}</title></path>`);
  }
  // legend
  let lx = W - R - 10;
  for (const l of [...o.lines].reverse()) {
    const w = 26 + l.name.length * 7;
    lx -= w;
    parts.push(`<line x1="${lx}" y1="16" x2="${lx + 18}" y2="16" stroke="${l.color}" stroke-width="3"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/><text x="${lx + 22}" y="20" class="lg">${esc(l.name)}</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n");
}

function pct(v: number): string {
  return (v * 100).toFixed(1) + "%";
}

/** The whole report as one HTML document. */
export function renderReport(r: ExperimentResult, o: { title?: string; generatedBy?: string } = {}): string {
  const s = r.summary;
  const opt = r.options;
  const tS = r.samples.tUs.map((t) => t / 1e6);
  const endS = s.simSeconds;
  const colorOf = new Map(r.series.map((x, i) => [x.key, PALETTE[i % PALETTE.length]!]));
  const mk = (get: (key: string) => (number | null)[], w: number): Line[] => r.series.map((x) => ({ name: x.key, color: colorOf.get(x.key)!, values: smooth(get(x.key), w) }));
  const thr = mk((k) => r.samples.mbps[k]!, 5);
  thr.push({ name: "goodput (app)", color: "#333", values: smooth(r.samples.goodputMbps, 5), dash: "5 4" });
  const cwnd = mk((k) => r.samples.cwnd[k]!.map((v) => (v === null ? null : v / 1024)), 1);
  const rtt = mk((k) => r.samples.rttMs[k]!, 1);
  const title = o.title ?? "mptcp sim report";
  const paths = opt.paths.map((p) => `<code>${esc(formatPath(p))}</code>`).join("<br>");
  const events = opt.events.length ? opt.events.map((e) => `<code>${esc(e.text)}</code>`).join(" ") : "none";
  const mode = opt.bytes !== undefined ? `transfer of ${opt.bytes} bytes` : `timed run of ${opt.seconds} s`;
  const pathNames = opt.paths.map((p) => p.name);
  const phaseRows = s.phases
    .map(
      (p) =>
        `<tr><td>${fmtNum(p.fromS)}–${fmtNum(p.toS)} s</td><td>${esc(p.label)}</td><td class="n">${p.goodputMbps.toFixed(2)}</td>${pathNames
          .map((n) => `<td class="n">${(p.mbps[n] ?? 0).toFixed(2)} <span class="dim">(${pct(p.share[n] ?? 0)})</span></td>`)
          .join("")}</tr>`,
    )
    .join("\n");
  const sfRows = s.subflows.map((x) => `<tr><td>${esc(x.path)}</td><td class="n">${x.bytes}</td><td class="n">${pct(x.share)}</td><td class="n">${x.retransmits}</td></tr>`).join("\n");
  const counters = Object.entries(s.counters)
    .map(([k, v]) => `<code>${esc(k)}</code>&nbsp;${v}`)
    .join(", ");
  const evRows = r.events.map((e) => `<tr><td class="n">${(e.tUs / 1e6).toFixed(3)}</td><td>${e.kind}</td><td>${esc(e.text)}</td></tr>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 24px auto; max-width: 1040px; padding: 0 12px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.ok { color: #1e7b34; font-weight: 600; } .bad { color: #b3261e; font-weight: 600; }
table { border-collapse: collapse; margin: 6px 0; } td, th { border-bottom: 1px solid #e3e3e3; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.n { text-align: right; font-variant-numeric: tabular-nums; } .dim { color: #888; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
.kpi { display: flex; gap: 28px; flex-wrap: wrap; margin: 10px 0; } .kpi div { min-width: 120px; } .kpi b { display: block; font-size: 22px; }
svg { display: block; margin: 8px 0 2px; max-width: 100%; height: auto; border: 1px solid #eee; }
svg .ct { font-size: 14px; font-weight: 600; fill: #222; } svg .lg { font-size: 12px; fill: #333; }
svg .grid { stroke: #eee; } svg .axis { stroke: #999; } svg .yl { font-size: 11px; fill: #666; text-anchor: end; dominant-baseline: middle; }
svg .xl { font-size: 11px; fill: #666; text-anchor: middle; } svg .yt { font-size: 11px; fill: #666; text-anchor: middle; }
svg .ev { stroke: #c0392b; stroke-dasharray: 4 3; stroke-width: 1.2; } svg .evl { font-size: 11px; fill: #c0392b; }
svg .sfm { fill: #555; } svg .cm { fill: #c0392b; } svg .band { fill: #f2c94c; fill-opacity: 0.45; }
.note { color: #666; font-size: 12.5px; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="note">${esc(o.generatedBy ?? "generated by mptcp sim")} · seed ${opt.seed} · virtual time (deterministic: the same seed gives the same run)</p>
<div class="kpi">
<div>result<b class="${s.ok ? "ok" : "bad"}">${s.ok ? "ok" : "failed"}</b>${s.error ? `<span class="bad">${esc(s.error)}</span>` : ""}</div>
<div>goodput<b>${s.goodputMbps.toFixed(2)} Mbit/s</b></div>
<div>delivered<b>${(s.bytes / 1048576).toFixed(1)} MiB</b></div>
<div>simulated<b>${s.simSeconds.toFixed(1)} s</b></div>
<div>longest stall<b>${s.maxStallMs.toFixed(0)} ms</b><span class="dim">from ${s.maxStallAtS.toFixed(2)} s</span></div>
</div>
<h2>Scenario</h2>
<table>
<tr><th>paths</th><td>${paths}</td></tr>
<tr><th>events</th><td>${events}</td></tr>
<tr><th>workload</th><td>download (server → client), ${esc(mode)}</td></tr>
<tr><th>stack</th><td>congestion control <code>${opt.cc}</code>, scheduler <code>${opt.scheduler}</code>, path manager <code>${opt.pathManager}</code>, ${opt.subflowsPerPath} subflow(s) per path${opt.checksum ? ", DSS checksums" : ""}${opt.rcvbuf !== undefined ? `, receive buffer ${opt.rcvbuf} B` : ""}</td></tr>
</table>
<h2>Throughput per subflow</h2>
${lineChart({ title: "Throughput (500 ms moving average)", unit: "Mbit/s", tS, endS, lines: thr, events: r.events, band: { fromS: s.maxStallAtS, toS: s.maxStallAtS + s.maxStallMs / 1000, label: `longest stall: ${s.maxStallMs.toFixed(0)} ms without delivery from ${s.maxStallAtS.toFixed(3)} s` } })}
<p class="note">Payload arriving at the client on each subflow; dashed: goodput delivered in order to the application. Red dashed lines: path events; triangles: subflow events; yellow band: the longest stall (hover for details).</p>
<h2>Congestion window</h2>
${lineChart({ title: "Sender congestion window", unit: "KiB", tS, endS, lines: cwnd, events: r.events, height: 220 })}
<h2>Round-trip time</h2>
${lineChart({ title: "Sender smoothed RTT", unit: "ms", tS, endS, lines: rtt, events: r.events, height: 220 })}
<h2>Phases</h2>
<table>
<tr><th>time</th><th>started by</th><th>goodput Mbit/s</th>${pathNames.map((n) => `<th>${esc(n)} Mbit/s (share)</th>`).join("")}</tr>
${phaseRows}
</table>
<h2>Per path</h2>
<table>
<tr><th>path</th><th>bytes received</th><th>share</th><th>retransmitted segments</th></tr>
${sfRows}
</table>
<p class="note">MPTcpExt counters (client + server): ${counters || "none"}</p>
<h2>Timeline</h2>
<table>
<tr><th>time (s)</th><th>kind</th><th>event</th></tr>
${evRows}
</table>
</body>
</html>
`;
}
