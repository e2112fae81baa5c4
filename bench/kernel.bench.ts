// Kernel comparison (issues #7 and #9): in one run, the Linux kernel's own MPTCP over veth
// (the same-run baseline), our stack as a real MPTCP client through two TUN paths to a kernel
// MPTCP sink, and our stack in memory (client and server in this process), each as one JSON line
// in the bench/harness.ts format with the kernel's number as baseline and the ratio.
//
//   npm run bench -- kernel                 (root and /dev/net/tun; else the kernel and TUN
//                                            workloads print a "skipped" line with the reason)
//   KERNEL_BENCH_RUNS=5 KERNEL_BENCH_MIB=256 KERNEL_BENCH_DENO=0 npm run bench -- kernel
//   (defaults: 5 runs, 256 MiB; our client under Node and, when node_modules/.bin/deno exists,
//   under Deno; MPTCP_CLI=dist makes the Node client run the bundle, after npm run build)
//
// Workloads (two subflows everywhere, one bulk upload per run, median and MAD over the runs):
//   kernel veth MTU 1500 (baseline)   two namespaces joined by two veth pairs; `ip mptcp limits`
//                                     and a "subflow" endpoint on the client's second address;
//                                     bench/kernel_peer.py source -> sink (IPPROTO_MPTCP sockets)
//   kernel veth MTU 65535             the same with 64 KiB MTU veths (for reference)
//   ours TUN MTU 1500 / 65535         `mptcp client --tun tun0=.. --tun tun1=.. --send N` (the
//                                     CLI: adapters/driver + TUN + core) in a namespace with two
//                                     TUN devices, to kernel_peer.py sink; the MSS follows the MTU
//   ours TUN MTU 1500 --gso           the same with segmentation offload: 64 KiB segments written
//                                     as GSO packets (as the kernel's TSO over veth does)
//   ours in memory MSS 1448 / 64 KiB  test/mptcp/helpers.ts scenario (the router topology of
//                                     bench/mptcp.bench.ts: IP/TCP/DSS encode, checksums, parse,
//                                     both hosts and the simulator on one thread), lean
//                                     applications (a pre-made block; a native compare of every
//                                     byte read)
// The kernel sink measures every TUN and veth transfer the same way: from accept() to EOF.
// Every transfer is bounded (KERNEL_BENCH_MIB, default 256 MiB, and 10 s of sending); namespaces
// are named h4k-PID-*, use 198.18.0.0/15 only and are deleted in `finally` (and on SIGINT/SIGTERM;
// ones left by a killed run are swept at the next start).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BenchLine } from "./harness.ts";
import { Buffer } from "node:buffer";
import { clientAddr, PORT, scenario } from "../test/mptcp/helpers.ts";
import type { MptcpConfig } from "../core/mptcp/types.ts";
import type { MptcpConnection } from "../core/mptcp/connection.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const PEER = join(here, "kernel_peer.py");
const BIN = join(root, "bin", "mptcp.mjs");
const SUITE = "kernel";
const MiB = 1 << 20;

const RUNS = Math.max(1, Number(process.env.KERNEL_BENCH_RUNS ?? 5));
const BYTES = Math.max(1, Number(process.env.KERNEL_BENCH_MIB ?? 256)) * MiB;
/** Seconds of sending per transfer at most (the sink and our client get more as a hard bound). */
const SEND_S = 10;
const MEM_BYTES_1448 = Math.max(1, Number(process.env.KERNEL_BENCH_MEM_MIB ?? 64)) * MiB;

// ------------------------------------------------------------------------- small helpers

function sh(argv: string[], check = true): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 15_000 });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  if (check && r.status !== 0) throw new Error(`command failed (${r.status ?? r.signal}): ${argv.join(" ")}\n${out}`);
  return { status: r.status, out };
}

const has = (cmd: string, args: string[]): boolean => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.error === undefined && r.status !== null;
};

/** Why the kernel and TUN workloads cannot run here, or undefined. */
export function kernelBenchMissing(): string | undefined {
  if (process.platform !== "linux") return "needs Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "needs root (network namespaces, veth and TUN devices)";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (modprobe tun)";
  if (!has("ip", ["-V"])) return "iproute2 (ip) is not installed";
  if (!has("python3", ["--version"])) return "python3 is not installed";
  if (!has("timeout", ["--version"])) return "coreutils timeout is not installed";
  try {
    if (readFileSync("/proc/sys/net/mptcp/enabled", "utf8").trim() !== "1") return "the kernel's MPTCP is disabled (sysctl net.mptcp.enabled=1)";
  } catch {
    return "the kernel has no MPTCP (/proc/sys/net/mptcp/enabled missing)";
  }
  return undefined;
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mad = (xs: number[]): number => {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
};

/** A running child process (bounded by `timeout -k`), its output collected. */
interface Child {
  pid: number;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves once a line equal to `line` appeared on stdout (or the process ended). */
  waitLine(line: string): Promise<void>;
  kill(): void;
}

function startChild(argv: string[], boundS: number): Child {
  const full = ["timeout", "-k", "2", String(boundS), ...argv];
  const p = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  p.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (stdout.split("\n").includes(waiters[i]!.line)) {
        waiters[i]!.resolve();
        waiters.splice(i, 1);
      }
    }
  });
  p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    p.on("close", (code) => {
      for (const w of waiters) w.resolve();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    pid: p.pid ?? -1,
    done,
    waitLine: (line) => (stdout.split("\n").includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.push({ line, resolve }))),
    kill: () => {
      if (p.exitCode === null && p.pid !== undefined) {
        try {
          process.kill(p.pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
    },
  };
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ------------------------------------------------------------------------- namespaces

const created: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** Deletes h4k-PID-* namespaces of earlier runs whose process is gone (never others'). */
function sweep(): void {
  for (const line of sh(["ip", "netns", "list"], false).out.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = /^h4k-(\d+)-[a-z0-9]+$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) sh(["ip", "netns", "del", name], false);
  }
}

function netnsAdd(tag: string): string {
  const name = `h4k-${process.pid}-${tag}`;
  sh(["ip", "netns", "add", name]);
  created.push(name);
  sh(["ip", "-n", name, "link", "set", "lo", "up"]);
  return name;
}

function cleanup(): void {
  while (created.length > 0) sh(["ip", "netns", "del", created.pop()!], false);
}

const inNs = (ns: string, argv: string[]): string[] => ["ip", "netns", "exec", ns, ...argv];

/** Starts the kernel MPTCP sink for `count` connections and waits until it listens. */
async function startSink(ns: string, addr: string, count: number): Promise<Child> {
  const sink = startChild(inNs(ns, ["python3", PEER, "sink", "--mptcp", "--addr", addr, "--port", "5000", "--count", String(count), "--bytes", String(BYTES), "--timeout", String(SEND_S + 20)]), count * (SEND_S + 30));
  await Promise.race([sink.waitLine("READY"), sink.done]);
  return sink;
}

/** Goodput in Gbit/s of each connection the sink served (bytes / accept-to-EOF seconds). */
async function sinkResults(sink: Child, what: string): Promise<number[]> {
  const r = await sink.done;
  const lines = jsonLines(r.stdout);
  const bad = lines.find((l) => l.error !== undefined);
  if (r.code !== 0 || bad) throw new Error(`${what}: kernel sink failed (${r.code}): ${JSON.stringify(bad ?? {})} ${r.stderr.slice(-500)}`);
  return lines.map((l) => {
    if (l.mptcp !== true || Number(l.max_subflows) < 1) throw new Error(`${what}: the kernel saw no MPTCP join (${JSON.stringify(l)})`);
    return (Number(l.bytes) * 8) / Number(l.seconds) / 1e9;
  });
}

/** (a) kernel -> kernel, two veth pairs between two namespaces. */
async function kernelVeth(mtu: number, tag: string): Promise<number[]> {
  const a = netnsAdd(`${tag}a`);
  const b = netnsAdd(`${tag}b`);
  for (const i of [0, 1]) {
    const va = `h4v${tag}${i}`;
    const vb = `h4w${tag}${i}`;
    sh(["ip", "link", "add", va, "netns", a, "mtu", String(mtu), "type", "veth", "peer", "name", vb, "netns", b, "mtu", String(mtu)]);
    sh(["ip", "-n", a, "addr", "add", `198.18.${10 + i}.2/24`, "dev", va]);
    sh(["ip", "-n", b, "addr", "add", `198.18.${10 + i}.1/24`, "dev", vb]);
    sh(["ip", "-n", a, "link", "set", va, "up"]);
    sh(["ip", "-n", b, "link", "set", vb, "up"]);
  }
  for (const n of [a, b]) sh(["ip", "-n", n, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2"]);
  sh(["ip", "-n", a, "mptcp", "endpoint", "add", "198.18.11.2", "dev", `h4v${tag}1`, "subflow"]);
  const sink = await startSink(b, "198.18.10.1", RUNS);
  try {
    for (let r = 0; r < RUNS; r++) {
      const src = startChild(inNs(a, ["python3", PEER, "source", "--mptcp", "--addr", "198.18.10.1", "--port", "5000", "--bytes", String(BYTES), "--seconds", String(SEND_S), "--timeout", String(SEND_S + 20)]), SEND_S + 30);
      const x = await src.done;
      if (x.code !== 0) throw new Error(`kernel source failed (${x.code}): ${x.stdout}${x.stderr}`);
    }
    return await sinkResults(sink, `kernel veth MTU ${mtu}`);
  } finally {
    sink.kill();
  }
}

/** (b) our client (the CLI under Node, or Deno) -> kernel sink over two TUN devices. */
async function oursTun(mtu: number, tag: string, runtime: "node" | "deno", extra: string[] = []): Promise<number[]> {
  const n = netnsAdd(tag);
  for (const i of [0, 1]) {
    sh(["ip", "-n", n, "tuntap", "add", "dev", `tun${i}`, "mode", "tun"]);
    sh(["ip", "-n", n, "addr", "add", `198.18.${i}.1/24`, "dev", `tun${i}`]);
    sh(["ip", "-n", n, "link", "set", `tun${i}`, "mtu", String(mtu)]);
    sh(["ip", "-n", n, "link", "set", `tun${i}`, "up"]);
  }
  sh(["ip", "-n", n, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2"]);
  const sink = await startSink(n, "198.18.0.1", RUNS);
  const rt = runtime === "node" ? [process.execPath] : [join(root, "node_modules", ".bin", "deno"), "run", "-A"];
  try {
    for (let r = 0; r < RUNS; r++) {
      const c = startChild(inNs(n, [...rt, BIN, "client", "--tun", "tun0=198.18.0.2", "--tun", "tun1=198.18.1.2", "--connect", "198.18.0.1:5000", "--send", String(BYTES), ...extra, "--json", "--timeout", String(SEND_S + 10)]), SEND_S + 30);
      const x = await c.done;
      if (x.code !== 0) throw new Error(`our client failed (${x.code}): ${x.stderr.slice(-1500)}`);
    }
    return await sinkResults(sink, `ours TUN MTU ${mtu}`);
  } finally {
    sink.kill();
  }
}

// ------------------------------------------------------------------------- (c) in memory

const PM = { subflows: 2, addAddrAccepted: 0, addAddrTimeoutUs: 120_000_000, addAddrRetries: 3 };
const LINK = { rateBps: 10e9, delayUs: 50 };

/** The upload's bytes: a 1 MiB pseudo-random block, repeated (made once, outside the timing). */
const BLOCK = 1 << 20;
let block: Uint8Array | undefined;
function patternBlock(): Uint8Array {
  if (!block) {
    block = new Uint8Array(BLOCK);
    let x = 0x9e3779b9;
    const w = new Uint32Array(block.buffer);
    for (let i = 0; i < w.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      w[i] = x >>> 0;
    }
  }
  return block;
}

/**
 * One two-subflow upload of `bytes` in memory (test/mptcp/helpers.ts scenario: client, router,
 * server, 10 Gbit/s / 50 µs per path), the applications kept lean as the kernel's peers are:
 * the client writes from one pre-made block, the server reads into one buffer and checks what
 * it read against the block with a native compare (every byte, Buffer.compare). Returns Gbit/s
 * of wall time from connect() to the last byte read and the peer's DATA_FIN seen.
 */
export function memoryRun(bytes: number, mss: number | undefined, seed: number): { gbit: number; gbitPerCpuS: number } {
  const tcp = mss === undefined ? {} : { mss, mtu: 65535 };
  const cfg: Partial<MptcpConfig> = { pathManager: PM, tcp };
  const sc = scenario({ paths: [LINK, LINK], seed, clientConfig: cfg, serverConfig: cfg });
  const src = patternBlock();
  const srcB = Buffer.from(src.buffer, src.byteOffset, src.length);
  const rbuf = new Uint8Array(256 * 1024);
  const rbufB = Buffer.from(rbuf.buffer);
  let cc: MptcpConnection | undefined;
  let server: MptcpConnection | undefined;
  let sent = 0;
  let got = 0;
  let bad = -1;
  let shut = false;
  sc.client.app = (now) => {
    if (!cc || (cc.state !== "ESTABLISHED" && cc.state !== "CLOSE_WAIT")) return;
    while (sent < bytes) {
      const o = sent % BLOCK;
      const n = cc.write(now, src.subarray(o, Math.min(BLOCK, o + bytes - sent)));
      if (n === 0) break;
      sent += n;
    }
    if (sent === bytes && !shut) {
      shut = true;
      cc.shutdown(now);
    }
  };
  sc.server.app = (now) => {
    server ??= sc.server.endpoint.pollAccept();
    if (!server) return;
    let n: number;
    while ((n = server.read(now, rbuf)) > 0) {
      // Compare with the block, in at most two pieces (the block wraps).
      let i = 0;
      while (i < n && bad < 0) {
        const o = (got + i) % BLOCK;
        const k = Math.min(n - i, BLOCK - o);
        if (rbufB.compare(srcB, o, o + k, i, i + k) !== 0) bad = got + i;
        i += k;
      }
      got += n;
    }
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  sc.sim.at(0, (now) => {
    cc = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0, false) });
  });
  const ok = sc.sim.runUntilTrue(() => got >= bytes && !!server && server.peerClosed, 600_000_000);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  if (!ok || bad >= 0 || got !== bytes) throw new Error(`in-memory transfer failed (got ${got} of ${bytes}, first bad byte ${bad})`);
  const subs = cc!.stats().subflows;
  if (subs.length !== 2 || subs.some((x) => x.dataBytesSent === 0)) throw new Error("a subflow carried no data");
  return { gbit: (bytes * 8) / s / 1e9, gbitPerCpuS: (bytes * 8) / cpuS / 1e9 };
}

// ------------------------------------------------------------------------- the run

function line(name: string, xs: number[], baseline: { name: string; median: number } | undefined): BenchLine {
  const m = median(xs);
  return {
    suite: SUITE,
    name,
    unit: "Gbit/s",
    median: Number(m.toPrecision(4)),
    spread: Number(mad(xs).toPrecision(3)),
    samples: xs.length,
    baseline: baseline?.name ?? null,
    baselineMedian: baseline ? Number(baseline.median.toPrecision(4)) : null,
    ratio: baseline ? Number((m / baseline.median).toPrecision(3)) : null,
  };
}

/** Runs every workload; prints and returns one line per workload (bench/run.ts calls this). */
export async function run(print: (line: string) => void = console.log): Promise<BenchLine[]> {
  const out: BenchLine[] = [];
  const emit = (l: BenchLine): void => {
    out.push(l);
    print(JSON.stringify(l));
  };
  const missing = kernelBenchMissing();
  let base: { name: string; median: number } | undefined;
  if (missing) {
    print(JSON.stringify({ suite: SUITE, skipped: true, reason: `kernel and TUN workloads skipped: ${missing}` }));
  } else {
    const onSignal = (sig: NodeJS.Signals): void => {
      cleanup();
      process.exit(sig === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      sweep();
      const k1500 = await kernelVeth(1500, "v1");
      cleanup();
      const baseName = "kernel veth MTU 1500 (baseline)";
      base = { name: baseName, median: median(k1500) };
      emit(line(baseName, k1500, undefined));
      const k64 = await kernelVeth(65535, "v6");
      cleanup();
      emit(line("kernel veth MTU 65535", k64, base));
      // Deno too when its binary is installed (the deno devDependency), unless KERNEL_BENCH_DENO=0.
      const denoOk = process.env.KERNEL_BENCH_DENO !== "0" && existsSync(join(root, "node_modules", ".bin", "deno"));
      const runtimes: Array<"node" | "deno"> = denoOk ? ["node", "deno"] : ["node"];
      for (const rt of runtimes) {
        for (const [mtu, gso] of [
          [1500, false],
          [1500, true],
          [65535, false],
        ] as const) {
          const xs = await oursTun(mtu, `t${rt[0]}${mtu === 1500 ? "1" : "6"}${gso ? "g" : ""}`, rt, gso ? ["--gso"] : []);
          cleanup();
          emit(line(`ours ${rt} TUN MTU ${mtu}${gso ? " --gso (64 KiB GSO packets)" : ""} -> kernel sink`, xs, base));
        }
      }
    } finally {
      cleanup();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
  // (c) in memory: warm up once, then RUNS transfers each. The same runs also give goodput per
  // CPU-second of this process (user + system), which holds better than wall time on a loaded
  // machine (no kernel counterpart: its work is spread over softirqs and two processes).
  for (const [name, mss, bytes] of [
    ["ours in memory MSS 1448", undefined, MEM_BYTES_1448],
    ["ours in memory 64 KiB segments", 65535 - 40 - 28, BYTES],
  ] as const) {
    memoryRun(Math.min(bytes, 16 * MiB), mss, 99);
    const xs: number[] = [];
    const cs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m = memoryRun(bytes, mss, 1 + r);
      xs.push(m.gbit);
      cs.push(m.gbitPerCpuS);
    }
    emit(line(name, xs, base));
    emit({ ...line(`${name}, per CPU-second`, cs, undefined), unit: "Gbit/s per CPU-s" as BenchLine["unit"] });
  }
  return out;
}
