// Decoder oracle: segments carrying every MPTCP option form are written to a pcap by our codecs
// and pcap writer, then decoded by tshark (Wireshark's independent MPTCP dissector). Every field
// must read as we meant it, with no MPTCP expert warning and no malformed packet.
// Needs /usr/bin/tshark (the Debian package; .ci/run installs it). Skips with a visible reason
// when tshark is absent outside CI; fails when CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter } from "../../core/pcap/writer.ts";
import { emitPacket } from "../../core/wire/packet.ts";
import { formatIp, ipHeaderFor, parseIpText } from "../../core/wire/ip.ts";
import { fillIpv4HeaderChecksum, fillTcpChecksum } from "../../core/wire/checksum.ts";
import { dssChecksum } from "../../core/wire/checksum.ts";
import type { IpAddress, MptcpOption } from "../../core/wire/types.ts";
import { TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN } from "../../core/wire/types.ts";

const haveTshark = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
const skip = !haveTshark && process.env.CI !== "true" ? "tshark is not installed (apt-get install tshark); runs in CI" : false;

const A = parseIpText("198.18.0.1")!;
const B = parseIpText("198.18.0.2")!;
const A6 = parseIpText("2001:2::1")!;
const B6 = parseIpText("2001:2::2")!;

interface Case {
  name: string;
  option: MptcpOption;
  flags?: number;
  payload?: Uint8Array;
  v6?: boolean;
  /** Packets with the same conversation name share one TCP connection (ports), so tshark's
   * MPTCP analysis (key echo, checksum use) sees a real handshake. */
  conv?: string;
  /** Direction within the conversation: from the client (default) or from the server. */
  fromServer?: boolean;
  /** Hex that the packet's TCP option bytes (tcp.options) must end with. */
  optionsTail?: string;
  /** An expert message this packet is meant to cause (e.g. the infinite mapping). */
  expectExpert?: RegExp;
  /** tshark field name -> the text tshark must print for it. */
  expect: Record<string, string>;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const u64 = (b: Uint8Array): string => BigInt("0x" + hex(b)).toString();
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i * 37) & 0xff);

const K1 = 0x0102030405060708n;
const K2 = 0xf1e2d3c4b5a69788n;
const H8 = bytes(8, 9);
const H20 = bytes(20, 3);
const payload4 = new TextEncoder().encode("abcd");
const dsn = 0x1122334455667788n;
const csum = dssChecksum(dsn, 1, 4, payload4, 0, 4);

const T = "tcp.options.mptcp.";
const cases: Case[] = [
  // MP_CAPABLE: two real handshakes, one without and one with DSS checksums.
  { name: "MP_CAPABLE SYN (H)", conv: "mpc", flags: TCP_SYN, option: { type: "mp_capable", version: 1, flags: 0x01 },
    expect: { [T + "subtype"]: "0", [T + "version"]: "1", [T + "flags"]: "0x01", [T + "sha256.flag"]: "1", [T + "checksumreq.flags"]: "0" } },
  { name: "MP_CAPABLE SYN/ACK", conv: "mpc", fromServer: true, flags: TCP_SYN | TCP_ACK, option: { type: "mp_capable", version: 1, flags: 0x01, senderKey: K1 },
    expect: { [T + "subtype"]: "0", [T + "sendkey"]: K1.toString() } },
  { name: "MP_CAPABLE ACK", conv: "mpc", option: { type: "mp_capable", version: 1, flags: 0x01, senderKey: K2, receiverKey: K1 },
    expect: { [T + "sendkey"]: K2.toString(), [T + "recvkey"]: K1.toString() } },
  { name: "MP_CAPABLE ACK + data", conv: "mpc", flags: TCP_ACK | TCP_PSH, payload: bytes(100, 1),
    option: { type: "mp_capable", version: 1, flags: 0x01, senderKey: K2, receiverKey: K1, dataLength: 100 },
    expect: { [T + "sendkey"]: K2.toString(), [T + "recvkey"]: K1.toString(), [T + "datalvllen"]: "100" } },
  { name: "MP_CAPABLE SYN (A, H)", conv: "mpc-csum", flags: TCP_SYN, option: { type: "mp_capable", version: 1, flags: 0x81 },
    expect: { [T + "subtype"]: "0", [T + "flags"]: "0x81", [T + "checksumreq.flags"]: "1", [T + "sha256.flag"]: "1" } },
  { name: "MP_CAPABLE SYN/ACK (A, H)", conv: "mpc-csum", fromServer: true, flags: TCP_SYN | TCP_ACK, option: { type: "mp_capable", version: 1, flags: 0x81, senderKey: K2 },
    expect: { [T + "checksumreq.flags"]: "1", [T + "sendkey"]: K2.toString() } },
  { name: "MP_CAPABLE ACK + data + checksum", conv: "mpc-csum", flags: TCP_ACK | TCP_PSH, payload: bytes(100, 1),
    option: { type: "mp_capable", version: 1, flags: 0x81, senderKey: K1, receiverKey: K2, dataLength: 100, checksum: 0xbeef },
    expect: { [T + "sendkey"]: K1.toString(), [T + "recvkey"]: K2.toString(), [T + "datalvllen"]: "100", [T + "checksum"]: "0xbeef" } },
  { name: "DSS ack8 + dsn8 mapping + checksum", conv: "mpc-csum", flags: TCP_ACK | TCP_PSH, payload: payload4,
    option: { type: "dss", dataAck: 5n, ack64: true, mapping: { dsn, dsn64: true, ssn: 1, length: 4, checksum: csum }, dataFin: false },
    // tshark 4.0 labels a DSS checksum only when the option has 2 bytes more than the checksum
    // needs (its length test is off by two), so no Linux DSS checksum is labelled either: check
    // that it sees the 28-byte option and the checksum as its last two bytes.
    optionsTail: csum.toString(16).padStart(4, "0"),
    expect: { [T + "rawdataack"]: "5", [T + "rawdataseqno"]: dsn.toString(), [T + "subflowseqno"]: "1", [T + "datalvllen"]: "4",
      "tcp.option_len": "28", [T + "dseqn8.flag"]: "1", [T + "dseqnpresent.flag"]: "1" } },
  // tshark 4.0 predates the C flag (RFC 8684): its algorithm mask still covers that bit, so it
  // calls C+H an "Unsupported algorithm" while decoding both flags right.
  { name: "MP_CAPABLE SYN (C, H)", flags: TCP_SYN, expectExpert: /^Unsupported algorithm$/, option: { type: "mp_capable", version: 1, flags: 0x21 },
    expect: { [T + "flags"]: "0x21", [T + "nomoresubflows.flag"]: "1" } },
  // MP_JOIN
  { name: "MP_JOIN SYN", flags: TCP_SYN, option: { type: "mp_join_syn", backup: false, addressId: 2, token: 0x66840dda, nonce: 0xaabbccdd },
    expect: { [T + "subtype"]: "1", [T + "addrid"]: "2", [T + "recvtok"]: String(0x66840dda), [T + "sendrand"]: String(0xaabbccdd), [T + "backup.flag"]: "0" } },
  { name: "MP_JOIN SYN backup", flags: TCP_SYN, option: { type: "mp_join_syn", backup: true, addressId: 7, token: 1, nonce: 2 },
    expect: { [T + "addrid"]: "7", [T + "backup.flag"]: "1" } },
  { name: "MP_JOIN SYN/ACK", flags: TCP_SYN | TCP_ACK, option: { type: "mp_join_synack", backup: true, addressId: 3, hmac: H8, nonce: 0x11223344 },
    expect: { [T + "addrid"]: "3", [T + "sendtrunchmac"]: u64(H8), [T + "sendrand"]: String(0x11223344), [T + "backup.flag"]: "1" } },
  { name: "MP_JOIN ACK", option: { type: "mp_join_ack", hmac: H20 }, expect: { [T + "subtype"]: "1", [T + "sendhmac"]: hex(H20) } },
  // DSS
  { name: "DSS DATA_ACK 4", option: { type: "dss", dataAck: 0x12345678n, ack64: false, dataFin: false },
    expect: { [T + "subtype"]: "2", [T + "rawdataack"]: String(0x12345678), [T + "dataackpresent.flag"]: "1", [T + "dataack8.flag"]: "0" } },
  { name: "DSS DATA_ACK 8", option: { type: "dss", dataAck: K2, ack64: true, dataFin: false },
    expect: { [T + "rawdataack"]: K2.toString(), [T + "dataack8.flag"]: "1", [T + "dseqnpresent.flag"]: "0" } },
  { name: "DSS ack4 + dsn4 mapping, no checksum", flags: TCP_ACK | TCP_PSH, payload: bytes(300, 5),
    option: { type: "dss", dataAck: 77n, ack64: false, mapping: { dsn: 0x89abcdefn, dsn64: false, ssn: 0xfffffff0, length: 300 }, dataFin: false },
    expect: { [T + "rawdataack"]: "77", [T + "rawdataseqno"]: String(0x89abcdef), [T + "subflowseqno"]: String(0xfffffff0), [T + "datalvllen"]: "300", [T + "dseqn8.flag"]: "0" } },
  { name: "DSS mapping only (no DATA_ACK)", flags: TCP_ACK | TCP_PSH, payload: bytes(10, 5),
    option: { type: "dss", mapping: { dsn: 1000n, dsn64: true, ssn: 9, length: 10 }, dataFin: false },
    expect: { [T + "rawdataseqno"]: "1000", [T + "subflowseqno"]: "9", [T + "datalvllen"]: "10", [T + "dataackpresent.flag"]: "0" } },
  { name: "DSS DATA_FIN alone", option: { type: "dss", dataAck: 9n, ack64: true, mapping: { dsn: 4242n, dsn64: true, ssn: 0, length: 1 }, dataFin: true },
    expect: { [T + "datafin.flag"]: "1", [T + "rawdataseqno"]: "4242", [T + "subflowseqno"]: "0", [T + "datalvllen"]: "1" } },
  { name: "DSS infinite mapping", expectExpert: /infinite mapping/, option: { type: "dss", dataAck: 1n, ack64: true, mapping: { dsn: 7n, dsn64: true, ssn: 0, length: 0 }, dataFin: false },
    expect: { [T + "datalvllen"]: "0", [T + "rawdataseqno"]: "7" } },
  // ADD_ADDR
  { name: "ADD_ADDR v4 + HMAC", option: { type: "add_addr", echo: false, addressId: 5, address: parseIpText("198.18.1.2")!, hmac: H8 },
    expect: { [T + "subtype"]: "3", [T + "addrid"]: "5", [T + "ipv4"]: "198.18.1.2", [T + "addaddrtrunchmac"]: u64(H8), [T + "echo"]: "0" } },
  { name: "ADD_ADDR v4 + port + HMAC", option: { type: "add_addr", echo: false, addressId: 6, address: parseIpText("198.18.1.3")!, port: 8080, hmac: H8 },
    expect: { [T + "ipv4"]: "198.18.1.3", [T + "port"]: "8080", [T + "addaddrtrunchmac"]: u64(H8) } },
  { name: "ADD_ADDR v4 echo", option: { type: "add_addr", echo: true, addressId: 5, address: parseIpText("198.18.1.2")! },
    expect: { [T + "echo"]: "1", [T + "ipv4"]: "198.18.1.2", [T + "addrid"]: "5" } },
  { name: "ADD_ADDR v4 echo + port", option: { type: "add_addr", echo: true, addressId: 5, address: parseIpText("198.18.1.2")!, port: 443 },
    expect: { [T + "echo"]: "1", [T + "port"]: "443" } },
  { name: "ADD_ADDR v6 + HMAC", v6: true, option: { type: "add_addr", echo: false, addressId: 9, address: parseIpText("2001:2::99")!, hmac: H8 },
    expect: { [T + "ipv6"]: "2001:2::99", [T + "addaddrtrunchmac"]: u64(H8), [T + "addrid"]: "9" } },
  { name: "ADD_ADDR v6 + port + HMAC", v6: true, option: { type: "add_addr", echo: false, addressId: 9, address: parseIpText("2001:2::99")!, port: 1234, hmac: H8 },
    expect: { [T + "ipv6"]: "2001:2::99", [T + "port"]: "1234" } },
  { name: "ADD_ADDR v6 echo", v6: true, option: { type: "add_addr", echo: true, addressId: 10, address: parseIpText("2001:2::a")! },
    expect: { [T + "ipv6"]: "2001:2::a", [T + "echo"]: "1" } },
  // Others
  { name: "REMOVE_ADDR one id", option: { type: "remove_addr", addressIds: [4] }, expect: { [T + "subtype"]: "4", [T + "addrid"]: "4", "mptcp.rm_addr.count": "1" } },
  { name: "REMOVE_ADDR three ids", option: { type: "remove_addr", addressIds: [1, 2, 200] }, expect: { [T + "addrid"]: "1,2,200", "mptcp.rm_addr.count": "3" } },
  { name: "MP_PRIO backup", option: { type: "mp_prio", backup: true }, expect: { [T + "subtype"]: "5", [T + "backup.flag"]: "1" } },
  { name: "MP_PRIO regular", option: { type: "mp_prio", backup: false }, expect: { [T + "subtype"]: "5", [T + "backup.flag"]: "0" } },
  { name: "MP_FAIL", option: { type: "mp_fail", dsn }, expect: { [T + "subtype"]: "6", [T + "rawdataseqno"]: dsn.toString() } },
  { name: "MP_FASTCLOSE", option: { type: "mp_fastclose", receiverKey: K1 }, expect: { [T + "subtype"]: "7", [T + "recvkey"]: K1.toString() } },
  { name: "MP_TCPRST transient, admin prohibited", flags: TCP_RST | TCP_ACK, expectExpert: /^Connection reset \(RST\)$/, option: { type: "mp_tcprst", flags: 1, reason: 3 },
    expect: { [T + "subtype"]: "8", [T + "flag_T.flag"]: "1", [T + "rst_reason"]: "0x03" } },
  { name: "MP_TCPRST MPTCP error", flags: TCP_RST, expectExpert: /^Connection reset \(RST\)$/, option: { type: "mp_tcprst", flags: 0, reason: 1 },
    expect: { [T + "flag_T.flag"]: "0", [T + "rst_reason"]: "0x01" } },
  { name: "MP_EXPERIMENTAL", option: { type: "mp_experimental", low: 0, data: bytes(6, 2) }, expect: { [T + "subtype"]: "15" } },
];

function buildPcap(): Uint8Array {
  const w = new PcapWriter();
  const buf = new Uint8Array(2000);
  const convPorts = new Map<string, number>();
  const nextSeq = new Map<string, number>();
  cases.forEach((c, i) => {
    let port = 40000 + i;
    if (c.conv !== undefined) {
      if (!convPorts.has(c.conv)) convPorts.set(c.conv, port);
      port = convPorts.get(c.conv)!;
    }
    let [src, dst]: [IpAddress, IpAddress] = c.v6 ? [A6, B6] : [A, B];
    let [sport, dport] = [port, 5201];
    if (c.fromServer) [src, dst, sport, dport] = [dst, src, dport, sport];
    const ip = ipHeaderFor(src, dst);
    const flags = c.flags ?? TCP_ACK;
    // Sequence numbers of a plausible connection: client ISN 999, server ISN 1999.
    const synSeq = c.fromServer ? 1999 : 999;
    const key = `${port}/${c.fromServer ? "s" : "c"}`;
    const seq = flags & TCP_SYN ? synSeq : (nextSeq.get(key) ?? synSeq + 1);
    nextSeq.set(key, seq + (flags & TCP_SYN ? 1 : 0) + (c.payload?.length ?? 0));
    const ack = flags & TCP_ACK ? (c.fromServer ? 1000 : 2000) : 0;
    const seg = {
      header: { srcPort: sport, dstPort: dport, seq, ack, flags, window: 512, checksum: 0, urgent: 0,
        options: { mptcp: [c.option] } },
      payload: c.payload ?? new Uint8Array(0),
    };
    const l = emitPacket(ip, seg, buf, 0);
    assert.ok(l.ok, `${c.name}: option fits`);
    if (!l.ok) return;
    fillTcpChecksum(src, dst, buf, l.value.tcpOffset, l.value.tcpLength);
    if (ip.version === 4) fillIpv4HeaderChecksum(buf, 0);
    w.write(1_000_000 + i * 1000, buf.subarray(0, l.value.length));
  });
  return w.bytes();
}

function tshark(file: string, args: string[]): string[] {
  const r = spawnSync("tshark", ["-r", file, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.length > 0);
}

test("tshark decodes every MPTCP option form as we meant it", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-oracle-"));
  try {
    const file = join(dir, "options.pcap");
    writeFileSync(file, buildPcap());
    // ORACLE_PCAP=path keeps a copy for a look with Wireshark.
    if (process.env.ORACLE_PCAP) writeFileSync(process.env.ORACLE_PCAP, buildPcap());
    const fields = [...new Set(cases.flatMap((c) => Object.keys(c.expect))), "tcp.options"];
    const rows = tshark(file, ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", ...fields.flatMap((f) => ["-e", f])]);
    assert.equal(rows.length, cases.length, "one decoded row per packet");
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const cols = rows[i]!.split("\t");
      for (const [f, want] of Object.entries(c.expect)) {
        const got = cols[fields.indexOf(f)] ?? "";
        if (got !== want) mismatches.push(`${c.name}: ${f} = ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
      const opts = (cols[fields.indexOf("tcp.options")] ?? "").replace(/:/g, "");
      if (c.optionsTail !== undefined && !opts.endsWith(c.optionsTail)) mismatches.push(`${c.name}: options ${opts} do not end with ${c.optionsTail}`);
    });
    assert.deepEqual(mismatches, []);
    // The option must also be recognised as MPTCP at all, on every packet.
    const subtypes = tshark(file, ["-T", "fields", "-e", "tcp.options.mptcp.subtype"]);
    assert.ok(subtypes.every((s) => s.length > 0), "every packet carries a decoded MPTCP option");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tshark reports no malformed packet and no MPTCP expert warning", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-oracle-"));
  try {
    const file = join(dir, "options.pcap");
    writeFileSync(file, buildPcap());
    const rows = tshark(file, ["-T", "fields", "-e", "frame.number", "-e", "_ws.malformed", "-e", "_ws.expert.message", "-e", "_ws.expert.severity"]);
    const bad: string[] = [];
    for (const r of rows) {
      const [frame = "", malformed = "", msgs = "", sevs = ""] = r.split("\t");
      if (malformed !== "") bad.push(`frame ${frame}: malformed`);
      const meant = cases[Number(frame) - 1]?.expectExpert;
      const severities = sevs.split(",").map(Number);
      msgs.split(",").forEach((msg, i) => {
        if (msg === "" || (meant && meant.test(msg))) return;
        // Expert items of the MPTCP dissector (any severity), and any warning or error at all
        // (severity values: chat 0x00200000, note 0x00400000, warning 0x00600000, error 0x00800000).
        if (/mptcp|multipath|mapping|key|hmac|algorithm/i.test(msg) || (severities[i] ?? 0) >= 0x00600000) bad.push(`frame ${frame}: ${msg}`);
      });
    }
    assert.deepEqual(bad, []);
    // The infinite mapping is flagged by tshark exactly where we sent one.
    const flagged = rows.filter((r) => /infinite mapping/.test(r)).map((r) => Number(r.split("\t")[0]));
    assert.deepEqual(flagged, cases.flatMap((c, i) => (c.option.type === "dss" && c.option.mapping?.length === 0 ? [i + 1] : [])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
