// Interop, MPTCP (issue 7 cases 1-8): our stack (the CLI: driver, TUN/UDP ports, core/mptcp
// Endpoint) against the Linux kernel's MPTCP, in network namespaces each test creates and
// deletes. The kernel side is a small Python program (socket(AF_INET[6], SOCK_STREAM, 262));
// the oracles are the kernel's MPTcpExt* counters (nstat -asz in the namespace), its own view of
// the socket (struct mptcp_info: subflows, checksums), byte-exact SHA-256 on both sides, and the
// pcaps decoded by tshark. Runs under the runtime running this file (Node or Deno).
//
// Topology: one TUN device per path; the kernel's address on tunI is 198.18.I.1 (IPv6
// 2001:2:0:I::1), ours 198.18.I.2 (2001:2:0:I::2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MPTCP_AVAILABLE } from "../../adapters/cli/main.ts";
import { patternBytes } from "../../adapters/cli/app.ts";
import { cliArgv, lastJson, root, runtimeName, start, stop } from "../adapters/cli_helpers.ts";
import type { CliRun } from "../adapters/cli_helpers.ts";
import { interopSkip, requireInterop, withNetns } from "./netns.ts";
import type { Netns } from "./netns.ts";
import { createHash } from "node:crypto";

const PY_SERVER = join(root, "test", "interop", "echo_server.py");
const PY_CLIENT = join(root, "test", "interop", "client.py");
const skip = interopSkip(MPTCP_AVAILABLE ? undefined : "MPTCP endpoint not yet available");
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const haveTshark = spawnSync("tshark", ["--version"]).status === 0;

const k4 = (i: number): string => `198.18.${i}.1`;
const o4 = (i: number): string => `198.18.${i}.2`;
const k6 = (i: number): string => `2001:2:0:${i}::1`;
const o6 = (i: number): string => `2001:2:0:${i}::2`;

/** TUN paths 0..n-1 with the kernel's addresses on them. */
function tunPaths(ns: Netns, n: number, v6 = false): void {
  for (let i = 0; i < n; i++) ns.addTun(`tun${i}`, [v6 ? `${k6(i)}/64` : `${k4(i)}/24`]);
}

function pyJson(text: string): Record<string, unknown> {
  const lines = text.trim().split("\n").filter((l) => l.startsWith("{"));
  assert.ok(lines.length > 0, `no JSON from the kernel side: ${text}`);
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

function pyServer(ns: Netns, args: string[]): CliRun {
  return start(ns.wrap(["python3", PY_SERVER, "--timeout", "30", ...args]), { killAfterMs: 60_000 });
}

function counters(j: Record<string, unknown>): Record<string, number> {
  return j.counters as Record<string, number>;
}

function subflows(j: Record<string, unknown>): Array<{ local: string; remote: string; backup: boolean; bytesSent: number; bytesReceived: number }> {
  return j.subflows as Array<{ local: string; remote: string; backup: boolean; bytesSent: number; bytesReceived: number }>;
}

async function finish(run: CliRun, what: string): Promise<Record<string, unknown>> {
  const r = await run.done;
  assert.equal(r.code, 0, `${what} exited ${r.code ?? r.signal}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return lastJson(r.stdout);
}

/** Fields tshark prints for every packet of a pcap (MPTCP decoding on). */
function tshark(pcap: string, fields: string[], filter: string): string[][] {
  // Two passes (-2): the DSS checksum is decoded only once the handshake's A flag is known.
  const r = spawnSync("tshark", ["-r", pcap, "-2", "-Y", filter, "-T", "fields", ...fields.flatMap((f) => ["-e", f])], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? r.stdout.trim().split("\n").map((l) => l.split("\t")) : [];
}

/** The length of the MPTCP option (kind 30) of every packet matching `filter`. */
function dssLengths(pcap: string, filter: string): number[] {
  return tshark(pcap, ["tcp.option_kind", "tcp.option_len"], filter).map(([kinds, lens]) => {
    // option_len lists lengths only for options that have one (not EOL 0 / NOP 1).
    const k = (kinds ?? "").split(",").filter((x) => x !== "0" && x !== "1");
    const l = (lens ?? "").split(",");
    return Number(l[k.indexOf("30")]);
  });
}

/**
 * The data segments the kernel sent from `src` to `dst` (pcap order), each with the data
 * sequence range it carries: mapping DSN + (subflow seq - mapping SSN), both relative as tshark
 * prints them. `range` is undefined for a segment without a DSS mapping.
 */
function kernelData(pcap: string, src: string, dst: string): Array<{ frame: number; len: number; seq: number; range?: [bigint, bigint] }> {
  const fields = ["frame.number", "tcp.len", "tcp.seq", "tcp.options.mptcp.rawdataseqno", "tcp.options.mptcp.subflowseqno"];
  return tshark(pcap, fields, `ip.src == ${src} && ip.dst == ${dst} && tcp.len > 0`).map(([fr, len, seq, dsn, ssn]) => {
    const first = (x: string | undefined): string => (x ?? "").split(",")[0]!;
    const l = Number(len);
    if (!first(dsn) || !first(ssn)) return { frame: Number(fr), len: l, seq: Number(seq) };
    const start = BigInt(first(dsn)) + BigInt(Number(seq) - Number(first(ssn)));
    return { frame: Number(fr), len: l, seq: Number(seq), range: [start, start + BigInt(l)] };
  });
}

/** Distinct subflow bytes among segments (a TCP retransmission appears twice in a pcap). */
function distinctBytes(segs: Array<{ seq: number; len: number }>): number {
  let total = 0;
  let end = -Infinity;
  for (const { seq, len } of [...segs].sort((a, b) => a.seq - b.seq)) {
    const from = Math.max(seq, end);
    if (seq + len > from) total += seq + len - from;
    end = Math.max(end, seq + len);
  }
  return total;
}

/** True when [lo, hi) lies inside the union of `ranges`. */
function covered(lo: bigint, hi: bigint, ranges: Array<[bigint, bigint]>): boolean {
  let pos = lo;
  for (const [a, b] of [...ranges].filter(([a, b]) => b > lo && a < hi).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (a > pos) break;
    if (b > pos) pos = b;
  }
  return pos >= hi;
}

for (const v6 of [false, true]) {
  const fam = v6 ? "IPv6" : "IPv4";
  const K = v6 ? k6 : k4;
  const O = v6 ? o6 : o4;
  const hp = (a: string, p: number): string => (v6 ? `[${a}]:${p}` : `${a}:${p}`);
  const caseNo = v6 ? 7 : 1;

  test(`interop mptcp ${caseNo} (${runtimeName}, ${fam}): our client, two TUN paths with join, to the kernel's MPTCP echo server`, { skip }, async () => {
    requireInterop();
    await withNetns(`m${caseNo}`, async (ns) => {
      tunPaths(ns, 2, v6);
      ns.mptcpLimits(2, 2);
      const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
      let py: CliRun | undefined;
      let ours: CliRun | undefined;
      try {
        py = pyServer(ns, ["--addr", v6 ? "::" : "0.0.0.0", "--port", "5000", "--mptcp"]);
        await py.waitFor(/READY/);
        const n = 8 * 1024 * 1024;
        const pcap = join(dir, "c.pcap");
        ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${O(0)}`, "--tun", `tun1=${O(1)}`, "--connect", hp(K(0), 5000), "--send", String(n), "--pcap", pcap, "--json", "--timeout", "40"])));
        const j = await finish(ours, "our client");
        const kj = pyJson((await py.done).stdout);
        assert.equal(kj.error, undefined, String(kj.error));
        // Bytes: exact both ways, as each side sees them.
        assert.equal(j.sha256Sent, sha(patternBytes(n)));
        assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received exactly what we sent");
        assert.equal(j.sha256Received, kj.sha256_out, "we received exactly what the kernel echoed");
        assert.equal(j.bytesReceived, n);
        // MPTCP on both sides, two subflows, both carrying data.
        assert.equal(j.mptcp, true);
        assert.equal(kj.mptcp, true, "the kernel's socket is MPTCP (MPTCP_INFO answered)");
        assert.equal(kj.max_subflows, 1, "the kernel saw one extra subflow, the join (mptcp_info.subflows)");
        const subs = subflows(j);
        assert.equal(subs.length, 2);
        assert.ok(subs.every((s) => s.bytesSent > 0 && s.bytesReceived > 0), JSON.stringify(subs));
        // The kernel's counters.
        const c = ns.nstat();
        assert.equal(c.MPTcpExtMPCapableSYNRX, 1);
        assert.equal(c.MPTcpExtMPCapableACKRX, 1);
        assert.equal(c.MPTcpExtMPJoinSynRx, 1);
        assert.equal(c.MPTcpExtMPJoinAckRx, 1);
        for (const bad of ["MPTcpExtMPJoinAckHMacFailure", "MPTcpExtDSSNotMatching", "MPTcpExtInfiniteMapRx", "MPTcpExtDataCsumErr", "MPTcpExtMPCapableFallbackACK", "MPTcpExtMPRstRx", "MPTcpExtMPFastcloseRx"]) {
          assert.equal(c[bad] ?? 0, 0, `kernel ${bad}`);
        }
        // Our counters line up with the kernel's.
        const oc = counters(j);
        assert.equal(oc.MPTcpExtMPCapableSYNTX, 1);
        assert.equal(oc.MPTcpExtMPJoinSynTx, 1);
        assert.equal(oc.MPTcpExtMPJoinSynAckRx, 1);
        if (haveTshark) {
          // tshark decodes our pcap: MP_CAPABLE handshake, MP_JOIN, DATA_FINs from both sides.
          const joins = tshark(pcap, ["ip.src", "ipv6.src"], "tcp.options.mptcp.subtype == 1");
          assert.ok(joins.length >= 3, `MP_JOIN packets in the pcap: ${joins.length}`);
          const fins = tshark(pcap, ["tcp.srcport"], "tcp.options.mptcp.datafin.flag == 1");
          assert.ok(fins.length >= 2, `DATA_FIN packets: ${fins.length}`);
        }
      } finally {
        stop(ours);
        stop(py);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

for (const v6 of [false, true]) {
  const O = v6 ? o6 : o4;
  test(`interop mptcp 2 (${runtimeName}, ${v6 ? "IPv6" : "IPv4"}): the kernel's MPTCP client to our server, which announces its second address (ADD_ADDR)`, { skip }, async () => {
    requireInterop();
    await withNetns(v6 ? "m2v6" : "m2", async (ns) => {
      tunPaths(ns, 2, v6);
      ns.mptcpLimits(2, 2);
      let ours: CliRun | undefined;
      try {
        ours = start(ns.wrap(cliArgv(["server", "--tun", `tun0=${O(0)}`, "--tun", `tun1=${O(1)}`, "--port", "6000", "--announce", O(1), "--echo", "--once", "--json", "--timeout", "40"])));
        await ours.waitFor(/listening on port/);
        const n = 8 * 1024 * 1024;
        const k = ns.exec(["python3", PY_CLIENT, "--addr", O(0), "--port", "6000", "--bytes", String(n), "--mptcp", "--timeout", "30"], { check: false, timeoutMs: 45_000 });
        const kj = pyJson(k.stdout);
        const j = await finish(ours, "our server");
        assert.equal(kj.error, undefined, `kernel client: ${String(kj.error)}\n${k.stderr}`);
        assert.equal(kj.bytes_in, n);
        assert.equal(kj.sha256_in, kj.sha256_out, "echo byte-exact as the kernel sees it");
        assert.equal(j.sha256Received, kj.sha256_out);
        assert.equal(j.mptcp, true);
        assert.equal(kj.mptcp, true);
        assert.equal(kj.add_addr_accepted, 1, "the kernel accepted our ADD_ADDR");
        assert.equal(kj.max_subflows, 1, "and joined to the announced address (one extra subflow)");
        const c = ns.nstat();
        assert.equal(c.MPTcpExtMPCapableSYNACKRX, 1);
        assert.equal(c.MPTcpExtAddAddr, 1, "ADD_ADDR received (HMAC valid)");
        assert.equal(c.MPTcpExtMPJoinSynAckRx, 1);
        assert.equal(c.MPTcpExtMPJoinSynAckHMacFailure ?? 0, 0);
        const oc = counters(j);
        assert.equal(oc.MPTcpExtMPCapableSYNRX, 1);
        assert.equal(oc.MPTcpExtAddAddrTx, 1);
        assert.equal(oc.MPTcpExtEchoAdd, 1, "the kernel echoed our ADD_ADDR");
        assert.equal(oc.MPTcpExtMPJoinAckRx, 1);
        const subs = subflows(j);
        assert.equal(subs.length, 2);
        assert.ok(subs.some((s) => s.local.replace(/^\[/, "").startsWith(O(1) + (v6 ? "]" : ":"))), `a subflow on the announced address: ${JSON.stringify(subs)}`);
      } finally {
        stop(ours);
      }
    });
  });
}

test(`interop mptcp 3 (${runtimeName}): DSS checksums requested by us (--checksum), honoured by the kernel`, { skip }, async () => {
  requireInterop();
  await withNetns("m3", async (ns) => {
    tunPaths(ns, 2);
    ns.mptcpLimits(2, 2);
    const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000", "--mptcp"]);
      await py.waitFor(/READY/);
      const n = 2 * 1024 * 1024;
      const pcap = join(dir, "c.pcap");
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5000`, "--checksum", "--send", String(n), "--pcap", pcap, "--json", "--timeout", "40"])));
      const j = await finish(ours, "our client");
      const kj = pyJson((await py.done).stdout);
      assert.equal(j.mptcp, true);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out);
      assert.equal(kj.csum_enabled, true, "the kernel's socket has checksums on (mptcp_info.csum_enabled)");
      const c = ns.nstat();
      assert.equal(c.MPTcpExtDataCsumErr ?? 0, 0, "no checksum errors at the kernel");
      assert.equal(c.MPTcpExtMPFailRx ?? 0, 0);
      assert.equal(counters(j).MPTcpExtDataCsumErr, 0, "no checksum errors at our side");
      if (haveTshark) {
        // Every data segment, from the kernel and from us, carries a DSS mapping of 28 bytes:
        // 4 + DATA_ACK (8) + DSN (8) + SSN (4) + length (2) + checksum (2). Without checksums it
        // is 26 (tshark does not print the DSS checksum field itself, so the length tells). Our
        // DATA_ACK is 32-bit (24 bytes with the checksum) until the kernel's data arrives with
        // 64-bit DSNs, as Linux (use_64bit_ack).
        for (const src of [k4(0), o4(0), o4(1)]) {
          const lens = dssLengths(pcap, `ip.src == ${src} && tcp.len > 0 && tcp.options.mptcp.subtype == 2`);
          assert.ok(lens.length > 10, `${src}: data segments with DSS: ${lens.length}`);
          const bad = lens.filter((l) => l !== 28 && !(src !== k4(0) && l === 24));
          assert.equal(bad.length, 0, `${src}: DSS lengths other than 28: ${[...new Set(bad)].join(",")}`);
        }
      }
    } finally {
      stop(ours);
      stop(py);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Found by this case: in fallback, MptcpConnection.shutdown() let the subflow send its FIN while
// bytes were still in the connection-level send buffer (the kernel's plain-TCP server got EOF
// after 195480 / 283808 of 1048576 bytes). Fixed in 39d6ce9.
test(`interop mptcp 4a (${runtimeName}): our MPTCP client falls back to TCP against the kernel's plain TCP server`, { skip }, async () => {
  requireInterop();
  await withNetns("m4a", async (ns) => {
    tunPaths(ns, 2);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000"]);
      await py.waitFor(/READY/);
      const n = 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5000`, "--send", String(n), "--json", "--timeout", "30"])));
      const j = await finish(ours, "our client");
      const kj = pyJson((await py.done).stdout);
      assert.equal(j.mptcp, false, "fell back to TCP");
      assert.equal(kj.bytes_in, n);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out);
      assert.equal(counters(j).MPTcpExtMPCapableFallbackSYNACK, 1);
      assert.equal(subflows(j).length, 1, "no join after fallback");
      assert.equal(ns.nstat().MPTcpExtMPCapableSYNRX ?? 0, 0, "the kernel's plain TCP listener ignored MP_CAPABLE");
    } finally {
      stop(ours);
      stop(py);
    }
  });
});

test(`interop mptcp 4b (${runtimeName}): the kernel's MPTCP client falls back to TCP against our --no-mptcp server`, { skip }, async () => {
  requireInterop();
  await withNetns("m4b", async (ns) => {
    tunPaths(ns, 1);
    let ours: CliRun | undefined;
    try {
      const n = 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["server", "--tun", `tun0=${o4(0)}`, "--port", "6000", "--no-mptcp", "--echo", "--once", "--json", "--timeout", "30"])));
      await ours.waitFor(/listening on port/);
      const k = ns.exec(["python3", PY_CLIENT, "--addr", o4(0), "--port", "6000", "--bytes", String(n), "--mptcp", "--timeout", "20"], { check: false, timeoutMs: 30_000 });
      const kc = pyJson(k.stdout);
      const sj = await finish(ours, "our server");
      assert.equal(kc.error, undefined, String(kc.error));
      assert.equal(kc.mptcp, false, "the kernel's socket fell back (MPTCP_INFO refused)");
      assert.equal(kc.bytes_in, n);
      assert.equal(kc.sha256_in, kc.sha256_out);
      assert.equal(sj.sha256Received, kc.sha256_out);
      assert.equal(sj.mptcp, false);
      assert.equal(ns.nstat().MPTcpExtMPCapableFallbackSYNACK, 1, "kernel counted the fallback");
    } finally {
      stop(ours);
    }
  });
});

test(`interop mptcp 5 (${runtimeName}): MP_PRIO and REMOVE_ADDR from the kernel mid-transfer; MP_FASTCLOSE from us on abort`, { skip }, async () => {
  requireInterop();
  await withNetns("m5", async (ns) => {
    tunPaths(ns, 2);
    ns.mptcpLimits(2, 2);
    // The kernel announces 198.18.1.1 (id 5). Its sends to us are rate-limited (tbf on the
    // devices) so the echo transfer lasts long enough for the endpoint changes. (Echo, not
    // source: Linux rejects joins once it has our DATA_FIN, so our client keeps sending.)
    ns.mptcpEndpoint(k4(1), ["id", "5", "signal"]);
    for (const d of ["tun0", "tun1"]) ns.exec(["tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", "24mbit", "burst", "32kbit", "latency", "400ms"]);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      const n = 8 * 1024 * 1024;
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000", "--mptcp"]);
      await py.waitFor(/READY/);
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5000`, "--send", String(n), "--json", "--timeout", "40"])));
      // Wait until the subflow to the announced address is established at the kernel, then
      // change its priority (MP_PRIO), then remove the address (REMOVE_ADDR).
      const until = Date.now() + 10_000;
      let seen = false;
      while (Date.now() < until && !seen) {
        seen = ns.ss(["-tnH", "state", "established", "src", k4(1)]).trim() !== "";
        if (!seen) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(seen, "a subflow to the announced address appeared");
      ns.ip("mptcp", "endpoint", "change", "id", "5", "backup");
      await new Promise((r) => setTimeout(r, 300));
      ns.ip("mptcp", "endpoint", "delete", "id", "5");
      const j = await finish(ours, "our client");
      const kj = pyJson((await py.done).stdout);
      assert.equal(j.bytesReceived, n);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out, "the whole stream arrived byte-exact after the removal");
      const c = ns.nstat();
      assert.ok((c.MPTcpExtMPPrioTx ?? 0) >= 1, "kernel sent MP_PRIO");
      if (c.MPTcpExtRmAddrTx !== undefined) assert.ok(c.MPTcpExtRmAddrTx >= 1, "kernel sent REMOVE_ADDR");
      const oc = counters(j);
      assert.ok(oc.MPTcpExtMPPrioRx! >= 1, `we received MP_PRIO (${oc.MPTcpExtMPPrioRx})`);
      assert.equal(oc.MPTcpExtRmAddr, 1, "we received REMOVE_ADDR");
      assert.ok(oc.MPTcpExtRmSubflow! >= 1, "and closed the subflow to the removed address");
    } finally {
      stop(ours);
      stop(py);
    }
    // MP_FASTCLOSE: our client gives up (timeout after 1.5 s, long before 1 GiB could pass)
    // mid-transfer and aborts the connection.
    let py2: CliRun | undefined;
    let ours2: CliRun | undefined;
    try {
      py2 = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5001", "--mptcp", "--mode", "sink"]);
      await py2.waitFor(/READY/);
      ours2 = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5001`, "--send", String(1024 * 1024 * 1024), "--json", "--timeout", "1.5"])));
      const r = await ours2.done;
      assert.equal(r.code, 1, "an aborted transfer exits 1");
      const j = lastJson(r.stdout);
      assert.equal(j.ok, false);
      assert.match(String(j.error), /timeout/);
      assert.ok(counters(j).MPTcpExtMPFastcloseTx! >= 1, `we sent MP_FASTCLOSE (${counters(j).MPTcpExtMPFastcloseTx})`);
      const kj = pyJson((await py2.done).stdout);
      assert.match(String(kj.error ?? ""), /ConnectionResetError|reset/i, "the kernel's socket was reset");
      assert.ok((ns.nstat().MPTcpExtMPFastcloseRx ?? 0) >= 1, "kernel counted MP_FASTCLOSE");
    } finally {
      stop(ours2);
      stop(py2);
    }
  });
});

test(`interop mptcp 5b (${runtimeName}): --backup path: the kernel sees a backup join (ss) and sends no new data on it (reinjections only)`, { skip }, async () => {
  requireInterop();
  await withNetns("m5b", async (ns) => {
    tunPaths(ns, 2);
    ns.mptcpLimits(2, 2);
    for (const d of ["tun0", "tun1"]) ns.exec(["tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", "24mbit", "burst", "32kbit", "latency", "400ms"]);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
    const pcap = join(dir, "c.pcap");
    let keep = true; // the pcap stays for a failed run
    try {
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000", "--mptcp"]);
      await py.waitFor(/READY/);
      const n = 4 * 1024 * 1024;
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--backup", o4(1), "--connect", `${k4(0)}:5000`, "--send", String(n), "--pcap", pcap, "--json", "--timeout", "40"])));
      // While the transfer runs: ss -M shows the MPTCP socket with one extra subflow, and
      // ss -ti shows the join subflow from our backup address with flags J (join) and B (backup).
      let msk = "";
      let sub = "";
      const until = Date.now() + 10_000;
      while (Date.now() < until && !(/subflows:1/.test(msk) && /flags:\S*J\S*B/.test(sub))) {
        msk = ns.ss(["-Mni"]);
        sub = ns.ss(["-tni", "dst", o4(1)]);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(msk, /subflows:1/, "ss -M: one extra subflow");
      assert.match(sub, /tcp-ulp-mptcp flags:\S*J\S*B/, "ss -ti: the join from the backup address is a backup subflow at the kernel");
      const j = await finish(ours, "our client");
      const kj = pyJson((await py.done).stdout);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out);
      const subs = subflows(j);
      const bk = subs.find((x) => x.local.startsWith(o4(1) + ":"));
      const main = subs.find((x) => x.local.startsWith(o4(0) + ":"));
      assert.ok(bk && main, JSON.stringify(subs));
      assert.equal(bk.backup, true);
      assert.equal(main.backup, false);
      // What Linux guarantees for a subflow its peer marked backup (net/mptcp/protocol.c):
      // - new data: mptcp_subflow_get_send() schedules a backup subflow only when no regular
      //   subflow is active, and the regular one stops being active only when it goes stale
      //   (MPTcpExtSubflowStale: stale_loss_cnt retransmission periods without progress);
      // - reinjection: the MPTCP-level retransmission timer (__mptcp_retrans, each send counted in
      //   MPTcpExtMPTCPRetrans) resends bytes already sent, on the subflow
      //   mptcp_subflow_get_retrans() picks: the backup one when the regular one still has data
      //   in flight and made no progress for 2 timer periods. On a loaded machine our client is
      //   starved of CPU for a few hundred ms, acks nothing meanwhile, and the kernel reinjects a
      //   chunk (one DSS mapping, < 64 KiB) on the backup path, long before SubflowStale.
      // So, while the regular subflow never went stale: every byte the kernel sent on the backup
      // path is a reinjection, a data range it had sent on the regular subflow before (pcap), and
      // there is at most one mapping per MPTcpExtMPTCPRetrans.
      const kc = ns.nstat();
      const stale = kc.MPTcpExtSubflowStale ?? 0;
      const reinjected = kc.MPTcpExtMPTCPRetrans ?? 0;
      const diag = `kernel: SubflowStale ${stale}, SubflowRecover ${kc.MPTcpExtSubflowRecover ?? 0}, MPTCPRetrans ${reinjected}, TcpRetransSegs ${kc.TcpRetransSegs ?? 0}; pcap ${pcap}, kept if the case fails`;
      if (stale === 0) {
        assert.ok(bk.bytesReceived < 65536 * reinjected || bk.bytesReceived === 0, `the kernel sent ${bk.bytesReceived} B on the backup subflow: more than ${reinjected} reinjection(s) (${diag})`);
        if (bk.bytesReceived > 0) console.log(`interop 5b: ${bk.bytesReceived} B reinjected on the backup path (${diag})`);
        if (bk.bytesReceived > 0 && haveTshark) {
          const onBackup = kernelData(pcap, k4(0), o4(1));
          const onMain = kernelData(pcap, k4(0), o4(0));
          // Sent before on the regular subflow; where the kernel also retransmitted at TCP level
          // (a tbf drop on the regular path), the original may reach us after the reinjection.
          const anyOrder = (kc.TcpRetransSegs ?? 0) > 0;
          const fresh = onBackup.filter((b) => !b.range || !covered(b.range[0], b.range[1], onMain.filter((m) => anyOrder || m.frame < b.frame).map((m) => m.range!).filter((r) => r)));
          assert.deepEqual(fresh, [], `new data (not a reinjection) on the backup subflow while the regular one was not stale (${diag})`);
          // Distinct bytes: a TCP-level retransmission on the backup subflow (TcpRetransSegs) is in the pcap twice.
          assert.equal(distinctBytes(onBackup), bk.bytesReceived, "the pcap holds every byte the backup subflow received");
        }
      } else assert.ok(bk.bytesReceived < n / 4, `regular subflow went stale ${stale}x; backup carried ${bk.bytesReceived} B (${diag})`);
      assert.equal(bk.bytesSent, 0, "we sent no data on the backup subflow");
      assert.ok(main.bytesReceived >= n - bk.bytesReceived);
      keep = false;
    } finally {
      stop(ours);
      stop(py);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  });
});

test(`interop mptcp 6 (${runtimeName}): a path goes down mid-transfer; the transfer completes on the other`, { skip }, async () => {
  requireInterop();
  await withNetns("m6", async (ns) => {
    tunPaths(ns, 2);
    ns.mptcpLimits(2, 2);
    for (const d of ["tun0", "tun1"]) ns.exec(["tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", "24mbit", "burst", "32kbit", "latency", "400ms"]);
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
    const pcap = join(dir, "c.pcap");
    let keep = true; // the pcap stays for a failed run
    try {
      const n = 6 * 1024 * 1024;
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000", "--mptcp"]);
      await py.waitFor(/READY/);
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5000`, "--send", String(n), "--pcap", pcap, "--json", "--timeout", "50"])));
      // Once the join over tun1 is established and carrying data, take tun1 down.
      const until = Date.now() + 15_000;
      let joined = false;
      while (Date.now() < until && !joined) {
        joined = ns.ss(["-tnH", "state", "established", "dst", o4(1)]).trim() !== "";
        if (!joined) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(joined, "the join over tun1 was established");
      await new Promise((r) => setTimeout(r, 200));
      ns.ip("link", "set", "tun1", "down");
      const r = await ours.done;
      if (r.code !== 0) {
        const c = ns.nstat();
        const kernel = Object.entries(c).filter(([k, v]) => v !== 0 && /^(MPTcpExt|TcpRetransSegs|TcpExtTCPTimeouts|TcpExtTCPLossProbes)/.test(k)).map(([k, v]) => `${k} ${v}`).join(", ");
        stop(py);
        assert.fail(`our client exited ${r.code ?? r.signal}:\n${r.stderr}\n${r.stdout.slice(-2000)}\nkernel side: ${(await py.done).stdout.slice(-500)}\nkernel counters: ${kernel}\npcap ${pcap}`);
      }
      const j = lastJson(r.stdout);
      const kj = pyJson((await py.done).stdout);
      assert.equal(j.bytesReceived, n);
      assert.equal(kj.sha256_in, j.sha256Sent);
      assert.equal(j.sha256Received, kj.sha256_out, "byte-exact despite the path failure");
      assert.equal(kj.max_subflows, 1, "the join was up before the failure");
      const subs = subflows(j);
      assert.ok(subs.length >= 2);
      keep = false;
    } finally {
      stop(ours);
      stop(py);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Found by case 6 (2 of ~45 runs under load): the kernel's last segment on the join carried a
// zero receive window (its application was behind), then the join's path died; the window
// reopened through the first subflow only. Our sender stopped for good, 64 KiB short: the default
// scheduler had reserved a burst for the join (idle, lowest linger time), which could not send
// into its zero TCP window; its zero-window probes went to the dead path and do not count
// towards stale; the healthy subflow sat idle with an open window. Linux as a sender raises a
// subflow's TCP window to the connection-level one (mptcp_check_allowed_size, MPTcpExtSndWndShared),
// so the burst goes out, is lost, and is reinjected on the other subflow. Deterministic here: the
// kernel's sink does not read until the join's path is down. Fixed (h14): the default scheduler
// gives no burst to a subflow whose TCP send window is closed and takes back the one it holds
// (core/scheduler/linger.ts; simulator repro in test/mptcp/zero_window.test.ts).
test(`interop mptcp 6b (${runtimeName}): the join's path dies while the kernel's window on it is zero; the rest goes over the first subflow`, { skip }, async () => {
  requireInterop();
  await withNetns("m6b", async (ns) => {
    tunPaths(ns, 2);
    ns.mptcpLimits(2, 2);
    const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
    const pcap = join(dir, "c.pcap");
    const flag = join(dir, "read");
    let keep = true; // the pcap stays for a failed run
    let py: CliRun | undefined;
    let ours: CliRun | undefined;
    try {
      const n = 4 * 1024 * 1024;
      py = pyServer(ns, ["--addr", "0.0.0.0", "--port", "5000", "--mptcp", "--mode", "sink", "--rcvbuf", "262144", "--read-after", flag]);
      await py.waitFor(/READY/);
      ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${o4(0)}`, "--tun", `tun1=${o4(1)}`, "--connect", `${k4(0)}:5000`, "--send", String(n), "--pcap", pcap, "--json", "--timeout", "30"])));
      await py.waitFor(/PAUSED/);
      // The join carried data and then stopped: the kernel's window is closed on it.
      const until = Date.now() + 15_000;
      let last = -1;
      let stableSince = Date.now();
      while (Date.now() < until) {
        const m = /bytes_received:(\d+)/.exec(ns.ss(["-tniH", "state", "established", "dst", o4(1)]));
        const got = m ? Number(m[1]) : -1;
        if (got !== last) [last, stableSince] = [got, Date.now()];
        else if (got > 0 && Date.now() - stableSince >= 500) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(last > 0 && Date.now() < until, `the join received data, then none (bytes_received ${last})`);
      ns.ip("link", "set", "tun1", "down");
      writeFileSync(flag, "");
      const j = await finish(ours, "our client");
      const kj = pyJson((await py.done).stdout);
      assert.equal(kj.bytes_in, n);
      assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received exactly what we sent");
      keep = false;
    } finally {
      stop(ours);
      stop(py);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  });
});

test(`interop mptcp 8 (${runtimeName}): two instances of our stack over UDP (TCP-in-UDP) in a namespace, two paths, join`, { skip }, async () => {
  requireInterop();
  await withNetns("m8", async (ns) => {
    for (const a of [k4(0), k4(1), o4(0), o4(1)]) ns.ip("addr", "add", `${a}/32`, "dev", "lo");
    let srv: CliRun | undefined;
    try {
      srv = start(ns.wrap(cliArgv(["server", "--udp", `${k4(0)}:7000`, "--udp", `${k4(1)}:7000`, "--port", "7000", "--announce", k4(1), "--echo", "--once", "--json", "--timeout", "40"])));
      await srv.waitFor(/listening on port/);
      const n = 4 * 1024 * 1024;
      const c = start(ns.wrap(cliArgv(["client", "--udp", o4(0), "--udp", o4(1), "--connect", `${k4(0)}:7000`, "--send", String(n), "--json", "--timeout", "40"])));
      const j = await finish(c, "our client");
      const sj = await finish(srv, "our server");
      assert.equal(j.mptcp, true);
      assert.equal(j.sha256Received, sha(patternBytes(n)));
      assert.equal(sj.sha256Received, sha(patternBytes(n)));
      assert.ok(subflows(j).length >= 2, JSON.stringify(subflows(j)));
      assert.equal(counters(sj).MPTcpExtMPCapableSYNRX, 1);
      assert.ok(counters(sj).MPTcpExtMPJoinAckRx! >= 1);
      assert.equal(counters(j).MPTcpExtAddAddr, 1, "the client got the server's ADD_ADDR");
    } finally {
      stop(srv);
    }
  });
});

// Case 9: full mesh against the kernel's ADD_ADDR (reported from a manual run: our join from our
// FIRST address to the kernel's ANNOUNCED address "carried no data", the kernel counting one
// MPJoinSynRx). Topology: the kernel (server) on 198.18.0.1 (tun0) and 198.18.1.1 (tun1,
// `ip mptcp endpoint add 198.18.1.1 id 5 signal`), our client on 198.18.0.2 (tun0) and
// 198.18.1.2 (tun1), full-mesh path manager (the CLI's default; our second address is a subflow
// endpoint). A packet from one of our addresses to either kernel address goes out on the TUN
// device of our address; the kernel answers by its route to our address, the same device (its
// connected /24), so every pair is a path both ways: no routing artefact.
//
// Findings (pcaps of this case and of shorter runs):
// - Ours (fixed): on ADD_ADDR our full-mesh manager opened ONE subflow, from our initial address
//   to the announced one; the pair (our second address, the announced address) never got a
//   subflow. Now it opens one from every local subflow endpoint of the family as well, as Linux
//   does for endpoints with the fullmesh flag (pm_kernel.c fill_local_addresses_vec); and a
//   local address that appears later joins every announced address too. Within the subflows
//   limit: the mesh of 2 x 2 addresses needs 3 extra subflows (--max-subflows 3).
// - Ours (fixed, adapters/tun): with a short transfer (64 KiB, no tbf) the kernel's SYN/ACKs for
//   our joins over tun1 left the kernel at once (dumpcap on tun1) but our adapter read them only
//   after the transfer: it drained one device up to `batch` (256) packets before the next, and a
//   busy tun0 never ran empty (each packet we handle makes us write, and the kernel answers at
//   once). The joins over tun1 then carried nothing. Now the devices are read in turns of 16
//   packets (test/adapters/tun_drain.test.ts).
// - The kernel's (legitimate), behind "the join carried no data":
//   * Linux sends its ADD_ADDR from the PM worker, 10-40 ms after the connection is fully
//     established, so with a short transfer (64 KiB, no tbf) our joins to the announced address
//     reach the kernel around our DATA_FIN: the kernel counts MPJoinSynRx, sends its SYN/ACK, and
//     answers our third ACK with a plain RST (neither MPJoinAckRx nor MPJoinRejected counted)
//     once its MPTCP connection is closing; that subflow never carries data. This is the
//     reported symptom; legitimate (Linux joins subflows only to a connection in ESTABLISHED,
//     and as a client opens none after its DATA_FIN: ours now neither, core/path_manager).
//     Here the kernel's sends are rate-limited (tbf) so the transfer outlasts the joins.
//   * The kernel's `ip mptcp limits` subflows (default 2) caps extra subflows per connection:
//     with 2, the last of our three joins is refused (RST + MP_TCPRST, MPJoinRejected) and 3
//     of the 4 pairs carry data; case 9b asserts that. add_addr_accepted matters only on the
//     side that receives an ADD_ADDR (ours: --max-subflows sets both our limits).
// Oracles: our per-subflow byte counts, the kernel's per-subflow counters (ss -ti sampled
// during the transfer: bytes_acked, bytes_received), the pcap per 4-tuple, nstat.
/** An address in one spelling: IPv6 compressed, in brackets ("[2001:2::2]"). */
const canon = (a: string): string => (a.includes(":") ? new URL(`http://[${a.replace(/^\[|\]$/g, "")}]`).hostname : a);
/** "198.18.0.2:5000" / "[2001:2::2]:5000" -> canonical address. */
const addrOf = (hp: string): string => canon(hp.startsWith("[") ? hp.slice(1, hp.indexOf("]")) : hp.slice(0, hp.lastIndexOf(":")));

/** The kernel's subflows of port `port` (ss -tni), as "kernelAddr kernelPort ourAddr ourPort" -> counters. */
function kernelSubflows(ns: Netns, port: number): Map<string, { acked: number; received: number }> {
  const out = new Map<string, { acked: number; received: number }>();
  const recs = ns.ss(["-tniH", "state", "established", `( sport = :${port} )`]).split(/\n(?=\S)/);
  for (const r of recs) {
    // With a state filter ss prints no State column: Recv-Q Send-Q Local Peer.
    const m = /^\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)/.exec(r.trim());
    if (!m) continue;
    const key = `${canon(m[1]!)} ${canon(m[3]!)}:${m[4]}`;
    out.set(key, { acked: Number(/bytes_acked:(\d+)/.exec(r)?.[1] ?? 0), received: Number(/bytes_received:(\d+)/.exec(r)?.[1] ?? 0) });
  }
  return out;
}

/** Payload bytes per direction per 4-tuple in a pcap: "src:sport>dst:dport" -> bytes. */
function pcapBytes(pcap: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const [s4, s6, sp, d4, d6, dp, len] of tshark(pcap, ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.len"], "tcp.len > 0")) {
    const k = `${canon(s4 || s6!)}:${sp}>${canon(d4 || d6!)}:${dp}`;
    m.set(k, (m.get(k) ?? 0) + Number(len));
  }
  return m;
}

for (const v6 of [false, true]) {
  const fam = v6 ? "IPv6" : "IPv4";
  const K = v6 ? k6 : k4;
  const O = v6 ? o6 : o4;
  const hp = (a: string, p: number): string => (v6 ? `[${a}]:${p}` : `${a}:${p}`);
  for (const kernelSubflowLimit of [3, 2]) {
    const full = kernelSubflowLimit === 3;
    const name = full
      ? `interop mptcp 9 (${runtimeName}, ${fam}): full mesh to the kernel's announced address: every (ours, kernel's) address pair gets a subflow that carries data both ways`
      : `interop mptcp 9b (${runtimeName}, ${fam}): full mesh with the kernel's default subflows limit 2: the fourth join is refused, the three others carry data`;
    test(name, { skip }, async () => {
      requireInterop();
      await withNetns(full ? `m9${v6 ? "v6" : ""}` : `m9b${v6 ? "v6" : ""}`, async (ns) => {
        tunPaths(ns, 2, v6);
        ns.mptcpLimits(kernelSubflowLimit, 0);
        ns.mptcpEndpoint(K(1), ["id", "5", "signal"]);
        for (const d of ["tun0", "tun1"]) ns.exec(["tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", "24mbit", "burst", "32kbit", "latency", "400ms"]);
        const dir = mkdtempSync(join(tmpdir(), "mptcp-interop-"));
        const pcap = join(dir, "c.pcap");
        let keep = true; // the pcap stays for a failed run
        let py: CliRun | undefined;
        let ours: CliRun | undefined;
        try {
          py = pyServer(ns, ["--addr", v6 ? "::" : "0.0.0.0", "--port", "5000", "--mptcp"]);
          await py.waitFor(/READY/);
          const n = 6 * 1024 * 1024;
          ours = start(ns.wrap(cliArgv(["client", "--tun", `tun0=${O(0)}`, "--tun", `tun1=${O(1)}`, "--connect", hp(K(0), 5000), "--max-subflows", "3", "--send", String(n), "--pcap", pcap, "--json", "--timeout", "40"])));
          // The kernel's view of each subflow, sampled until our client is done (the last sample
          // before the sockets close holds the totals, give or take the final segments).
          let exited = false;
          void ours.done.then(() => (exited = true));
          const kview = new Map<string, { acked: number; received: number }>();
          while (!exited) {
            for (const [k, v] of kernelSubflows(ns, 5000)) {
              const o = kview.get(k);
              kview.set(k, { acked: Math.max(v.acked, o?.acked ?? 0), received: Math.max(v.received, o?.received ?? 0) });
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          const j = await finish(ours, "our client");
          const kj = pyJson((await py.done).stdout);
          assert.equal(kj.error, undefined, String(kj.error));
          assert.equal(kj.sha256_in, j.sha256Sent, "the kernel received exactly what we sent");
          assert.equal(j.sha256Received, kj.sha256_out, "we received exactly what the kernel echoed");
          assert.equal(j.mptcp, true);
          const c = ns.nstat();
          const subs = subflows(j);
          const diag = `ours: ${JSON.stringify(subs)}\nkernel (ss): ${JSON.stringify([...kview])}\nkernel: ${Object.entries(c).filter(([k, v]) => v && k.startsWith("MPTcpExt")).map(([k, v]) => `${k} ${v}`).join(", ")}\npcap ${pcap}`;
          const pairs = [0, 1].flatMap((l) => [0, 1].map((r) => `${canon(O(l))} ${canon(K(r))}`));
          const pairOf = (s: { local: string; remote: string }): string => `${addrOf(s.local)} ${addrOf(s.remote)}`;
          // Every pair got a subflow (our view); the kernel's limit decides how many it accepted.
          assert.deepEqual(subs.map(pairOf).sort(), [...pairs].sort(), `one subflow per address pair:\n${diag}`);
          assert.equal(c.MPTcpExtMPJoinSynRx, 3, `the kernel received our three joins\n${diag}`);
          assert.equal(kj.max_subflows, kernelSubflowLimit, `the kernel's extra subflows (mptcp_info.subflows)\n${diag}`);
          assert.equal(c.MPTcpExtMPJoinAckRx, kernelSubflowLimit, diag);
          assert.equal(c.MPTcpExtMPJoinRejected ?? 0, 3 - kernelSubflowLimit, `joins refused by the kernel's subflows limit\n${diag}`);
          for (const bad of ["MPTcpExtMPJoinAckHMacFailure", "MPTcpExtMPJoinSynAckHMacFailure", "MPTcpExtDSSNotMatching", "MPTcpExtInfiniteMapRx", "MPTcpExtMPFastcloseRx"]) {
            assert.equal(c[bad] ?? 0, 0, `kernel ${bad}\n${diag}`);
          }
          // Which subflows carried data: both ways, in all three views.
          const carried = subs.filter((s) => s.bytesSent > 0 && s.bytesReceived > 0);
          assert.equal(carried.length, kernelSubflowLimit + 1, `subflows that carried data both ways (ours)\n${diag}`);
          const idle = subs.filter((s) => s.bytesSent === 0 && s.bytesReceived === 0);
          assert.equal(idle.length, 3 - kernelSubflowLimit, `the refused join carried nothing\n${diag}`);
          if (!full) assert.ok(counters(j).MPTcpExtMPRstRx! >= 1, `the refused join was reset by the kernel\n${diag}`);
          for (const s of carried) {
            const kv = kview.get(`${addrOf(s.remote)} ${addrOf(s.local)}:${s.local.slice(s.local.lastIndexOf(":") + 1)}`);
            assert.ok(kv && kv.acked > 0 && kv.received > 0, `the kernel's view of ${pairOf(s)}: ${JSON.stringify(kv)}\n${diag}`);
          }
          if (haveTshark) {
            const bytes = pcapBytes(pcap);
            for (const s of carried) {
              const lp = s.local.slice(s.local.lastIndexOf(":") + 1);
              const rp = s.remote.slice(s.remote.lastIndexOf(":") + 1);
              const up = bytes.get(`${addrOf(s.local)}:${lp}>${addrOf(s.remote)}:${rp}`) ?? 0;
              const down = bytes.get(`${addrOf(s.remote)}:${rp}>${addrOf(s.local)}:${lp}`) ?? 0;
              assert.ok(up > 0 && down > 0, `pcap: ${pairOf(s)} carried ${up} B up, ${down} B down\n${diag}`);
            }
          }
          keep = false;
        } finally {
          stop(ours);
          stop(py);
          if (!keep) rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
}
