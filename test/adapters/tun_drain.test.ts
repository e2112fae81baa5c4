// TUN adapter fairness between devices, without a device (a fake libc): each packet the stack
// handles makes it write, and the kernel answers a write to a TUN device at once, so a busy
// device is rarely empty. Its packets must not hold those of the other devices: found by interop
// case 9 (test/interop/mptcp_kernel.test.ts), where the kernel's SYN/ACKs for our joins over tun1
// waited in tun1's queue until a short transfer over tun0 was over (the group read up to `batch`
// = 256 packets from one device before looking at the next).
import { test } from "node:test";
import assert from "node:assert/strict";
import { TunGroup, TunPort } from "../../adapters/tun/tun.ts";
import type { TunFfi } from "../../adapters/tun/ffi.ts";
import { POLLFD_SIZE, POLLIN } from "../../adapters/tun/ffi.ts";

test("TUN: a device that keeps refilling does not hold the other device's packets (turns of a few packets)", async () => {
  const queues = new Map<number, number[]>([
    [10, [0]], // tun0: busy, refilled below for every packet handled
    [11, [1000]], // tun1: one packet (a SYN/ACK)
  ]);
  let polls = 0;
  let wake: ((n: number) => void) | undefined;
  const ffi: TunFfi = {
    runtime: "node",
    open: () => 3,
    ioctlPtr: () => 0,
    socket: () => 4,
    ifNameToIndex: () => 1,
    read: (fd, buf) => {
      const q = queues.get(fd);
      const v = q?.shift();
      if (v === undefined) return -11; // EAGAIN
      new DataView(buf.buffer, buf.byteOffset).setUint32(0, v);
      return 20;
    },
    write: (fd, buf) => {
      if (fd === 6) wake?.(1);
      return buf.length;
    },
    close: () => {},
    pipe: () => [5, 6],
    pollAsync: (fds, count) => {
      if (polls++ > 0) return new Promise((r) => (wake = r));
      const dv = new DataView(fds.buffer, fds.byteOffset);
      for (let i = 0; i < count - 1; i++) dv.setInt16(i * POLLFD_SIZE + 6, POLLIN, true);
      return Promise.resolve(count - 1);
    },
  };
  const g = new TunGroup(ffi, {});
  g.wakeR = 5;
  g.wakeW = 6;
  const order: number[] = [];
  const p0 = new TunPort(g, "tun0", 10, new Uint8Array([198, 18, 0, 2]));
  const p1 = new TunPort(g, "tun1", 11, new Uint8Array([198, 18, 1, 2]));
  g.ports.push(p0, p1);
  const deliver = (pkt: Uint8Array): void => {
    const v = new DataView(pkt.buffer, pkt.byteOffset).getUint32(0);
    order.push(v);
    if (v < 600) queues.get(10)!.push(v + 1); // the kernel's answer to what we sent
  };
  p0.start(deliver);
  p1.start(deliver);
  for (let i = 0; i < 100 && order.length < 602; i++) await new Promise((r) => setTimeout(r, 5));
  await g.close();
  assert.equal(order.length, 602, "every packet was read");
  const at = order.indexOf(1000);
  assert.ok(at >= 0 && at <= 32, `tun1's packet was read after ${at} packets of tun0 (at most a turn of 16 expected)`);
});
