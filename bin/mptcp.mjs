#!/usr/bin/env node
// The `mptcp` command.
// From an installed package (`npx mptcp ...`, `deno run -A node_modules/mptcp/bin/mptcp.mjs ...`)
// it runs the bundled dist/cli.js. From the repository it runs the TypeScript sources, with no
// build step:
//   node bin/mptcp.mjs ...          (Node >= 20.19: through tsx's register API; tsx is a
//                                    devDependency, so `npm install` first)
//   deno run -A bin/mptcp.mjs ...   (Deno runs the TypeScript sources natively)
// Add --unstable-net under Deno for its fast native UDP. MPTCP_CLI=dist makes a repository
// checkout run dist/cli.js too (after `npm run build`).
import { existsSync, readFileSync } from "node:fs";

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
  const cli = await loadCli();
  if (cmd === "sim") return await (await cli.sim()).runSim(argv.slice(1));
  if (cmd === "script") return (await cli.script()).runScript(argv.slice(1));
  return await (await cli.main()).run(argv);
}

/** The CLI modules: the TypeScript sources in a repository checkout, else the bundle. */
async function loadCli() {
  const env = isDeno ? globalThis.Deno.env.get("MPTCP_CLI") : process.env.MPTCP_CLI;
  const dist = new URL("../dist/cli.js", import.meta.url);
  let sources = env !== "dist" && existsSync(new URL("../adapters/cli/main.ts", import.meta.url));
  if (sources && !isDeno) {
    try {
      const { register } = await import("tsx/esm/api");
      register();
    } catch (e) {
      // A checkout without its devDependencies: the bundle, if it was built.
      if (!existsSync(dist)) throw new Error("mptcp: running from the sources needs tsx (npm install), or run npm run build first", { cause: e });
      sources = false;
    }
  }
  if (sources) {
    return {
      main: () => import("../adapters/cli/main.ts"),
      sim: () => import("../adapters/cli/sim.ts"),
      script: () => import("../adapters/cli/script.ts"),
    };
  }
  if (!existsSync(dist)) throw new Error(`mptcp: ${dist.pathname} is missing (in a repository checkout: npm run build)`);
  const bundle = () => import(dist.href);
  return { main: bundle, sim: bundle, script: bundle };
}

const code = await main();
if (isDeno) globalThis.Deno.exit(code);
else process.exit(code);
