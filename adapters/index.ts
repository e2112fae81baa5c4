// `mptcp/adapters`: the I/O shells around the sans-IO core (see adapters/README.md).
//   driver      the runtime-neutral real-time driver (one host, its ports, one timer)
//   runtime     clock, crypto randomness and timers of Node and Deno
//   udp, tun    packet ports: TCP-in-UDP sockets, Linux TUN devices (koffi / Deno.dlopen)
//   node        pcap files (node:fs, which Deno provides too)
//   memory      the deterministic in-memory network, middleboxes, simulator hosts
//   sim         the experiment runner behind `mptcp sim`
// The streams API is `mptcp/streams`, the fast-check helpers `mptcp/testing`.
export { Driver, LossyPort } from "./driver.ts";
export type { DriverHost, DriverOptions, DriverStats, HostTransmit, PacketPort, PacketTap } from "./driver.ts";
export { CryptoRandomSource, globalTimers, PerformanceClock } from "./runtime/index.ts";
export type { Clock, Timers } from "./runtime/index.ts";
export { denoNativeUdpAvailable, ipToUdpPayload, udpPayloadToIp, UdpPort } from "./udp/udp.ts";
export type { UdpDropReason, UdpPathPort, UdpPortOptions, UdpPortStats } from "./udp/udp.ts";
export { TunError, TunGroup, TunPort } from "./tun/tun.ts";
export type { TunErrorCode, TunOpenOptions, TunPortStats, TunSpec } from "./tun/tun.ts";
export { PcapFileTap } from "./node/pcap_stream.ts";
export { writePcapFile, writePcapFiles } from "./node/pcap_file.ts";
export * from "./memory/index.ts";
export { SimMptcpHost } from "./memory/mptcp_host.ts";
export { SimTcpHost } from "./memory/tcp_host.ts";
export * from "./sim/index.ts";
