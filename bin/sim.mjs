// `mptcp sim ...` (dispatched from bin/mptcp.mjs): the experiment runner on the in-memory
// network; `npm start` runs `mptcp sim --demo`. Node: TypeScript sources through tsx's
// register API; Deno runs them natively.
const isDeno = typeof globalThis.Deno !== "undefined";
const argv = isDeno ? globalThis.Deno.args : process.argv.slice(2);
if (!isDeno) {
  const { register } = await import("tsx/esm/api");
  register();
}
const { runSim } = await import("../adapters/cli/sim.ts");
const code = await runSim(argv[0] === "sim" ? argv.slice(1) : argv);
if (isDeno) globalThis.Deno.exit(code);
else process.exit(code);
