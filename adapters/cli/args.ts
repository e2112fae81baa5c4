// Command-line parsing for `mptcp server` / `mptcp client` (issue 7). Pure: argv in, options
// or a UsageError out.
import { parseIpText } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";

export const USAGE = `usage:
  mptcp server (--tun DEV=ADDR ... | --udp ADDR:PORT ...) --port PORT [--echo | --sink | --source BYTES] [--once] [common]
  mptcp client (--tun DEV=ADDR ... | --udp ADDR[:PORT] ...) --connect HOST:PORT [--send BYTES | --in FILE] [--out FILE] [common]
  common: [--checksum] [--scheduler NAME] [--cc NAME] [--max-subflows N] [--announce ADDR ...] [--backup ADDR ...]
          [--no-mptcp] [--pcap FILE] [--timeout SECONDS] [--json]
  --tun DEV=ADDR   an existing TUN device (ip tuntap add dev DEV mode tun) and our address on it
  --udp ADDR:PORT  a UDP socket (TCP-in-UDP); the port is our TCP port on that path (client: 0 = any)
  --loss P         (testing) drop this fraction (0..1) of the packets we send, on every path
  --gso            (TUN) segmentation offload: 64 KiB TCP segments written as GSO packets
                   (virtio_net_hdr), cut to the device's MTU by the kernel only if it forwards them
  BYTES accept suffixes k, M, G (powers of 1024). IPv6 with ports: [2001:2::1]:5000.`;

export class UsageError extends Error {
  override name = "UsageError";
}

export type PathSpec = { kind: "tun"; device: string; address: IpAddress; text: string } | { kind: "udp"; address: IpAddress; port: number; text: string };

export interface CommonOptions {
  paths: PathSpec[];
  checksum: boolean;
  scheduler: string | undefined;
  cc: string | undefined;
  maxSubflows: number | undefined;
  announce: IpAddress[];
  backup: IpAddress[];
  mptcp: boolean;
  pcap: string | undefined;
  timeoutS: number | undefined;
  json: boolean;
  /** Fraction of our outgoing packets dropped (testing loss recovery against a real peer). */
  loss: number;
  /** TUN: write segments of up to 64 KiB as GSO packets (TunOpenOptions.gso). */
  gso: boolean;
}

export interface ServerOptions extends CommonOptions {
  command: "server";
  port: number;
  mode: { kind: "echo" } | { kind: "sink" } | { kind: "source"; bytes: number };
  once: boolean;
}

export interface ClientOptions extends CommonOptions {
  command: "client";
  remote: IpAddress;
  remotePort: number;
  send: number | undefined;
  inFile: string | undefined;
  outFile: string | undefined;
}

export function parseBytes(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s);
  if (!m) throw new UsageError(`bad byte count "${s}"`);
  const mul = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mul;
}

function parsePort(s: string, what: string, allowZero = false): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535 || (n === 0 && !allowZero)) throw new UsageError(`${what}: bad port "${s}"`);
  return n;
}

function parseAddr(s: string, what: string): IpAddress {
  const a = parseIpText(s.replace(/^\[(.*)\]$/, "$1"));
  if (!a) throw new UsageError(`${what}: "${s}" is not an IPv4 or IPv6 address`);
  return a;
}

/** "ADDR:PORT", "[V6]:PORT", or (when portOptional) "ADDR" / "V6". */
export function parseHostPort(s: string, what: string, portOptional = false): { address: IpAddress; port: number } {
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (b) {
    if (b[2] === undefined && !portOptional) throw new UsageError(`${what}: "${s}" needs a port`);
    return { address: parseAddr(b[1]!, what), port: b[2] === undefined ? 0 : parsePort(b[2], what, portOptional) };
  }
  const colons = s.split(":").length - 1;
  if (colons === 1) {
    const [h, p] = s.split(":") as [string, string];
    return { address: parseAddr(h, what), port: parsePort(p, what, portOptional) };
  }
  if (!portOptional) throw new UsageError(`${what}: "${s}" needs a port (ADDR:PORT, [V6]:PORT)`);
  return { address: parseAddr(s, what), port: 0 };
}

export function parseArgs(argv: string[]): ServerOptions | ClientOptions {
  const [command, ...rest] = argv;
  if (command !== "server" && command !== "client") throw new UsageError(`unknown command "${command ?? ""}"`);
  const common: CommonOptions = {
    paths: [],
    checksum: false,
    scheduler: undefined,
    cc: undefined,
    maxSubflows: undefined,
    announce: [],
    backup: [],
    mptcp: true,
    pcap: undefined,
    timeoutS: undefined,
    json: false,
    loss: 0,
    gso: false,
  };
  let port: number | undefined;
  let mode: ServerOptions["mode"] | undefined;
  let once = false;
  let connect: { address: IpAddress; port: number } | undefined;
  let send: number | undefined;
  let inFile: string | undefined;
  let outFile: string | undefined;
  const serverOnly = new Set(["--port", "--echo", "--sink", "--source", "--once"]);
  const clientOnly = new Set(["--connect", "--send", "--in", "--out"]);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const val = (): string => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (command === "client" && serverOnly.has(a)) throw new UsageError(`${a} is a server option`);
    if (command === "server" && clientOnly.has(a)) throw new UsageError(`${a} is a client option`);
    switch (a) {
      case "--tun": {
        const v = val();
        const eq = v.indexOf("=");
        if (eq <= 0) throw new UsageError(`--tun: expected DEV=ADDR, got "${v}"`);
        const dev = v.slice(0, eq);
        if (dev.length > 15) throw new UsageError(`--tun: device name "${dev}" longer than 15 characters`);
        common.paths.push({ kind: "tun", device: dev, address: parseAddr(v.slice(eq + 1), "--tun"), text: v });
        break;
      }
      case "--udp": {
        const v = val();
        const hp = parseHostPort(v, "--udp", command === "client");
        common.paths.push({ kind: "udp", address: hp.address, port: hp.port, text: v });
        break;
      }
      case "--port":
        port = parsePort(val(), "--port");
        break;
      case "--echo":
      case "--sink":
        if (mode) throw new UsageError("choose one of --echo, --sink, --source");
        mode = { kind: a.slice(2) as "echo" | "sink" };
        break;
      case "--source":
        if (mode) throw new UsageError("choose one of --echo, --sink, --source");
        mode = { kind: "source", bytes: parseBytes(val()) };
        break;
      case "--once":
        once = true;
        break;
      case "--connect":
        connect = parseHostPort(val(), "--connect");
        break;
      case "--send":
        send = parseBytes(val());
        break;
      case "--in":
        inFile = val();
        break;
      case "--out":
        outFile = val();
        break;
      case "--checksum":
        common.checksum = true;
        break;
      case "--scheduler":
        common.scheduler = val();
        break;
      case "--cc":
        common.cc = val();
        break;
      case "--max-subflows": {
        const v = val();
        if (!/^\d+$/.test(v)) throw new UsageError(`--max-subflows: bad number "${v}"`);
        common.maxSubflows = Number(v);
        break;
      }
      case "--announce":
        common.announce.push(parseAddr(val(), "--announce"));
        break;
      case "--backup":
        common.backup.push(parseAddr(val(), "--backup"));
        break;
      case "--no-mptcp":
        common.mptcp = false;
        break;
      case "--pcap":
        common.pcap = val();
        break;
      case "--timeout": {
        const v = val();
        const n = Number(v);
        if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--timeout: bad number of seconds "${v}"`);
        common.timeoutS = n;
        break;
      }
      case "--json":
        common.json = true;
        break;
      case "--loss": {
        const v = val();
        const p = Number(v);
        if (!(p >= 0 && p < 1)) throw new UsageError(`--loss: a fraction in [0, 1), got "${v}"`);
        common.loss = p;
        break;
      }
      case "--gso":
        common.gso = true;
        break;
      default:
        throw new UsageError(`unknown option "${a}"`);
    }
  }
  if (common.paths.length === 0) throw new UsageError("give at least one path: --tun DEV=ADDR or --udp ADDR[:PORT]");
  const kinds = new Set(common.paths.map((p) => p.kind));
  if (kinds.size > 1) throw new UsageError("--tun and --udp cannot be mixed");
  const fam = new Set(common.paths.map((p) => p.address.length));
  if (command === "server") {
    if (port === undefined) throw new UsageError("server needs --port PORT");
    for (const p of common.paths) {
      if (p.kind === "udp" && p.port !== port) throw new UsageError(`--udp ${p.text}: the UDP port is the TCP port; it must equal --port ${port}`);
    }
    return { ...common, command, port, mode: mode ?? { kind: "echo" }, once };
  }
  if (!connect) throw new UsageError("client needs --connect HOST:PORT");
  if (send !== undefined && inFile !== undefined) throw new UsageError("choose one of --send and --in");
  if (!fam.has(connect.address.length)) throw new UsageError("--connect: no path of the same address family");
  return { ...common, command, remote: connect.address, remotePort: connect.port, send, inFile, outFile };
}
