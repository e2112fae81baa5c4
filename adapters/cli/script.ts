// `mptcp script FILE...`: runs packetdrill-syntax scripts (adapters/script/README.md) against
// this stack on virtual time, prints PASS/FAIL/SKIP per file and a closing count.
// Exit status: 0 when every script passed (or was skipped), 1 when one failed, 2 on bad usage.
import { readFileSync } from "node:fs";
import { runScriptFiles } from "../script/cli.ts";
import { combinedFactory } from "../script/sut.ts";
import { tcpSutFactory } from "../script/tcp_sut.ts";
import { mptcpSutFactory } from "../script/mptcp_sut.ts";

export const SCRIPT_USAGE = `usage: mptcp script [-v] FILE...
Runs packetdrill-syntax scripts against this stack (the stack plays the host, the script the
remote peer, on virtual time). -v prints the packet log of failing scripts.`;

export function runScript(argv: readonly string[], out: (line: string) => void = (l) => console.log(l)): number {
  const verbose = argv.includes("-v");
  if (argv.includes("--help") || argv.includes("-h")) {
    out(SCRIPT_USAGE);
    return 0;
  }
  const files = argv.filter((a) => a !== "-v");
  const unknown = files.filter((f) => f.startsWith("-"));
  if (files.length === 0 || unknown.length > 0) {
    out(unknown.length > 0 ? `unknown option ${unknown[0]}\n${SCRIPT_USAGE}` : SCRIPT_USAGE);
    return 2;
  }
  const { text, exitCode } = runScriptFiles(files, (f) => readFileSync(f, "utf8"), combinedFactory(tcpSutFactory, mptcpSutFactory), { verbose });
  out(text);
  return exitCode;
}
