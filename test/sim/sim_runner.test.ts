// mptcp sim: the experiment runner (adapters/sim/runner.ts) and the CLI around it
// (adapters/cli/sim.ts): the --json line, determinism, the demo's phases on a short run,
// Ctrl-C (interrupt), files, terminal views.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSim } from "../../adapters/cli/sim.ts";
import type { SimIo } from "../../adapters/cli/sim.ts";
import { Experiment } from "../../adapters/sim/runner.ts";
import type { ExperimentResult } from "../../adapters/sim/runner.ts";
import { demoOptions } from "../../adapters/sim/demo.ts";
import { parseEvent, parsePaths } from "../../adapters/sim/spec.ts";
import { liveFrame, liveLines, progressLine, summaryLines } from "../../adapters/sim/live.ts";

function io(): SimIo & { out: string; err: string } {
  const o = {
    out: "",
    err: "",
    isTTY: false,
    columns: 100,
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
  };
  return o;
}

function lastLine(s: string): string {
  const lines = s.trimEnd().split("\n");
  return lines[lines.length - 1]!;
}

const TWO_PATHS = "a:rate=10Mbit,delay=10ms,loss=0.5%;b:rate=5Mbit,delay=30ms,loss=0.2%,jitter=3ms";

describe("mptcp sim --json", () => {
  test("the last line is one object with the documented fields; the same seed gives the same line", async () => {
    const args = ["--paths", TWO_PATHS, "--bytes", "2M", "--seed", "7", "--json", "--quiet"];
    const r1 = io();
    assert.equal(await runSim(args, r1), 0, r1.err);
    const r2 = io();
    assert.equal(await runSim(args, r2), 0, r2.err);
    const line = lastLine(r1.out);
    assert.equal(line, lastLine(r2.out), "same seed, same result");
    assert.equal(r1.out.trimEnd().split("\n").length, 1, "with --json --quiet stdout has only the JSON line");
    const j = JSON.parse(line);
    for (const k of ["ok", "simSeconds", "bytes", "goodputMbps", "maxStallMs", "subflows", "counters"]) assert.ok(k in j, `missing ${k}`);
    assert.equal(j.ok, true);
    assert.equal(j.bytes, 2 << 20);
    assert.equal(typeof j.simSeconds, "number");
    assert.ok(j.simSeconds > 0 && j.simSeconds < 10, `simSeconds ${j.simSeconds}`);
    // 2 MiB over 15 Mbit/s of paths: below the sum of the rates, above a crawl.
    assert.ok(j.goodputMbps > 1 && j.goodputMbps < 15, `goodput ${j.goodputMbps}`);
    assert.ok(j.maxStallMs >= 0);
    assert.deepEqual(j.subflows.map((s: { path: string }) => s.path), ["a", "b"]);
    for (const s of j.subflows) {
      assert.deepEqual(Object.keys(s).sort(), ["bytes", "path", "retransmits", "share"]);
      assert.ok(s.bytes > 0, `path ${s.path} carried bytes`);
    }
    const shares = j.subflows.reduce((a: number, s: { share: number }) => a + s.share, 0);
    assert.ok(Math.abs(shares - 1) < 0.001, `shares sum to ${shares}`);
    assert.ok(j.subflows.reduce((a: number, s: { bytes: number }) => a + s.bytes, 0) >= 2 << 20, "at least every byte once on the wire");
    assert.equal(j.counters.MPJoinSynTx, 1, "the client joined path b");
    assert.equal(j.counters.MPCapableSYNTX, 1);

    const other = io();
    assert.equal(await runSim(["--paths", TWO_PATHS, "--bytes", "2M", "--seed", "8", "--json", "--quiet"], other), 0);
    assert.notEqual(lastLine(other.out), line, "another seed, another loss pattern");
  });

  test("usage errors exit 2 with the message on stderr", async () => {
    const r = io();
    assert.equal(await runSim(["--paths", "a:rate=fast,delay=1ms"], r), 2);
    assert.match(r.err, /bad rate "fast"/);
    assert.equal(r.out, "");
    const h = io();
    assert.equal(await runSim(["--help"], h), 0);
    assert.match(h.out, /usage: mptcp sim/);
  });

  test("a timed run with a report and a pcap written to files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mptcp-sim-"));
    try {
      const report = join(dir, "r.html");
      const pcap = join(dir, "x.pcap");
      const r = io();
      const code = await runSim(["--paths", TWO_PATHS, "--seconds", "2", "--event", "1s:a:down", "--report", report, "--pcap", pcap, "--json"], r);
      assert.equal(code, 0, r.err);
      const j = JSON.parse(lastLine(r.out));
      assert.equal(j.simSeconds, 2);
      assert.match(r.err, /report: .*r\.html/);
      assert.match(r.err, /^t=1\.0s goodput/m, "plain progress lines when not a terminal");
      const html = readFileSync(report, "utf8");
      assert.match(html, /^<!DOCTYPE html>/);
      assert.match(html, /a: down/);
      const p = readFileSync(pcap);
      assert.equal(p.readUInt32LE(0), 0xa1b2c3d4, "pcap magic");
      assert.equal(p.readUInt32LE(20), 101, "LINKTYPE_RAW");
      assert.ok(p.length > 10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function phase(r: ExperimentResult, fromS: number) {
  const p = r.summary.phases.find((x) => x.fromS === fromS);
  assert.ok(p, `phase at ${fromS} s in ${JSON.stringify(r.summary.phases)}`);
  return p;
}

describe("the demo, shortened (3 s per phase)", () => {
  for (const seed of [1, 3]) {
    test(`seed ${seed}: traffic moves to LTE under WiFi loss, stays there while WiFi is down, comes back to WiFi`, () => {
      const o = demoOptions();
      const names = o.paths.map((p) => p.name);
      const events = ["3s:wifi:loss=5%", "6s:wifi:down", "9s:wifi:loss=0.1%", "9s:wifi:up"].map((e) => parseEvent(e, names));
      const r = new Experiment({ ...o, seed, seconds: 12, events }).runToEnd();
      assert.equal(r.summary.ok, true, r.summary.error);
      const clean = phase(r, 0);
      const lossy = phase(r, 3);
      const down = phase(r, 6);
      const back = phase(r, 9);
      assert.deepEqual(r.summary.phases.map((p) => p.fromS), [0, 3, 6, 9]);
      // Clean: WiFi (the faster path) carries most.
      assert.ok(clean.share.wifi! > 0.5, `clean: wifi share ${clean.share.wifi}`);
      // WiFi loss 5%: LTE's share rises and LTE carries most.
      assert.ok(lossy.share.lte! > clean.share.lte! + 0.2, `lte share ${clean.share.lte} -> ${lossy.share.lte}`);
      assert.ok(lossy.share.lte! > 0.6, `lossy: lte share ${lossy.share.lte}`);
      // WiFi down: every byte on LTE, and the transfer goes on.
      assert.equal(down.mbps.wifi, 0);
      assert.equal(down.share.lte, 1);
      assert.ok(down.goodputMbps > 3, `goodput while WiFi is down ${down.goodputMbps}`);
      // WiFi back: a new subflow on it, and it carries bytes again (most of them).
      assert.ok(back.mbps.wifi! > 5, `wifi after return ${back.mbps.wifi} Mbit/s`);
      assert.ok(back.share.wifi! > 0.4, `wifi share after return ${back.share.wifi}`);
      const sfEvents = r.events.filter((e) => e.kind === "subflow").map((e) => [e.tUs >= 9e6 ? "after" : "before", e.text]);
      assert.ok(sfEvents.some(([when, t]) => when === "after" && /^wifi: subflow \d+ established/.test(t!)), JSON.stringify(sfEvents));
      assert.ok(r.events.some((e) => /^wifi: subflow \d+ closed \(removed\)/.test(e.text) && e.tUs === 6e6), "the WiFi subflow closed when its address went away");
      // No byte was lost or corrupted (the runner checks every byte against the pattern).
      assert.ok(r.summary.bytes > 10 << 20, `bytes ${r.summary.bytes}`);
    });
  }
});

describe("runner details", () => {
  test("the result does not depend on how the run is sliced (the live view advances in wall-time-sized slices)", () => {
    const events = [parseEvent("1s:a:loss=3%"), parseEvent("2s:b:down"), parseEvent("3s:b:up")];
    const run = (slices: number[]): string => {
      const e = new Experiment({ paths: parsePaths(TWO_PATHS), seconds: 4, seed: 9, events });
      for (let i = 0; !e.done; i++) e.runFor(slices[i % slices.length]!);
      const r = e.result();
      return JSON.stringify([r.summary, r.samples, r.events]);
    };
    const whole = run([10_000_000]);
    assert.equal(run([37_000, 100_000, 1_234]), whole);
    assert.equal(run([1_000_000]), whole);
  });

  test("interrupt (Ctrl-C) stops the run with a summary that says so", () => {
    const e = new Experiment({ paths: parsePaths(TWO_PATHS), seconds: 60, seed: 2 });
    e.runFor(1_500_000);
    e.interrupt();
    assert.equal(e.done, true);
    e.runFor(1_000_000); // no-op after the interrupt
    const r = e.result();
    assert.equal(r.summary.interrupted, true);
    assert.equal(r.summary.ok, false);
    assert.equal(r.summary.error, "interrupted");
    assert.equal(r.summary.simSeconds, 1.5);
    assert.ok(r.summary.bytes > 0);
  });

  test("several subflows per path, coupled cc, checksums: every byte arrives", () => {
    const r = new Experiment({ paths: parsePaths(TWO_PATHS), bytes: 1 << 20, subflowsPerPath: 2, cc: "lia", checksum: true, seed: 3 }).runToEnd();
    assert.equal(r.summary.ok, true, r.summary.error);
    assert.deepEqual(r.series.map((s) => s.key), ["a.1", "a.2", "b.1", "b.2"]);
    const used = r.series.filter((s) => r.samples.mbps[s.key]!.some((v) => v !== null && v > 0));
    assert.equal(used.length, 4, "all four subflows carried data");
    assert.equal(r.summary.counters.MPJoinSynTx, 3);
  });

  test("a path that black-holes: its subflow goes stale, the other carries on, it recovers after the path does", () => {
    const events = ["1s:b:loss=100%", "8s:b:loss=0"].map((e) => parseEvent(e, ["a", "b"]));
    const r = new Experiment({ paths: parsePaths("a:rate=10Mbit,delay=10ms;b:rate=5Mbit,delay=20ms"), events, seconds: 16, seed: 1 }).runToEnd();
    assert.equal(r.summary.ok, true, r.summary.error);
    const stale = r.events.find((e) => /^b: subflow \d+ stale/.test(e.text));
    const recovered = r.events.find((e) => /^b: subflow \d+ recovered from stale/.test(e.text));
    assert.ok(stale && stale.tUs > 1e6 && stale.tUs < 8e6, JSON.stringify(r.events));
    assert.ok(recovered && recovered.tUs > 8e6, JSON.stringify(r.events));
    assert.ok(r.summary.counters.SubflowStale! >= 1 && r.summary.counters.SubflowRecover! >= 1, JSON.stringify(r.summary.counters));
    const during = r.summary.phases.find((p) => p.fromS === 1)!;
    assert.ok(during.mbps.a! > 8, `path a while b is black-holed: ${during.mbps.a}`);
  });

  test("sampling: one sample per 100 ms with throughput, cwnd and RTT per live subflow", () => {
    const r = new Experiment({ paths: parsePaths(TWO_PATHS), seconds: 1, seed: 4 }).runToEnd();
    assert.equal(r.samples.tUs.length, 10);
    assert.deepEqual(r.samples.tUs.slice(0, 3), [100_000, 200_000, 300_000]);
    const last = r.samples.tUs.length - 1;
    for (const k of ["a", "b"]) {
      assert.ok(r.samples.cwnd[k]![last]! > 0, `cwnd ${k}`);
      assert.ok(r.samples.rttMs[k]![last]! > 0, `rtt ${k}`);
    }
    // RTT at least the propagation round trip of each path.
    assert.ok(r.samples.rttMs.a![last]! >= 20);
    assert.ok(r.samples.rttMs.b![last]! >= 60);
  });

  test("terminal views: a live frame per subflow, plain progress lines without ANSI", () => {
    const e = new Experiment({ paths: parsePaths(TWO_PATHS), seconds: 2, seed: 5, events: [parseEvent("1s:b:loss=3%")] });
    e.runFor(1_500_000);
    const s = e.snapshot();
    const lines = liveLines(s, { columns: 120, color: false });
    assert.equal(lines.length, 4, lines.join("\n"));
    assert.match(lines[0]!, /t=  1\.5 \/ 2 s/);
    assert.match(lines[1]!, /^a +\S* .*Mbit\/s +cwnd +\d+ KiB +rtt +\d+ ms/);
    assert.match(lines[2]!, /^b /);
    assert.match(lines[3]!, /last event: 1\.0 s b: loss 3%/);
    assert.ok(liveLines(s).some((l) => l.includes("\x1b[")), "colours by default");
    const frame = liveFrame(lines, 4);
    assert.ok(frame.startsWith("\x1b[4F"));
    const p = progressLine(s);
    assert.doesNotMatch(p, /\x1b/);
    assert.match(p, /^t=1\.5s goodput [\d.]+ Mbit\/s \(a [\d.]+, b [\d.]+\)/);
    const sum = summaryLines(e.runToEnd());
    assert.match(sum[0]!, /^ok: /);
    assert.match(sum.join("\n"), /1-2 s +b: loss 3%/);
  });
});
