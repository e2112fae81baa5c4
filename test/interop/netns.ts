// Interop test harness: network namespaces with TUN devices, created and deleted by the tests
// (DESIGN.md network safety: traffic only inside namespaces we create, addresses from
// 198.18.0.0/15 and 2001:2::/48, bounded in size and time, cleanup in finally).
//
// Gate: the suite needs root, /dev/net/tun, iproute2 (ip, nstat, ss, tc) and python3. Where they
// are missing it SKIPS with a visible reason, except when CI=true: then each test FAILS with
// that reason (`requireInterop()` below).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";

const has = (cmd: string, args: string[] = ["-V"]): boolean => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.error === undefined && r.status !== null;
};

function missing(): string | undefined {
  if (process.platform !== "linux") return "interop tests need Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "interop tests need root (network namespaces, TUN devices)";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (modprobe tun)";
  if (!has("ip", ["-V"])) return "iproute2 (ip) is not installed (apt-get install iproute2)";
  if (!has("nstat", ["-V"])) return "nstat (iproute2) is not installed";
  if (!has("ss", ["-V"])) return "ss (iproute2) is not installed";
  if (!has("tc", ["-V"])) return "tc (iproute2) is not installed";
  if (!has("python3", ["--version"])) return "python3 is not installed";
  return undefined;
}

/** Why the interop suite cannot run here, or undefined when it can. */
export const interopMissing: string | undefined = missing();
export const isCI = process.env.CI === "true";

/**
 * The `skip` option for an interop test: a reason string (visible) when it cannot run outside
 * CI; false when it can run, or in CI (where the test then fails in requireInterop()).
 */
export function interopSkip(extra?: string): string | false {
  if (extra) return extra;
  if (interopMissing && !isCI) return `interop: ${interopMissing}`;
  return false;
}

/**
 * The `skip` option for a case blocked by a known bug outside the adapters (reported): skipped
 * with the bug as the reason, unless MPTCP_INTEROP_KNOWN_BUGS=1 (to check a fix).
 */
export function knownBugSkip(bug: string): string | false {
  if (process.env.MPTCP_INTEROP_KNOWN_BUGS === "1") return interopSkip();
  return `known bug (reported): ${bug}; MPTCP_INTEROP_KNOWN_BUGS=1 runs it`;
}

/** Call first in an interop test: throws (fails the test) when the suite cannot run (CI). */
export function requireInterop(): void {
  if (interopMissing) throw new Error(`interop tests are required when CI=true but cannot run: ${interopMissing}`);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously (bounded); throws with its output when it fails and `check`. */
export function sh(argv: string[], opts: { check?: boolean; timeoutMs?: number; input?: string } = {}): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 15_000, input: opts.input });
  const res = { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if ((opts.check ?? true) && r.status !== 0) {
    throw new Error(`command failed (${r.status ?? r.signal ?? r.error}): ${argv.join(" ")}\n${res.stdout}${res.stderr}`);
  }
  return res;
}

let counter = 0;
let swept = false;

/**
 * First part of the names of the namespaces this harness creates: "mptcp", or
 * MPTCP_INTEROP_NETNS_PREFIX (letters, digits, dashes) to tell apart the namespaces of sessions
 * sharing a machine. Only namespaces with this prefix are swept.
 */
export const netnsPrefix: string = /^[a-z0-9-]{1,20}$/.test(process.env.MPTCP_INTEROP_NETNS_PREFIX ?? "") ? process.env.MPTCP_INTEROP_NETNS_PREFIX! : "mptcp";

/** True when a process with this PID exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * Deletes namespaces this harness created in runs that died without cleaning up (SIGKILL):
 * names `PREFIX-TAG-PID-N` (netnsPrefix) whose PID no longer exists. Others' namespaces are never
 * touched.
 */
export function sweepStaleNamespaces(): string[] {
  const gone: string[] = [];
  for (const line of sh(["ip", "netns", "list"], { check: false }).stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    if (!name.startsWith(`${netnsPrefix}-`)) continue;
    const m = /^[a-z0-9]+-(\d+)-\d+$/.exec(name.slice(netnsPrefix.length + 1));
    if (!m || alive(Number(m[1]))) continue;
    sh(["ip", "netns", "del", name], { check: false });
    gone.push(name);
  }
  return gone;
}

/** One network namespace owned by a test. */
export class Netns {
  private deleted = false;

  private constructor(readonly name: string) {}

  /** Creates a namespace with a unique name and loopback up. */
  static create(tag: string): Netns {
    if (!swept) {
      swept = true;
      sweepStaleNamespaces();
    }
    const name = `${netnsPrefix}-${tag}-${process.pid}-${++counter}`.slice(0, 60);
    sh(["ip", "netns", "add", name]);
    const ns = new Netns(name);
    try {
      ns.ip("link", "set", "lo", "up");
    } catch (e) {
      ns.destroy();
      throw e;
    }
    return ns;
  }

  /** argv prefix that runs a command inside the namespace. */
  wrap(argv: string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...argv];
  }

  exec(argv: string[], opts: { check?: boolean; timeoutMs?: number } = {}): RunResult {
    return sh(this.wrap(argv), opts);
  }

  ip(...args: string[]): RunResult {
    return sh(["ip", "-n", this.name, ...args]);
  }

  /**
   * A TUN device in the namespace, with the KERNEL's address on it (kernelCidr, e.g.
   * 198.18.0.1/24 or 2001:2:0:1::1/64) and up. Our stack then uses another address of that
   * prefix through the device.
   */
  addTun(dev: string, kernelCidrs: string[], opts: { mode?: "tun" | "tap" } = {}): void {
    this.exec(["ip", "tuntap", "add", "dev", dev, "mode", opts.mode ?? "tun"]);
    for (const c of kernelCidrs) {
      if (c.includes(":")) this.ip("-6", "addr", "add", c, "dev", dev, "nodad");
      else this.ip("addr", "add", c, "dev", dev);
    }
    this.ip("link", "set", dev, "up");
  }

  /** `ip mptcp limits set subflows N add_addr_accepted M`. */
  mptcpLimits(subflows: number, addAddrAccepted: number): void {
    this.ip("mptcp", "limits", "set", "subflows", String(subflows), "add_addr_accepted", String(addAddrAccepted));
  }

  /** `ip mptcp endpoint add ADDR [dev DEV] FLAGS...` (signal, subflow, backup, fullmesh). */
  mptcpEndpoint(addr: string, flags: string[], dev?: string): void {
    this.ip("mptcp", "endpoint", "add", addr, ...(dev ? ["dev", dev] : []), ...flags);
  }

  /** Absolute SNMP/netstat counters inside the namespace (`nstat -asz`): name -> value. */
  nstat(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const line of this.exec(["nstat", "-asz"]).stdout.split("\n")) {
      const m = /^(\S+)\s+(\d+)/.exec(line);
      if (m && !line.startsWith("#")) out[m[1]!] = Number(m[2]);
    }
    return out;
  }

  /** `ss -Mnti` (MPTCP sockets) or another ss query inside the namespace. */
  ss(args: string[] = ["-Mnti"]): string {
    return this.exec(["ss", ...args]).stdout;
  }

  /** Deletes the namespace (and with it its TUN devices). Idempotent. */
  destroy(): void {
    if (this.deleted) return;
    this.deleted = true;
    sh(["ip", "netns", "del", this.name], { check: false });
  }
}

/** Runs `fn` with a fresh namespace and deletes it afterwards, even on failure. */
export async function withNetns<T>(tag: string, fn: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = Netns.create(tag);
  try {
    return await fn(ns);
  } finally {
    ns.destroy();
  }
}

/** CPU time (user + system, in clock ticks of 1/100 s) a process used so far. */
export function cpuTicks(pid: number): number {
  const r = sh(["cat", `/proc/${pid}/stat`]);
  const fields = r.stdout.slice(r.stdout.lastIndexOf(")") + 2).split(" ");
  // After "pid (comm) ", utime and stime are fields 14 and 15 of the full line: 11 and 12 here.
  return Number(fields[11]) + Number(fields[12]);
}
