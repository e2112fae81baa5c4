// The proxy's relay logic (adapters/cli/proxy.ts RelayPair) with a fake MPTCP connection and a
// fake OS socket: no network, deterministic. Checks what the end-to-end tests cannot observe
// from outside: bounded buffering (the TCP reader is paused at the high-water mark, the MPTCP
// receive buffer is left alone while the socket is full), byte order under arbitrary write-space
// limits, FIN <-> DATA_FIN only after the bytes before it, resets both ways.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RelayPair } from "../../adapters/cli/proxy.ts";
import type { AppConnection, SubflowSummary } from "../../adapters/cli/stack.ts";
import type { TcpFailure, TcpSocket, TcpSocketHandlers } from "../../adapters/runtime/tcp_socket.ts";

const HIGH = 256 * 1024;

class FakeConn implements AppConnection {
  established = true;
  /** Bytes the MPTCP peer sent us, not yet read. */
  inbox: Uint8Array[] = [];
  /** Bytes written to MPTCP. */
  written: number[] = [];
  /** How many bytes the next write() may take (the send buffer's space). */
  space = Infinity;
  shut = false;
  aborted = false;
  peerFin = false;
  acked = false;
  failed: string | undefined = undefined;
  readonly mptcp = true;
  get readable(): number {
    return this.inbox.reduce((a, b) => a + b.length, 0);
  }
  read(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.inbox.length > 0) {
      const h = this.inbox[0]!;
      const k = Math.min(h.length, dst.length - n);
      dst.set(h.subarray(0, k), n);
      n += k;
      if (k === h.length) this.inbox.shift();
      else this.inbox[0] = h.subarray(k);
    }
    return n;
  }
  write(src: Uint8Array): number {
    assert.equal(this.shut, false, "write after shutdown");
    const n = Math.min(src.length, this.space);
    this.space -= n;
    for (let i = 0; i < n; i++) this.written.push(src[i]!);
    return n;
  }
  shutdown(): void {
    this.shut = true;
  }
  abort(): void {
    this.aborted = true;
  }
  get peerDone(): boolean {
    return this.peerFin && this.readable === 0;
  }
  get sendDone(): boolean {
    return this.shut && this.acked;
  }
  subflows(): SubflowSummary[] {
    return [];
  }
  counters(): Record<string, number> {
    return {};
  }
}

class FakeSock implements TcpSocket {
  readonly local = "127.0.0.1:1";
  readonly remote = "127.0.0.1:2";
  h!: TcpSocketHandlers;
  out: number[] = [];
  /** Bytes written but not yet "sent by the kernel". */
  writeBuffered = 0;
  maxBuffered = 0;
  paused = true;
  pauses = 0;
  ended = false;
  resets = 0;
  gone = false;
  get writable(): boolean {
    return !this.gone && !this.ended;
  }
  setHandlers(h: TcpSocketHandlers): void {
    this.h = h;
  }
  write(bytes: Uint8Array): boolean {
    assert.equal(this.ended, false, "write after end");
    for (const b of bytes) this.out.push(b);
    this.writeBuffered += bytes.length;
    this.maxBuffered = Math.max(this.maxBuffered, this.writeBuffered);
    return this.writeBuffered < HIGH;
  }
  end(): void {
    this.ended = true;
  }
  reset(): void {
    this.resets++;
    this.gone = true;
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
}

function setup(): { conn: FakeConn; sock: FakeSock; pair: RelayPair; kicks: { n: number } } {
  const conn = new FakeConn();
  const sock = new FakeSock();
  const kicks = { n: 0 };
  const pair = new RelayPair(conn, "x", 0, () => kicks.n++);
  pair.attach(sock);
  return { conn, sock, pair, kicks };
}

/** A deterministic xorshift stream. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test("relay: TCP -> MPTCP pauses the socket at the high-water mark and resumes under the low one, bytes in order", () => {
  const { conn, sock, pair } = setup();
  assert.equal(sock.paused, false, "attach resumes the socket");
  conn.space = 0; // the MPTCP send buffer is full
  const sent: number[] = [];
  let i = 0;
  while (!sock.paused) {
    const chunk = new Uint8Array(64 * 1024).map(() => i++ & 0xff);
    sent.push(...chunk);
    sock.h.onData(chunk);
    pair.step(0);
  }
  assert.equal(sent.length, 4 * 64 * 1024, "paused once 256 KiB waited");
  assert.equal(sock.pauses, 1);
  // The send buffer drains a little at a time: the socket stays paused until < 64 KiB wait.
  conn.space = 100 * 1024;
  pair.step(0);
  assert.equal(sock.paused, true);
  conn.space = 100 * 1024;
  pair.step(0);
  assert.equal(sock.paused, false, "resumed under the low-water mark");
  conn.space = Infinity;
  pair.step(0);
  assert.deepEqual(conn.written, sent);
});

test("relay: MPTCP -> TCP reads only while the socket has room; the rest stays in the MPTCP buffer", () => {
  const { conn, sock, pair } = setup();
  const data = new Uint8Array(1024 * 1024).map((_, k) => (k * 7) & 0xff);
  conn.inbox.push(data);
  pair.step(0);
  assert.ok(sock.maxBuffered <= HIGH + 64 * 1024, `socket buffer ${sock.maxBuffered}`);
  assert.ok(conn.readable >= data.length - HIGH - 64 * 1024, "unread bytes stay in the connection (its window closes)");
  // The kernel takes the socket's bytes; onDrain -> another pass.
  for (let k = 0; k < 20 && conn.readable > 0; k++) {
    sock.writeBuffered = 0;
    sock.h.onDrain();
    pair.step(0);
    assert.ok(sock.maxBuffered <= HIGH + 64 * 1024);
  }
  assert.equal(conn.readable, 0);
  assert.deepEqual(Uint8Array.from(sock.out), data);
});

test("relay: random chunking and write-space limits keep both streams exact; FIN and DATA_FIN follow the last byte", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const { conn, sock, pair } = setup();
    const up: number[] = [];
    const down: number[] = [];
    let upLeft = Math.floor(r() * 600_000);
    let downLeft = Math.floor(r() * 600_000);
    let tcpFin = false;
    let guard = 0;
    while (!(pair.result || guard++ > 10_000)) {
      const act = r();
      if (act < 0.3 && upLeft > 0 && !sock.paused) {
        const n = Math.min(upLeft, 1 + Math.floor(r() * 70_000));
        const b = new Uint8Array(n).map(() => Math.floor(r() * 256));
        up.push(...b);
        upLeft -= n;
        sock.h.onData(b);
        // Often the FIN comes with the last bytes, while they still wait for send space.
        if (upLeft === 0 && r() < 0.5) {
          tcpFin = true;
          sock.h.onEnd();
        }
      } else if (act < 0.4 && upLeft === 0 && !tcpFin) {
        tcpFin = true;
        sock.h.onEnd();
      } else if (act < 0.6 && downLeft > 0) {
        const n = Math.min(downLeft, 1 + Math.floor(r() * 70_000));
        const b = new Uint8Array(n).map(() => Math.floor(r() * 256));
        down.push(...b);
        downLeft -= n;
        conn.inbox.push(b);
      } else if (act < 0.65 && downLeft === 0) {
        conn.peerFin = true;
      } else if (act < 0.8) {
        conn.space = r() < 0.3 ? 0 : Math.floor(r() * 100_000);
      } else {
        sock.writeBuffered = Math.max(0, sock.writeBuffered - Math.floor(r() * 200_000));
      }
      // The DATA_FIN may be sent only after every TCP byte was written to MPTCP.
      if (conn.shut) assert.equal(conn.written.length, up.length, `seed ${seed}: DATA_FIN before the last byte`);
      if (sock.ended) {
        assert.equal(sock.out.length, down.length, `seed ${seed}: FIN before the last byte`);
        assert.equal(conn.peerFin, true);
      }
      if (conn.shut) conn.acked = true;
      if (sock.ended && tcpFin && !sock.gone) {
        sock.gone = true;
        sock.h.onClose(undefined, undefined);
      }
      pair.step(0);
      assert.ok(sock.maxBuffered <= HIGH + 64 * 1024, `seed ${seed}: socket buffer ${sock.maxBuffered}`);
    }
    assert.ok(pair.result, `seed ${seed}: finished`);
    assert.equal(pair.result.ok, true, pair.result.error);
    assert.deepEqual(conn.written, up, `seed ${seed}: TCP -> MPTCP exact`);
    assert.deepEqual(sock.out, down, `seed ${seed}: MPTCP -> TCP exact`);
    assert.equal(conn.aborted, false);
    assert.equal(sock.resets, 0);
  }
});

test("relay: the FIN becomes a DATA_FIN only after the bytes before it were written, and the DATA_FIN a FIN only after every byte was read", () => {
  const { conn, sock, pair } = setup();
  conn.space = 0;
  sock.h.onData(new Uint8Array(1000).fill(1));
  sock.h.onEnd();
  pair.step(0);
  assert.equal(conn.shut, false, "1000 bytes still wait for send space");
  conn.space = 600;
  pair.step(0);
  assert.equal(conn.shut, false);
  conn.space = 400;
  pair.step(0);
  assert.equal(conn.shut, true);
  assert.equal(conn.written.length, 1000);
  // The other way: the socket is full, so the peer's DATA_FIN waits behind the unread bytes.
  sock.writeBuffered = HIGH;
  conn.inbox.push(new Uint8Array(5000).fill(2));
  conn.peerFin = true;
  pair.step(0);
  assert.equal(sock.ended, false);
  assert.equal(conn.readable, 5000);
  sock.writeBuffered = 0;
  sock.h.onDrain();
  pair.step(0);
  assert.equal(sock.out.length, 5000);
  assert.equal(sock.ended, true);
  // Both directions closed and acknowledged: the pair ends in order.
  conn.acked = true;
  sock.h.onClose(undefined, undefined);
  pair.step(0);
  assert.equal(pair.result?.ok, true);
});

test("relay: an MPTCP reset resets the TCP socket; a TCP reset aborts the MPTCP connection", () => {
  {
    const { conn, sock, pair } = setup();
    sock.h.onData(new Uint8Array(1000));
    pair.step(0);
    conn.failed = "fastclose";
    pair.step(0);
    assert.equal(sock.resets, 1, "RST, never a FIN");
    assert.equal(sock.ended, false);
    assert.equal(pair.result?.ok, false);
    assert.match(pair.result?.error ?? "", /mptcp connection fastclose/);
  }
  {
    const { conn, sock, pair } = setup();
    conn.inbox.push(new Uint8Array(1000));
    pair.step(0);
    const failure: TcpFailure = "reset";
    sock.gone = true;
    sock.h.onClose(failure, "read ECONNRESET");
    pair.step(0);
    assert.equal(conn.aborted, true, "MP_FASTCLOSE");
    assert.equal(conn.shut, false, "not a DATA_FIN");
    assert.match(pair.result?.error ?? "", /tcp reset/);
  }
  {
    // The target refused (server side): the MPTCP side is aborted before any socket exists.
    const conn = new FakeConn();
    conn.inbox.push(new Uint8Array(10));
    const pair = new RelayPair(conn, "127.0.0.1:9", 0, () => {});
    pair.step(0);
    assert.equal(conn.readable, 10, "nothing read before the socket exists");
    pair.tcpFailed("connect to 127.0.0.1:9: ECONNREFUSED");
    pair.step(0);
    assert.equal(conn.aborted, true);
    assert.match(pair.result?.error ?? "", /ECONNREFUSED/);
  }
});
