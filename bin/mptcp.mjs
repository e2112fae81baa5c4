#!/usr/bin/env node
// The `mptcp` command, runnable without a build step:
//   node bin/mptcp.mjs ...          (Node >= 20.19: TypeScript sources through tsx's register API)
//   deno run -A bin/mptcp.mjs ...   (Deno runs the TypeScript sources natively; add
//                                    --unstable-net for Deno's fast native UDP)
// From the repository, tsx (a devDependency) must be installed (npm install).
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const isDeno = typeof globalThis.Deno !== "undefined";
const argv = isDeno ? globalThis.Deno.args : process.argv.slice(2);
const [cmd] = argv;

const USAGE = `mptcp ${pkg.version}: userspace Multipath TCP (RFC 8684), sans-IO TypeScript + WebAssembly.
usage:
  mptcp server ...       serve over TUN devices or UDP (TCP-in-UDP)   (mptcp server --help)
  mptcp client ...       connect over TUN devices or UDP              (mptcp client --help)
  mptcp proxy ...        MPTCP <-> plain TCP relay (either side)      (mptcp proxy --help)
  mptcp sim ...          multipath experiments on the in-memory network (mptcp sim --help)
  mptcp script FILE...   run packetdrill-syntax scripts against this stack
  mptcp --version`;

async function main() {
  if (cmd === "--version" || cmd === "-v") {
    console.log(pkg.version);
    return 0;
  }
  if (cmd !== "server" && cmd !== "client" && cmd !== "proxy" && cmd !== "sim" && cmd !== "script") {
    console.log(USAGE);
    return cmd && cmd !== "--help" && cmd !== "-h" ? 2 : 0;
  }
  if (!isDeno) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  if (cmd === "sim") {
    const { runSim } = await import("../adapters/cli/sim.ts");
    return await runSim(argv.slice(1));
  }
  if (cmd === "script") {
    const { runScript } = await import("../adapters/cli/script.ts");
    return runScript(argv.slice(1));
  }
  const { run } = await import("../adapters/cli/main.ts");
  return await run(argv);
}

const code = await main();
if (isDeno) globalThis.Deno.exit(code);
else process.exit(code);
