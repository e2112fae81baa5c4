// The CLI entry point that tsup bundles into dist/cli.js, for the installed package (no
// TypeScript sources there): bin/mptcp.mjs imports it when it cannot load adapters/cli/*.ts.
export { run } from "../adapters/cli/main.ts";
export { runSim } from "../adapters/cli/sim.ts";
export { runScript } from "../adapters/cli/script.ts";
