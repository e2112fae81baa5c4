// The Linux kernel as the system under test (packetdrill's own set-up): run INSIDE a network
// namespace that has a TUN device `pd0` with the kernel's address on it. Socket calls are the
// kernel's (libc through koffi, every socket non-blocking so that no call blocks the runner);
// packets go in and out through the TUN device. Time is REAL: the executor's virtual clock is
// followed by sleeping (Atomics.wait), and the device is polled every millisecond, so a packet's
// time is known within about 1 ms. Node only (koffi). Used by test/script/kernel.ts.
import koffi from "koffi";
import { spawnSync } from "node:child_process";
import type { HostCommand, Protocol, SockId, SutResult, SutSetup, SystemUnderTest } from "../../../adapters/script/index.ts";
import { ERRNO } from "../../../adapters/script/index.ts";
import { formatIp } from "../../../core/wire/ip.ts";

const libc = koffi.load("libc.so.6");
const c = {
  open: libc.func("int open(const char *path, int flags)"),
  ioctl: libc.func("int ioctl(int fd, unsigned long request, void *arg)"),
  read: libc.func("long read(int fd, void *buf, unsigned long count)"),
  write: libc.func("long write(int fd, const void *buf, unsigned long count)"),
  close: libc.func("int close(int fd)"),
  socket: libc.func("int socket(int domain, int type, int protocol)"),
  setsockopt: libc.func("int setsockopt(int fd, int level, int name, const void *val, unsigned int len)"),
  getsockopt: libc.func("int getsockopt(int fd, int level, int name, void *val, _Inout_ unsigned int *len)"),
  bind: libc.func("int bind(int fd, const void *addr, unsigned int len)"),
  listen: libc.func("int listen(int fd, int backlog)"),
  accept4: libc.func("int accept4(int fd, void *addr, void *len, int flags)"),
  connect: libc.func("int connect(int fd, const void *addr, unsigned int len)"),
  shutdown: libc.func("int shutdown(int fd, int how)"),
};

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const IPPROTO_TCP = 6;
const IPPROTO_MPTCP = 262;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const TCP_NODELAY = 1;
const TCP_MAXSEG = 2;
const TCP_CONGESTION = 13;
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;

const errnoName = (n: number): string => Object.entries(ERRNO).find(([k, v]) => v === n && k !== "EWOULDBLOCK")?.[0] ?? `errno ${n}`;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function run(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
}

/** Sysctls of the namespace for the script's options (Linux names). */
export function applySysctls(setup: SutSetup): void {
  const t = setup.tcp;
  const set = (k: string, v: string | number): void => run(["sysctl", "-qw", `${k}=${v}`]);
  if (t.timestamps !== undefined) set("net.ipv4.tcp_timestamps", t.timestamps ? 1 : 0);
  if (t.sack !== undefined) set("net.ipv4.tcp_sack", t.sack ? 1 : 0);
  if (t.windowScaling !== undefined) set("net.ipv4.tcp_window_scaling", t.windowScaling ? 1 : 0);
  if (t.tlp !== undefined) set("net.ipv4.tcp_early_retrans", t.tlp ? 3 : 0);
  // The documented Linux defaults (the corpus assumes them: wscale 7 for a 6 MB buffer), as
  // packetdrill's defaults.sh pins them; a machine's boot-time values may be larger.
  set("net.ipv4.tcp_rmem", t.receiveBufferSize !== undefined ? `4096 ${t.receiveBufferSize} ${t.receiveBufferSize}` : "4096 131072 6291456");
  set("net.ipv4.tcp_wmem", "4096 16384 4194304");

  set("net.mptcp.checksum_enabled", setup.mptcp.checksum ? 1 : 0);
}

interface KSock {
  fd: number;
  family: number;
}

export class KernelSut implements SystemUnderTest {
  private readonly tun: number;
  private t0 = performance.now();
  private tick = 0;
  private readonly buf = new Uint8Array(65536);
  private readonly socks = new Map<SockId, KSock>();
  private readonly family: number;

  constructor(private readonly setup: SutSetup, device = "pd0") {
    this.family = setup.localAddress.length === 16 ? AF_INET6 : AF_INET;
    const fd = c.open("/dev/net/tun", 0o2 | 0o4000) as number;
    if (fd < 0) throw new Error(`open /dev/net/tun failed (errno ${koffi.errno()})`);
    const ifr = new Uint8Array(40);
    ifr.set(new TextEncoder().encode(device));
    ifr[16] = (IFF_TUN | IFF_NO_PI) & 0xff;
    ifr[17] = (IFF_TUN | IFF_NO_PI) >> 8;
    if ((c.ioctl(fd, TUNSETIFF, ifr) as number) < 0) throw new Error(`TUNSETIFF ${device} failed (errno ${koffi.errno()})`);
    this.tun = fd;
    // The kernel activates the device's queue only when its link watcher runs (up to ~1 s
    // after a reader attaches); packets routed to it before that are dropped. Wait for it.
    const t = performance.now();
    while (performance.now() - t < 3000) {
      const r = spawnSync("cat", [`/sys/class/net/${device}/operstate`], { encoding: "utf8" });
      if ((r.stdout ?? "").trim() === "up" || (r.stdout ?? "").trim() === "unknown") break;
      Atomics.wait(sleeper, 0, 0, 20);
    }
    this.t0 = performance.now();
  }

  /** Real microseconds since the start. */
  private real(): number {
    return Math.round((performance.now() - this.t0) * 1000);
  }

  private sleepUntil(us: number): void {
    const ms = (us - this.real()) / 1000;
    if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
    if (us > this.tick) this.tick = us;
  }

  private res(r: number): SutResult {
    return r < 0 ? { ok: false, errno: errnoName(koffi.errno()) } : { ok: true, value: r };
  }

  private sockaddr(address: Uint8Array | undefined, port: number): Uint8Array {
    if (this.family === AF_INET) {
      const sa = new Uint8Array(16);
      sa[0] = AF_INET;
      sa[2] = port >> 8;
      sa[3] = port & 0xff;
      if (address) sa.set(address, 4);
      return sa;
    }
    const sa = new Uint8Array(28);
    sa[0] = AF_INET6;
    sa[2] = port >> 8;
    sa[3] = port & 0xff;
    if (address) sa.set(address, 8);
    return sa;
  }

  private get(s: SockId): KSock {
    const k = this.socks.get(s);
    if (!k) throw new Error(`socket ${s} is not open`);
    return k;
  }

  socket(protocol: Protocol): SutResult<SockId> {
    const fd = c.socket(this.family, SOCK_STREAM | SOCK_NONBLOCK, protocol === "mptcp" ? IPPROTO_MPTCP : IPPROTO_TCP) as number;
    if (fd < 0) return { ok: false, errno: errnoName(koffi.errno()) };
    // CUBIC, the Linux default (this machine's default may be another, e.g. BBR, which paces;
    // as root the socket may pick any available one). Accepted sockets inherit it.
    const cc = new TextEncoder().encode("cubic");
    if ((c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, cc.length) as number) < 0) throw new Error(`TCP_CONGESTION cubic failed (errno ${koffi.errno()})`);
    this.socks.set(fd, { fd, family: this.family });
    return { ok: true, value: fd };
  }

  setsockopt(s: SockId, level: string, name: string, value: number): SutResult {
    const map: Record<string, [number, number]> = {
      "SOL_SOCKET/SO_REUSEADDR": [SOL_SOCKET, SO_REUSEADDR],
      "SOL_SOCKET/SO_RCVBUF": [SOL_SOCKET, SO_RCVBUF],
      "SOL_SOCKET/SO_SNDBUF": [SOL_SOCKET, SO_SNDBUF],
      "IPPROTO_TCP/TCP_NODELAY": [IPPROTO_TCP, TCP_NODELAY],
      "IPPROTO_TCP/TCP_MAXSEG": [IPPROTO_TCP, TCP_MAXSEG],
    };
    const m = map[`${level}/${name}`];
    if (!m) return { ok: false, errno: "ENOPROTOOPT", detail: `${level} ${name} not mapped` };
    return this.res(c.setsockopt(this.get(s).fd, m[0], m[1], new Int32Array([value]), 4) as number);
  }

  getsockopt(s: SockId, level: string, name: string): SutResult {
    if (level === "IPPROTO_TCP" && name === "TCP_MAXSEG") return this.intOpt(s, IPPROTO_TCP, TCP_MAXSEG);
    return { ok: false, errno: "ENOPROTOOPT" };
  }

  private intOpt(s: SockId, level: number, name: number): SutResult {
    const v = new Int32Array(1);
    const len = [4];
    const r = c.getsockopt(this.get(s).fd, level, name, v, len) as number;
    return r < 0 ? { ok: false, errno: errnoName(koffi.errno()) } : { ok: true, value: v[0]! };
  }

  bind(s: SockId, port: number): SutResult {
    const sa = this.sockaddr(undefined, port);
    return this.res(c.bind(this.get(s).fd, sa, sa.length) as number);
  }

  listen(now: number, s: SockId, backlog: number): SutResult {
    this.sleepUntil(now);
    return this.res(c.listen(this.get(s).fd, backlog) as number);
  }

  accept(now: number, s: SockId): SutResult<SockId> {
    this.sleepUntil(now);
    const fd = c.accept4(this.get(s).fd, null, null, SOCK_NONBLOCK) as number;
    if (fd < 0) return { ok: false, errno: errnoName(koffi.errno()) };
    this.socks.set(fd, { fd, family: this.family });
    return { ok: true, value: fd };
  }

  connect(now: number, s: SockId, address: Uint8Array, port: number): SutResult {
    this.sleepUntil(now);
    const sa = this.sockaddr(address, port);
    return this.res(c.connect(this.get(s).fd, sa, sa.length) as number);
  }

  write(now: number, s: SockId, bytes: Uint8Array): SutResult {
    this.sleepUntil(now);
    return this.res(Number(c.write(this.get(s).fd, bytes, bytes.length)));
  }

  read(now: number, s: SockId, max: number): SutResult<Uint8Array> {
    this.sleepUntil(now);
    const b = new Uint8Array(max);
    const n = Number(c.read(this.get(s).fd, b, max));
    if (n < 0) return { ok: false, errno: errnoName(koffi.errno()) };
    return { ok: true, value: b.subarray(0, n) };
  }

  shutdown(now: number, s: SockId, how: "rd" | "wr" | "rdwr"): SutResult {
    this.sleepUntil(now);
    return this.res(c.shutdown(this.get(s).fd, how === "rd" ? 0 : how === "wr" ? 1 : 2) as number);
  }

  close(now: number, s: SockId): SutResult {
    this.sleepUntil(now);
    const k = this.get(s);
    this.socks.delete(s);
    return this.res(c.close(k.fd) as number);
  }

  soError(s: SockId): number {
    const r = this.intOpt(s, SOL_SOCKET, SO_ERROR);
    return r.ok ? r.value : 0;
  }

  command(_now: number, cmd: HostCommand): SutResult<void> {
    switch (cmd.kind) {
      case "defaults":
        break;
      case "client":
        run(["ip", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8"]);
        break;
      case "endpoints":
        for (const a of cmd.addresses) {
          const text = formatIp(a);
          run(a.length === 16 ? ["ip", "-6", "addr", "add", `${text}/64`, "dev", "pd0", "nodad"] : ["ip", "addr", "add", `${text}/16`, "dev", "pd0"]);
          // backup and fullmesh endpoints create subflows too (as mptcp_sut.ts maps them).
          const flags = cmd.mode === "signal" ? ["signal"] : cmd.mode === "subflow" ? ["subflow"] : ["subflow", cmd.mode];
          run(["ip", "mptcp", "endpoint", "add", text, "dev", "pd0", ...flags]);
        }
        if (cmd.mode !== "signal") run(["ip", "mptcp", "limits", "set", "subflows", String(Math.max(2, cmd.addresses.length)), "add_addr_accepted", "8"]);
        break;
    }
    return { ok: true, value: undefined };
  }

  handlePacket(now: number, packet: Uint8Array): void {
    this.sleepUntil(now);
    const r = Number(c.write(this.tun, packet, packet.length));
    if (r < 0) throw new Error(`TUN write failed (errno ${koffi.errno()})`);
  }

  handleTimeout(now: number): void {
    this.sleepUntil(now);
  }

  pollTransmit(_now: number): Uint8Array | undefined {
    for (;;) {
      const n = Number(c.read(this.tun, this.buf, this.buf.length));
      if (n <= 0) return undefined;
      const v = this.buf[0]! >> 4;
      // Only TCP: IPv6 neighbour discovery and MLD (and anything else) are not the script's.
      const proto = v === 4 ? this.buf[9] : v === 6 ? this.buf[6] : -1;
      if (proto === 6) return this.buf.slice(0, n);
    }
  }

  pollTimeout(): number | undefined {
    // Poll the device every millisecond of the script's time.
    return this.tick + 1000;
  }

  /** Closes every socket still open and the device. */
  dispose(): void {
    for (const k of this.socks.values()) c.close(k.fd);
    this.socks.clear();
    c.close(this.tun);
  }
}
