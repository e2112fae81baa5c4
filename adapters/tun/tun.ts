// TUN adapter (Linux): attaches to EXISTING TUN devices by name (created beforehand with
// `ip tuntap add dev NAME mode tun`, given an address and brought up), one device per path,
// and moves raw IPv4/IPv6 packets (IFF_TUN | IFF_NO_PI) between them and the driver.
//
// One group of devices shares one waiter: a poll(2) on every device plus a wake-up pipe, run
// on a worker thread (koffi async call under Node, a nonblocking Deno.dlopen symbol under Deno),
// so an idle stack burns no CPU and wakes only for packets. When poll reports a device
// readable, the devices' packets are read on the event loop with non-blocking read(2) until
// EAGAIN, in turns of DRAIN_TURN packets per device (at most `batch` per device per wake-up,
// for fairness). Writes are synchronous non-blocking write(2); a full device queue drops the
// packet (counted), as a NIC would.
//
// Errors name the cause and the fix: missing /dev/net/tun, a device that does not exist, no
// permission, a device in use, a device that is not TUN.
import { setImmediate } from "node:timers";
import { formatIp, parseIpText } from "../../core/wire/ip.ts";
import type { IpAddress } from "../../core/wire/types.ts";
import type { PacketPort } from "../driver.ts";
import type { TunFfi } from "./ffi.ts";
import { AF_INET, IFF_RUNNING, IFF_UP, SIOCGIFFLAGS, SIOCGIFMTU, SOCK_DGRAM } from "./ffi.ts";
import { IFF_VNET_HDR, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VNET_HDR_SIZE } from "./ffi.ts";
import { ERRNO, IFF_NO_PI, IFF_TUN, IFNAMSIZ, IFREQ_SIZE, loadTunFfi, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLERR, POLLFD_SIZE, POLLHUP, POLLIN, POLLNVAL, TUNSETIFF } from "./ffi.ts";

export type TunErrorCode = "NoTunDriver" | "NoDevice" | "Permission" | "Busy" | "NotTun" | "Other";

export class TunError extends Error {
  override name = "TunError";
  constructor(
    message: string,
    readonly code: TunErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TunSpec {
  /** Device name (at most 15 characters). */
  device: string;
  /** The stack's own address on this device (not the kernel's address on it). */
  address: IpAddress | string;
}

export interface TunOpenOptions {
  /** Clone device path (default /dev/net/tun); tests point it elsewhere to check the error. */
  clonePath?: string;
  /** Largest packet read (default 65535). */
  mtu?: number;
  /** Packets read per device per wake-up (default 256). */
  batch?: number;
  /**
   * How long to wait for each device to become operational (IFF_RUNNING) after attaching, in
   * ms (default 3000). The kernel turns the carrier on when a reader attaches, but activates the
   * device's queue only when its link watcher runs (up to ~1 s later); packets it routes to the
   * device before that are dropped (a first SYN/ACK lost, a 1 s retransmission).
   */
  runningTimeoutMs?: number;
  /**
   * Segmentation offload, as a NIC's TSO (default false): the devices are opened with
   * IFF_VNET_HDR and a TCP packet larger than the device's MTU (up to 64 KiB) is written as ONE
   * GSO packet (virtio_net_hdr gso_type TCPV4/6, gso_size = what fits the MTU with the same
   * headers, checksum marked partial). The kernel delivers it to a local socket whole (as GRO
   * would) and segments it only if it forwards it, so the MTU on the wire stays the device's.
   * The ports then report `mtu` 65535, and the stack builds 64 KiB segments.
   */
  gso?: boolean;
  /**
   * After a wake-up that brought packets, keep reading once per event-loop turn for this long
   * (ms) after the last packet before going back to poll(2) (default 1; 0 = always poll(2)).
   */
  busyPollMs?: number;
}

export interface TunPortStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** write(2) failed (EAGAIN: device queue full; EIO: device down...). */
  writeErrors: number;
  readErrors: number;
  /** poll(2) wake-ups of the group while this port was open. */
  wakeups: number;
}

const FIX_PERMISSION = "run as root, or give the process CAP_NET_ADMIN (e.g. setcap cap_net_admin+ep on the runtime binary), or create the device for your user: ip tuntap add dev NAME mode tun user $USER";

function openError(path: string, errno: number): TunError {
  if (errno === ERRNO.ENOENT || errno === ERRNO.ENODEV || errno === ERRNO.ENXIO) {
    return new TunError(
      `${path} is missing (errno ${errno}): the TUN driver is not available. Fix: load it (modprobe tun), or create the node (mkdir -p /dev/net && mknod ${path} c 10 200 && chmod 0666 ${path}); in a container, pass the device (docker run --device /dev/net/tun --cap-add NET_ADMIN)`,
      "NoTunDriver",
    );
  }
  if (errno === ERRNO.EACCES || errno === ERRNO.EPERM) {
    return new TunError(`no permission to open ${path} (errno ${errno}). Fix: ${FIX_PERMISSION}`, "Permission");
  }
  return new TunError(`cannot open ${path} (errno ${errno})`, "Other");
}

function attachError(dev: string, errno: number): TunError {
  if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) {
    return new TunError(`no permission to attach to TUN device ${dev} (errno ${errno}). Fix: ${FIX_PERMISSION.replace("NAME", dev)}`, "Permission");
  }
  if (errno === ERRNO.EBUSY) {
    return new TunError(`TUN device ${dev} is busy (errno ${errno}): another process has it open. Fix: stop that process, or use another device (ip tuntap add dev NAME mode tun)`, "Busy");
  }
  if (errno === ERRNO.EINVAL) {
    return new TunError(
      `${dev} is not a single-queue TUN device (errno ${errno}; a TAP, multi_queue or non-tun interface?). Fix: ip link del ${dev}; ip tuntap add dev ${dev} mode tun`,
      "NotTun",
    );
  }
  return new TunError(`cannot attach to TUN device ${dev} (ioctl TUNSETIFF, errno ${errno})`, "Other");
}

/** Opens one TUN device (attach only; never creates one). */
function attach(ffi: TunFfi, spec: TunSpec, clonePath: string, vnetHdr: boolean): number {
  const dev = spec.device;
  const nameBytes = new TextEncoder().encode(dev);
  if (nameBytes.length === 0 || nameBytes.length >= IFNAMSIZ || /[\s/:]/.test(dev)) {
    throw new TunError(`bad TUN device name "${dev}" (1 to 15 characters, no spaces, '/' or ':')`, "Other");
  }
  // TUNSETIFF on a name that does not exist would CREATE a device: check first.
  if (ffi.ifNameToIndex(dev) === 0) {
    throw new TunError(
      `TUN device ${dev} does not exist in this network namespace. Fix: ip tuntap add dev ${dev} mode tun && ip addr add PEER_ADDR/PREFIX dev ${dev} && ip link set ${dev} up (the kernel's address on it, not ours)`,
      "NoDevice",
    );
  }
  const fd = ffi.open(clonePath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw openError(clonePath, -fd);
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(nameBytes, 0);
  const flags = IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0);
  ifr[IFNAMSIZ] = flags & 0xff;
  ifr[IFNAMSIZ + 1] = flags >>> 8;
  const r = ffi.ioctlPtr(fd, TUNSETIFF, ifr);
  if (r < 0) {
    ffi.close(fd);
    throw attachError(dev, -r);
  }
  return fd;
}

/** The device's interface flags (SIOCGIFFLAGS), or -errno. */
function ifFlags(ffi: TunFfi, sock: number, dev: string): number {
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(new TextEncoder().encode(dev), 0);
  const r = ffi.ioctlPtr(sock, SIOCGIFFLAGS, ifr);
  return r < 0 ? r : ifr[IFNAMSIZ]! | (ifr[IFNAMSIZ + 1]! << 8);
}

/** The device's MTU (SIOCGIFMTU), or undefined when it cannot be read. */
function ifMtu(ffi: TunFfi, dev: string): number | undefined {
  const sock = ffi.socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0) return undefined;
  try {
    const ifr = new Uint8Array(IFREQ_SIZE);
    ifr.set(new TextEncoder().encode(dev), 0);
    if (ffi.ioctlPtr(sock, SIOCGIFMTU, ifr) < 0) return undefined;
    const mtu = new DataView(ifr.buffer).getInt32(IFNAMSIZ, true);
    return mtu > 0 ? mtu : undefined;
  } finally {
    ffi.close(sock);
  }
}

/** Waits until every device is up and running; throws a TunError naming the fix if one is down. */
async function waitRunning(ffi: TunFfi, devs: string[], timeoutMs: number): Promise<void> {
  const sock = ffi.socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0) return; // cannot ask: carry on (the first packets may be lost)
  try {
    const deadline = Date.now() + timeoutMs;
    for (const dev of devs) {
      for (;;) {
        const f = ifFlags(ffi, sock, dev);
        if (f < 0) return;
        if (!(f & IFF_UP)) throw new TunError(`TUN device ${dev} is down. Fix: ip link set ${dev} up`, "Other");
        if (f & IFF_RUNNING) break;
        if (Date.now() > deadline) return; // proceed anyway; TCP retransmits what is lost
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    ffi.close(sock);
  }
}

/** One TUN device as a driver port. */
export class TunPort implements PacketPort {
  readonly label: string;
  readonly address: IpAddress;
  readonly localPort = undefined;
  /** write(2) is synchronous: the driver may reuse one transmit buffer. */
  readonly sendIsSync = true;
  /** The device's MTU when it was opened (the largest packet on its wire), if known. */
  deviceMtu: number | undefined = undefined;
  /** Writes carry a virtio_net_hdr (TunOpenOptions.gso). */
  gso = false;
  deliverFn: ((packet: Uint8Array) => void) | undefined;
  closed = false;
  fdClosed = false;
  /** Within one TunGroup.drainAll: the device was found empty (or gave its share). */
  drainedAll = false;
  readonly s: TunPortStats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, writeErrors: 0, readErrors: 0, wakeups: 0 };
  lastWriteErrno = 0;

  constructor(
    private readonly group: TunGroup,
    readonly device: string,
    readonly fd: number,
    address: IpAddress,
  ) {
    this.address = address;
    this.label = `tun ${device} (${formatIp(address)})`;
  }

  /** The largest IP packet send() takes: 65535 with GSO, else the device's MTU (if known). */
  get mtu(): number | undefined {
    return this.gso ? 65535 : this.deviceMtu;
  }

  stats(): TunPortStats {
    return { ...this.s };
  }

  start(deliver: (packet: Uint8Array) => void): void {
    this.deliverFn = deliver;
    this.group.startPolling();
  }

  send(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const r = this.group.ffi.write(this.fd, this.gso ? this.withVnetHdr(packet) : packet);
    if (r < 0) {
      this.s.writeErrors++;
      this.lastWriteErrno = -r;
      return false;
    }
    this.s.packetsOut++;
    this.s.bytesOut += packet.length;
    return true;
  }

  close(): Promise<void> {
    return this.group.closePort(this);
  }

  private txBuf: Uint8Array | undefined;

  /**
   * The packet behind a struct virtio_net_hdr (little-endian on x86_64/aarch64). A TCP packet
   * larger than the device's MTU becomes a GSO packet: gso_size = MTU - IP header - TCP header
   * (with its options: every segment the kernel would cut carries the same ones, as with TSO),
   * checksum partial at the TCP checksum (csum_start = IP header length, offset 16).
   */
  private withVnetHdr(packet: Uint8Array): Uint8Array {
    const n = packet.length + VNET_HDR_SIZE;
    if (!this.txBuf || this.txBuf.length < n) this.txBuf = new Uint8Array(65535 + VNET_HDR_SIZE);
    const b = this.txBuf;
    b.fill(0, 0, VNET_HDR_SIZE);
    b.set(packet, VNET_HDR_SIZE);
    const mtu = this.deviceMtu ?? 1500;
    if (packet.length > mtu) {
      const v = packet[0]! >> 4;
      const ipHl = v === 4 ? (packet[0]! & 0xf) * 4 : 40;
      const proto = v === 4 ? packet[9] : packet[6];
      if (proto === 6 && packet.length >= ipHl + 20) {
        const hdrLen = ipHl + (packet[ipHl + 12]! >> 4) * 4;
        const gsoSize = mtu - hdrLen;
        if (gsoSize > 0) {
          b[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
          b[1] = v === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
          b[2] = hdrLen & 0xff;
          b[3] = hdrLen >> 8;
          b[4] = gsoSize & 0xff;
          b[5] = gsoSize >> 8;
          b[6] = ipHl & 0xff;
          b[7] = ipHl >> 8;
          b[8] = 16; // offsetof(struct tcphdr, check)
          // Partial checksum (virtio): the field holds the pseudo-header sum, which the kernel
          // completes per segment if it cuts the packet (a forwarded one); delivered locally,
          // a partial checksum is trusted as is.
          const ck = VNET_HDR_SIZE + ipHl + 16;
          const ph = pseudoHeaderSum(packet, v === 4, packet.length - ipHl);
          b[ck] = ph >> 8;
          b[ck + 1] = ph & 0xff;
        }
      }
    }
    return b.subarray(0, n);
  }
}

/** The folded (not inverted) TCP pseudo-header sum of an IPv4/IPv6 packet for `tcpLen` bytes. */
function pseudoHeaderSum(p: Uint8Array, v4: boolean, tcpLen: number): number {
  let sum = 6 + (tcpLen & 0xffff) + (tcpLen >>> 16);
  const [from, to] = v4 ? [12, 20] : [8, 40];
  for (let i = from; i < to; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * With segmentation offload (TunOpenOptions.gso) the stack's "segment" is what the device cuts
 * into wire segments, as a TSO NIC does; the peer's MSS then bounds those wire segments (our
 * gso_size: the device MTU minus the headers), not what the stack hands the port. So the MSS
 * option of a SYN or SYN/ACK coming in is raised to the largest IPv4/IPv6 segment before the
 * stack sees it (the TCP checksum adjusted as RFC 1624), and the stack builds segments of up to
 * 64 KiB. Exported for tests.
 */
export function raiseSynMss(pkt: Uint8Array): void {
  const v = pkt[0]! >> 4;
  let ip: number;
  if (v === 4) {
    if (pkt[9] !== 6 || ((pkt[6]! << 8) | pkt[7]!) & 0x3fff) return; // not TCP, or a fragment
    ip = (pkt[0]! & 0xf) * 4;
  } else if (v === 6) {
    if (pkt[6] !== 6) return;
    ip = 40;
  } else return;
  if (pkt.length < ip + 20 || !(pkt[ip + 13]! & 0x02)) return; // not a SYN
  const end = Math.min(pkt.length, ip + (pkt[ip + 12]! >> 4) * 4);
  const want = v === 4 ? 65495 : 65475;
  for (let o = ip + 20; o < end; ) {
    const kind = pkt[o]!;
    if (kind === 0) return;
    if (kind === 1) {
      o++;
      continue;
    }
    const len = pkt[o + 1] ?? 0;
    if (len < 2 || o + len > end) return;
    if (kind === 2 && len === 4) {
      const old = (pkt[o + 2]! << 8) | pkt[o + 3]!;
      if (old >= want) return;
      // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
      const ck = ip + 16;
      let sum = (~((pkt[ck]! << 8) | pkt[ck + 1]!) & 0xffff) + (~old & 0xffff) + want;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const hc = ~sum & 0xffff;
      pkt[ck] = hc >> 8;
      pkt[ck + 1] = hc & 0xff;
      pkt[o + 2] = want >> 8;
      pkt[o + 3] = want & 0xff;
      return;
    }
    o += len;
  }
}

/** Packets read from one device before the next device's turn (TunGroup.drainAll). */
const DRAIN_TURN = 16;

/** Devices opened together, sharing one poll(2) waiter. */
export class TunGroup {
  readonly ports: TunPort[] = [];
  wakeR = -1;
  wakeW = -1;
  private polling: Promise<void> | undefined;
  private stopping = false;
  private readonly buf: Uint8Array;
  private readonly batch: number;
  /** Bytes of virtio_net_hdr before every packet read (0 without GSO). */
  private readonly rxSkip: number;
  private readonly busyPollMs: number;
  /** poll(2) wake-ups (for the idle-CPU check: it must stay flat while nothing arrives). */
  wakeups = 0;

  constructor(
    readonly ffi: TunFfi,
    opts: TunOpenOptions,
  ) {
    this.rxSkip = opts.gso ? VNET_HDR_SIZE : 0;
    this.busyPollMs = opts.busyPollMs ?? 1;
    this.buf = new Uint8Array((opts.mtu ?? 65535) + this.rxSkip);
    this.batch = opts.batch ?? 256;
  }

  /** Attaches to every device; on any failure, closes those already opened and throws. */
  static async open(specs: TunSpec[], opts: TunOpenOptions = {}): Promise<TunGroup> {
    const ffi = await loadTunFfi();
    const g = new TunGroup(ffi, opts);
    const clonePath = opts.clonePath ?? "/dev/net/tun";
    try {
      for (const spec of specs) {
        const address = typeof spec.address === "string" ? parseIpText(spec.address) : spec.address;
        if (!address) throw new TunError(`--tun ${spec.device}: "${String(spec.address)}" is not an IP address`, "Other");
        const fd = attach(ffi, spec, clonePath, opts.gso === true);
        const port = new TunPort(g, spec.device, fd, address);
        port.deviceMtu = ifMtu(ffi, spec.device);
        port.gso = opts.gso === true;
        g.ports.push(port);
      }
      [g.wakeR, g.wakeW] = ffi.pipe();
      await waitRunning(ffi, specs.map((x) => x.device), opts.runningTimeoutMs ?? 3000);
    } catch (e) {
      for (const p of g.ports) g.closeFd(p);
      if (g.wakeR >= 0) ffi.close(g.wakeR);
      if (g.wakeW >= 0) ffi.close(g.wakeW);
      throw e;
    }
    return g;
  }

  startPolling(): void {
    if (this.polling || this.stopping) return;
    this.polling = this.loop();
  }

  private async loop(): Promise<void> {
    const open = (): TunPort[] => this.ports.filter((p) => !p.closed);
    while (!this.stopping) {
      const ports = open();
      if (ports.length === 0) break;
      const n = ports.length + 1;
      const fds = new Uint8Array(n * POLLFD_SIZE);
      const dv = new DataView(fds.buffer);
      ports.forEach((p, i) => {
        dv.setInt32(i * POLLFD_SIZE, p.fd, true);
        dv.setInt16(i * POLLFD_SIZE + 4, POLLIN, true);
      });
      dv.setInt32(ports.length * POLLFD_SIZE, this.wakeR, true);
      dv.setInt16(ports.length * POLLFD_SIZE + 4, POLLIN, true);
      const r = await this.ffi.pollAsync(fds, n, -1);
      this.wakeups++;
      if (this.stopping) break;
      if (r < 0) {
        // EINTR, or a persistent error (a closed fd): retry, but never spin.
        await new Promise((res) => setTimeout(res, 10));
        continue;
      }
      let readable = false;
      for (let i = 0; i < ports.length; i++) {
        const rev = dv.getInt16(i * POLLFD_SIZE + 6, true);
        const p = ports[i]!;
        p.s.wakeups++;
        if (rev & POLLIN) readable = true;
        else if (rev & (POLLERR | POLLHUP | POLLNVAL)) p.s.readErrors++;
      }
      const got = readable ? this.drainAll(ports) : 0;
      if (dv.getInt16(ports.length * POLLFD_SIZE + 6, true) & POLLIN) {
        const junk = new Uint8Array(64);
        while (this.ffi.read(this.wakeR, junk) > 0);
      }
      if (got > 0 && this.busyPollMs > 0) await this.busyPoll(ports);
      for (const q of ports) if (q.closed) this.closeFd(q);
    }
  }

  /**
   * While packets keep coming, look for more once per event-loop turn (non-blocking reads, after
   * the timers and I/O of that turn) instead of a poll(2) round trip through the worker thread
   * for each one; back to poll(2) after `busyPollMs` without a packet (Linux NAPI busy polling
   * in spirit). An idle stack still sleeps in poll(2): the spin ends within busyPollMs of the
   * last packet.
   */
  private async busyPoll(ports: TunPort[]): Promise<void> {
    let last = performance.now();
    while (!this.stopping) {
      await new Promise<void>((r) => setImmediate(r));
      if (this.stopping) return;
      const got = this.drainAll(ports);
      const t = performance.now();
      if (got > 0) last = t;
      else if (t - last > this.busyPollMs || ports.every((p) => p.closed)) return;
    }
  }

  /**
   * Reads every device in turns of DRAIN_TURN packets until each is empty (EAGAIN) or gave
   * `batch`; returns how many were delivered. Turns, not one device drained first: each packet
   * delivered makes the stack write, and the kernel answers a write to a TUN device at once
   * (ACKs, data), so a busy device is rarely empty. Draining it first held the packets of the
   * other devices for up to `batch` of its own (found by interop case 9: with a short transfer
   * on tun0, the kernel's SYN/ACKs for our joins over tun1 waited until the transfer was over).
   */
  private drainAll(ports: readonly TunPort[]): number {
    for (const p of ports) p.drainedAll = p.closed;
    let total = 0;
    for (let turn = 0; turn * DRAIN_TURN < this.batch; turn++) {
      let got = 0;
      for (const p of ports) {
        if (p.drainedAll) continue;
        const k = this.drain(p, Math.min(DRAIN_TURN, this.batch - turn * DRAIN_TURN));
        if (k < DRAIN_TURN) p.drainedAll = true;
        got += k;
      }
      total += got;
      if (got === 0) break;
    }
    return total;
  }

  /** Reads up to `max` packets from the port and delivers them; returns how many. */
  private drain(p: TunPort, max: number): number {
    let k = 0;
    for (; k < max && !p.closed; k++) {
      const r = this.ffi.read(p.fd, this.buf);
      if (r < 0) {
        if (-r !== ERRNO.EAGAIN && -r !== ERRNO.EINTR) p.s.readErrors++;
        return k;
      }
      if (r <= this.rxSkip) return k;
      p.s.packetsIn++;
      p.s.bytesIn += r - this.rxSkip;
      // The driver and the host keep packets, so each gets its own copy. No offloads are
      // enabled (TUNSETOFFLOAD), so the kernel sends whole packets with an all-zero header.
      const pkt = this.buf.slice(this.rxSkip, r);
      if (this.rxSkip > 0) raiseSynMss(pkt);
      p.deliverFn?.(pkt);
    }
    return k;
  }

  private wake(): void {
    if (this.wakeW >= 0) this.ffi.write(this.wakeW, new Uint8Array(1));
  }

  async closePort(p: TunPort): Promise<void> {
    if (p.closed) return;
    p.closed = true;
    if (this.ports.every((q) => q.closed)) {
      await this.close();
      return;
    }
    // The waiter closes the fd once its poll(2) (which may include it) has returned.
    if (this.polling) this.wake();
    else this.closeFd(p);
  }

  closeFd(p: TunPort): void {
    if (p.fdClosed) return;
    p.fdClosed = true;
    this.ffi.close(p.fd);
  }

  /** Stops the waiter and closes every device and the wake-up pipe. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const p of this.ports) p.closed = true;
    this.wake();
    if (this.polling) await this.polling;
    for (const p of this.ports) this.closeFd(p);
    this.ffi.close(this.wakeR);
    this.ffi.close(this.wakeW);
    this.wakeR = this.wakeW = -1;
  }
}
