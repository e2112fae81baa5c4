// What `mptcp script FILE...` needs, runtime-neutral (the caller passes a file reader and a
// system under test): runs each file, returns the text to print and the exit code (0 when every
// script passed or was skipped; known deviations fail like any other script here, with their
// reason). The CLI wires it as:
//   const { text, exitCode } = runScriptFiles(files, (f) => readFileSync(f, "utf8"),
//     combinedFactory(tcpSutFactory, mptcpSutFactory), { verbose: argv.includes("-v") });
import { runScriptText } from "./executor.ts";
import type { RunOptions, ScriptResult } from "./executor.ts";
import type { SutFactory } from "./sut.ts";

export interface ScriptFilesReport {
  results: ScriptResult[];
  text: string;
  exitCode: number;
}

export function runScriptFiles(files: readonly string[], readFile: (path: string) => string, factory: SutFactory, opts: RunOptions = {}): ScriptFilesReport {
  const results: ScriptResult[] = [];
  const lines: string[] = [];
  for (const f of files) {
    let r: ScriptResult;
    try {
      r = runScriptText(readFile(f), f, factory, opts);
    } catch (e) {
      r = { file: f, status: "fail", message: `${f}: ${e instanceof Error ? e.message : String(e)}`, log: [] };
    }
    results.push(r);
    const tag = r.status === "pass" ? "PASS" : r.status === "skip" ? "SKIP" : "FAIL";
    lines.push(`${tag} ${f}`);
    if (r.knownDeviation && r.status === "fail") lines.push(`  known deviation: ${r.knownDeviation}`);
    if (r.message && r.status !== "pass") lines.push(`  ${r.message.replace(/\n/g, "\n  ")}`);
    if (opts.verbose && r.status === "fail") for (const l of r.log) lines.push(`    ${l}`);
  }
  const n = (s: ScriptResult["status"]): number => results.filter((r) => r.status === s).length;
  lines.push(`${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped`);
  return { results, text: lines.join("\n"), exitCode: n("fail") > 0 ? 1 : 0 };
}
