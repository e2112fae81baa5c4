// Parser for scripts in packetdrill syntax (the subset and MPTCP extensions documented in
// README.md of this folder): text -> Script (ast.ts). Errors carry line and column.
//
// One event per line:
//   TIME <  [addr[caddr0] > addr[saddr0]] FLAGS [start:end(len)] [ack N] [win N] [<opt, opt, ...>]
//   TIME >  ... (the same, a packet the stack under test must send)
//   TIME name(arg, arg, ...) = RET [ERRNO [(text)]]
//   [TIME] `shell command`
// Options before the timeline: --name=value. Comments: // to the end of the line and /* ... */.
// Directives in comments: `// @known-deviation: reason`, `// @pending: reason`.
import { parseIpText } from "../../core/wire/ip.ts";
import { TCP_ACK, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TCP_CWR } from "../../core/wire/types.ts";
import type { AddrRef, AutoOr, CallArg, DataSeqSpec, EventBody, KeyRef, OptionSpec, PacketSpec, Pos, Script, ScriptEvent, ScriptOption, TimeSpec } from "./ast.ts";
import { ScriptSyntaxError } from "./ast.ts";

const FLAG_BITS: Record<string, number> = { S: TCP_SYN, F: TCP_FIN, P: TCP_PSH, R: TCP_RST, ".": TCP_ACK, U: TCP_URG, E: TCP_ECE, W: TCP_CWR };

const MPC_FLAG_NAMES: Record<string, number> = {
  flag_a: 0x80,
  flag_b: 0x40,
  flag_c: 0x20,
  flag_d: 0x10,
  flag_e: 0x08,
  flag_f: 0x04,
  flag_g: 0x02,
  flag_h: 0x01,
};

/** A cursor over one line. Columns are 1-based. */
class Cursor {
  i: number;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly text: string,
    start = 0,
    readonly end = text.length,
  ) {
    this.i = start;
  }
  pos(at = this.i): Pos {
    return { line: this.line, column: at + 1 };
  }
  fail(msg: string, at = this.i): never {
    throw new ScriptSyntaxError(this.file, this.pos(at), msg);
  }
  ws(): void {
    while (this.i < this.end && /\s/.test(this.text[this.i]!)) this.i++;
  }
  done(): boolean {
    this.ws();
    return this.i >= this.end;
  }
  peek(s: string): boolean {
    this.ws();
    return this.text.startsWith(s, this.i) && this.i + s.length <= this.end;
  }
  eat(s: string): boolean {
    if (this.peek(s)) {
      this.i += s.length;
      return true;
    }
    return false;
  }
  expect(s: string, what = `'${s}'`): void {
    if (!this.eat(s)) this.fail(`expected ${what}, found ${this.rest() || "end of line"}`);
  }
  rest(): string {
    const r = this.text.slice(this.i, this.end).trim();
    return r.length > 24 ? `'${r.slice(0, 24)}...'` : r ? `'${r}'` : "";
  }
  word(): string | undefined {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.i, this.end));
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }
  peekWord(): string | undefined {
    const save = this.i;
    const w = this.word();
    this.i = save;
    return w;
  }
  /** An unsigned integer (decimal or 0x hex) as bigint. */
  bigint(what: string): bigint {
    this.ws();
    const m = /^(0x[0-9a-fA-F]+|[0-9]+)/.exec(this.text.slice(this.i, this.end));
    if (!m) this.fail(`expected ${what} (a number), found ${this.rest() || "end of line"}`);
    this.i += m[0].length;
    return BigInt(m[0]);
  }
  int(what: string, max = 0xffffffff): number {
    const at = this.i;
    const v = this.bigint(what);
    if (v > BigInt(max)) this.fail(`${what} ${v} is larger than ${max}`, at);
    return Number(v);
  }
  /** A signed integer. */
  signed(what: string): number {
    this.ws();
    const neg = this.eat("-");
    const v = this.int(what, Number.MAX_SAFE_INTEGER);
    return neg ? -v : v;
  }
}

function parseSeconds(c: Cursor, text: string, at: number): number {
  if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text)) c.fail(`bad time '${text}'`, at);
  return Math.round(Number(text) * 1_000_000);
}

function parseTime(c: Cursor): TimeSpec | undefined {
  c.ws();
  const at = c.i;
  if (c.eat("*")) return { kind: "any" };
  const m = /^(\+?)([0-9]+(?:\.(?!\.\.)[0-9]*)?|\.[0-9]+)/.exec(c.text.slice(c.i, c.end));
  if (!m) return undefined;
  c.i += m[0].length;
  if (/^\s*\.\.\./.test(c.text.slice(c.i))) c.fail("blocking calls with a time range (t1...t2) are not supported: make the call when it can complete (or use O_NONBLOCK)", at);
  const usecs = parseSeconds(c, m[2]!, at);
  return m[1] ? { kind: "relative", usecs } : { kind: "absolute", usecs };
}

// ------------------------------------------------------------------------------- addresses

function parseAddr(c: Cursor): AddrRef {
  c.ws();
  const at = c.i;
  c.expect("addr[");
  const pos = c.pos(at);
  let r: AddrRef;
  const m = /^([sc])addr([0-9]+)\]/.exec(c.text.slice(c.i, c.end));
  if (m) {
    c.i += m[0].length;
    r = { side: m[1] as "s" | "c", index: Number(m[2]), pos };
  } else {
    c.eat("ep=");
    const lit = parseAddrLiteral(c);
    c.expect("]");
    r = { literal: lit, pos };
  }
  return r;
}

function parseAddrLiteral(c: Cursor): Uint8Array {
  c.ws();
  const at = c.i;
  let text: string;
  if (c.eat("inet_addr(") || c.eat("inet6_addr(")) {
    c.expect('"');
    const e = c.text.indexOf('"', c.i);
    if (e < 0 || e > c.end) c.fail("unterminated string");
    text = c.text.slice(c.i, e);
    c.i = e + 1;
    c.expect(")");
  } else {
    const m = /^[0-9a-fA-F:.]+/.exec(c.text.slice(c.i, c.end));
    if (!m) c.fail("expected saddrN, caddrN, inet_addr(\"...\") or an address");
    text = m[0];
    c.i += text.length;
  }
  const a = parseIpText(text);
  if (!a) c.fail(`bad IP address '${text}'`, at);
  return a;
}

// ------------------------------------------------------------------------------- packets

function parsePacket(c: Cursor, direction: "inbound" | "outbound"): PacketSpec {
  const p: PacketSpec = { direction, flags: 0, flagsText: "" };
  // Optional addresses: [addr[..][:port]] > [addr[..][:port]]
  c.ws();
  if (c.peek("addr[") || (c.peek(">") && /^>\s*addr\[/.test(c.text.slice(c.i)))) {
    if (c.peek("addr[")) {
      p.src = parseAddr(c);
      if (c.eat(":")) p.srcPort = c.int("port", 65535);
    }
    c.expect(">", "'>' between the source and destination addresses");
    if (c.peek("addr[")) {
      p.dst = parseAddr(c);
      if (c.eat(":")) p.dstPort = c.int("port", 65535);
    }
  }
  c.ws();
  const fat = c.i;
  const fm = /^[SFPRUEW.]+/.exec(c.text.slice(c.i, c.end));
  if (!fm) c.fail(`expected TCP flags (S, S., ., P., F., R, R., ...), found ${c.rest() || "end of line"}`);
  for (const ch of fm[0]) {
    const b = FLAG_BITS[ch]!;
    if (p.flags & b) c.fail(`flag '${ch}' given twice`, fat);
    p.flags |= b;
  }
  p.flagsText = fm[0];
  c.i += fm[0].length;
  // start:end(len)
  c.ws();
  if (/^[0-9]/.test(c.text.slice(c.i, c.end))) {
    const at = c.i;
    const start = c.int("sequence start");
    c.expect(":");
    const end = c.int("sequence end");
    c.expect("(");
    const len = c.int("length", 0xffff);
    c.expect(")");
    if (((end - start) >>> 0) !== len) c.fail(`sequence range ${start}:${end} does not have length ${len}`, at);
    p.seq = { start, end, len, pos: c.pos(at) };
  }
  for (;;) {
    c.ws();
    if (c.done()) break;
    if (c.peek("<")) {
      c.i++;
      const close = c.text.lastIndexOf(">", c.end);
      if (close < c.i) c.fail("unterminated option list (missing '>')");
      // `<...>`: options not compared (packetdrill).
      if (c.text.slice(c.i, close).trim() !== "...") p.options = parseOptionList(c, c.i, close);
      c.i = close + 1;
      if (!c.done()) c.fail(`unexpected ${c.rest()} after the option list`);
      break;
    }
    const at = c.i;
    const w = c.word();
    if (w === "ack") {
      if (!(p.flags & TCP_ACK)) c.fail("'ack N' on a packet without the ACK flag ('.')", at);
      p.ack = c.int("ack");
    } else if (w === "win") p.win = c.int("window", 0xffff);
    else c.fail(`unexpected ${w ? `'${w}'` : c.rest()} in a packet line (expected ack, win or <options>)`, at);
  }
  return p;
}

/** Splits text[from, to) at commas outside brackets, parentheses and strings. */
function splitTop(text: string, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let inStr = false;
  let s = from;
  for (let i = from; i < to; i++) {
    const ch = text[i]!;
    if (inStr) {
      if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === "[" || ch === "(" || ch === "{") depth++;
    else if (ch === "]" || ch === ")" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      out.push([s, i]);
      s = i + 1;
    }
  }
  out.push([s, to]);
  return out;
}

function parseOptionList(c: Cursor, from: number, to: number): OptionSpec[] {
  const out: OptionSpec[] = [];
  if (c.text.slice(from, to).trim() === "") return out;
  for (const [s, e] of splitTop(c.text, from, to)) {
    const oc: Cursor = new Cursor(c.file, c.line, c.text, s, e);
    out.push(parseOption(oc));
    if (!oc.done()) oc.fail(`unexpected ${oc.rest()} in option`);
  }
  return out;
}

function parseKeyRef(c: Cursor): KeyRef {
  c.ws();
  const pos = c.pos();
  const w = c.peekWord();
  if (w === "skey" || w === "ckey") {
    c.word();
    if (c.eat("=")) return { name: w, value: c.bigint("key"), pos };
    return { name: w, pos };
  }
  const v = c.bigint("key (skey, ckey, skey=N, ckey=N or a number)");
  if (v > 0xffffffffffffffffn) c.fail("a key has 64 bits", pos.column - 1);
  return { literal: v, pos };
}

function parseDataSeq(c: Cursor, width: 4 | 8 | undefined, what: string): DataSeqSpec {
  const v = c.bigint(what);
  return { value: v, width };
}

function parseChecksumValue(c: Cursor): AutoOr<number> {
  if (c.peekWord() === "auto") {
    c.word();
    return "auto";
  }
  return c.int("checksum", 0xffff);
}

function parseHmacValue(c: Cursor, bytes: number): AutoOr<Uint8Array> {
  if (c.peekWord() === "auto") {
    c.word();
    return "auto";
  }
  const at = c.i;
  const v = c.bigint("HMAC (auto or a hex number)");
  if (v >= 1n << BigInt(8 * bytes)) c.fail(`the HMAC has ${bytes} bytes`, at);
  const out = new Uint8Array(bytes);
  let x = v;
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function parseOption(c: Cursor): OptionSpec {
  c.ws();
  const pos = c.pos();
  const at = c.i;
  const w = c.word();
  switch (w) {
    case "nop":
      return { kind: "nop", pos };
    case "eol":
      return { kind: "eol", pos };
    case "mss":
      return { kind: "mss", value: c.int("mss", 0xffff), pos };
    case "wscale":
      return { kind: "wscale", value: c.int("wscale", 255), pos };
    case "sackOK":
      return { kind: "sackOK", pos };
    case "sack": {
      const blocks: Array<[number, number]> = [];
      while (!c.done()) {
        const a = c.int("SACK start");
        c.expect(":");
        blocks.push([a, c.int("SACK end")]);
      }
      if (blocks.length === 0 || blocks.length > 4) c.fail("sack needs 1 to 4 blocks A:B", at);
      return { kind: "sack", blocks, pos };
    }
    case "TS": {
      if (c.word() !== "val") c.fail("expected 'TS val X ecr Y'");
      const val = c.int("TS val");
      if (c.word() !== "ecr") c.fail("expected 'ecr Y'");
      return { kind: "TS", val, ecr: c.int("TS ecr"), pos };
    }
    case "mpcapable":
      return parseMpCapable(c, pos);
    case "dss":
      return parseDss(c, pos);
    case "mp_join_syn":
    case "mp_join_syn_ack":
    case "mp_join_ack":
      return parseJoin(c, w, pos);
    case "add_address":
    case "add_addr":
      return parseAddAddress(c, pos);
    case "remove_address":
    case "remove_addr": {
      const ids: number[] = [];
      if (c.word() !== "address_id") c.fail("expected address_id[N, ...] or address_id=N");
      if (c.eat("=")) ids.push(c.int("address id", 255));
      else {
        c.expect("[");
        do ids.push(c.int("address id", 255));
        while (c.eat(","));
        c.expect("]");
      }
      return { kind: "remove_address", addressIds: ids, pos };
    }
    case "mp_prio": {
      let backup = false;
      if (c.peekWord() === "backup") {
        c.word();
        backup = true;
      } else if (c.peekWord() === "nobackup") c.word();
      return { kind: "mp_prio", backup, pos };
    }
    case "mp_fail": {
      const f = c.word();
      c.expect("=");
      if (f !== "dsn8" && f !== "dsn4" && f !== "dsn") c.fail("expected mp_fail dsn8=N");
      return { kind: "mp_fail", dsn: parseDataSeq(c, 8, "DSN"), pos };
    }
    case "mp_fastclose": {
      if (c.done()) return { kind: "mp_fastclose", pos };
      if (c.peekWord() === "key") {
        c.word();
        c.expect("=");
      }
      return { kind: "mp_fastclose", key: parseKeyRef(c), pos };
    }
    case "mp_reset":
    case "mp_tcprst": {
      if (c.peekWord() === "reason") {
        c.word();
        c.expect("=");
      }
      const reason = c.int("MP_TCPRST reason", 255);
      let flags: number | undefined;
      while (!c.done()) {
        const k = c.word();
        if (k === "transient") flags = (flags ?? 0) | 1;
        else if (k === "flags") {
          c.expect("=");
          flags = c.int("flags", 15);
        } else c.fail(`unexpected '${k ?? c.rest()}' in mp_reset`);
      }
      return flags === undefined ? { kind: "mp_tcprst", reason, pos } : { kind: "mp_tcprst", reason, flags, pos };
    }
    default:
      return c.fail(`unknown option ${w ? `'${w}'` : c.rest()}`, at);
  }
}

function parseMpCapable(c: Cursor, pos: Pos): OptionSpec {
  let version = 1;
  const vw = c.peekWord();
  if (vw && /^v[0-9]+$/.test(vw)) {
    c.word();
    version = Number(vw.slice(1));
    if (version > 15) c.fail("version is 4 bits");
  }
  let flags = 0;
  let keys: KeyRef[] | undefined;
  let dataLength: number | undefined;
  let checksum: AutoOr<number> | "none" | undefined;
  while (!c.done()) {
    const at = c.i;
    const w = c.word();
    if (w === "flags") {
      if (c.eat("[")) {
        if (!c.eat("]")) {
          do {
            const fat = c.i;
            const f = c.word();
            if (f === undefined || MPC_FLAG_NAMES[f] === undefined) c.fail(`unknown MP_CAPABLE flag '${f ?? c.rest()}' (flag_a ... flag_h)`, fat);
            flags |= MPC_FLAG_NAMES[f]!;
          } while (c.eat(","));
          c.expect("]");
        }
      } else flags = c.int("flags", 255);
    } else if (w === "nokey") keys = [];
    else if (w === "key") {
      c.expect("[");
      keys = [parseKeyRef(c)];
      if (c.eat(",")) keys.push(parseKeyRef(c));
      c.expect("]");
    } else if (w === "mpcdatalen") {
      c.eat("=");
      dataLength = c.int("data-level length", 0xffff);
    } else if (w === "nocs") checksum = "none";
    else if (w === "cksum" || w === "csum") {
      c.expect("=");
      checksum = parseChecksumValue(c);
    } else c.fail(`unexpected ${w ? `'${w}'` : c.rest()} in mpcapable (v1, flags[...], nokey, key[...], mpcdatalen N, cksum=...)`, at);
  }
  if (keys === undefined) c.fail("mpcapable needs 'nokey' or 'key[...]'", pos.column - 1);
  if (dataLength !== undefined && keys.length !== 2) c.fail("mpcdatalen needs both keys (key[sender, receiver])", pos.column - 1);
  const o: OptionSpec = { kind: "mpcapable", version, flags, keys, pos };
  if (dataLength !== undefined) o.dataLength = dataLength;
  if (checksum !== undefined) o.checksum = checksum;
  return o;
}

function parseDss(c: Cursor, pos: Pos): OptionSpec {
  const o: Extract<OptionSpec, { kind: "dss" }> = { kind: "dss", fin: false, pos };
  while (!c.done()) {
    const at = c.i;
    const w = c.word();
    const dup = (x: unknown): void => {
      if (x !== undefined) c.fail(`'${w}' given twice`, at);
    };
    switch (w) {
      case "dack":
      case "dack4":
      case "dack8":
        dup(o.dataAck);
        c.expect("=");
        o.dataAck = parseDataSeq(c, w === "dack4" ? 4 : w === "dack8" ? 8 : undefined, "DATA_ACK");
        break;
      case "dsn":
      case "dsn4":
      case "dsn8":
        dup(o.dsn);
        c.expect("=");
        o.dsn = parseDataSeq(c, w === "dsn4" ? 4 : w === "dsn8" ? 8 : undefined, "DSN");
        break;
      case "ssn":
        dup(o.ssn);
        c.expect("=");
        o.ssn = c.int("SSN");
        break;
      case "dll":
        dup(o.dll);
        c.expect("=");
        o.dll = c.int("data-level length", 0xffff);
        break;
      case "nocs":
        dup(o.checksum);
        o.checksum = "none";
        break;
      case "cksum":
      case "csum":
        dup(o.checksum);
        c.expect("=");
        o.checksum = parseChecksumValue(c);
        break;
      case "fin":
        o.fin = true;
        break;
      default:
        c.fail(`unexpected ${w ? `'${w}'` : c.rest()} in dss (dack=, dack4=, dack8=, dsn=, dsn4=, dsn8=, ssn=, dll=, nocs, cksum=, fin)`, at);
    }
  }
  const m = [o.dsn, o.ssn, o.dll].filter((x) => x !== undefined).length;
  if (m !== 0 && m !== 3) c.fail("a DSS mapping needs dsn, ssn and dll together", pos.column - 1);
  return o;
}

function parseJoin(c: Cursor, w: "mp_join_syn" | "mp_join_syn_ack" | "mp_join_ack", pos: Pos): OptionSpec {
  let backup = false;
  let addressId: number | undefined;
  let token: { key: "skey" | "ckey" } | { literal: number } | undefined;
  let rand: number | undefined;
  let hmac: AutoOr<Uint8Array> | undefined;
  while (!c.done()) {
    const at = c.i;
    const k = c.word();
    if (k === "backup" && w !== "mp_join_ack") backup = true;
    else if (k === "address_id" && w !== "mp_join_ack") {
      c.expect("=");
      addressId = c.int("address id", 255);
    } else if (k === "token" && w === "mp_join_syn") {
      c.expect("=");
      if (c.peekWord() === "sha256_32") {
        c.word();
        c.expect("(");
        const kn = c.word();
        if (kn !== "skey" && kn !== "ckey") c.fail("expected sha256_32(skey) or sha256_32(ckey)");
        c.expect(")");
        token = { key: kn };
      } else token = { literal: c.int("token") };
    } else if (k === "rand" && w !== "mp_join_ack") {
      c.expect("=");
      rand = c.int("nonce");
    } else if ((k === "sender_hmac" || k === "hmac") && w !== "mp_join_syn") {
      c.expect("=");
      hmac = parseHmacValue(c, w === "mp_join_ack" ? 20 : 8);
    } else c.fail(`unexpected ${k ? `'${k}'` : c.rest()} in ${w}`, at);
  }
  if (w === "mp_join_ack") return { kind: "mp_join_ack", hmac: hmac ?? "auto", pos };
  if (addressId === undefined) c.fail(`${w} needs address_id=N`);
  if (w === "mp_join_syn") {
    if (token === undefined) c.fail("mp_join_syn needs token=sha256_32(skey) or token=N");
    const o: OptionSpec = { kind: "mp_join_syn", backup, addressId, token, pos };
    if (rand !== undefined) o.rand = rand;
    return o;
  }
  const o: OptionSpec = { kind: "mp_join_syn_ack", backup, addressId, hmac: hmac ?? "auto", pos };
  if (rand !== undefined) o.rand = rand;
  return o;
}

function parseAddAddress(c: Cursor, pos: Pos): OptionSpec {
  let addressId: number | undefined;
  let addr: AddrRef | undefined;
  let port: number | undefined;
  let hmac: AutoOr<Uint8Array> | "echo" | undefined;
  while (!c.done()) {
    const at = c.i;
    if (c.peek("addr[")) {
      addr = parseAddr(c);
      continue;
    }
    const k = c.word();
    if (k === "address_id") {
      c.expect("=");
      addressId = c.int("address id", 255);
    } else if (k === "port") {
      c.expect("=");
      port = c.int("port", 65535);
    } else if (k === "hmac") {
      c.expect("=");
      hmac = parseHmacValue(c, 8);
    } else if (k === "addr_echo" || k === "echo") hmac = "echo";
    else c.fail(`unexpected ${k ? `'${k}'` : c.rest()} in add_address (address_id=N, addr[...], port=N, hmac=auto, addr_echo)`, at);
  }
  if (addressId === undefined) c.fail("add_address needs address_id=N");
  if (addr === undefined) c.fail("add_address needs addr[saddrN], addr[caddrN] or addr[ep=inet_addr(\"...\")]");
  const o: OptionSpec = { kind: "add_address", addressId, addr, hmac: hmac ?? "auto", pos };
  if (port !== undefined) o.port = port;
  return o;
}

// ------------------------------------------------------------------------------- calls

function parseCall(c: Cursor, name: string): { name: string; args: CallArg[]; ret: number; errno?: string } {
  c.expect("(");
  const open = c.i;
  let depth = 1;
  let i = open;
  let inStr = false;
  for (; i < c.end; i++) {
    const ch = c.text[i]!;
    if (inStr) {
      if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
      if (depth === 0) break;
    }
  }
  if (i >= c.end) c.fail(`unterminated argument list of ${name}()`, open - 1);
  const args: CallArg[] = [];
  if (c.text.slice(open, i).trim() !== "") {
    for (const [s, e] of splitTop(c.text, open, i)) {
      const raw = c.text.slice(s, e);
      const lead = raw.length - raw.trimStart().length;
      const text = raw.trim();
      const a: CallArg = { text, pos: c.pos(s + lead) };
      if (/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) a.num = Number(text);
      args.push(a);
    }
  }
  c.i = i + 1;
  c.expect("=", `'= RESULT' after ${name}(...)`);
  const ret = c.signed("return value");
  let errno: string | undefined;
  if (!c.done()) {
    const at = c.i;
    const e = c.word();
    if (!e || !/^E[A-Z0-9]+$/.test(e)) c.fail(`expected an errno name (EAGAIN, EINPROGRESS, ...), found ${c.rest()}`, at);
    errno = e;
    if (c.eat("(")) {
      const close = c.text.lastIndexOf(")", c.end);
      if (close < c.i) c.fail("unterminated errno text");
      c.i = close + 1;
    }
    if (!c.done()) c.fail(`unexpected ${c.rest()} after the result`);
  }
  if (ret === -1 && errno === undefined) c.fail("a result of -1 needs the errno name (e.g. '= -1 EAGAIN (Resource temporarily unavailable)')");
  const r: { name: string; args: CallArg[]; ret: number; errno?: string } = { name, args, ret };
  if (errno !== undefined) r.errno = errno;
  return r;
}

// ------------------------------------------------------------------------------- lines

/** Removes comments; returns the code part of each line and the comment texts (for directives). */
function stripComments(src: string): { code: string[]; comments: string[] } {
  const lines = src.split(/\r?\n/);
  const code: string[] = [];
  const comments: string[] = [];
  let inBlock = false;
  for (const line of lines) {
    let out = "";
    let i = 0;
    let inStr = false;
    let inTick = false;
    while (i < line.length) {
      if (inBlock) {
        const e = line.indexOf("*/", i);
        if (e < 0) {
          out += " ".repeat(line.length - i);
          i = line.length;
        } else {
          out += " ".repeat(e + 2 - i);
          i = e + 2;
          inBlock = false;
        }
        continue;
      }
      const ch = line[i]!;
      if (!inStr && ch === "`") inTick = !inTick;
      if (!inTick && ch === '"') inStr = !inStr;
      if (!inStr && !inTick && line.startsWith("//", i)) {
        comments.push(line.slice(i + 2).trim());
        break;
      }
      if (!inStr && !inTick && line.startsWith("/*", i)) {
        inBlock = true;
        out += "  ";
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
    code.push(out);
  }
  return { code, comments };
}

/** Parses a whole script. Throws ScriptSyntaxError at the first error. */
export function parseScript(source: string, file = "<script>"): Script {
  const { code, comments } = stripComments(source);
  const script: Script = { file, options: [], events: [] };
  for (const cm of comments) {
    const m = /^@(known-deviation|pending):\s*(.+)$/.exec(cm);
    if (m) {
      if (m[1] === "pending") script.pending = m[2]!;
      else script.knownDeviation = m[2]!;
    }
  }
  for (let n = 0; n < code.length; n++) {
    const text = code[n]!;
    if (text.trim() === "") continue;
    const c: Cursor = new Cursor(file, n + 1, text);
    c.ws();
    const lineStart = c.i;
    if (c.peek("--")) {
      const m = /^--([A-Za-z0-9_]+)(?:=(.*))?$/.exec(text.trim());
      if (!m) c.fail("expected --name=value");
      const opt: ScriptOption = { name: m[1]!, value: (m[2] ?? "").trim(), pos: c.pos(lineStart) };
      if (script.events.length > 0) c.fail(`option --${opt.name} after the first event: options go at the top`, lineStart);
      script.options.push(opt);
      continue;
    }
    const time = parseTime(c);
    c.ws();
    let body: EventBody;
    const at = c.i;
    if (c.eat("`")) {
      const e = text.indexOf("`", c.i);
      if (e < 0) c.fail("unterminated back-quoted command", at);
      body = { type: "shell", command: text.slice(c.i, e).trim() };
      c.i = e + 1;
      if (!c.done()) c.fail(`unexpected ${c.rest()} after the command`);
    } else {
      if (time === undefined) c.fail(`expected a time (+0.1, 0.3 or *) at the start of the line, found ${c.rest()}`);
      if (c.eat("<")) body = { type: "packet", packet: parsePacket(c, "inbound") };
      else if (c.eat(">")) body = { type: "packet", packet: parsePacket(c, "outbound") };
      else {
        const name = c.word();
        if (!name || !c.peek("(")) c.fail(`expected '<', '>', a socket call or a back-quoted command, found ${c.rest() || "end of line"}`, at);
        body = { type: "call", call: parseCall(c, name) };
      }
    }
    const ev: ScriptEvent = { pos: { line: n + 1, column: lineStart + 1 }, text: source.split(/\r?\n/)[n]!.trim(), time, body };
    script.events.push(ev);
  }
  return script;
}

/** Formats the part of a packet spec a reader needs in a message. */
export function describeSeq(p: PacketSpec): string {
  return p.seq ? `${p.seq.start}:${p.seq.end}(${p.seq.len})` : "";
}
