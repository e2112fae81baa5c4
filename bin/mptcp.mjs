#!/usr/bin/env node
// The `mptcp` command, runnable without a build step:
//   node bin/mptcp.mjs ...          (Node >= 20.19: TypeScript sources through tsx's register API)
//   deno run -A bin/mptcp.mjs ...   (Deno runs the TypeScript sources natively)
// From the repository, tsx (a devDependency) must be installed (npm install). Subcommands:
//   mptcp server ... | mptcp client ...   (see `mptcp --help`), mptcp --version
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const isDeno = typeof globalThis.Deno !== "undefined";
const argv = isDeno ? globalThis.Deno.args : process.argv.slice(2);
const [cmd] = argv;

if (cmd === "--version" || cmd === "-v") {
  console.log(pkg.version);
} else if (cmd === "sim") { await import("./sim.mjs"); // mptcp sim: experiments on the in-memory network (adapters/sim/)
} else if (cmd === "server" || cmd === "client") {
  if (!isDeno) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  const { run } = await import("../adapters/cli/main.ts");
  const code = await run(argv);
  if (isDeno) globalThis.Deno.exit(code);
  else process.exit(code);
} else {
  console.log(`mptcp ${pkg.version}: userspace Multipath TCP (RFC 8684), sans-IO TypeScript + WebAssembly.
usage: mptcp server|client ... (mptcp server --help for the options), mptcp --version`);
  if (cmd && cmd !== "--help" && cmd !== "-h") process.exit(2);
}
