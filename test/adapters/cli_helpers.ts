// Runs the `mptcp` CLI (bin/mptcp.mjs) as a child process with the runtime running the tests:
// Node (`node bin/mptcp.mjs`, TypeScript through tsx) or Deno (`deno run -A bin/mptcp.mjs`).
// Optionally inside a network namespace (`ip netns exec NS ...`). Collects stdout/stderr and the
// exit status; bounded by a kill timer. Ends only the processes it started, by PID.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { join } from "node:path";

export const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
export const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
export const runtimeName = isDeno ? "deno" : "node";

/** argv that runs the CLI with the current runtime. */
export function cliArgv(args: string[]): string[] {
  const bin = join(root, "bin", "mptcp.mjs");
  return isDeno ? [process.execPath, "run", "-A", bin, ...args] : [process.execPath, bin, ...args];
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
  /** The stdout text so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr (or stdout) contains `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts a command (argv[0] = program), optionally in a network namespace. */
export function start(argv: string[], opts: { netns?: string; killAfterMs?: number } = {}): CliRun {
  const full = opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  child.stdout!.on("data", (d) => {
    out += String(d);
    waiters.forEach((w) => w());
  });
  child.stderr!.on("data", (d) => {
    err += String(d);
    waiters.forEach((w) => w());
  });
  const kill = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
  }, opts.killAfterMs ?? 60_000);
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    done,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (re.test(out) || re.test(err)) {
            clearTimeout(t);
            resolve();
          }
        };
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} (stdout: ${out.slice(-500)} stderr: ${err.slice(-500)})`)), timeoutMs);
        waiters.push(check);
        check();
        void done.then(() => {
          if (!(re.test(out) || re.test(err))) {
            clearTimeout(t);
            reject(new Error(`process exited before ${re} (stdout: ${out.slice(-500)} stderr: ${err.slice(-500)})`));
          }
        });
      }),
  };
}

/** Kills a process we started (by its PID) if it is still running. */
export function stop(run: CliRun | undefined): void {
  if (run && run.child.pid !== undefined && run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
}

/** The last line of stdout parsed as JSON. */
export function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** A UDP port that was free a moment ago on `address`. */
export async function freeUdpPort(address: string): Promise<number> {
  const s = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
