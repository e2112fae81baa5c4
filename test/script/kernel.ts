// Runs scripts against the Linux kernel itself (packetdrill's set-up: the kernel behind a TUN
// device in a network namespace this tool creates and deletes), to check that a script says
// what Linux does. Needs root, /dev/net/tun, iproute2; Node (koffi). Real time: scripts whose
// timeline is longer than --max-seconds (default 20) are skipped.
//   node --import tsx test/script/kernel.ts [-v] [--max-seconds=N] FILE.pkt ...
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseScript } from "../../adapters/script/index.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const args = process.argv.slice(2);
const verbose = args.includes("-v");
const maxSec = Number(args.find((a) => a.startsWith("--max-seconds="))?.split("=")[1] ?? 20);
const files = args.filter((a) => !a.startsWith("-"));

function sh(argv: string[], check = true): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 15_000 });
  if (check && r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** The script's last event time in seconds (relative times summed), to bound real-time runs. */
function duration(text: string, file: string): number {
  let t = 0;
  for (const ev of parseScript(text, file).events) {
    if (ev.time?.kind === "relative") t += ev.time.usecs / 1e6;
    else if (ev.time?.kind === "absolute") t = ev.time.usecs / 1e6;
  }
  return t;
}

let n = 0;
const summary: string[] = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  let script: ReturnType<typeof parseScript>;
  let d: number;
  try {
    script = parseScript(text, file);
    d = duration(text, file);
  } catch (e) {
    summary.push(`FAIL ${file}\n  ${e instanceof Error ? e.message : String(e)}`);
    continue;
  }
  if (d > maxSec) {
    summary.push(`SKIP ${file} (timeline ${d.toFixed(1)} s > ${maxSec} s of real time)`);
    continue;
  }
  const v6 = script.options.some((o) => o.name === "ip_version" && o.value === "ipv6");
  const local = script.options.find((o) => o.name === "local_ip")?.value ?? (v6 ? "2001:2::1:1" : "198.18.0.1");
  const ns = `pd-${process.pid}-${++n}`;
  sh(["ip", "netns", "add", ns]);
  try {
    sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    sh(["ip", "netns", "exec", ns, "ip", "tuntap", "add", "dev", "pd0", "mode", "tun"]);
    if (v6) sh(["ip", "-n", ns, "-6", "addr", "add", `${local}/64`, "dev", "pd0", "nodad"]);
    else sh(["ip", "-n", ns, "addr", "add", `${local}/16`, "dev", "pd0"]);
    sh(["ip", "-n", ns, "link", "set", "pd0", "up"]);
    const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", join(root, "test", "script", "kernel", "child.ts"), file], {
      encoding: "utf8",
      timeout: Math.ceil((d + 30) * 1000),
      cwd: root,
    });
    const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
    let res: { status: string; message?: string; log: string[] };
    try {
      res = JSON.parse(line);
    } catch {
      res = { status: "error", message: `${r.stderr}`.slice(0, 2000), log: [] };
    }
    summary.push(`${res.status === "pass" ? "PASS" : res.status === "skip" ? "SKIP" : "FAIL"} ${file}${res.message ? `\n  ${res.message.replace(/\n/g, "\n  ")}` : ""}`);
    if (verbose && res.status !== "pass") summary.push(res.log.map((l) => `    ${l}`).join("\n"));
  } finally {
    sh(["ip", "netns", "del", ns], false);
  }
}
console.log(summary.join("\n"));
