import { readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "tsup";

// dist/: one build, ESM (*.js) + CJS (*.cjs) + declarations (*.d.ts, *.d.cts), with the code the
// entry points share in common chunks (so `mptcp` and `mptcp/adapters` hold one MptcpError
// class, one Endpoint, ...):
//   index     mptcp            the sans-IO core (core/index.ts)
//   adapters  mptcp/adapters   driver, runtime glue, UDP, TUN, pcap files, in-memory network, sim
//   streams   mptcp/streams    connect / listen / toNodeStream
//   testing   mptcp/testing    fast-check arbitraries and the simulator harness
//   cli       dist/cli.js      what bin/mptcp.mjs runs from an installed package (no .d.ts)
// Platform "node": node: builtins stay imports (Deno has them too); the dependencies (koffi,
// @noble/hashes) and the optional fast-check peer are not bundled. koffi is loaded by a dynamic
// import, only on Node and only when a TUN device is opened (Deno.dlopen under Deno).
const entry = {
  index: "core/index.ts",
  adapters: "adapters/index.ts",
  streams: "adapters/streams/index.ts",
  testing: "adapters/testing/index.ts",
};

// The declarations take most of the build time (about 10 s per format against 3 s for all the
// JavaScript), and scripts/test.mjs builds before every run: they are rebuilt only when a
// source is newer than the oldest of them (always under `npm run build` / `npm pack`).
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

// `npm run build`, `npm pack`, `npm publish`: a clean dist/ with fresh declarations.
const release = ["build", "prepack", "prepublishOnly"].includes(process.env.npm_lifecycle_event ?? "");

function declarationsFresh(): boolean {
  if (release) return false;
  try {
    let oldest = Infinity;
    for (const name of Object.keys(entry)) {
      for (const ext of [".d.ts", ".d.cts"]) oldest = Math.min(oldest, statSync(join("dist", name + ext)).mtimeMs);
    }
    const newest = Math.max(newestSource("core"), newestSource("adapters"), statSync("tsup.config.ts").mtimeMs);
    return newest < oldest;
  } catch {
    return false; // a declaration file is missing
  }
}

// MPTCP_DIST_DIR: JavaScript only, into another directory (test/smoke/package.test.ts packs
// its own build, safe from a concurrent rebuild of dist/).
const outDir = process.env.MPTCP_DIST_DIR ?? "dist";
const jsOnly = outDir !== "dist";
const fresh = jsOnly || declarationsFresh();

// Several test runs may build the same dist/ at once (they share the working tree): outside a
// release build, files are overwritten in place and what this build did not write (chunks of
// an older build) is removed after it, so that dist/ never stands empty while another process
// imports or packs it.
const started = Date.now();
async function removeStale(): Promise<void> {
  for (const f of readdirSync(outDir)) {
    if (!/\.(c?js|map)$/.test(f)) continue;
    try {
      if (statSync(join(outDir, f)).mtimeMs < started - 1000) unlinkSync(join(outDir, f));
    } catch {
      // removed by a concurrent build
    }
  }
}

export default defineConfig({
  entry: { ...entry, cli: "bin/cli.ts" },
  format: ["esm", "cjs"],
  dts: fresh ? false : { entry },
  clean: release || jsOnly,
  onSuccess: release || jsOnly ? undefined : removeStale,
  splitting: true,
  sourcemap: true,
  target: "es2022",
  platform: "node",
  outDir,
  external: ["koffi", "fast-check", "@noble/hashes"],
});
