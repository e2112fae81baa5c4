// mptcp sim: parsing of path specs, events, units and command-line options (adapters/sim).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultQueueBytes, formatPath, parseDuration, parseEvent, parsePath, parsePaths, parseProbability, parseRate, parseSize, SpecError } from "../../adapters/sim/spec.ts";
import { parseSimArgs } from "../../adapters/sim/options.ts";
import { DEMO_EVENTS, DEMO_PATHS } from "../../adapters/sim/demo.ts";

describe("sim specs: units", () => {
  test("rates in bit/s with SI prefixes, case-insensitive", () => {
    assert.equal(parseRate("500kbit"), 500_000);
    assert.equal(parseRate("10Mbit"), 10_000_000);
    assert.equal(parseRate("1Gbit"), 1_000_000_000);
    assert.equal(parseRate("2.5mbit"), 2_500_000);
    assert.equal(parseRate("64bit"), 64);
    for (const bad of ["10", "10MB/s", "fast", "-1Mbit", "0Mbit", ""]) assert.throws(() => parseRate(bad), SpecError, bad);
    assert.throws(() => parseRate("10Mb/s"), /bad rate "10Mb\/s" \(expected e\.g\. 500kbit, 10Mbit, 1Gbit\)/);
  });

  test("durations to integer microseconds", () => {
    assert.equal(parseDuration("20ms"), 20_000);
    assert.equal(parseDuration("1.5s"), 1_500_000);
    assert.equal(parseDuration("300us"), 300);
    assert.equal(parseDuration("0"), 0);
    assert.throws(() => parseDuration("20"), /bad duration "20" \(expected e\.g\. 300us, 20ms, 1\.5s\)/);
    assert.throws(() => parseDuration("1min"), SpecError);
  });

  test("loss as a percentage or a fraction, within 0..1", () => {
    assert.equal(parseProbability("1%"), 0.01);
    assert.equal(parseProbability("0.1%"), 0.001);
    assert.equal(parseProbability("0.02"), 0.02);
    assert.equal(parseProbability("100%"), 1);
    assert.throws(() => parseProbability("150%"), /between 0% and 100%/);
    assert.throws(() => parseProbability("lots"), /bad loss "lots"/);
  });

  test("byte sizes with binary suffixes", () => {
    assert.equal(parseSize("65536"), 65536);
    assert.equal(parseSize("64k"), 65536);
    assert.equal(parseSize("16M"), 16 << 20);
    assert.equal(parseSize("1MiB"), 1 << 20);
    assert.equal(parseSize("2G"), 2 * 1024 ** 3);
    assert.throws(() => parseSize("1.5M"), /bad byte count/);
  });
});

describe("sim specs: paths and events", () => {
  test("a path with every key", () => {
    const p = parsePath("wifi:rate=20Mbit,delay=10ms,loss=0.1%,queue=64k,jitter=2ms");
    assert.deepEqual(p, { name: "wifi", params: { rateBps: 20e6, delayUs: 10_000, lossRate: 0.001, queueBytes: 65536, jitterUs: 2000 }, queueSet: true });
    assert.equal(formatPath(p), "wifi:rate=20Mbit,delay=10ms,loss=0.1%,jitter=2ms,queue=65536");
  });

  test("defaults: no loss, no jitter, a queue of 100 ms at the rate", () => {
    const p = parsePath("lte:rate=10Mbit,delay=30ms");
    assert.equal(p.params.lossRate, 0);
    assert.equal(p.params.jitterUs, 0);
    assert.equal(p.params.queueBytes, 125_000);
    assert.equal(p.queueSet, false);
    assert.equal(defaultQueueBytes(500_000), 16 * 1024); // floor of 16 kB
  });

  test("errors name the path and what is expected", () => {
    assert.throws(() => parsePath("wifi:delay=10ms"), /path wifi: rate is required \(e\.g\. rate=10Mbit\)/);
    assert.throws(() => parsePath("wifi:rate=1Mbit"), /path wifi: delay is required/);
    assert.throws(() => parsePath("wifi:rate=1Mbit,delay=1ms,speed=3"), /path wifi: unknown key "speed" \(keys: rate, delay, loss, queue, jitter\)/);
    assert.throws(() => parsePath("wifi:rate=1Mbit,delay=1ms,loss"), /"loss" is not KEY=VALUE/);
    assert.throws(() => parsePath("rate=1Mbit"), /expected NAME:rate=/);
    assert.throws(() => parsePath("1x:rate=1Mbit,delay=1ms"), /bad name "1x"/);
    assert.throws(() => parsePath("a:rate=1Mbit,delay=1ms,queue=100"), /smaller than one packet/);
    assert.throws(() => parsePaths("a:rate=1Mbit,delay=1ms;a:rate=2Mbit,delay=1ms"), /path name "a" used twice/);
    assert.throws(() => parsePaths(" ; "), /no path given/);
  });

  test("several paths separated by ;", () => {
    const ps = parsePaths(DEMO_PATHS);
    assert.deepEqual(
      ps.map((p) => p.name),
      ["wifi", "lte"],
    );
    assert.equal(ps[1]!.params.delayUs, 30_000);
  });

  test("events: down, up, and parameter changes at a time", () => {
    assert.deepEqual(parseEvent("5s:wifi:loss=5%"), { atUs: 5_000_000, path: "wifi", change: { kind: "set", params: { lossRate: 0.05 } }, text: "5s:wifi:loss=5%" });
    assert.deepEqual(parseEvent("10s:wifi:down").change, { kind: "down" });
    assert.deepEqual(parseEvent("15s:wifi:UP").change, { kind: "up" });
    assert.deepEqual(parseEvent("2500ms:lte:rate=1Mbit,delay=80ms").change, { kind: "set", params: { rateBps: 1e6, delayUs: 80_000 } });
    assert.equal(DEMO_EVENTS.map((e) => parseEvent(e, ["wifi", "lte"])).length, DEMO_EVENTS.length);
  });

  test("event errors", () => {
    assert.throws(() => parseEvent("5s:wifi"), /expected TIME:PATH:CHANGE/);
    assert.throws(() => parseEvent("soon:wifi:down"), /bad time "soon"/);
    assert.throws(() => parseEvent("5s:wlan:down", ["wifi", "lte"]), /unknown path "wlan" \(paths: wifi, lte\)/);
    assert.throws(() => parseEvent("5s:wifi:sideways"), /"sideways" is not KEY=VALUE/);
  });
});

describe("sim command-line options", () => {
  test("no options: the demo, with its report file", () => {
    const o = parseSimArgs([]);
    assert.equal(o.demo, true);
    assert.equal(o.report, "mptcp-report.html");
    assert.equal(o.experiment.paths.length, 2);
    assert.equal(o.experiment.events?.length, DEMO_EVENTS.length);
    assert.equal(o.experiment.seconds, 30);
  });

  test("a scripted experiment", () => {
    const o = parseSimArgs([
      "sim", "--paths", "a:rate=10Mbit,delay=20ms;b:rate=5Mbit,delay=40ms,loss=1%", "--event", "2s:a:down", "--event=3s:a:up",
      "--bytes", "4M", "--cc", "LIA", "--scheduler", "roundrobin", "--path-manager", "fullmesh", "--subflows-per-path", "2",
      "--rcvbuf", "1M", "--checksum", "--seed", "42", "--quiet", "--json", "--report", "r.html", "--pcap", "x.pcap",
    ]);
    assert.equal(o.demo, false);
    const e = o.experiment;
    assert.deepEqual(e.paths.map((p) => p.name), ["a", "b"]);
    assert.deepEqual(e.events?.map((x) => [x.atUs, x.change.kind]), [[2e6, "down"], [3e6, "up"]]);
    assert.equal(e.bytes, 4 << 20);
    assert.equal(e.seconds, undefined);
    assert.equal(e.cc, "lia");
    assert.equal(e.scheduler, "roundrobin");
    assert.equal(e.subflowsPerPath, 2);
    assert.equal(e.rcvbuf, 1 << 20);
    assert.equal(e.checksum, true);
    assert.equal(e.seed, 42);
    assert.equal(o.quiet, true);
    assert.equal(o.json, true);
    assert.equal(o.report, "r.html");
    assert.equal(o.pcap, "x.pcap");
  });

  test("own paths without --bytes or --seconds: a 10 s timed run, no demo events", () => {
    const o = parseSimArgs(["--paths", "a:rate=1Mbit,delay=5ms"]);
    assert.equal(o.experiment.seconds, 10);
    assert.deepEqual(o.experiment.events, []);
    assert.equal(o.report, undefined);
    assert.equal(parseSimArgs(["--paths", "a:rate=1Mbit,delay=5ms", "--seconds", "2.5"]).experiment.seconds, 2.5);
  });

  test("usage errors", () => {
    assert.throws(() => parseSimArgs(["--bytes", "1M", "--seconds", "3"]), /give one of them/);
    assert.throws(() => parseSimArgs(["--cc", "bbr"]), /--cc: unknown algorithm "bbr" \(cubic, reno, lia, olia, balia\)/);
    assert.throws(() => parseSimArgs(["--scheduler", "best"]), /unknown scheduler "best"/);
    assert.throws(() => parseSimArgs(["--paths", "a:rate=1Mbit,delay=5ms", "--event", "1s:b:down"]), /unknown path "b"/);
    assert.throws(() => parseSimArgs(["--seed"]), /--seed needs a value/);
    assert.throws(() => parseSimArgs(["--seed", "x"]), /not a whole number/);
    assert.throws(() => parseSimArgs(["--subflows-per-path", "5"]), /at most 8 subflows in all/);
    assert.throws(() => parseSimArgs(["--frobnicate"]), /unknown option "--frobnicate"/);
    assert.throws(() => parseSimArgs(["--live", "--quiet"]), SpecError);
    assert.throws(() => parseSimArgs(["--speed", "0"]), /--speed: "0" is not a positive number/);
  });

  test("--speed paces the live view; --quiet turns it off", () => {
    assert.equal(parseSimArgs(["--speed", "2.5"]).speed, 2.5);
    assert.equal(parseSimArgs([]).speed, undefined);
    assert.equal(parseSimArgs(["--quiet"]).live, false);
    assert.equal(parseSimArgs(["--live"]).live, true);
    assert.equal(parseSimArgs([]).live, undefined, "undecided: the CLI looks at the terminal");
  });
});
