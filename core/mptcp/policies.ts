// Connection-level multipath policies that act on subflows: penalisation of a subflow that
// blocks the connection-level window (Raiciu et al., NSDI 2012), and receive-buffer
// autotuning driven by the largest subflow RTT (Linux mptcp_rcv_space_adjust, after
// tcp_rcv_space_adjust).
import type { CongestionController } from "../congestion/types.ts";

/**
 * Halves the subflow's congestion window and slow-start threshold (at most the reduction of one
 * loss), unless the controller is already reducing (in recovery): Linux mptcp.org's
 * mptcp_rcv_buf_optimization only penalises subflows in the open state. Returns whether it did.
 */
export function penalise(tcp: { readonly congestion: CongestionController | undefined; readonly bytesInFlight: number }, now: number): boolean {
  const cc = tcp.congestion;
  if (!cc) return false;
  const before = cc.cwnd;
  cc.onCongestionEvent(now, tcp.bytesInFlight);
  if (cc.cwnd >= before) return false; // already in recovery (or at the floor): nothing more
  cc.onRecoveryExit(now);
  return true;
}

/** Initial connection-level window with autotuning (Linux tcp_rmem[1] = 128 KiB, half of it as window). */
export const RCV_SPACE_INITIAL = 128 * 1024;

/**
 * Receive-buffer autotuning: every (largest subflow) RTT, the bytes the application read in that
 * RTT are measured; the window grows to twice that plus 16 segments (Linux: rcvwin = 2 * copied
 * + 16 * advmss), never shrinks, and never exceeds the configured receive buffer.
 */
export class RcvSpace {
  size: number;
  private copied = 0;
  private start = -1;

  constructor(readonly max: number, initial: number = RCV_SPACE_INITIAL) {
    this.size = Math.max(1, Math.min(max, initial));
  }

  /** The application read `n` bytes at `now`; `rttUs` is the largest smoothed RTT of the usable subflows. */
  onRead(now: number, n: number, rttUs: number): void {
    if (this.start < 0) this.start = now;
    this.copied += n;
    if (!(rttUs > 0) || now - this.start < rttUs) return;
    const want = 2 * this.copied + 16 * 1460;
    if (want > this.size) this.size = Math.min(this.max, want);
    this.copied = 0;
    this.start = now;
  }
}
