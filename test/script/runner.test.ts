// The script runner itself: syntax errors carry line and column, mismatches are reported
// field by field, unscripted packets and unknown helpers fail, captures and `auto` values
// agree with the crypto module. Each test checks that a wrong script FAILS for the right
// reason, so a corpus script that passes is evidence and not an artefact of a lax matcher.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { combinedFactory, mptcpSutFactory, parseScript, parseShellCommand, runScriptFiles, runScriptText, ScriptSyntaxError, tcpSutFactory } from "../../adapters/script/index.ts";
import { parseIpText } from "../../core/wire/ip.ts";

const factory = combinedFactory(tcpSutFactory, mptcpSutFactory);

const TCP_SERVER = `
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S  0:0(0) win 65535 <mss 1460, sackOK, nop, nop, nop, wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460, nop, nop, sackOK, nop, wscale 7>
+0.1  < .  1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
`;

const MPTCP_SERVER = `
0     socket(..., SOCK_STREAM, IPPROTO_MPTCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S  0:0(0) win 65535 <mss 1460, sackOK, nop, nop, nop, wscale 7, mpcapable v1 flags[flag_h] nokey>
+0    > S. 0:0(0) ack 1 <mss 1460, nop, nop, sackOK, nop, wscale 7, mpcapable v1 flags[flag_h] key[skey]>
+0.1  < .  1:1(0) ack 1 win 256 <mpcapable v1 flags[flag_h] key[ckey=2, skey]>
+0    accept(3, ..., ...) = 4
`;

function run(text: string) {
  return runScriptText(text, "t.pkt", factory);
}

describe("script parser", () => {
  it("parses times, packets, options and calls", () => {
    const s = parseScript(`--tolerance_usecs=100\n0 socket(..., SOCK_STREAM, IPPROTO_MPTCP) = 3\n+0.5 < addr[caddr1] > addr[saddr0] S. 5:15(10) ack 1 win 9 <mss 1400, dss dack4=7 dsn8=1 ssn=1 dll=10 cksum=auto fin>\n* > R 0:0(0)\n\`../common/defaults.sh\``, "x.pkt");
    assert.equal(s.options[0]!.name, "tolerance_usecs");
    assert.equal(s.events.length, 4);
    const p = s.events[1]!.body;
    assert.ok(p.type === "packet");
    assert.deepEqual(s.events[1]!.time, { kind: "relative", usecs: 500_000 });
    assert.equal(p.packet.seq?.len, 10);
    assert.equal(p.packet.ack, 1);
    assert.ok(p.packet.src && "side" in p.packet.src && p.packet.src.side === "c" && p.packet.src.index === 1);
    const dss = p.packet.options?.[1];
    assert.ok(dss?.kind === "dss" && dss.dataAck?.width === 4 && dss.dsn?.width === 8 && dss.checksum === "auto" && dss.fin);
    assert.deepEqual(s.events[2]!.time, { kind: "any" });
    assert.ok(s.events[3]!.body.type === "shell");
  });

  it("reports syntax errors with file, line and column", () => {
    const bad: Array<[string, number, number, RegExp]> = [
      ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) <mss 1460, bogus 3>", 2, 26, /unknown option 'bogus'/],
      ["+0 > Q 0:0(0)", 1, 6, /expected TCP flags/],
      ["+0 < S 0:10(5)", 1, 8, /does not have length/],
      ["+0 < S 0:0(0) <dss dsn8=1>", 1, 16, /needs dsn, ssn and dll together/],
      ["0...0.1 read(3, ..., 10) = 10", 1, 1, /blocking calls/],
      ["+0 read(3, ..., 10) = -1", 1, 25, /errno name/],
      ["+0 < . 1:1(0) <mpcapable v1 flags[flag_x] nokey>", 1, 35, /unknown MP_CAPABLE flag/],
    ];
    for (const [text, line, column, re] of bad) {
      assert.throws(() => parseScript(text, "f.pkt"), (e: unknown) => {
        assert.ok(e instanceof ScriptSyntaxError, String(e));
        assert.match(e.message, re);
        assert.equal(e.pos.line, line, e.message);
        assert.equal(e.pos.column, column, e.message);
        assert.ok(e.message.startsWith(`f.pkt:${line}:${column}: `));
        return true;
      });
    }
  });

  it("reads the directives", () => {
    const s = parseScript("// @known-deviation: because\n// @pending: later\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
    assert.equal(s.knownDeviation, "because");
    assert.equal(s.pending, "later");
  });
});

describe("script executor", () => {
  it("passes a correct script", () => {
    const r = run(TCP_SERVER + "+0 < P. 1:101(100) ack 1 win 257\n+0 > . 1:1(0) ack 101\n+0 read(4, ..., 1000) = 100\n");
    assert.equal(r.status, "pass", r.message);
  });

  it("reports a wrong field with the line, the actual packet and the difference", () => {
    const r = run(TCP_SERVER + "+0 < P. 1:101(100) ack 1 win 257\n+0 > . 1:1(0) ack 102\n");
    assert.equal(r.status, "fail");
    assert.equal(r.line, 10);
    assert.match(r.message!, /ack: expected 102, actual 101/);
    assert.match(r.message!, /actual: +198\.18\.0\.1:8080 > 198\.18\.1\.1:40000 \. 1:1\(0\) ack 101/);
  });

  it("compares option kinds, NOP layout when written, and values", () => {
    const wrongMss = TCP_SERVER.replace("> S. 0:0(0) ack 1 <mss 1460,", "> S. 0:0(0) ack 1 <mss 1400,");
    assert.match(run(wrongMss).message!, /mss: expected 1400, actual 1460/);
    const wrongLayout = TCP_SERVER.replace("<mss 1460, nop, nop, sackOK, nop, wscale 7>\n+0.1", "<mss 1460, sackOK, nop, wscale 7>\n+0.1");
    assert.match(run(wrongLayout).message!, /options: expected <mss, sackOK, nop, wscale>, actual <mss, nop, nop, sackOK, nop, wscale>/);
    const noLayout = TCP_SERVER.replace("<mss 1460, nop, nop, sackOK, nop, wscale 7>\n+0.1", "<mss 1460, sackOK, wscale 7>\n+0.1");
    assert.equal(run(noLayout).status, "pass", "without NOPs in the line, NOPs are not compared");
  });

  it("checks the time of outbound packets against the tolerance", () => {
    const r = run(TCP_SERVER + "+0 write(4, ..., 100) = 100\n+0.05 > P. 1:101(100) ack 1\n");
    assert.equal(r.status, "fail");
    assert.match(r.message!, /time: expected 0\.150000 \(\+-4 ms\), actual 0\.100000/);
  });

  it("fails on a packet the script does not expect", () => {
    const r = run(TCP_SERVER + "+0 < P. 1:101(100) ack 1 win 257\n+0.1 read(4, ..., 1000) = 100\n");
    assert.equal(r.status, "fail");
    assert.match(r.message!, /unexpected packet sent at 0\.100000/);
    const end = run(TCP_SERVER + "+0 < P. 1:101(100) ack 1 win 257\n");
    assert.match(end.message!, /unexpected packet at the end of the script/);
  });

  it("fails when the stack stays silent", () => {
    const r = run(TCP_SERVER + "+0 > . 1:1(0) ack 1\n");
    assert.match(r.message!, /the stack sent nothing by 0\.104000/);
  });

  it("checks call results and errnos", () => {
    assert.match(run(TCP_SERVER + "+0 read(4, ..., 10) = -1 EAGAIN (x)\n+0 read(4, ..., 10) = 3\n").message!, /would block/);
    assert.equal(run(TCP_SERVER + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n").status, "pass");
    assert.match(run(TCP_SERVER + "+0 write(4, ..., 10) = 9\n").message!, /write\(\) returned 10, expected 9/);
    assert.match(run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 frobnicate(3) = 0\n").message!, /unsupported call frobnicate/);
  });

  it("checks that the bytes read are the bytes the script sent", () => {
    const r = run(TCP_SERVER + "+0 < P. 1:101(100) ack 1 win 257\n+0 > . 1:1(0) ack 101\n+0 < P. 101:201(100) ack 1 win 257\n+0 > . 1:1(0) ack 201\n+0 read(4, ..., 1000) = 200\n");
    assert.equal(r.status, "pass", r.message);
  });

  it("captures skey and checks MPTCP fields: keys, DATA_ACK, DSN", () => {
    assert.equal(run(MPTCP_SERVER).status, "pass");
    const wrongKey = run(MPTCP_SERVER.replace("key[ckey=2, skey]>", "key[ckey=2, skey]>") + "+0 < P. 1:101(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=1 dll=100 nocs>\n+0 > . 1:1(0) ack 101 <dss dack8=100 nocs>\n");
    assert.match(wrongKey.message!, /dss DATA_ACK: expected dack8=100, actual dack8=101/);
    const width = run(MPTCP_SERVER + "+0 < P. 1:101(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=1 dll=100 nocs>\n+0 > . 1:1(0) ack 101 <dss dack4=101 nocs>\n");
    assert.match(width.message!, /expected dack4=101, actual dack8=101/);
    const literalKey = run(MPTCP_SERVER.replace("mpcapable v1 flags[flag_h] key[skey]>", "mpcapable v1 flags[flag_h] key[0x1234]>"));
    assert.match(literalKey.message!, /mpcapable sender key: expected 0x0000000000001234, actual 0x/);
    const data = run(MPTCP_SERVER + "+0 write(4, ..., 100) = 100\n+0 > P. 1:101(100) ack 1 <dss dack8=1 dsn8=2 ssn=1 dll=100 nocs>\n");
    assert.match(data.message!, /dss DSN: expected dsn8=2, actual dsn8=1/);
  });

  it("computes MP_JOIN HMACs: a wrong literal HMAC is refused by the stack, auto is accepted", () => {
    const join = (hmac: string) =>
      run(MPTCP_SERVER + `+0.1 < addr[caddr1] > addr[saddr0] S 0:0(0) win 65535 <mss 1460, sackOK, nop, nop, nop, wscale 7, mp_join_syn address_id=1 token=sha256_32(skey) rand=1>
+0 > addr[saddr0] > addr[caddr1] S. 0:0(0) ack 1 <mss 1460, nop, nop, sackOK, nop, wscale 7, mp_join_syn_ack address_id=0 sender_hmac=auto>
+0.1 < . 1:1(0) ack 1 win 256 <mp_join_ack sender_hmac=${hmac}>
+0 > . 1:1(0) ack 1 <dss dack=1 nocs>
`);
    assert.equal(join("auto").status, "pass", join("auto").message);
    const bad = join("0x01");
    assert.equal(bad.status, "fail");
    assert.match(bad.message!, /R\.? 1:1\(0\).*mp_reset 1/);
  });

  it("skips what the system under test cannot run, and explains why", () => {
    const r = runScriptText("0 socket(..., SOCK_STREAM, IPPROTO_MPTCP) = 3\n", "m.pkt", tcpSutFactory);
    assert.equal(r.status, "skip");
    assert.match(r.message!, /no MPTCP endpoint/);
    const p = runScriptText("// @pending: not yet\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "p.pkt", tcpSutFactory);
    assert.equal(p.status, "skip");
    assert.match(p.message!, /pending: not yet/);
  });

  it("refuses unknown options and shell commands", () => {
    assert.match(run("--frobs=1\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n").message!, /unknown option --frobs/);
    const sh = run("`sysctl -q net.ipv4.tcp_sack=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    assert.equal(sh.status, "fail");
    assert.match(sh.message!, /unsupported shell command/);
  });
});

describe("shell helper forms", () => {
  const local = parseIpText("198.18.0.1")!;
  it("maps the community helpers to host commands", () => {
    assert.deepEqual(parseShellCommand("../common/defaults.sh", local), { ok: true, commands: [{ kind: "defaults" }] });
    assert.deepEqual(parseShellCommand("../common/client.sh", local), { ok: true, commands: [{ kind: "client" }] });
    const s = parseShellCommand("../common/server.sh", local);
    assert.ok(s.ok && s.commands[0]!.kind === "endpoints" && s.commands[0]!.mode === "signal");
    assert.deepEqual(s.ok && s.commands[0]!.kind === "endpoints" ? Array.from(s.commands[0]!.addresses[0]!) : [], [198, 18, 0, 2]);
    const m = parseShellCommand("../common/multi-ep.sh -e 3 -m fullmesh", local);
    assert.ok(m.ok && m.commands[0]!.kind === "endpoints" && m.commands[0]!.addresses.length === 3 && m.commands[0]!.mode === "fullmesh");
    const z = parseShellCommand("../common/multi-ep.sh -e 0 -m subflow", local);
    assert.ok(z.ok && z.commands[0]!.kind === "endpoints" && z.commands[0]!.addresses.length === 0);
  });
  it("refuses anything else with a message", () => {
    for (const c of ["ip mptcp limits set subflows 2", "../common/multi-ep.sh -e 2", "../common/multi-ep.sh -e 2 -m weird", "../common/other.sh", "../common/defaults.sh -x"]) {
      const r = parseShellCommand(c, local);
      assert.ok(!r.ok, c);
      assert.ok(r.error.length > 10);
    }
  });
});

describe("runScriptFiles (for `mptcp script FILE...`)", () => {
  it("runs files through an injected reader and sums up", () => {
    const files: Record<string, string> = {
      "ok.pkt": TCP_SERVER,
      "bad.pkt": TCP_SERVER + "+0 > . 1:1(0) ack 1\n",
      "mp.pkt": "0 socket(..., SOCK_STREAM, IPPROTO_MPTCP) = 3\n",
    };
    const r = runScriptFiles(Object.keys(files), (f) => files[f]!, tcpSutFactory);
    assert.equal(r.exitCode, 1);
    assert.deepEqual(r.results.map((x) => x.status), ["pass", "fail", "skip"]);
    assert.match(r.text, /^PASS ok\.pkt$/m);
    assert.match(r.text, /^FAIL bad\.pkt$/m);
    assert.match(r.text, /1 passed, 1 failed, 1 skipped$/);
    const missing = runScriptFiles(["nope.pkt"], () => {
      throw new Error("ENOENT");
    }, tcpSutFactory);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.text, /nope\.pkt: ENOENT/);
  });
});
