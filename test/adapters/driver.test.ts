// The runtime-neutral driver on a fake clock and fake timers: drain order, one timer re-armed
// only when the deadline moves earlier, timeouts fired when due, packets to the right port,
// re-entrant input queued; and the real runtime glue (clock, CSPRNG, timers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Driver } from "../../adapters/driver.ts";
import type { DriverHost, HostTransmit, PacketPort } from "../../adapters/driver.ts";
import type { Clock, Timers } from "../../adapters/runtime/index.ts";
import { CryptoRandomSource, globalTimers, PerformanceClock } from "../../adapters/runtime/index.ts";

class FakeClock implements Clock {
  t = 1_000;
  nowUs(): number {
    return this.t;
  }
  wallUs(n: number): number {
    return 1_700_000_000_000_000 + n;
  }
}

class FakeTimers implements Timers {
  armed: Array<{ fn: () => void; at: number; id: number }> = [];
  sets = 0;
  clears = 0;
  private id = 0;
  constructor(private readonly clock: FakeClock) {}
  set(fn: () => void, delayMs: number): unknown {
    this.sets++;
    const t = { fn, at: this.clock.t + delayMs * 1000, id: ++this.id };
    this.armed.push(t);
    return t.id;
  }
  clear(h: unknown): void {
    this.clears++;
    this.armed = this.armed.filter((t) => t.id !== h);
  }
  /** Advances the clock to the next timer and runs it. */
  runNext(): boolean {
    this.armed.sort((a, b) => a.at - b.at);
    const t = this.armed.shift();
    if (!t) return false;
    this.clock.t = Math.max(this.clock.t, t.at);
    t.fn();
    return true;
  }
}

class FakePort implements PacketPort {
  readonly localPort = undefined;
  sent: Uint8Array[] = [];
  deliver: ((p: Uint8Array) => void) | undefined;
  closed = false;
  constructor(
    readonly label: string,
    readonly address = new Uint8Array([198, 18, 0, 1]),
  ) {}
  send(p: Uint8Array): boolean {
    this.sent.push(p);
    return true;
  }
  start(d: (p: Uint8Array) => void): void {
    this.deliver = d;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Echoes every packet back on the interface it came from after `delay` µs (a timer). */
class DelayEcho implements DriverHost {
  log: string[] = [];
  queue: Array<{ at: number; t: HostTransmit }> = [];
  out: HostTransmit[] = [];
  constructor(private readonly delay: number) {}
  handlePacket(now: number, packet: Uint8Array, iface: number): void {
    this.log.push(`in@${now}:${iface}`);
    this.queue.push({ at: now + this.delay, t: { packet, iface } });
  }
  pollTransmit(now: number): HostTransmit | undefined {
    void now;
    return this.out.shift();
  }
  pollTimeout(): number | undefined {
    return this.queue.length ? Math.min(...this.queue.map((q) => q.at)) : undefined;
  }
  handleTimeout(now: number): void {
    this.log.push(`timeout@${now}`);
    const due = this.queue.filter((q) => q.at <= now);
    this.queue = this.queue.filter((q) => q.at > now);
    for (const d of due) this.out.push(d.t);
  }
}

test("driver: input, one timer at pollTimeout, timeout fired when due, output to the packet's port", async () => {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const host = new DelayEcho(5_000);
  const p0 = new FakePort("p0");
  const p1 = new FakePort("p1");
  const taps: string[] = [];
  const d = new Driver({ host, ports: [p0, p1], clock, timers, tap: { record: (w, _p, i, dir) => taps.push(`${dir}${i}@${w}`) } });
  d.start();
  assert.equal(timers.armed.length, 0, "no deadline: no timer");
  p1.deliver!(new Uint8Array([1]));
  assert.deepEqual(host.log, ["in@1000:1"]);
  assert.equal(timers.armed.length, 1);
  assert.equal(timers.armed[0]!.at, 6_000, "armed at the host's deadline");
  // A later deadline keeps the armed (earlier) timer; an earlier one replaces it.
  clock.t = 2_000;
  p0.deliver!(new Uint8Array([2]));
  assert.equal(timers.armed.length, 1);
  assert.equal(timers.armed[0]!.at, 6_000);
  assert.equal(timers.sets, 1);
  assert.ok(timers.runNext());
  assert.deepEqual(host.log, ["in@1000:1", "in@2000:0", "timeout@6000"]);
  assert.deepEqual(p1.sent.map((p) => p[0]), [1], "echoed on the interface it came from");
  assert.equal(p0.sent.length, 0);
  assert.equal(timers.armed.length, 1, "re-armed for the second packet");
  assert.equal(timers.armed[0]!.at, 7_000);
  assert.ok(timers.runNext());
  assert.deepEqual(p0.sent.map((p) => p[0]), [2]);
  assert.equal(timers.armed.length, 0, "no deadline left: no timer");
  assert.deepEqual(taps, ["in1@1700000000001000", "in0@1700000000002000", "out1@1700000000006000", "out0@1700000000007000"]);
  const s = d.stats();
  assert.equal(s.packetsIn, 2);
  assert.equal(s.packetsOut, 2);
  assert.equal(s.timerFires, 2);
  await d.stop();
  assert.ok(p0.closed && p1.closed);
  const before = host.log.length;
  p0.deliver!(new Uint8Array([3]));
  assert.equal(host.log.length, before, "no input after stop");
});

test("driver: early timer fire is a no-op for the host; packets to a missing port are counted", () => {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  let timeouts = 0;
  const host: DriverHost = {
    handlePacket: () => {},
    pollTransmit: () => undefined,
    pollTimeout: () => 10_000,
    handleTimeout: () => void timeouts++,
  };
  const d = new Driver({ host, ports: [new FakePort("p")], clock, timers });
  d.start();
  assert.equal(timers.armed.length, 1);
  const t = timers.armed.shift()!;
  clock.t = 9_000; // fires 1 ms early (timer slack)
  t.fn();
  assert.equal(timeouts, 0, "not due yet: handleTimeout not called");
  assert.equal(timers.armed.length, 1, "re-armed");
  assert.ok(timers.runNext());
  assert.equal(timeouts, 1);

  let once = true;
  const host2: DriverHost = {
    handlePacket: () => {},
    pollTransmit: () => (once ? ((once = false), { packet: new Uint8Array(1), iface: 3 }) : undefined),
    pollTimeout: () => undefined,
    handleTimeout: () => {},
  };
  const d2 = new Driver({ host: host2, ports: [new FakePort("p")], clock, timers: new FakeTimers(clock) });
  d2.start();
  assert.equal(d2.stats().noPort, 1);
});

test("driver: a packet delivered while the host is sending is queued, not re-entered", () => {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const port = new FakePort("p");
  let depth = 0;
  let maxDepth = 0;
  const seen: number[] = [];
  const out: HostTransmit[] = [];
  const host: DriverHost = {
    handlePacket: (_n, p) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      seen.push(p[0]!);
      if (p[0] === 1) out.push({ packet: new Uint8Array([9]), iface: 0 });
      depth--;
    },
    pollTransmit: () => out.shift(),
    pollTimeout: () => undefined,
    handleTimeout: () => {},
  };
  // A port whose send synchronously loops a packet back (as a loopback might).
  port.send = (p) => {
    port.sent.push(p);
    port.deliver!(new Uint8Array([2]));
    return true;
  };
  const d = new Driver({ host, ports: [port], clock, timers });
  d.start();
  port.deliver!(new Uint8Array([1]));
  assert.deepEqual(seen, [1, 2]);
  assert.equal(maxDepth, 1);
  assert.equal(port.sent.length, 1);
});

test("driver: an exception from the host goes to onError", () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const host: DriverHost = {
    handlePacket: () => {
      throw new Error("bug");
    },
    pollTransmit: () => undefined,
    pollTimeout: () => undefined,
    handleTimeout: () => {},
  };
  const port = new FakePort("p");
  const d = new Driver({ host, ports: [port], clock, timers: new FakeTimers(clock), onError: (e) => errors.push(e) });
  d.start();
  port.deliver!(new Uint8Array([1]));
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /bug/);
});

test("runtime glue: monotonic µs clock, CSPRNG fill beyond 64 KiB, real timers", async () => {
  const c = new PerformanceClock();
  const a = c.nowUs();
  await new Promise<void>((r) => globalTimers.set(r, 15));
  const b = c.nowUs();
  assert.ok(Number.isInteger(a) && Number.isInteger(b));
  assert.ok(b - a >= 10_000, `15 ms timer took ${b - a} µs`);
  const wall = c.wallUs(b);
  assert.ok(Math.abs(wall / 1000 - Date.now()) < 1000, "wall clock within 1 s of Date.now()");
  const r = new CryptoRandomSource();
  const buf = new Uint8Array(200_000);
  r.fill(buf);
  // Every 64 KiB chunk was filled (a zero chunk of 65536 random bytes has probability 2^-524288).
  for (let o = 0; o < buf.length; o += 65536) assert.ok(buf.subarray(o, o + 65536).some((x) => x !== 0), `chunk at ${o}`);
  const h = globalTimers.set(() => assert.fail("cleared timer fired"), 5);
  globalTimers.clear(h);
  await new Promise((r) => setTimeout(r, 20));
});
