// The virtual-time executor: runs a parsed script against a system under test (sut.ts).
//
// Time is virtual (integer microseconds from 0). Before each event the stack's timers are
// fired in deadline order up to the event's time; every packet the stack sends is queued with
// its send time. A `>` line takes the next queued packet, running the clock forward (up to the
// line's time + tolerance) until one is sent; it must have been sent within the tolerance of
// the line's time, and match field by field. A packet still queued when a later non-`>` line
// runs (sent more than the tolerance before it), or at the end of the script, is an error:
// every packet the stack sends must be scripted. Relative times (+N) count from the previous
// line's time; after a `>` line, from the time the packet was actually sent (as packetdrill).
import { parseIpText } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { TcpConfig } from "../../core/tcp/types.ts";
import { cubicFactory } from "../../core/congestion/cubic.ts";
import type { CallSpec, Script, ScriptEvent } from "./ast.ts";
import { ScriptSyntaxError } from "./ast.ts";
import { parseScript } from "./parse.ts";
import { describePacket } from "./describe.ts";
import { patternBytes, ScriptError, ScriptWorld } from "./packets.ts";
import { parseShellCommand } from "./shell.ts";
import type { HostCommand, Protocol, SockId, SutFactory, SutSetup, SystemUnderTest } from "./sut.ts";
import { ERRNO } from "./sut.ts";

export interface ScriptResult {
  file: string;
  status: "pass" | "fail" | "skip";
  /** Why it failed or was skipped. */
  message?: string;
  /** The failing line (1-based). */
  line?: number;
  /** The script's `@known-deviation` text, if any. */
  knownDeviation?: string;
  /** Events run and packets exchanged, one line each (for --verbose output). */
  log: string[];
}

export interface RunOptions {
  /** Appends every event to the result's log. */
  verbose?: boolean;
  /**
   * Extra lateness allowed for an outbound packet, as a fraction of the time since the previous
   * line (default 0). For real kernels: Linux's timer wheel fires a timer up to 1/8 of its
   * delay late (granularity grows with the distance), beyond any fixed tolerance.
   */
  lateSlack?: number;
  /** Added to the script's tolerance, both ways (real kernels: a few jiffies of timer granularity). */
  extraToleranceUsecs?: number;
}

/** Thrown inside the executor when a line fails. */
class LineFailure extends Error {
  constructor(
    readonly ev: ScriptEvent | undefined,
    msg: string,
  ) {
    super(msg);
  }
}

interface Fd {
  id: SockId;
  protocol: Protocol;
  nonblocking: boolean;
  /** Bytes written so far (the stack's stream pattern offset). */
  written: number;
  /** Bytes read so far (for checking the content of plain-TCP reads). */
  readBytes: number;
}

interface Settings {
  tolerance: number;
  setup: SutSetup;
  scriptAddress: IpAddress;
  bindPort: number;
  connectPort: number;
  scriptPort: number;
}

const INT = /^-?[0-9]+$/;

function settings(script: Script): Settings {
  let v6 = false;
  let local: IpAddress | undefined;
  let remote: IpAddress | undefined;
  const tcp: Partial<TcpConfig> = {};
  const mptcp = { checksum: false };
  const s = { tolerance: 4000, bindPort: 8080, connectPort: 8080, scriptPort: 40000, seed: 1, pacing: false };
  for (const o of script.options) {
    const fail = (msg: string): never => {
      throw new ScriptSyntaxError(script.file, o.pos, msg);
    };
    const int = (): number => {
      if (!INT.test(o.value)) fail(`--${o.name} needs an integer (got '${o.value}')`);
      return Number(o.value);
    };
    const bool = (): boolean => {
      if (o.value !== "0" && o.value !== "1") fail(`--${o.name} needs 0 or 1 (got '${o.value}')`);
      return o.value === "1";
    };
    const ip = (): IpAddress => parseIpText(o.value) ?? fail(`--${o.name}: bad address '${o.value}'`);
    switch (o.name) {
      case "tolerance_usecs":
        s.tolerance = int();
        break;
      case "ip_version":
        if (o.value !== "ipv4" && o.value !== "ipv6") fail("--ip_version is ipv4 or ipv6");
        v6 = o.value === "ipv6";
        break;
      case "local_ip":
        local = ip();
        break;
      case "remote_ip":
        remote = ip();
        break;
      case "bind_port":
        s.bindPort = int();
        break;
      case "connect_port":
        s.connectPort = int();
        break;
      case "remote_port":
        s.scriptPort = int();
        break;
      case "seed":
        s.seed = int();
        break;
      case "mss":
        tcp.mss = int();
        break;
      case "tcp_timestamps":
        tcp.timestamps = bool();
        break;
      case "tcp_sack":
        tcp.sack = bool();
        break;
      case "tcp_window_scaling":
        tcp.windowScaling = bool();
        break;
      case "rmem":
        tcp.receiveBufferSize = int();
        break;
      case "wmem":
        tcp.sendBufferSize = int();
        break;
      case "rto_min_usecs":
        tcp.minRtoUs = int();
        break;
      case "initial_rto_usecs":
        tcp.initialRtoUs = int();
        break;
      case "delayed_ack_usecs":
        tcp.delayedAckUs = int();
        break;
      case "quickack_segments":
        tcp.quickAckSegments = int();
        break;
      case "syn_retries":
        tcp.synRetries = int();
        break;
      case "initial_window":
        tcp.initialWindowSegments = int();
        break;
      case "tcp_early_retrans":
        // Linux: 0 disables tail loss probes; 3 (default) enables them with RACK.
        if (!INT.test(o.value)) fail("--tcp_early_retrans needs 0..4");
        tcp.tlp = Number(o.value) >= 3;
        break;
      case "tcp_rack":
        tcp.rack = bool();
        tcp.tlp = tcp.rack;
        break;
      case "tcp_pacing":
        // Linux paces CUBIC only under the fq qdisc (or with BBR): off by default.
        s.pacing = bool();
        break;
      case "mptcp_checksum":
        mptcp.checksum = bool();
        break;
      default:
        fail(`unknown option --${o.name}`);
    }
  }
  // CUBIC as on Linux; without fq, Linux sends bursts (no TCP pacing), so pacing is off
  // unless the script asks for it (our engine's own default paces: see the corpus README).
  tcp.congestion = cubicFactory(s.pacing ? {} : { pacing: { slowStart: 0, congestionAvoidance: 0 } });
  local ??= parseIpText(v6 ? "2001:2::1:1" : "198.18.0.1")!;
  remote ??= parseIpText(v6 ? "2001:2::2:1" : "198.18.1.1")!;
  if (local.length !== remote.length) throw new ScriptSyntaxError(script.file, { line: 1, column: 1 }, "--local_ip and --remote_ip are of different families");
  if (v6 !== (local.length === 16) && script.options.some((o) => o.name === "ip_version")) {
    throw new ScriptSyntaxError(script.file, { line: 1, column: 1 }, "--ip_version does not match the addresses");
  }
  return {
    tolerance: s.tolerance,
    setup: { localAddress: local, tcp, mptcp, seed: s.seed, protocols: [] },
    scriptAddress: remote,
    bindPort: s.bindPort,
    connectPort: s.connectPort,
    scriptPort: s.scriptPort,
  };
}

/** Parses and runs a script text. */
export function runScriptText(source: string, file: string, factory: SutFactory, opts: RunOptions = {}): ScriptResult {
  let script: Script;
  try {
    script = parseScript(source, file);
  } catch (e) {
    if (e instanceof ScriptSyntaxError) return { file, status: "fail", message: e.message, line: e.pos.line, log: [] };
    throw e;
  }
  return runScript(script, factory, opts);
}

/** Runs a parsed script against a stack made by `factory`. */
export function runScript(script: Script, factory: SutFactory, opts: RunOptions = {}): ScriptResult {
  const base: Pick<ScriptResult, "file" | "knownDeviation"> = { file: script.file };
  if (script.knownDeviation !== undefined) base.knownDeviation = script.knownDeviation;
  let st: Settings;
  try {
    st = settings(script);
  } catch (e) {
    if (e instanceof ScriptSyntaxError) return { ...base, status: "fail", message: e.message, line: e.pos.line, log: [] };
    throw e;
  }
  if (script.pending !== undefined) return { ...base, status: "skip", message: `pending: ${script.pending}`, log: [] };
  // What the script needs, checked before running: socket protocols and host commands.
  const commands = new Map<ScriptEvent, HostCommand[]>();
  for (const ev of script.events) {
    if (ev.body.type === "call" && ev.body.call.name === "socket") {
      const proto = protocolOf(ev.body.call);
      if (proto !== undefined && !st.setup.protocols.includes(proto)) st.setup.protocols.push(proto);
      if (proto === undefined) return { ...base, status: "fail", line: ev.pos.line, message: `${script.file}:${ev.pos.line}: socket() needs IPPROTO_TCP or IPPROTO_MPTCP as its third argument`, log: [] };
      if (!factory.protocols.includes(proto)) {
        return { ...base, status: "skip", message: `${factory.name} has no ${proto === "mptcp" ? "MPTCP endpoint (IPPROTO_MPTCP)" : "plain TCP"} binding yet`, log: [] };
      }
    }
    if (ev.body.type === "shell") {
      const r = parseShellCommand(ev.body.command, st.setup.localAddress);
      if (!r.ok) return { ...base, status: "fail", line: ev.pos.line, message: `${script.file}:${ev.pos.line}: ${r.error}`, log: [] };
      for (const c of r.commands) {
        if (c.kind !== "defaults" && !factory.commands.includes(c.kind)) {
          return { ...base, status: "skip", message: `${factory.name} does not support \`${ev.body.command}\` (path-manager commands) yet`, log: [] };
        }
      }
      commands.set(ev, r.commands);
    }
  }
  const ex = new Executor(script, st, factory.create(st.setup), commands, opts);
  return { ...base, ...ex.run() };
}

function protocolOf(c: CallSpec): Protocol | undefined {
  const p = c.args[2]?.text;
  if (p === "IPPROTO_TCP" || p === "0") return "tcp";
  if (p === "IPPROTO_MPTCP" || p === "262") return "mptcp";
  return undefined;
}

class Executor {
  private now = 0;
  private last = 0;
  private readonly queue: Array<{ time: number; bytes: Uint8Array }> = [];
  private readonly fds = new Map<number, Fd>();
  private readonly world: ScriptWorld;
  private readonly log: string[] = [];

  constructor(
    private readonly script: Script,
    private readonly st: Settings,
    private readonly sut: SystemUnderTest,
    private readonly commands: Map<ScriptEvent, HostCommand[]>,
    private readonly opts: RunOptions,
  ) {
    this.world = new ScriptWorld({
      stackAddress: st.setup.localAddress,
      scriptAddress: st.scriptAddress,
      bindPort: st.bindPort,
      scriptPort: st.scriptPort,
      toleranceUsecs: st.tolerance + (opts.extraToleranceUsecs ?? 0),
      defaultWindow: 65535,
    });
  }

  run(): Omit<ScriptResult, "file" | "knownDeviation"> {
    const file = this.script.file;
    let cur: ScriptEvent | undefined;
    try {
      for (const ev of this.script.events) {
        cur = ev;
        this.event(ev);
      }
      cur = undefined;
      const q = this.queue[0];
      if (q) throw new LineFailure(undefined, `unexpected packet at the end of the script, sent at ${sec(q.time)}:\n  actual:   ${describePacket(this.world, q.bytes)}`);
      return { status: "pass", log: this.log };
    } catch (e) {
      const ev = e instanceof LineFailure ? e.ev : cur;
      let msg: string;
      if (e instanceof LineFailure || e instanceof ScriptError) msg = e.message;
      else msg = `the stack threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      const where = ev ? `${file}:${ev.pos.line}: ` : `${file}: `;
      const text = ev ? `\n  line:     ${ev.text}` : "";
      const r: Omit<ScriptResult, "file" | "knownDeviation"> = { status: "fail", message: `${where}${msg}${text}`, log: this.log };
      if (ev) r.line = ev.pos.line;
      return r;
    }
  }

  private note(s: string): void {
    if (this.opts.verbose) this.log.push(`${sec(this.now)} ${s}`);
  }

  private timeOf(ev: ScriptEvent): number | undefined {
    const t = ev.time;
    if (!t) return this.last;
    if (t.kind === "any") return undefined;
    if (t.kind === "relative") return this.last + t.usecs;
    return t.usecs;
  }

  private event(ev: ScriptEvent): void {
    const t = this.timeOf(ev);
    const b = ev.body;
    if (b.type === "packet" && b.packet.direction === "outbound") {
      this.expect(ev, t);
      return;
    }
    const at = t ?? this.now;
    if (at < this.now - this.st.tolerance) throw new LineFailure(ev, `time ${sec(at)} is before the current time ${sec(this.now)}`);
    this.advance(at, false);
    this.unexpected(ev, at);
    this.last = at;
    if (b.type === "packet") {
      let bytes: Uint8Array;
      try {
        bytes = this.world.buildInbound(b.packet);
      } catch (e) {
        // The script's packet could not be built (an unknown key, a field out of range).
        throw new LineFailure(ev, `cannot build this packet: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.note(`< ${describePacket(this.world, bytes)}`);
      this.sut.handlePacket(this.now, bytes);
    } else if (b.type === "shell") {
      for (const c of this.commands.get(ev) ?? []) {
        const r = this.sut.command(this.now, c);
        if (!r.ok) throw new LineFailure(ev, `\`${b.command}\`: ${r.detail ?? r.errno}`);
      }
    } else this.call(ev, b.call);
    this.drain();
  }

  /** Fires the stack's timers up to `t` (stopping at the first packet sent, if asked). */
  private advance(t: number, stopOnPacket: boolean): void {
    let spins = 0;
    for (;;) {
      if (stopOnPacket && this.queue.length > 0) return;
      const d = this.sut.pollTimeout();
      if (d === undefined || d > t) break;
      if (d <= this.now) {
        if (++spins > 10_000) throw new Error(`the stack's timer at ${sec(d)} does not move (pollTimeout stays at or before now)`);
      } else spins = 0;
      this.now = Math.max(this.now, d);
      this.sut.handleTimeout(this.now);
      this.drain();
    }
    if (stopOnPacket && this.queue.length > 0) return;
    this.now = Math.max(this.now, t);
  }

  private drain(): void {
    for (let i = 0; i < 100_000; i++) {
      const p = this.sut.pollTransmit(this.now);
      if (!p) return;
      this.queue.push({ time: this.now, bytes: p });
    }
    throw new Error("the stack sent more than 100000 packets at one instant");
  }

  private unexpected(ev: ScriptEvent, at: number): void {
    const q = this.queue[0];
    if (q && q.time < at - this.st.tolerance) {
      throw new LineFailure(ev, `unexpected packet sent at ${sec(q.time)} (before this line at ${sec(at)}):\n  actual:   ${describePacket(this.world, q.bytes)}`);
    }
  }

  private expect(ev: ScriptEvent, t: number | undefined): void {
    const p = (ev.body as { type: "packet"; packet: import("./ast.ts").PacketSpec }).packet;
    const tol = this.st.tolerance + (this.opts.extraToleranceUsecs ?? 0);
    const lo = t === undefined ? -Infinity : t - tol;
    const hi = t === undefined ? this.now + 600_000_000 : t + tol + Math.round((this.opts.lateSlack ?? 0) * Math.max(0, t - this.last));
    if (this.queue.length === 0) this.advance(hi, true);
    const q = this.queue.shift();
    if (!q) throw new LineFailure(ev, `expected a packet at ${t === undefined ? "any time" : sec(t)}, the stack sent nothing by ${sec(hi)}`);
    let diffs: string[];
    try {
      diffs = this.world.matchOutbound(p, q.bytes, t === undefined ? 0 : q.time - t);
    } catch (e) {
      if (e instanceof ScriptError) throw new LineFailure(ev, e.message);
      throw e;
    }
    const actual = describePacket(this.world, q.bytes);
    if (q.time < lo || q.time > hi) diffs.unshift(`time: expected ${sec(t!)} (+-${tol / 1000} ms), actual ${sec(q.time)}`);
    this.note(`> ${actual}`);
    if (diffs.length > 0) {
      throw new LineFailure(ev, `outbound packet does not match:\n  actual:   ${actual}\n  ${diffs.join("\n  ")}`);
    }
    this.last = q.time;
  }

  // ----------------------------------------------------------------------------- calls

  private fd(ev: ScriptEvent, c: CallSpec): Fd {
    const a = c.args[0];
    if (a?.num === undefined) throw new LineFailure(ev, `${c.name}(): the first argument must be a file descriptor number`);
    const f = this.fds.get(a.num);
    if (!f) throw new LineFailure(ev, `${c.name}(): fd ${a.num} is not open`);
    return f;
  }

  private check(ev: ScriptEvent, c: CallSpec, r: { ok: true; value: number } | { ok: false; errno: string; detail?: string }): void {
    const norm = (e: string): string => (e === "EWOULDBLOCK" ? "EAGAIN" : e);
    if (r.ok) {
      if (c.ret === -1) throw new LineFailure(ev, `${c.name}() returned ${r.value}, expected -1 ${c.errno}`);
      if (r.value !== c.ret) throw new LineFailure(ev, `${c.name}() returned ${r.value}, expected ${c.ret}`);
      return;
    }
    const detail = r.detail ? ` (${r.detail})` : "";
    if (c.ret !== -1) throw new LineFailure(ev, `${c.name}() failed with ${r.errno}${detail}, expected ${c.ret}`);
    if (norm(r.errno) !== norm(c.errno!)) throw new LineFailure(ev, `${c.name}() failed with ${r.errno}${detail}, expected ${c.errno}`);
  }

  private call(ev: ScriptEvent, c: CallSpec): void {
    const now = this.now;
    this.note(`${c.name}(${c.args.map((a) => a.text).join(", ")})`);
    switch (c.name) {
      case "socket": {
        const proto = protocolOf(c)!;
        if (c.args[1]?.text !== "SOCK_STREAM") throw new LineFailure(ev, "socket(): only SOCK_STREAM is supported");
        const r = this.sut.socket(proto);
        if (!r.ok) return this.check(ev, c, r);
        if (c.ret < 0) throw new LineFailure(ev, `socket() succeeded, expected -1 ${c.errno}`);
        if (this.fds.has(c.ret)) throw new LineFailure(ev, `socket() = ${c.ret}: fd ${c.ret} is already open`);
        this.fds.set(c.ret, { id: r.value, protocol: proto, nonblocking: false, written: 0, readBytes: 0 });
        return;
      }
      case "fcntl": {
        const f = this.fd(ev, c);
        const cmd = c.args[1]?.text;
        if (cmd === "F_SETFL") {
          f.nonblocking = /O_NONBLOCK/.test(c.args[2]?.text ?? "");
          return this.check(ev, c, { ok: true, value: 0 });
        }
        if (cmd === "F_GETFL") return this.check(ev, c, { ok: true, value: 0x2 | (f.nonblocking ? 0x800 : 0) });
        throw new LineFailure(ev, `fcntl(): only F_SETFL and F_GETFL are supported (got ${cmd})`);
      }
      case "setsockopt": {
        const f = this.fd(ev, c);
        const v = intArg(c.args[3]?.text);
        if (v === undefined) throw new LineFailure(ev, `setsockopt(): the value must be a number or [number] (got ${c.args[3]?.text})`);
        return this.check(ev, c, this.sut.setsockopt(f.id, c.args[1]?.text ?? "", c.args[2]?.text ?? "", v));
      }
      case "getsockopt": {
        const f = this.fd(ev, c);
        const level = c.args[1]?.text ?? "";
        const name = c.args[2]?.text ?? "";
        const want = c.args[3]?.text ?? "";
        let r: { ok: true; value: number } | { ok: false; errno: string; detail?: string };
        if (level === "SOL_SOCKET" && name === "SO_ERROR") r = { ok: true, value: this.sut.soError(f.id) };
        else r = this.sut.getsockopt(f.id, level, name);
        if (!r.ok) return this.check(ev, c, r);
        const inner = want.replace(/^\[|\]$/g, "").trim();
        const expected = ERRNO[inner] ?? intArg(inner);
        if (expected === undefined) throw new LineFailure(ev, `getsockopt(): cannot read the expected value '${want}'`);
        if (r.value !== expected) throw new LineFailure(ev, `getsockopt(${level}, ${name}) gave ${errnoName(r.value)}, expected ${inner}`);
        return this.check(ev, c, { ok: true, value: 0 });
      }
      case "bind": {
        const f = this.fd(ev, c);
        return this.check(ev, c, this.sut.bind(f.id, this.st.bindPort));
      }
      case "listen": {
        const f = this.fd(ev, c);
        return this.check(ev, c, this.sut.listen(now, f.id, c.args[1]?.num ?? 1));
      }
      case "accept":
      case "accept4": {
        const f = this.fd(ev, c);
        const r = this.sut.accept(now, f.id);
        if (!r.ok) return this.check(ev, c, r);
        if (c.ret < 0) throw new LineFailure(ev, `accept() returned a connection, expected -1 ${c.errno}`);
        if (this.fds.has(c.ret)) throw new LineFailure(ev, `accept() = ${c.ret}: fd ${c.ret} is already open`);
        this.fds.set(c.ret, { id: r.value, protocol: f.protocol, nonblocking: false, written: 0, readBytes: 0 });
        return;
      }
      case "connect": {
        const f = this.fd(ev, c);
        const r = this.sut.connect(now, f.id, this.st.scriptAddress, this.st.connectPort);
        // The executor never blocks: a blocking connect() written "= 0" is accepted while the
        // handshake is in progress (the script's packets decide whether it completes).
        if (!r.ok && r.errno === "EINPROGRESS" && c.ret === 0 && !f.nonblocking) return;
        return this.check(ev, c, r);
      }
      case "write":
      case "send": {
        const f = this.fd(ev, c);
        const n = c.args[2]?.num;
        if (n === undefined || n < 0) throw new LineFailure(ev, `${c.name}(): the length must be a number`);
        const bytes = patternBytes(f.written, n, 0x55);
        const r = this.sut.write(now, f.id, bytes);
        if (r.ok) f.written += r.value;
        return this.check(ev, c, r);
      }
      case "read":
      case "recv": {
        const f = this.fd(ev, c);
        const n = c.args[2]?.num;
        if (n === undefined || n < 0) throw new LineFailure(ev, `${c.name}(): the length must be a number`);
        const r = this.sut.read(now, f.id, n);
        if (!r.ok) {
          if (r.errno === "EAGAIN" && !f.nonblocking && c.ret !== -1) {
            throw new LineFailure(ev, `${c.name}() would block (no data ready at ${sec(now)}); the runner does not block: move the call after the data arrives`);
          }
          return this.check(ev, c, r);
        }
        this.check(ev, c, { ok: true, value: r.value.length });
        this.checkContent(ev, f, r.value);
        return;
      }
      case "close": {
        const f = this.fd(ev, c);
        const r = this.sut.close(now, f.id);
        this.fds.delete(c.args[0]!.num!);
        return this.check(ev, c, r);
      }
      case "shutdown": {
        const f = this.fd(ev, c);
        const how = c.args[1]?.text;
        const h = how === "SHUT_WR" || how === "1" ? "wr" : how === "SHUT_RD" || how === "0" ? "rd" : how === "SHUT_RDWR" || how === "2" ? "rdwr" : undefined;
        if (!h) throw new LineFailure(ev, `shutdown(): SHUT_RD, SHUT_WR or SHUT_RDWR (got ${how})`);
        return this.check(ev, c, this.sut.shutdown(now, f.id, h));
      }
      default:
        throw new LineFailure(ev, `unsupported call ${c.name}() (socket, setsockopt, getsockopt, fcntl, bind, listen, accept, connect, write, send, read, recv, shutdown, close)`);
    }
  }

  /** Plain TCP: the bytes read must be the script side's stream (patternBytes from its ISN + 1). */
  private checkContent(ev: ScriptEvent, f: Fd, got: Uint8Array): void {
    if (f.protocol !== "tcp" || got.length === 0) {
      f.readBytes += got.length;
      return;
    }
    const sut = this.sut as SystemUnderTest & { tuple?(s: SockId): { localAddress: IpAddress; localPort: number; remoteAddress: IpAddress; remotePort: number } | undefined };
    const t = sut.tuple?.(f.id);
    const sf = t && this.world.findByTuple(t.remoteAddress, t.remotePort, t.localAddress, t.localPort);
    if (sf?.scriptIsn !== undefined) {
      const exp = patternBytes((sf.scriptIsn + 1 + f.readBytes) >>> 0, got.length, 0);
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== exp[i]) throw new LineFailure(ev, `read(): byte ${f.readBytes + i} of the stream is ${got[i]}, the script sent ${exp[i]}`);
      }
    }
    f.readBytes += got.length;
  }
}

function intArg(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const s = t.replace(/^\[|\]$/g, "").trim();
  return /^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(s) ? Number(s) : undefined;
}

function errnoName(v: number): string {
  if (v === 0) return "0";
  for (const [k, n] of Object.entries(ERRNO)) if (n === v) return `${k} (${v})`;
  return String(v);
}

/** Seconds with microsecond precision, as packetdrill prints them. */
export function sec(us: number): string {
  return (us / 1e6).toFixed(6);
}
