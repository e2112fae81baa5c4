#!/usr/bin/env python3
"""Plain (kernel) TCP peers for the proxy interop test (test/interop/proxy.test.ts), run inside
the test's network namespace. Everything is bounded by --timeout (socket timeouts and a total
deadline).

  server --addr A --port P [--timeout T]
      concurrent echo server: each connection is echoed until the client's FIN, then our FIN.
      Prints READY, serves until killed or T seconds passed.
  client --addr A --port P --bytes N [--conns K] [--timeout T] [--progress]
      K concurrent connections; each sends N bytes (its own deterministic pattern), half-closes
      after the last byte, and reads the echo to EOF while sending. Prints one JSON line:
      {"seconds", "conns": [{"bytes_out", "bytes_in", "sha256_out", "sha256_in", "error"}]}.
      --progress prints "PROGRESS <bytes received by connection 0>" lines (about every 1 MiB).
"""
import argparse, hashlib, json, random, socket, threading, time


def pattern(seed, n):
    """n bytes of a per-connection deterministic pattern (Mersenne Twister seeded by `seed`)."""
    return random.Random(seed).randbytes(n)


def serve_one(c, timeout):
    c.settimeout(timeout)
    try:
        while True:
            d = c.recv(262144)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
        # Wait for the peer's close so our FIN is not followed by a RST.
        while c.recv(65536):
            pass
    except OSError:
        pass
    finally:
        c.close()


def server(a):
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(64)
    s.settimeout(1.0)
    print("READY", flush=True)
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve_one, args=(c, a.timeout), daemon=True).start()


def client_conn(a, idx, res, progress):
    data = pattern(idx + 1, a.bytes)
    r = {"bytes_out": 0, "bytes_in": 0, "sha256_out": hashlib.sha256(data).hexdigest(), "sha256_in": "", "error": None}
    hin = hashlib.sha256()
    try:
        fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect((a.addr, a.port))

        def send():
            try:
                view = memoryview(data)
                for o in range(0, len(data), 65536):
                    s.sendall(view[o:o + 65536])
                    r["bytes_out"] = o + len(view[o:o + 65536])
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                r["error"] = r["error"] or f"send: {e!r}"

        t = threading.Thread(target=send, daemon=True)
        t.start()
        next_mark = 1 << 20
        while True:
            d = s.recv(262144)
            if not d:
                break
            hin.update(d)
            r["bytes_in"] += len(d)
            if progress and r["bytes_in"] >= next_mark:
                print(f"PROGRESS {r['bytes_in']}", flush=True)
                next_mark += 1 << 20
        t.join(a.timeout)
        s.close()
    except OSError as e:
        r["error"] = r["error"] or f"recv: {e!r}"
    r["sha256_in"] = hin.hexdigest()
    res[idx] = r


def client(a):
    t0 = time.time()
    res = [None] * a.conns
    ts = [threading.Thread(target=client_conn, args=(a, i, res, a.progress and i == 0), daemon=True) for i in range(a.conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(max(0.1, a.timeout - (time.time() - t0)))
    res = [r if r is not None else {"error": "timed out"} for r in res]
    print(json.dumps({"seconds": round(time.time() - t0, 3), "conns": res}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args()
    server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    main()
