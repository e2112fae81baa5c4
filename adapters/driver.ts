// The runtime-neutral driver: the one loop every real-time adapter (UDP, TUN) uses to run a
// sans-IO host. It feeds input to the host, drains its outputs, and keeps exactly one timer
// armed at the host's pollTimeout(). Time comes from an injected Clock (integer µs), timers from
// injected Timers, so the driver itself touches no runtime API and runs unchanged on Node and
// Deno (adapters/runtime/ supplies the real clock and timers; tests may supply fakes).
//
// Order after every input (the contract of adapters/memory SimHost, core/tcp/host.ts):
//   1. one input: handlePacket(now, packet, iface) | handleTimeout(now) | a command (act())
//   2. pollTransmit(now) until undefined; each packet goes to ports[iface].send()
//   3. pollTimeout(): the single timer is re-armed if the deadline moved earlier (an early
//      handleTimeout is a harmless no-op, so a later deadline keeps the armed timer).
import type { IpAddress } from "../core/wire/types.ts";
import type { Clock, Timers } from "./runtime/index.ts";

/** One packet a host wants to send and the interface (path) it leaves on. */
export interface HostTransmit {
  /** A raw IP packet; ownership passes to the driver. */
  packet: Uint8Array;
  iface: number;
}

/**
 * What the driver runs: the in-memory simulator's SimHost shape. A TcpHost or the MPTCP
 * Endpoint wrapped with its application logic (see adapters/cli/app.ts).
 */
export interface DriverHost {
  handlePacket(now: number, packet: Uint8Array, iface: number): void;
  pollTransmit(now: number): HostTransmit | undefined;
  /**
   * Optional: pollTransmit into the caller's buffer (DESIGN.md convention 6), returning the
   * packet's length and interface. The driver uses it when every port's send() is done with the
   * bytes when it returns (`sendIsSync`), so one buffer serves every packet: no allocation (and
   * no garbage) per packet.
   */
  pollTransmitInto?(now: number, out: Uint8Array): { length: number; iface: number } | undefined;
  pollTimeout(): number | undefined;
  handleTimeout(now: number): void;
}

/** One path of the host: a TUN device or a UDP socket, carrying raw IP packets both ways. */
export interface PacketPort {
  /** Human-readable name ("tun0", "udp 127.0.0.1:5000"). */
  readonly label: string;
  /** The stack's own address on this path. */
  readonly address: IpAddress;
  /** Local port bound to this path, when the transport fixes one (UDP); else undefined. */
  readonly localPort: number | undefined;
  /** Largest IP packet the path carries (a TUN device's MTU), when the port knows it. */
  readonly mtu?: number | undefined;
  /**
   * send() has finished with the packet's bytes when it returns (a synchronous write(2), as TUN
   * does): the driver may then reuse one buffer for every packet.
   */
  readonly sendIsSync?: boolean;
  /** Sends one IP packet. Returns false when it was dropped (counted by the port). */
  send(packet: Uint8Array): boolean;
  /** Starts delivering received IP packets. */
  start(deliver: (packet: Uint8Array) => void): void;
  /** Stops receiving and releases the port. */
  close(): Promise<void>;
}

/** Where the driver copies every packet it moves (a pcap writer). It must copy what it keeps. */
export interface PacketTap {
  record(wallUs: number, packet: Uint8Array, iface: number, dir: "in" | "out"): void;
}

export interface DriverOptions {
  host: DriverHost;
  ports: PacketPort[];
  clock: Clock;
  timers: Timers;
  tap?: PacketTap;
  /** A host method threw (a bug: network input never throws). Default: rethrow. */
  onError?: (err: unknown) => void;
}

export interface DriverStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets the host addressed to an interface that does not exist. */
  noPort: number;
  /** Packets a port refused (send() returned false). */
  sendDropped: number;
  timerFires: number;
  timerArms: number;
}

export class Driver {
  readonly host: DriverHost;
  readonly ports: readonly PacketPort[];
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly tap: PacketTap | undefined;
  private readonly onError: (err: unknown) => void;
  private timer: unknown = undefined;
  private armedAt: number | undefined = undefined;
  private running = false;
  private busy = false;
  private readonly pending: Array<{ packet: Uint8Array; iface: number }> = [];
  /** The one transmit buffer when the host and every port allow it (see pollTransmitInto). */
  private readonly txBuf: Uint8Array | undefined;
  private readonly s: DriverStats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, noPort: 0, sendDropped: 0, timerFires: 0, timerArms: 0 };

  constructor(opts: DriverOptions) {
    this.host = opts.host;
    this.ports = opts.ports;
    this.clock = opts.clock;
    this.timers = opts.timers;
    this.tap = opts.tap;
    this.txBuf = opts.host.pollTransmitInto && opts.ports.length > 0 && opts.ports.every((p) => p.sendIsSync === true) ? new Uint8Array(65536 + 256) : undefined;
    this.onError =
      opts.onError ??
      ((e) => {
        throw e;
      });
  }

  stats(): DriverStats {
    return { ...this.s };
  }

  now(): number {
    return this.clock.nowUs();
  }

  /** Starts every port and arms the timer. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.ports.forEach((p, i) => p.start((packet) => this.deliver(packet, i)));
    this.flush();
  }

  /** Feeds one received packet to the host, then drains. Re-entrant calls are queued. */
  deliver(packet: Uint8Array, iface: number): void {
    if (!this.running) return;
    if (this.busy) {
      this.pending.push({ packet, iface });
      return;
    }
    this.busy = true;
    try {
      let p: { packet: Uint8Array; iface: number } | undefined = { packet, iface };
      while (p) {
        const now = this.clock.nowUs();
        this.s.packetsIn++;
        this.s.bytesIn += p.packet.length;
        this.tap?.record(this.clock.wallUs(now), p.packet, p.iface, "in");
        this.host.handlePacket(now, p.packet, p.iface);
        this.drain(now);
        p = this.pending.shift();
      }
      this.rearm();
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Runs a command on the host at the current time (write, close, connect...), then drains. */
  act<T>(fn: (now: number) => T): T {
    const now = this.clock.nowUs();
    const r = fn(now);
    this.flush();
    return r;
  }

  /** Drains pending transmissions and re-arms the timer. */
  flush(): void {
    if (!this.running || this.busy) return;
    this.busy = true;
    try {
      this.drain(this.clock.nowUs());
      this.rearm();
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Stops the timer and closes every port. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
    await Promise.all(this.ports.map((p) => p.close()));
  }

  private drain(now: number): void {
    if (this.txBuf) return this.drainInto(now, this.txBuf);
    let t: HostTransmit | undefined;
    while ((t = this.host.pollTransmit(now)) !== undefined) {
      const port = this.ports[t.iface];
      if (!port) {
        this.s.noPort++;
        continue;
      }
      this.s.packetsOut++;
      this.s.bytesOut += t.packet.length;
      this.tap?.record(this.clock.wallUs(now), t.packet, t.iface, "out");
      if (!port.send(t.packet)) this.s.sendDropped++;
    }
  }

  private drainInto(now: number, buf: Uint8Array): void {
    let t: { length: number; iface: number } | undefined;
    while ((t = this.host.pollTransmitInto!(now, buf)) !== undefined) {
      const port = this.ports[t.iface];
      if (!port) {
        this.s.noPort++;
        continue;
      }
      const packet = buf.subarray(0, t.length);
      this.s.packetsOut++;
      this.s.bytesOut += t.length;
      this.tap?.record(this.clock.wallUs(now), packet, t.iface, "out");
      if (!port.send(packet)) this.s.sendDropped++;
    }
  }

  private rearm(): void {
    if (!this.running) return;
    const d = this.host.pollTimeout();
    if (d === undefined) {
      if (this.timer !== undefined) this.timers.clear(this.timer);
      this.timer = undefined;
      this.armedAt = undefined;
      return;
    }
    if (this.armedAt !== undefined && this.armedAt <= d) return; // the armed timer fires first
    if (this.timer !== undefined) this.timers.clear(this.timer);
    // Fractional: the timers decide their granularity (globalTimers spins under 1 ms).
    const delayMs = Math.max(0, (d - this.clock.nowUs()) / 1000);
    this.armedAt = d;
    this.s.timerArms++;
    this.timer = this.timers.set(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = undefined;
    if (!this.running) return;
    if (this.busy) return this.rearmLater();
    this.busy = true;
    try {
      const now = this.clock.nowUs();
      this.s.timerFires++;
      const d = this.host.pollTimeout();
      if (d !== undefined && d <= now) this.host.handleTimeout(now);
      this.drain(now);
      this.rearm();
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  private rearmLater(): void {
    this.timer = this.timers.set(() => this.fire(), 0);
  }
}

/**
 * A port that drops a fraction of the packets sent through it (uniformly at random), for tests
 * and demonstrations of loss recovery against a real peer (`mptcp ... --loss P`).
 */
export class LossyPort implements PacketPort {
  dropped = 0;
  constructor(
    private readonly inner: PacketPort,
    private readonly rate: number,
    private readonly random: () => number,
  ) {}
  get label(): string {
    return `${this.inner.label} (loss ${this.rate})`;
  }
  get address(): IpAddress {
    return this.inner.address;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }
  get mtu(): number | undefined {
    return this.inner.mtu;
  }
  get sendIsSync(): boolean | undefined {
    return this.inner.sendIsSync;
  }
  send(packet: Uint8Array): boolean {
    if (this.random() < this.rate) {
      this.dropped++;
      return false;
    }
    return this.inner.send(packet);
  }
  start(deliver: (packet: Uint8Array) => void): void {
    this.inner.start(deliver);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
