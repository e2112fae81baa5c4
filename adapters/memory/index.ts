// The deterministic in-memory network: virtual clock, links, routers, middleboxes, pcap taps.
// Runtime-neutral (no Node or Deno API): pcap bytes are returned, files are the caller's job.
export type * from "./types.ts";
export { DEFAULT_LINK_PARAMS, Link, LinkDirection } from "./link.ts";
export type { CapturePoint, LinkEnd } from "./link.ts";
export { Simulator } from "./simulator.ts";
export type { LinkSpec, SimulatorOptions, SimulatorStats } from "./simulator.ts";
export { Router } from "./router.ts";
export type { Route, RouterCounters } from "./router.ts";
export { SeededRandom, hashLabel } from "./random.ts";
export * from "./packet.ts";
export * from "./middleboxes.ts";
export { finishTcp, rebuildTcp, tcpChecksumOk, tcpInfo, tcpOptions } from "./tcpbytes.ts";
export type { RawOption, TcpInfo } from "./tcpbytes.ts";
