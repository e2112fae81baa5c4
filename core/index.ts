// Public entry point of the mptcp library (sans-IO core). Adapters live in adapters/.
export * from "./errors.ts";
export { defaultVariant, loadKernels, simdSupported } from "./kernels/wasm/instance.ts";
export type { WasmKernels, WasmVariant } from "./kernels/wasm/instance.ts";
export * from "./kernels/checksum.ts";
export * from "./wire/checksum.ts";
export * from "./crypto/keys.ts";
export * from "./crypto/hmac.ts";
export * from "./crypto/random.ts";
export { LINKTYPE_RAW, PcapWriter, pcapGlobalHeader, pcapRecord, readPcap } from "./pcap/writer.ts";
export type { PcapRecord, PcapWriterOptions } from "./pcap/writer.ts";
export * from "./kernels/types.ts";
export * from "./kernels/factory.ts";
export { MAX_CAPACITY, TsAssembler, TsReceiveBuffer, WasmAssembler, WasmReceiveBuffer } from "./kernels/reassembly.ts";
export { TsSendBuffer, WasmSendBuffer } from "./kernels/sendbuf.ts";
export { TsDssMap, WasmDssMap } from "./kernels/dssmap.ts";
export * from "./congestion/index.ts";
export { TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR, TCPOPT_MPTCP, MPTCP_SUB_CAPABLE, MPTCP_SUB_JOIN, MPTCP_SUB_DSS, MPTCP_SUB_ADD_ADDR, MPTCP_SUB_REMOVE_ADDR, MPTCP_SUB_PRIO, MPTCP_SUB_FAIL, MPTCP_SUB_FASTCLOSE, MPTCP_SUB_TCPRST, MPTCP_SUB_EXPERIMENTAL, MPC_FLAG_A, MPC_FLAG_B, MPC_FLAG_C, MPC_FLAG_H, MPRST_FLAG_T, MPRST_REASON_UNSPECIFIED, MPRST_REASON_MPTCP_ERROR, MPRST_REASON_RESOURCES, MPRST_REASON_ADMIN_PROHIBITED, MPRST_REASON_TOO_MUCH_OUTSTANDING, MPRST_REASON_UNACCEPTABLE_PERFORMANCE, MPRST_REASON_MIDDLEBOX } from "./wire/types.ts";
export type { IpAddress, SackBlock, TcpTimestamp, UnknownTcpOption, TcpOptions, TcpHeader, TcpSegment, MpCapable, MpJoinSyn, MpJoinSynAck, MpJoinAck, Dss, AddAddr, RemoveAddr, MpPrio, MpFail, MpFastclose, MpTcpRst, MpExperimental, MpUnknown, MptcpOption, ParseErrorReason, ParseError, ParseResult, DssMapping as DssOptionMapping } from "./wire/types.ts"; // kernels/types.ts has its own DssMapping
export * from "./wire/seq.ts";
export * from "./wire/ip.ts";
export * from "./wire/mptcp.ts";
export * from "./wire/segment.ts";
export * from "./wire/tcp.ts";
export * from "./wire/packet.ts";
export * from "./wire/tcp_in_udp.ts";
