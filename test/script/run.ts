// Runs scripts from the command line (until `mptcp script FILE...` exists in the CLI):
//   node --import tsx test/script/run.ts [-v] FILE.pkt ...
// Prints PASS / FAIL / SKIP per script (and the event log of failures with -v).
import { readFileSync } from "node:fs";
import { runScriptText } from "../../adapters/script/index.ts";
import { corpusFactory } from "./factory.ts";

const args = process.argv.slice(2);
const verbose = args.includes("-v");
let failed = 0;
for (const f of args.filter((a) => a !== "-v")) {
  const r = runScriptText(readFileSync(f, "utf8"), f, corpusFactory, { verbose });
  const tag = r.status === "pass" ? "PASS" : r.status === "skip" ? "SKIP" : r.knownDeviation ? "FAIL (known deviation)" : "FAIL";
  console.log(`${tag} ${f}${r.message ? `\n  ${r.message.replace(/\n/g, "\n  ")}` : ""}`);
  if (verbose && r.status === "fail") console.log(r.log.map((l) => `    ${l}`).join("\n"));
  if (r.status === "fail" && !r.knownDeviation) failed++;
}
process.exit(failed > 0 ? 1 : 0);
