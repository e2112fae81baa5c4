// The installed package works without the repository: `npm pack` of a fresh build, `npm install`
// of the tarball into an empty directory (from the npm registry: koffi and @noble/hashes, later
// the optional peer fast-check). Then: the installed `mptcp` bin runs an experiment under Node
// and under Deno; the bundled adapters work (an MPTCP echo over UDP on loopback between the
// Node bin and the Deno bin; the TUN FFI, koffi on Node and Deno.dlopen on Deno, loads and
// names a missing device); `mptcp`, `mptcp/adapters` and `mptcp/streams` load from ESM and CJS
// without fast-check (an echo over the streams API's in-process network) and `mptcp/testing`
// with it (a harness run); a TypeScript consumer type-checks against the shipped declarations
// (module node16, ESM and CJS). Bounded in time; the temporary directories are removed even on
// failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeUdpPort } from "../adapters/cli_helpers.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const deno = join(root, "node_modules", ".bin", "deno");
const SIM = ["sim", "--paths", "wifi:rate=20Mbit,delay=10ms;lte:rate=10Mbit,delay=30ms", "--bytes", "1000000", "--json", "--quiet"];

function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1", ...env } });
  const what = `${cmd} ${args.join(" ")}`.slice(0, 200);
  assert.ok(!r.error, `${what}: ${r.error}`);
  assert.equal(r.status, 0, `${what} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The last line of stdout as JSON (the summary of `mptcp sim --json`). */
function lastJson(out: string): { ok: boolean; bytes: number; subflows: unknown[]; error?: string } {
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!);
}

const ESM = `
import * as core from "mptcp";
import * as adapters from "mptcp/adapters";
import { connect, listen, MemoryNetwork, toNodeStream, ConnectionError } from "mptcp/streams";
const out = {};
out.kernels = core.loadKernels().exports.abiVersion() === 1;
out.sharedErrors = Object.getPrototypeOf(ConnectionError) === core.MptcpError;
out.adapters = [adapters.Driver, adapters.UdpPort, adapters.TunGroup, adapters.Simulator, adapters.PcapFileTap].every((f) => typeof f === "function");
out.streams = [connect, listen, toNodeStream].every((f) => typeof f === "function");
// fast-check is an optional peer dependency: mptcp/testing needs it, nothing else does.
let testing;
try {
  testing = await import("mptcp/testing");
} catch (e) {
  out.testingNeedsFastCheck = /fast-check/.test(String(e));
}
if (testing) {
  out.testing = typeof testing.mptcpOption.generate === "function" && typeof testing.opSequence === "function";
  const r = testing.runOps([{ at: 0, op: "write", side: "client", bytes: 200000 }, { at: 0, op: "write", side: "server", bytes: 100000 }], { seed: 2 });
  out.harness = r.intact && r.complete && r.server.read === 200000 && r.client.read === 100000;
}
// Echo of 100 kB over the streams API on its in-process network.
const net = new MemoryNetwork();
const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
const accepted = server.accept();
const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000" });
const peer = await accepted;
const echo = peer.readable.pipeTo(peer.writable);
const sent = new Uint8Array(100000).map((_, i) => (i * 7) & 0xff);
const w = conn.writable.getWriter();
await w.write(sent);
await w.close();
let got = 0, same = true;
for await (const chunk of conn.readable) {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== sent[got + i]) same = false;
  got += chunk.length;
}
await echo;
await server.close();
out.echo = same && got === sent.length;
console.log(JSON.stringify(out));
`;

const CJS = `
const core = require("mptcp");
const adapters = require("mptcp/adapters");
const streams = require("mptcp/streams");
const out = {
  kernels: core.loadKernels().exports.abiVersion() === 1,
  sharedErrors: Object.getPrototypeOf(streams.ConnectionError) === core.MptcpError,
  adapters: typeof adapters.Simulator === "function" && typeof adapters.UdpPort === "function",
  streams: [streams.connect, streams.listen, streams.toNodeStream].every((f) => typeof f === "function"),
};
let testing;
try {
  testing = require("mptcp/testing");
} catch (e) {
  out.testingNeedsFastCheck = /fast-check/.test(String(e));
}
if (testing) {
  const r = testing.runOps([{ at: 0, op: "write", side: "client", bytes: 50000 }], { seed: 1 });
  out.harness = r.intact && r.complete && r.server.read === 50000;
}
console.log(JSON.stringify(out));
`;

const TYPED = `
import fc from "fast-check";
import { MptcpError, emitMptcpOption, parseMptcpOption } from "mptcp";
import { Simulator, UdpPort } from "mptcp/adapters";
import { connect, listen, toNodeStream } from "mptcp/streams";
import type { StreamConnection } from "mptcp/streams";
import { mptcpOption, opSequence, runOps } from "mptcp/testing";
import type { HarnessResult, Op } from "mptcp/testing";
const r: HarnessResult = runOps([] as Op[]);
const ok: boolean = fc.check(fc.property(mptcpOption, (o) => { const b = new Uint8Array(64); return parseMptcpOption(b, 0, emitMptcpOption(o, b, 0)).ok; })).failed;
const conn: Promise<StreamConnection> = connect({ transport: { udp: ["127.0.0.1"] }, remote: "127.0.0.1:7000" });
export { r, ok, conn, MptcpError, Simulator, UdpPort, listen, toNodeStream, opSequence };
`;
const DECLARATIONS = ["index", "adapters", "streams", "testing"].flatMap((n) => [`${n}.d.ts`, `${n}.d.cts`]);

test("npm pack + npm install: the bin runs under Node and Deno, every entry point loads from ESM and CJS", { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), "mptcp-pack-"));
  try {
    // A package directory of our own: a fresh JavaScript build (a concurrent `tsup` of another
    // test run may be cleaning dist/), the declarations from dist/ when they are there.
    const pkg = join(tmp, "pkg");
    mkdirSync(join(pkg, "bin"), { recursive: true });
    run("node", [join(root, "node_modules", "tsup", "dist", "cli-default.js"), "--silent"], root, 60_000, { MPTCP_DIST_DIR: join(pkg, "dist") });
    for (const f of existsSync(join(root, "dist")) ? readdirSync(join(root, "dist")) : []) {
      if (/\.d\.c?ts$/.test(f)) copyFileSync(join(root, "dist", f), join(pkg, "dist", f));
    }
    for (const f of ["package.json", "README.md", join("bin", "mptcp.mjs")]) copyFileSync(join(root, f), join(pkg, f));
    const tgz = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], pkg, 30_000).trim().split("\n").pop()!;
    assert.match(tgz, /^mptcp-.*\.tgz$/);

    const app = join(tmp, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "mptcp-smoke-app", private: true, version: "1.0.0" }));
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(tmp, tgz)], app, 60_000);
    const installed = join(app, "node_modules", "mptcp");
    assert.ok(!existsSync(join(installed, "adapters")), "the package ships no TypeScript sources: the bin must use dist/cli.js");

    // The bin, as `npx mptcp` runs it, and under Deno.
    const bin = join(app, "node_modules", ".bin", "mptcp");
    assert.equal(run(bin, ["--version"], app, 10_000).trim(), JSON.parse(run("node", ["-p", "JSON.stringify(require('./package.json'))"], root, 10_000)).version);
    const viaNode = lastJson(run(bin, SIM, app, 60_000));
    assert.equal(viaNode.ok, true);
    assert.equal(viaNode.bytes, 1_000_000);
    assert.equal(viaNode.subflows.length, 2);
    const viaDeno = lastJson(run(deno, ["run", "-A", join(installed, "bin", "mptcp.mjs"), ...SIM], app, 60_000));
    assert.deepEqual(viaDeno, viaNode, "same seed, same experiment on both runtimes");

    // UDP: a Node server echoes what a Deno client sends (MPTCP, TCP-in-UDP on 127.0.0.1).
    const port = await freeUdpPort("127.0.0.1");
    const server = spawn(bin, ["server", "--udp", `127.0.0.1:${port}`, "--port", String(port), "--echo", "--once", "--json", "--timeout", "30"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    let serverOut = "";
    server.stdout.on("data", (d) => (serverOut += d));
    const serverDone = new Promise<number | null>((resolve) => server.on("close", resolve));
    try {
      const client = lastJson(run(deno, ["run", "-A", join(installed, "bin", "mptcp.mjs"), "client", "--udp", "127.0.0.1", "--connect", `127.0.0.1:${port}`, "--send", "1M", "--json", "--timeout", "30"], app, 40_000)) as unknown as Record<string, unknown>;
      assert.equal(client.ok, true, JSON.stringify(client));
      assert.equal(client.mptcp, true);
      assert.equal(client.bytesReceived, 1 << 20);
      assert.equal(client.sha256Received, client.sha256Sent);
      assert.equal(await serverDone, 0, serverOut);
    } finally {
      server.kill();
    }
    // TUN: the FFI loads from the bundle and names a missing device (no device is created).
    for (const [cmd, pre] of [[bin, []], [deno, ["run", "-A", join(installed, "bin", "mptcp.mjs")]]] as const) {
      const r = spawnSync(cmd, [...pre, "client", "--tun", "h2nodev0=198.18.0.2", "--connect", "198.18.0.1:5000", "--send", "1", "--json"], { cwd: app, encoding: "utf8", timeout: 20_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(lastJson(r.stdout).error ?? "", /h2nodev0 does not exist|\/dev\/net\/tun|permission/i);
    }

    // The entry points, first without the optional fast-check (only mptcp/testing needs it).
    writeFileSync(join(app, "esm.mjs"), ESM);
    writeFileSync(join(app, "cjs.cjs"), CJS);
    const base = { kernels: true, sharedErrors: true, adapters: true, streams: true };
    assert.deepEqual(JSON.parse(run("node", ["esm.mjs"], app, 30_000)), { ...base, testingNeedsFastCheck: true, echo: true });
    assert.deepEqual(JSON.parse(run("node", ["cjs.cjs"], app, 30_000)), { ...base, testingNeedsFastCheck: true });
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "fast-check@4"], app, 60_000);
    const expect = { ...base, testing: true, harness: true, echo: true };
    assert.deepEqual(JSON.parse(run("node", ["esm.mjs"], app, 30_000)), expect);
    assert.deepEqual(JSON.parse(run("node", ["cjs.cjs"], app, 30_000)), { ...base, harness: true });
    assert.deepEqual(JSON.parse(run(deno, ["run", "-A", "esm.mjs"], app, 30_000)), expect);

    // Types, as a TypeScript user with module node16 sees them (ESM file and CJS file).
    if (DECLARATIONS.every((f) => existsSync(join(installed, "dist", f)))) {
      writeFileSync(join(app, "typed.mts"), TYPED);
      writeFileSync(join(app, "typed.cts"), TYPED.replace('import fc from "fast-check";', 'import fc = require("fast-check");').replace(/^export .*$/m, ""));
      const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
      const opts = ["--noEmit", "--strict", "--module", "node16", "--moduleResolution", "node16", "--target", "es2022", "--types", "node", "--typeRoots", join(root, "node_modules", "@types")];
      run("node", [tsc, ...opts, "typed.mts", "typed.cts"], app, 60_000);
    } else {
      console.log("types not checked: dist/ has no declarations (npm run build makes them)");
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
