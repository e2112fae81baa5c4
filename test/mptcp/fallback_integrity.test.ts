// RFC 8684 section 3.7, Linux subflow_can_fallback: a side reads the subflow stream 1:1 only
// while the peer cannot have sent anything else on it. Scripted against our MPTCP endpoint (the
// packetdrill syntax of test/scripts; not in the Linux corpus: Linux ignores DSS mappings once
// fallen back, and falls back on unmapped data unless it re-sent data itself).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { combinedFactory, mptcpSutFactory, runScriptText, tcpSutFactory } from "../../adapters/script/index.ts";

const factory = combinedFactory(tcpSutFactory, mptcpSutFactory);

const SERVER = `
0     socket(..., SOCK_STREAM, IPPROTO_MPTCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S  0:0(0) win 65535 <mss 1460, sackOK, nop, nop, nop, wscale 7, mpcapable v1 flags[flag_h] nokey>
+0    > S. 0:0(0) ack 1 <mss 1460, nop, nop, sackOK, nop, wscale 7, mpcapable v1 flags[flag_h] key[skey]>
+0.1  < .  1:1(0) ack 1 win 256 <mpcapable v1 flags[flag_h] key[ckey=2, skey]>
+0    accept(3, ..., ...) = 4
`;

function run(text: string) {
  const r = runScriptText(SERVER + text, "fallback_integrity.pkt", factory);
  assert.equal(r.status, "pass", r.message);
}

describe("fallback: 1:1 only where the peer sent 1:1", () => {
  it("fallen back on unmapped data, a later DSS mapping that agrees with the 1:1 map is taken", () => {
    run(`
+0    < P. 1:101(100) ack 1 win 256
+0    > .  1:1(0) ack 101 <>
+0    < P. 101:201(100) ack 1 win 256 <dss dack8=1 dsn8=101 ssn=101 dll=100 nocs>
+0    > .  1:1(0) ack 201 <>
+0    read(4, ..., 1000) = 200
`);
  });

  it("fallen back on unmapped data, a DSS mapping off the 1:1 map resets the connection before its bytes are delivered", () => {
    run(`
+0    < P. 1:101(100) ack 1 win 256
+0    > .  1:1(0) ack 101 <>
+0    read(4, ..., 1000) = 100
+0    < P. 101:201(100) ack 1 win 256 <dss dack8=1 dsn8=1001 ssn=101 dll=100 nocs>
+0    > R. 1:1(0) ack 101 <mp_reset 1>
+0    read(4, ..., 1000) = -1 ECONNRESET (Connection reset by peer)
`);
  });

  it("after the peer re-sent data at another subflow offset, unmapped data resets instead of falling back", () => {
    run(`
+0    < P. 1:101(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=1 dll=100 nocs>
+0    > .  1:1(0) ack 101 <dss dack8=101 nocs>
+0    < P. 101:201(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=101 dll=100 nocs>
+0    > .  1:1(0) ack 201 <dss dack8=101 nocs>
+0    < P. 201:301(100) ack 1 win 256
+0    > R. 1:1(0) ack 301 <mp_reset 1>
+0    read(4, ..., 1000) = 100
`);
  });

  it("the peer acknowledges our data without a DATA_ACK after it re-sent data at another offset: the data-level RTO resets", () => {
    run(`
+0    < P. 1:101(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=1 dll=100 nocs>
+0    > .  1:1(0) ack 101 <dss dack8=101 nocs>
+0    < P. 101:201(100) ack 1 win 256 <dss dack8=1 dsn8=1 ssn=101 dll=100 nocs>
+0    > .  1:1(0) ack 201 <dss dack8=101 nocs>
+0    write(4, ..., 100) = 100
+0    > P. 1:101(100) ack 201 <dss dack8=101 dsn8=1 ssn=1 dll=100 nocs>
+0    < .  201:201(0) ack 101 win 256
*     > R. 101:101(0) ack 201 <mp_reset 1>
+0    read(4, ..., 1000) = 100
`);
  });
});
