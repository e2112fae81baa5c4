#!/usr/bin/env node
// The `mptcp` command. Subcommands arrive with the adapters (client, server, script, sim, proxy).
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const [cmd] = process.argv.slice(2);
if (cmd === "--version" || cmd === "-v") {
  console.log(pkg.version);
} else {
  console.log(`mptcp ${pkg.version}: userspace Multipath TCP (RFC 8684), sans-IO TypeScript + WebAssembly.
usage: mptcp --version
No subcommand is available yet: the simulator, client, server and script runner come with later work (see README.md).`);
  if (cmd && cmd !== "--help" && cmd !== "-h") process.exit(2);
}
