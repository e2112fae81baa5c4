// The demo of `npm start` (`mptcp sim --demo`): a phone with WiFi and LTE downloads for 30 s of
// virtual time while WiFi degrades, disappears and comes back.
//
//   0 s   both paths clean: WiFi 20 Mbit/s, 10 ms one-way, 0.1% loss, 2 ms jitter;
//         LTE 10 Mbit/s, 30 ms one-way, 0.05% loss, 5 ms jitter (LTE's link-layer
//         retransmissions (HARQ/RLC) hide most radio loss from TCP; with 0.5% residual loss a
//         60 ms-RTT TCP flow is loss-limited to ~3 Mbit/s (Mathis), so LTE could not take over)
//   8 s   WiFi loss rises to 5% (far from the access point): traffic moves to LTE
//   16 s  WiFi is gone (interface down, address removed): everything flows over LTE
//   22 s  WiFi is back with its normal 0.1% loss (address re-added, a new subflow joins):
//         WiFi carries most of the traffic again
//
// Congestion control: OLIA (coupled). The coupled controllers (LIA, OLIA, BALIA) grow each
// subflow's window in proportion to how good its path is compared with the others, so a path
// whose loss rises loses its share to the clean one instead of being kept alive at the expense
// of the connection, and they stay fair to single-path TCP at a shared bottleneck. OLIA also
// moves traffic back quickly when a path recovers (it favours the paths with the best rate and
// the largest windows), which the "WiFi returns" phase shows. Measured with this scenario
// (seed 1; `mptcp sim --demo --cc NAME --json`): see README.md for the numbers.
import { parseEvent, parsePaths } from "./spec.ts";
import type { ExperimentOptions } from "./runner.ts";

export const DEMO_PATHS = "wifi:rate=20Mbit,delay=10ms,loss=0.1%,jitter=2ms;lte:rate=10Mbit,delay=30ms,loss=0.05%,jitter=5ms";
export const DEMO_EVENTS = ["8s:wifi:loss=5%", "16s:wifi:down", "22s:wifi:loss=0.1%", "22s:wifi:up"];
export const DEMO_SECONDS = 30;

/** The demo scenario (overridable field by field by the CLI options). */
export function demoOptions(): ExperimentOptions {
  const paths = parsePaths(DEMO_PATHS);
  return {
    paths,
    events: DEMO_EVENTS.map((e) => parseEvent(e, paths.map((p) => p.name))),
    seconds: DEMO_SECONDS,
    cc: "olia",
    seed: 1,
  };
}
