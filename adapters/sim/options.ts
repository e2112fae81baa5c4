// Command-line options of `mptcp sim` (pure: argv in, options or a SpecError out).
import { COUPLED_ALGORITHMS } from "../../core/congestion/index.ts";
import type { CongestionAlgorithm } from "../../core/congestion/index.ts";
import type { PathManagerKind } from "../../core/path_manager/index.ts";
import { demoOptions } from "./demo.ts";
import type { SchedulerName } from "../../core/scheduler/index.ts";
import type { ExperimentOptions } from "./runner.ts";
import { parseDuration, parseEvent, parsePaths, parseSize, SpecError } from "./spec.ts";

export const SIM_USAGE = `usage: mptcp sim [--demo] [--paths NAME:rate=10Mbit,delay=20ms[,loss=1%][,queue=BYTES][,jitter=5ms];NAME:...]
                 [--event 5s:NAME:loss=5% --event 10s:NAME:down --event 15s:NAME:up ...]
                 [--bytes N | --seconds S] [--cc NAME] [--scheduler NAME] [--path-manager NAME]
                 [--subflows-per-path N] [--rcvbuf BYTES] [--checksum] [--seed N]
                 [--live | --quiet] [--speed X] [--report FILE] [--pcap FILE] [--json]
A download from a server to a client with one address per path, on the deterministic in-memory
network (virtual time). Without --paths: the demo (WiFi + LTE; WiFi loss rises at 8 s, WiFi
down at 16 s, back at 22 s).
  --paths     rates 500kbit, 10Mbit, 1Gbit; delays one-way (us, ms, s); loss in % or 0..1;
              queue in bytes (k, M suffixes; default 100 ms at the rate); jitter adds 0..J delay
  --event     TIME:PATH:CHANGE where CHANGE is down, up, or KEY=VALUE[,KEY=VALUE] (rate, delay,
              loss, queue, jitter). down = the interface goes away (link down, address removed);
              up = it comes back (address re-added: a new subflow joins)
  --bytes N   transfer N bytes (k, M, G suffixes) then stop; --seconds S: send for S seconds
  --cc        cubic | reno | lia | olia | balia (default olia: coupled)
  --scheduler default | roundrobin | lowrtt | redundant | blest | ecf
  --path-manager fullmesh | ndiffports
  --live      live per-subflow view (default on a terminal); --quiet: only the summary
  --speed X   live view: X virtual seconds per wall second (default: as fast as it goes;
              the demo on a terminal: 3, so its 30 s take about 10 s)
  --report    write an HTML report (default with --demo: mptcp-report.html)
  --pcap      write a pcap of the server link (first 256 bytes of each packet)
  --json      last line of stdout: one JSON object with the results
Exit status: 0 when the transfer completed and every byte checked, 1 if not, 2 on bad usage,
130 when interrupted (Ctrl-C; the summary and report are still written).`;

export interface SimCliOptions {
  experiment: ExperimentOptions;
  demo: boolean;
  live: boolean | undefined;
  quiet: boolean;
  json: boolean;
  report: string | undefined;
  pcap: string | undefined;
  /** Live view pacing: virtual seconds per wall second (undefined: as fast as possible). */
  speed: number | undefined;
  help: boolean;
}

const CCS: readonly CongestionAlgorithm[] = ["cubic", "reno", ...COUPLED_ALGORITHMS];
const SCHEDULERS: readonly SchedulerName[] = ["default", "roundrobin", "lowrtt", "redundant", "blest", "ecf"];

export function parseSimArgs(argv: readonly string[]): SimCliOptions {
  const a = [...argv];
  if (a[0] === "sim") a.shift();
  const exp: ExperimentOptions = demoOptions();
  let pathsGiven = false;
  let demo = false;
  const events: string[] = [];
  const out: SimCliOptions = { experiment: exp, demo: false, live: undefined, quiet: false, json: false, report: undefined, pcap: undefined, speed: undefined, help: false };
  let bytes: number | undefined;
  let seconds: number | undefined;
  const value = (flag: string): string => {
    const v = a.shift();
    if (v === undefined || (v.startsWith("--") && v.length > 2)) throw new SpecError(`${flag} needs a value`);
    return v;
  };
  const int = (flag: string, s: string, min: number): number => {
    if (!/^\d+$/.test(s)) throw new SpecError(`${flag}: "${s}" is not a whole number`);
    const n = Number(s);
    if (n < min) throw new SpecError(`${flag}: must be at least ${min}`);
    return n;
  };
  while (a.length > 0) {
    const raw = a.shift()!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    if (eq > 0) a.unshift(raw.slice(eq + 1));
    switch (flag) {
      case "--help":
      case "-h":
        out.help = true;
        break;
      case "--demo":
        demo = true;
        break;
      case "--paths":
        exp.paths = parsePaths(value(flag));
        pathsGiven = true;
        break;
      case "--event":
        events.push(value(flag));
        break;
      case "--bytes":
        bytes = parseSize(value(flag));
        if (bytes <= 0) throw new SpecError("--bytes: must be > 0");
        break;
      case "--seconds": {
        const v = value(flag);
        const us = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1e6 : parseDuration(v);
        if (!(us > 0)) throw new SpecError(`--seconds: "${v}" must be > 0`);
        seconds = us / 1e6;
        break;
      }
      case "--cc": {
        const v = value(flag).toLowerCase() as CongestionAlgorithm;
        if (!CCS.includes(v)) throw new SpecError(`--cc: unknown algorithm "${v}" (${CCS.join(", ")})`);
        exp.cc = v;
        break;
      }
      case "--scheduler": {
        const v = value(flag) as SchedulerName;
        if (!SCHEDULERS.includes(v)) throw new SpecError(`--scheduler: unknown scheduler "${v}" (${SCHEDULERS.join(", ")})`);
        exp.scheduler = v;
        break;
      }
      case "--path-manager": {
        const v = value(flag);
        if (v !== "fullmesh" && v !== "ndiffports") throw new SpecError(`--path-manager: unknown path manager "${v}" (fullmesh, ndiffports)`);
        exp.pathManager = v as PathManagerKind;
        break;
      }
      case "--subflows-per-path":
        exp.subflowsPerPath = int(flag, value(flag), 1);
        break;
      case "--rcvbuf":
        exp.rcvbuf = parseSize(value(flag));
        if (exp.rcvbuf < 4096) throw new SpecError("--rcvbuf: at least 4096 bytes");
        break;
      case "--checksum":
        exp.checksum = true;
        break;
      case "--seed":
        exp.seed = int(flag, value(flag), 0);
        if (exp.seed > 0xffffffff) throw new SpecError("--seed: at most 4294967295");
        break;
      case "--live":
        out.live = true;
        break;
      case "--quiet":
        out.quiet = true;
        break;
      case "--speed": {
        const v = value(flag);
        if (!/^\d+(\.\d+)?$/.test(v) || !(Number(v) > 0)) throw new SpecError(`--speed: "${v}" is not a positive number`);
        out.speed = Number(v);
        break;
      }
      case "--report":
        out.report = value(flag);
        break;
      case "--pcap":
        out.pcap = value(flag);
        break;
      case "--json":
        out.json = true;
        break;
      default:
        throw new SpecError(`unknown option "${raw}" (mptcp sim --help)`);
    }
  }
  if (bytes !== undefined && seconds !== undefined) throw new SpecError("--bytes and --seconds: give one of them");
  if (out.live === true && out.quiet) throw new SpecError("--live and --quiet: give one of them");
  if (out.quiet) out.live = false;
  if (pathsGiven) {
    exp.events = [];
    delete exp.seconds;
  } else {
    demo = true; // no paths: the demo scenario (its events unless some are given)
  }
  if (events.length > 0) exp.events = events.map((e) => parseEvent(e, exp.paths.map((p) => p.name)));
  if (bytes !== undefined) {
    exp.bytes = bytes;
    delete exp.seconds;
  } else if (seconds !== undefined) exp.seconds = seconds;
  else if (pathsGiven) exp.seconds = 10;
  const perPath = exp.subflowsPerPath ?? 1;
  if (perPath * exp.paths.length > 8) throw new SpecError(`--subflows-per-path ${perPath} with ${exp.paths.length} paths: at most 8 subflows in all`);
  out.demo = demo;
  if (demo && out.report === undefined) out.report = "mptcp-report.html";
  return out;
}
