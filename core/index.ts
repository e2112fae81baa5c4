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
