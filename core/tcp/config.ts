// Default TCP configuration, mirroring Linux defaults (tcp_rmem/tcp_wmem maxima, IW10,
// 200 ms minimum RTO, 40 ms delayed ACK, 60 s TIME-WAIT, keepalive off).
import type { TcpConfig } from "./types.ts";

export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = Object.freeze({
  mss: 1460,
  mtu: 1500,
  ipv6: false,
  sendBufferSize: 4 * 1024 * 1024,
  sendBufferAutotune: true,
  receiveBufferSize: 6 * 1024 * 1024,
  windowScaling: true,
  sack: true,
  timestamps: true,
  initialWindowSegments: 10,
  minRtoUs: 200_000,
  initialRtoUs: 1_000_000,
  maxRtoUs: 120_000_000,
  delayedAckUs: 40_000,
  quickAckSegments: 16,
  timeWaitUs: 60_000_000,
  finWait2TimeoutUs: 60_000_000,
  keepalive: false,
  keepaliveIdleUs: 7_200_000_000,
  keepaliveIntervalUs: 75_000_000,
  keepaliveProbes: 9,
  userTimeoutUs: 0,
  synRetries: 6,
  synLinearTimeouts: 4,
  retries: 15,
  noDelay: false,
  rack: true,
  tlp: true,
  prr: true,
  challengeAckLimit: 1000,
  oowAckIntervalUs: 500_000,
  congestion: undefined,
  kernel: "wasm",
});

/** The window scale (RFC 7323 section 2.3) needed to advertise `bufferSize` bytes. */
export function windowScaleFor(bufferSize: number): number {
  let s = 0;
  while (s < 14 && 65535 * 2 ** s < bufferSize) s++;
  return s;
}
