// The streams API for embedding (issue #9): MPTCP connections as Web Streams over any adapter,
// the same code on Node and Deno.
//
//   const conn = await connect({ transport: { udp: ["127.0.0.1", "127.0.0.2"] }, remote: "127.0.0.1:7000" });
//   const server = await listen({ transport: { udp: ["127.0.0.1"] }, port: 7000 });
//   for await (const c of server) c.readable.pipeTo(c.writable); // echo
//
// Design (decided here):
// - transport: `{ udp: [addr[:port], ...] }` (TCP-in-UDP sockets, one per path), `{ tun: [{
//   device, address }] }` (existing TUN devices, our address on each), or `{ ports: [...] }`
//   (any PacketPort: e.g. `new MemoryNetwork().port(addr)`, in-process and socket-free). Path 0
//   carries the initial subflow; a client joins from the others (full mesh), a server announces
//   them (ADD_ADDR; `announce` overrides). `remote` is "host:port" with an IP literal.
// - `config` passes the core's MptcpConfig through (scheduler, congestion, checksum,
//   maxSubflows, buffers, pathManager, `mptcp: false` for plain TCP); `backup` marks paths.
// - connect() owns a private stack (Endpoint + Driver + ports) that stops after the connection
//   ends; listen() owns one for all accepted connections, stopped by Listener.close() once they
//   have ended. openClient() keeps one client stack for several connect()s (TUN devices can be
//   opened once); over UDP its one port per path allows one connection per remote address:port.
// - StreamConnection: `readable` (ReadableStream<Uint8Array>, closes at the peer's DATA_FIN,
//   errors with a ConnectionError on reset / MP_FASTCLOSE / timeout / abort), `writable`
//   (WritableStream<Uint8Array>; close() = DATA_FIN after the data, abort() = reset), `closed`
//   (resolves with { reason, error? }, never rejects), `info()` (the core's stats: mptcp vs
//   fallback, subflows, counters, plus addresses), `on(type, fn)` for MptcpEvents (fallback,
//   subflowEstablished, subflowClosed, addressAnnounced, ...), `history` (control events so far,
//   including those before connect() resolved), `close()` (graceful) and `abort()` (reset).
// - Backpressure end to end, no unbounded JS buffers: the readable pulls from the connection's
//   receive buffer only when its queue is below readableHighWaterMark, so unread bytes keep the
//   advertised window closed; the writable's write() resolves when the chunk is in the send
//   buffer (config.sendBufferSize), with at most writableHighWaterMark bytes queued before it,
//   so writer.ready / desiredSize follow the send buffer's space.
// - Errors that are the network's (refused, reset, timeout) are ConnectionError (a MptcpError,
//   with `reason`); API misuse throws InvalidArgumentError / InvalidStateError (core/errors.ts).
// - toNodeStream(conn) (node.ts): a node:stream Duplex over the same connection.
export { connect, listen, Listener, MptcpClient, openClient } from "./stack.ts";
export type { ConnectOptions, ListenOptions, StackOptions } from "./stack.ts";
export { ConnectionError, StreamConnection } from "./connection.ts";
export type { ByteReadable, CloseInfo, ConnectionInfo, EventListener, EventType, StreamOptions } from "./connection.ts";
export { MemoryNetwork, parseHostPort } from "./transport.ts";
export type { MemoryNetworkOptions, TransportOption } from "./transport.ts";
export { toNodeStream } from "./node.ts";
export type { NodeStreamOptions } from "./node.ts";
export type { MptcpConfig, MptcpEvent, MptcpStats, SubflowStats } from "../../core/mptcp/types.ts";
export type { PacketPort } from "../driver.ts";
