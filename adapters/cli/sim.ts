// `mptcp sim` (and `npm start` = `mptcp sim --demo`): the runtime side of the experiment
// runner in adapters/sim/ — terminal detection, the live view refreshed about every 100 ms of
// wall time while the simulation advances in slices, Ctrl-C, files (report, pcap), exit status.
// node: APIs only, which Deno provides too.
import process from "node:process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Experiment } from "../sim/runner.ts";
import { parseSimArgs, SIM_USAGE } from "../sim/options.ts";
import type { SimCliOptions } from "../sim/options.ts";
import { liveFrame, liveLines, progressLine, summaryLines } from "../sim/live.ts";
import { renderReport } from "../sim/report.ts";
import { SpecError } from "../sim/spec.ts";

export interface SimIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  columns: number;
}

/** `mptcp sim | head`: a closed pipe ends the command quietly, not with an EPIPE trace. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
}

const defaultIo = (): SimIo => (quietOnClosedPipe(), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns ?? 100,
});

/** Wall time of one refresh of the live view (ms). */
const FRAME_MS = 100;

/** Virtual seconds per wall second of the demo's live view: 30 s of demo in about 10 s. */
const DEMO_SPEED = 3;

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `mptcp sim ARGS`; returns the exit status. */
export async function runSim(argv: readonly string[], io: SimIo = defaultIo()): Promise<number> {
  let o: SimCliOptions;
  try {
    o = parseSimArgs(argv);
  } catch (e) {
    if (e instanceof SpecError) {
      io.stderr(`mptcp sim: ${e.message}\n(mptcp sim --help for the syntax)\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    io.stdout(SIM_USAGE + "\n");
    return 0;
  }
  let exp: Experiment;
  try {
    exp = new Experiment({ ...o.experiment, capture: o.pcap !== undefined });
  } catch (e) {
    if (e instanceof RangeError) {
      io.stderr(`mptcp sim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Human output goes to stdout, or to stderr when stdout carries the JSON line.
  const human = o.json ? io.stderr : io.stdout;
  const live = o.live ?? (io.isTTY && !o.json && !o.quiet);
  const plain = !live && !o.quiet;
  const noColor = (process.env.NO_COLOR ?? "") !== ""; // https://no-color.org
  // Pacing is for people watching: only with the live view (the demo on a terminal: 3x).
  const speed = live ? (o.speed ?? (o.demo ? DEMO_SPEED : undefined)) : undefined;
  const title = o.demo ? "mptcp sim --demo" : "mptcp sim";
  if (!o.quiet) {
    const scen = o.experiment.paths.map((p) => p.name).join(" + ");
    const evs = (o.experiment.events ?? []).map((e) => e.text).join(", ");
    human(`${title}: ${scen}, cc ${exp.options.cc}, seed ${exp.options.seed}${evs ? `\n  events: ${evs}` : ""}${o.demo ? "\n  (the demo; mptcp sim --help to script your own)" : ""}\n`);
  }

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave at once
    interrupted = true;
    exp.interrupt();
  };
  process.on("SIGINT", onSigint);

  let prevLines = 0;
  let sliceUs = 100_000;
  let nextPlainUs = 1_000_000;
  let lastPlainWall = 0;
  const shortRun = exp.options.bytes === undefined && (exp.options.seconds ?? 0) <= 60;
  const wall0 = performance.now();
  try {
    while (!exp.done) {
      // Advance in slices for about one frame of wall time, sizing the slices as we go.
      const frameStart = performance.now();
      // With --speed on a live view, virtual time follows the wall clock times the speed.
      const paceUs = speed !== undefined ? ((frameStart - wall0) / 1000) * speed * 1e6 : Infinity;
      while (!exp.done && performance.now() - frameStart < FRAME_MS * 0.8 && exp.nowUs < paceUs) {
        const t0 = performance.now();
        // Plain progress: slices end on whole virtual seconds, where the lines are printed.
        exp.runFor(Math.min(plain ? Math.min(sliceUs, nextPlainUs - exp.nowUs) : sliceUs, Math.max(1000, paceUs - exp.nowUs)));
        const dt = performance.now() - t0;
        if (dt < 10) sliceUs = Math.min(sliceUs * 2, 2_000_000);
        else if (dt > 40) sliceUs = Math.max(10_000, Math.floor(sliceUs / 2));
        if (plain && exp.nowUs >= nextPlainUs) {
          // Every virtual second for short runs; at most one line per wall second for long ones.
          const wall = performance.now();
          if (shortRun || wall - lastPlainWall >= 1000) {
            human(progressLine(exp.snapshot()) + "\n");
            lastPlainWall = wall;
          }
          nextPlainUs = (Math.floor(exp.nowUs / 1_000_000) + 1) * 1_000_000;
        }
      }
      if (live) {
        const lines = liveLines(exp.snapshot(), { columns: io.columns, color: !noColor });
        human(liveFrame(lines, prevLines));
        prevLines = lines.length;
      }
      // Lets output flush and Ctrl-C arrive; with --speed, waits for the next frame.
      if (speed !== undefined) await sleep(Math.max(0, FRAME_MS - (performance.now() - frameStart)));
      else await tick();
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  const wallS = (performance.now() - wall0) / 1000;
  if (live) {
    human(liveFrame(liveLines(exp.snapshot(), { columns: io.columns, color: !noColor }), prevLines));
  }
  const r = exp.result();
  if (!o.quiet || !o.json) {
    for (const l of summaryLines(r)) human(l + "\n");
    human(`(${wallS.toFixed(1)} s of wall time)\n`);
  }
  if (o.report !== undefined) {
    const path = resolve(o.report);
    writeFileSync(path, renderReport(r, { title: o.demo ? "mptcp demo: WiFi + LTE handover" : "mptcp sim report", generatedBy: `mptcp sim ${argv.filter((x) => x !== "sim").join(" ")}`.trim() }));
    human(`report: ${path}\n`);
  }
  if (o.pcap !== undefined) {
    const path = resolve(o.pcap);
    writeFileSync(path, exp.pcap() ?? new Uint8Array());
    human(`pcap: ${path}\n`);
  }
  if (o.json) {
    const { phases, ...rest } = r.summary;
    io.stdout(JSON.stringify({ ...rest, phases }) + "\n");
  }
  return r.summary.interrupted ? 130 : r.summary.ok ? 0 : 1;
}
