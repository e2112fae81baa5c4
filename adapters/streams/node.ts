// A Node `Duplex` over a StreamConnection, for code written against node:net sockets
// (pipeline(), pipe(), 'data' events). node:stream exists on Deno too (its Node layer), so this
// file serves both runtimes. Backpressure crosses over unchanged: _read pulls one chunk from the
// readable only when the Duplex's buffer wants more; _write's callback waits for the writable's
// write() (the chunk is in the connection's send buffer).
import { Duplex } from "node:stream";
import type { StreamConnection } from "./connection.ts";

export interface NodeStreamOptions {
  /** Buffer sizes of the Duplex itself (bytes; default Node's, 16 KiB). */
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

/**
 * The connection as a node:stream Duplex (half-open allowed). end() sends DATA_FIN after the
 * written data; 'end' comes with the peer's DATA_FIN; a reset, fast close or timeout destroys
 * the Duplex with the ConnectionError; destroy() before both directions finished aborts the
 * connection (MP_FASTCLOSE / RST). Takes the connection's streams (they stay locked).
 */
export function toNodeStream(conn: StreamConnection, opts: NodeStreamOptions = {}): Duplex {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  let over = false;
  void conn.closed.then(() => (over = true));
  let reading = false;
  const duplex: Duplex = new Duplex({
    allowHalfOpen: true,
    readableHighWaterMark: opts.readableHighWaterMark,
    writableHighWaterMark: opts.writableHighWaterMark,
    read(): void {
      if (reading) return;
      reading = true;
      reader.read().then(
        (r) => {
          reading = false;
          if (r.done) duplex.push(null);
          else duplex.push(r.value);
        },
        (e: unknown) => {
          reading = false;
          duplex.destroy(e instanceof Error ? e : new Error(String(e)));
        },
      );
    },
    write(chunk: Uint8Array, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
      writer.write(chunk).then(
        () => cb(),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
    },
    final(cb: (e?: Error | null) => void): void {
      writer.close().then(
        () => cb(),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
    },
    destroy(err: Error | null, cb: (e: Error | null) => void): void {
      const clean = err === null && duplex.readableEnded && duplex.writableFinished;
      if (!over && !clean) conn.abort();
      cb(err);
    },
  });
  return duplex;
}
