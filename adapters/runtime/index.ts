// Per-runtime glue for the real-time adapters (UDP, TUN, CLI): a monotonic microsecond clock,
// a RandomSource over crypto.getRandomValues, and one-shot timers. Everything here exists with
// the same meaning on Node (>= 20.19) and Deno 2 (performance, crypto, setTimeout are globals on
// both), so one file serves both; runtime-specific code (FFI) lives in adapters/tun/ffi_*.ts.
// The core never reads a clock or draws ambient randomness (DESIGN.md conventions 1 and 4):
// these are what adapters hand it.
import { clearImmediate, setImmediate } from "node:timers";
import type { RandomSource } from "../../core/crypto/random.ts";

/** Integer microseconds, monotonic, non-decreasing. */
export interface Clock {
  nowUs(): number;
  /** Wall-clock microseconds since the Unix epoch for a value of nowUs() (pcap timestamps). */
  wallUs(nowUs: number): number;
}

/** A monotonic clock from performance.now(), with its origin at performance.timeOrigin. */
export class PerformanceClock implements Clock {
  private last = 0;
  private readonly origin = Math.round(performance.timeOrigin * 1000);

  nowUs(): number {
    const t = Math.floor(performance.now() * 1000);
    if (t > this.last) this.last = t;
    return this.last;
  }

  wallUs(nowUs: number): number {
    return this.origin + nowUs;
  }
}

/** RandomSource backed by the runtime's CSPRNG (Web Crypto getRandomValues). */
export class CryptoRandomSource implements RandomSource {
  fill(bytes: Uint8Array): void {
    // getRandomValues refuses more than 65536 bytes per call.
    for (let o = 0; o < bytes.length; o += 65536) {
      globalThis.crypto.getRandomValues(bytes.subarray(o, Math.min(bytes.length, o + 65536)));
    }
  }
}

/** One-shot timers. `delayMs` may be fractional. */
export interface Timers {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

type Handle = { soon: true; h: ReturnType<typeof setImmediate> } | { soon: false; h: ReturnType<typeof setTimeout> };

/**
 * setTimeout/clearTimeout (Node and Deno), except that a delay under 1 ms runs on the next
 * event-loop turn (setImmediate from node:timers, also on Deno). setTimeout has 1 ms
 * granularity, and a paced sender (core/tcp paces one segment per slot, slots under 1 ms apart
 * at high rates) would otherwise be held to one segment per millisecond; the driver re-checks
 * the deadline and re-arms, so a sub-millisecond wait is a short spin while a transfer is
 * paced, never while idle (idle deadlines are tens of ms or more away).
 */
export const globalTimers: Timers = {
  set: (fn, delayMs): Handle => (delayMs < 1 ? { soon: true, h: setImmediate(fn) } : { soon: false, h: setTimeout(fn, delayMs) }),
  clear: (handle) => {
    const x = handle as Handle;
    if (x.soon) clearImmediate(x.h);
    else clearTimeout(x.h);
  },
};
