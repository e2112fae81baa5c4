// The streams API (adapters/streams): connect/listen over UDP on loopback (127.0.0.1 and
// 127.0.0.2 as two paths; ::1) and over the in-process MemoryNetwork, on the runtime running this
// file. Byte-exact echo with two subflows, backpressure (a reader that does not read stalls the
// writer with bounded buffers), abort seen as a stream error on the other side, fallback and
// subflow events, refused / aborted connects, toNodeStream through stream.pipeline and its
// destroy, graceful close() without a reader, a driver error, openClient() with concurrent
// connections, Listener.close() with and without abort. TUN: streams_tun.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConnectionError, MemoryNetwork, connect, listen, openClient, toNodeStream } from "../../adapters/streams/index.ts";
import type { Listener, MptcpEvent, StreamConnection } from "../../adapters/streams/index.ts";
import { patternBytes } from "../../adapters/cli/app.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

/** Rejects after `ms` (the test's own bound, besides node:test's timeout). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Echoes every accepted connection (readable piped into writable). */
function echo(server: Listener): void {
  void (async () => {
    for await (const c of server) c.readable.pipeTo(c.writable).catch(() => {});
  })();
}

/** Writes `data` in 64 KiB chunks, closes, and reads everything back. */
async function roundTrip(conn: StreamConnection, data: Uint8Array): Promise<Uint8Array> {
  const w = conn.writable.getWriter();
  const writing = (async () => {
    for (let o = 0; o < data.length; o += 65536) await w.write(data.subarray(o, o + 65536));
    await w.close();
  })();
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const ch of conn.readable) {
    parts.push(ch);
    n += ch.length;
  }
  await writing;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A listener on 198.18.0.1:7000 and one connection to it from 198.18.0.2, over a MemoryNetwork. */
async function withMemoryPair(fn: (conn: StreamConnection, peer: StreamConnection) => Promise<void>): Promise<void> {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
  try {
    const accepted = server.accept();
    const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000" });
    await fn(conn, (await within(accepted, 10_000, "accept"))!);
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
}

test("streams: 3 MiB (Deno: 2 MiB) echoed byte-exact over UDP with two subflows (127.0.0.1 + 127.0.0.2)", { timeout: 90_000 }, async () => {
  const server = await listen({ transport: { udp: ["127.0.0.1"] } });
  const serverEvents: MptcpEvent[] = [];
  const conns: StreamConnection[] = [];
  void (async () => {
    for await (const c of server) {
      conns.push(c);
      c.on("*", (e) => serverEvents.push(e));
      c.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  try {
    const clientEvents: MptcpEvent[] = [];
    const conn = await connect({ transport: { udp: ["127.0.0.1", "127.0.0.2"] }, remote: `127.0.0.1:${server.port}`, onEvent: (e) => clientEvents.push(e) });
    assert.equal(conn.mptcp, true);
    assert.equal(conn.remoteAddress, `127.0.0.1:${server.port}`);
    const data = patternBytes(isDeno ? 2 << 20 : 3 << 20); // Deno without --unstable-net: node:dgram, ~3,000 datagrams/s
    const back = await within(roundTrip(conn, data), 80_000, "echo");
    assert.equal(back.length, data.length);
    assert.equal(sha(back), sha(data));
    const info = conn.info();
    assert.equal(info.mptcp, true);
    assert.equal(info.fallback, false);
    assert.equal(info.subflows.length, 2, JSON.stringify(info.subflows));
    assert.deepEqual(info.subflows.map((s) => s.localAddress.split(":")[0]).sort(), ["127.0.0.1", "127.0.0.2"]);
    for (const s of info.subflows) assert.ok(s.bytesReceived > 0, `subflow ${s.localAddress} carried data`);
    assert.equal(info.bytesRead, data.length);
    // The join is observable: a subflowEstablished for a subflow other than the initial one.
    assert.ok(clientEvents.some((e) => e.type === "subflowEstablished" && e.subflow !== 0), JSON.stringify(clientEvents));
    assert.ok(conn.history.some((e) => e.type === "established" && e.mptcp));
    const closed = await within(conn.closed, 10_000, "client closed");
    assert.equal(closed.reason, "normal");
    const sc = await within(conns[0]!.closed, 10_000, "server closed");
    assert.equal(sc.reason, "normal");
    assert.ok(serverEvents.some((e) => e.type === "peerClosed"));
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: a reader that does not read stalls the writer (bounded buffers), then everything arrives", { timeout: 60_000 }, async () => {
  const buf = 256 * 1024;
  const config = { sendBufferSize: buf, receiveBufferSize: buf };
  const server = await listen({ transport: { udp: ["127.0.0.1"] }, config });
  try {
    const accepted = server.accept();
    const conn = await connect({ transport: { udp: ["127.0.0.1"] }, remote: `127.0.0.1:${server.port}`, config, writableHighWaterMark: 16 * 1024 });
    const peer = (await within(accepted, 10_000, "accept"))!;
    const total = 4 << 20;
    const data = patternBytes(total);
    const w = conn.writable.getWriter();
    let queued = 0;
    let stalledAt = -1;
    // Write as fast as `ready` allows; stop when ready stays pending for 500 ms.
    while (queued < total) {
      const r = await Promise.race([w.ready.then(() => true), sleep(500).then(() => false)]);
      if (!r) {
        stalledAt = queued;
        break;
      }
      const n = Math.min(65536, total - queued);
      void w.write(data.subarray(queued, queued + n)).catch(() => {});
      queued += n;
    }
    assert.ok(stalledAt > 0, `the writer never stalled (${queued} bytes accepted with nobody reading)`);
    assert.ok((w.desiredSize ?? 1) <= 0, `desiredSize ${w.desiredSize}`);
    // What the writer got rid of sits in: our send buffer, the peer's receive buffer, the
    // readable's queue (64 KiB), the writable's queue (16 KiB) and one chunk. Nothing unbounded.
    assert.ok(stalledAt <= 2 * buf + 64 * 1024 + 16 * 1024 + 65536 + 128 * 1024, `accepted ${stalledAt} bytes before stalling`);
    assert.ok(peer.core.readable <= buf, `peer buffered ${peer.core.readable}`);
    assert.ok(conn.core.unacked > 0, "unacknowledged bytes wait in the send buffer");
    // Now the reader reads: the writer resumes and every byte arrives, in order.
    const reading = (async () => {
      const h = createHash("sha256");
      let n = 0;
      for await (const ch of peer.readable) {
        h.update(ch);
        n += ch.length;
      }
      return { n, digest: h.digest("hex") };
    })();
    while (queued < total) {
      await within(w.ready, 20_000, "writer resumes");
      const n = Math.min(65536, total - queued);
      void w.write(data.subarray(queued, queued + n)).catch(() => {});
      queued += n;
    }
    await within(w.close(), 30_000, "writer close");
    const got = await within(reading, 30_000, "reader");
    assert.equal(got.n, total);
    assert.equal(got.digest, sha(data));
    await peer.close();
    assert.equal((await within(conn.closed, 10_000, "closed")).reason, "normal");
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: abort() on one side errors both streams on the other (MP_FASTCLOSE)", { timeout: 30_000 }, async () => {
  const server = await listen({ transport: { udp: ["127.0.0.1"] } });
  try {
    const accepted = server.accept();
    const conn = await connect({ transport: { udp: ["127.0.0.1", "127.0.0.2"] }, remote: `127.0.0.1:${server.port}` });
    const peer = (await within(accepted, 10_000, "accept"))!;
    const reader = peer.readable.getReader();
    const w = conn.writable.getWriter();
    await w.write(new Uint8Array(1000).fill(7));
    const first = await within(reader.read(), 10_000, "first bytes");
    assert.equal(first.done, false);
    conn.abort();
    const err = await within(
      (async () => {
        for (;;) {
          try {
            const r = await reader.read();
            if (r.done) return undefined;
          } catch (e) {
            return e;
          }
        }
      })(),
      10_000,
      "peer's readable errors",
    );
    assert.ok(err instanceof ConnectionError, `peer's readable: ${String(err)}`);
    assert.equal(err.reason, "fastclose");
    assert.equal((await peer.closed).reason, "fastclose");
    // The peer's writable errored at once, with no write pending: closed and ready reject.
    const pw = peer.writable.getWriter();
    await assert.rejects(pw.closed, (e: unknown) => e instanceof ConnectionError && e.reason === "fastclose");
    await assert.rejects(pw.write(new Uint8Array(10)), ConnectionError);
    // Our own side: aborted, its streams errored too.
    assert.equal((await conn.closed).reason, "aborted");
    await assert.rejects(conn.readable.getReader().read(), (e: unknown) => e instanceof ConnectionError && e.reason === "aborted");
    assert.ok(peer.core.counters.MPFastcloseRx >= 1);
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: fallback to TCP is observable (server without MPTCP), data still flows", { timeout: 30_000 }, async () => {
  const server = await listen({ transport: { udp: ["127.0.0.1"] }, config: { mptcp: false } });
  echo(server);
  try {
    const seen: string[] = [];
    const conn = await connect({ transport: { udp: ["127.0.0.1"] }, remote: `127.0.0.1:${server.port}`, onEvent: (e) => seen.push(e.type) });
    assert.equal(conn.mptcp, false);
    const fb = conn.history.find((e) => e.type === "fallback");
    assert.ok(fb, `events: ${seen.join(",")}`);
    assert.ok(seen.includes("fallback"));
    assert.equal(conn.info().fallback, true);
    const data = patternBytes(200_000);
    const back = await within(roundTrip(conn, data), 20_000, "echo");
    assert.equal(sha(back), sha(data));
    assert.equal((await within(conn.closed, 10_000, "closed")).reason, "normal");
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: subflow events over the MemoryNetwork: join, then subflowClosed when the peer removes its address", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1"), net.port("198.18.1.1")] }, port: 7000 });
  const accepted = server.accept();
  try {
    const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000" });
    const peer = (await within(accepted, 10_000, "accept"))!;
    const joined = new Promise<MptcpEvent>((r) => {
      const off = conn.on("subflowEstablished", (e) => {
        if (e.subflow !== 0) {
          off();
          r(e);
        }
      });
    });
    // The server announces its second address (ADD_ADDR); the client joins it.
    const j = await within(joined, 10_000, "join after ADD_ADDR");
    assert.equal(j.type, "subflowEstablished");
    assert.equal(conn.info().subflows.filter((s) => s.state === "ESTABLISHED").length, 2);
    const closedSf = new Promise<MptcpEvent>((r) => conn.on("subflowClosed", r));
    const ann = conn.history.find((e) => e.type === "addressAnnounced");
    assert.ok(ann && ann.type === "addressAnnounced");
    peer.act((now) => peer.core.removeAddress(now, ann.id));
    const e = await within(closedSf, 10_000, "subflowClosed");
    assert.equal(e.type, "subflowClosed");
    // Bytes still flow on what is left.
    const w = conn.writable.getWriter();
    await w.write(new TextEncoder().encode("after remove"));
    const r = await within(peer.readable.getReader().read(), 10_000, "read");
    assert.equal(new TextDecoder().decode(r.value), "after remove");
    conn.abort();
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: connect is refused (RST) on a port nobody listens on; an AbortSignal ends a handshake", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
  try {
    await assert.rejects(connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7001" }), (e: unknown) => e instanceof ConnectionError && e.reason === "reset");
    // Nobody at 198.18.0.9: the SYN goes unanswered until the signal fires.
    const t0 = Date.now();
    await assert.rejects(connect({ transport: { ports: [net.port("198.18.0.3")] }, remote: "198.18.0.9:7000", signal: AbortSignal.timeout(300) }), (e: unknown) => e instanceof ConnectionError && e.reason === "aborted");
    assert.ok(Date.now() - t0 < 5000);
    await assert.rejects(connect({ transport: { ports: [net.port("198.18.0.4")] }, remote: "198.18.0.1" }), /needs a port/);
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: toNodeStream through stream.pipeline (echo server and client as node Duplexes)", { timeout: 60_000 }, async () => {
  const server = await listen({ transport: { udp: ["127.0.0.1"] } });
  void (async () => {
    for await (const c of server) {
      const d = toNodeStream(c);
      pipeline(d, d).catch(() => {});
    }
  })();
  try {
    const conn = await connect({ transport: { udp: ["127.0.0.1", "127.0.0.2"] }, remote: `127.0.0.1:${server.port}` });
    const n = isDeno ? 1 << 20 : 2 << 20;
    const data = patternBytes(n);
    const h = createHash("sha256");
    let got = 0;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < n; o += 50_000) yield data.subarray(o, Math.min(n, o + 50_000));
    }
    await within(
      pipeline(
        Readable.from(chunks()),
        toNodeStream(conn),
        new Writable({
          write(chunk: Uint8Array, _e, cb) {
            h.update(chunk);
            got += chunk.length;
            cb();
          },
        }),
      ),
      50_000,
      "pipeline",
    );
    assert.equal(got, n);
    assert.equal(h.digest("hex"), sha(data));
    assert.equal((await within(conn.closed, 10_000, "closed")).reason, "normal");
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: close() with nobody reading discards what arrives and ends normally on both sides", { timeout: 30_000 }, async () => {
  await withMemoryPair(async (conn, peer) => {
    const w = conn.writable.getWriter();
    await w.write(patternBytes(300_000));
    const peerClosed = peer.close(); // never reads: the 300 kB are discarded, DATA_FIN goes out
    await w.close();
    const got: Uint8Array[] = [];
    for await (const ch of conn.readable) got.push(ch);
    assert.equal(got.length, 0, "the peer sent nothing");
    assert.equal((await within(peerClosed, 10_000, "peer close")).reason, "normal");
    assert.equal((await within(conn.closed, 10_000, "close")).reason, "normal");
    assert.equal(peer.info().bytesRead, 300_000);
  });
});

test("streams: destroying a toNodeStream Duplex mid-transfer aborts the connection; the peer's Duplex errors", { timeout: 30_000 }, async () => {
  await withMemoryPair(async (conn, peerConn) => {
    const peer = toNodeStream(peerConn);
    const peerError = new Promise<unknown>((r) => peer.on("error", r));
    peer.resume();
    const d = toNodeStream(conn);
    d.on("error", () => {});
    d.write(patternBytes(100_000));
    await sleep(50);
    d.destroy();
    const e = await within(peerError, 10_000, "peer error");
    assert.ok(e instanceof ConnectionError && e.reason === "fastclose", String(e));
    assert.equal((await conn.closed).reason, "aborted");
  });
});

test("streams: a failing port (driver error) fails the connection's streams instead of hanging", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
  try {
    const inner = net.port("198.18.0.2");
    let broken = false;
    const port = {
      label: "breakable",
      address: inner.address,
      localPort: inner.localPort,
      send: (p: Uint8Array): boolean => {
        if (broken) throw new Error("port broke");
        return inner.send(p);
      },
      start: (d: (p: Uint8Array) => void): void => inner.start(d),
      close: (): Promise<void> => inner.close(),
    };
    const conn = await connect({ transport: { ports: [port] }, remote: "198.18.0.1:7000" });
    broken = true;
    const w = conn.writable.getWriter();
    await w.write(new Uint8Array(5000)).catch(() => {});
    const end = await within(conn.closed, 10_000, "closed");
    assert.equal(end.reason, "stopped");
    assert.match(String(end.error?.message), /internal error: port broke/);
    await assert.rejects(conn.readable.getReader().read(), ConnectionError);
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: openClient() runs concurrent connections on one stack; close() of client and listener wait for them", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1"), net.port("198.18.1.1")] }, port: 7000 });
  let accepted = 0;
  void (async () => {
    for await (const c of server) {
      accepted++;
      c.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  const client = await openClient({ transport: { ports: [net.port("198.18.0.2"), net.port("198.18.1.2")] } });
  let clientClosed = false;
  let serverClosed = false;
  try {
    const [a, b] = await Promise.all([client.connect("198.18.0.1:7000"), client.connect("198.18.0.1:7000")]);
    assert.notEqual(a!.localAddress, b!.localAddress);
    // Connections not yet taken by accept() when the listener closes are aborted: wait for both.
    for (let i = 0; accepted < 2 && i < 200; i++) await sleep(10);
    assert.equal(accepted, 2);
    const closing = client.close().then(() => (clientClosed = true));
    const listenerClosing = server.close().then(() => (serverClosed = true));
    await assert.rejects(client.connect("198.18.0.1:7000"), /closed MptcpClient/);
    const da = patternBytes(500_000);
    const db = da.map((x) => x ^ 0x5a);
    const [ra, rb] = await within(Promise.all([roundTrip(a!, da), roundTrip(b!, db)]), 20_000, "two echoes");
    assert.equal(sha(ra), sha(da));
    assert.equal(sha(rb), sha(db));
    assert.equal(clientClosed, false, "the client stack stays up while its connections run");
    await within(Promise.all([a!.closed, b!.closed]), 10_000, "closed");
    await within(closing, 10_000, "client close");
    await within(listenerClosing, 10_000, "listener close");
    assert.ok(clientClosed && serverClosed);
  } finally {
    await within(Promise.all([client.close(), server.close()]), 10_000, "cleanup");
  }
});

test("streams: Listener.close({ abort: true }) ends the open connections at once", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
  const accepted = server.accept();
  const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000" });
  const peer = (await within(accepted, 10_000, "accept"))!;
  await within(server.close({ abort: true }), 10_000, "listener close with abort");
  assert.equal((await peer.closed).reason, "aborted");
  assert.equal((await within(conn.closed, 10_000, "client sees the fast close")).reason, "fastclose");
});

test("streams: IPv6 over UDP on ::1 (remote given as [::1]:port)", { timeout: 30_000 }, async () => {
  const server = await listen({ transport: { udp: ["::1"] } });
  echo(server);
  try {
    assert.deepEqual(server.addresses, [`[::1]:${server.port}`]);
    const conn = await connect({ transport: { udp: ["::1"] }, remote: `[::1]:${server.port}` });
    assert.equal(conn.remoteAddress, `[::1]:${server.port}`);
    assert.equal(conn.mptcp, true);
    const data = patternBytes(256 * 1024);
    assert.equal(sha(await within(roundTrip(conn, data), 20_000, "echo")), sha(data));
    assert.equal((await within(conn.closed, 10_000, "closed")).reason, "normal");
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

test("streams: bytes the reader has not taken when the connection closes are still delivered after the Endpoint forgot it", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000 });
  try {
    const accepted = server.accept();
    // A short TIME-WAIT: the client's Endpoint forgets the closed connection (and frees its
    // WASM buffers) soon after the close.
    const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000", config: { tcp: { timeWaitUs: 50_000 } } });
    const peer = (await within(accepted, 10_000, "accept"))!;
    await conn.writable.close();
    const data = patternBytes(1 << 20);
    const w = peer.writable.getWriter();
    await w.write(data);
    await w.close();
    assert.equal((await within(conn.closed, 10_000, "closed")).reason, "normal");
    await sleep(300);
    const h = createHash("sha256");
    let n = 0;
    for await (const ch of conn.readable) {
      h.update(ch);
      n += ch.length;
    }
    assert.equal(n, data.length);
    assert.equal(h.digest("hex"), sha(data));
  } finally {
    await within(server.close(), 10_000, "listener close");
  }
});

// Regression (fixed in core/mptcp 3076184): a fallen-back connection in CLOSE_WAIT that wrote
// more than one window and then shut down sent its FIN after the first flight and closed: the
// peer saw a clean end of stream after 14,480 of 1,048,576 bytes.
test("fallback, the peer half-closed first, then 1 MiB and our FIN: the peer gets every byte", { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const server = await listen({ transport: { ports: [net.port("198.18.0.1")] }, port: 7000, config: { mptcp: false } });
  try {
    const accepted = server.accept();
    const conn = await connect({ transport: { ports: [net.port("198.18.0.2")] }, remote: "198.18.0.1:7000" });
    const peer = (await within(accepted, 10_000, "accept"))!;
    await conn.writable.close(); // the client half-closes first: the server is in CLOSE_WAIT
    for (let i = 0; peer.core.state !== "CLOSE_WAIT" && i < 100; i++) await sleep(10);
    const data = patternBytes(1 << 20);
    const w = peer.writable.getWriter();
    await w.write(data);
    await w.close();
    const h = createHash("sha256");
    let n = 0;
    for await (const ch of conn.readable) {
      h.update(ch);
      n += ch.length;
    }
    assert.equal(n, data.length, `the client read ${n} of ${data.length} bytes before a clean end of stream`);
    assert.equal(h.digest("hex"), sha(data));
  } finally {
    await within(server.close({ abort: true }), 10_000, "listener close");
  }
});
