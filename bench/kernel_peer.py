#!/usr/bin/env python3
"""Kernel-side peers of bench/kernel.bench.ts (run inside the bench's network namespaces).

  sink:   listens (MPTCP with --mptcp: socket(AF_INET, SOCK_STREAM, 262)), serves --count
          connections one at a time, reads each to EOF into one reused buffer and prints one JSON
          line per connection: {"bytes", "seconds", "mptcp", "max_subflows"}; "seconds" runs
          from accept() to EOF, so the same clock measures the kernel's sender and ours.
  source: connects, sends --bytes bytes (one reused 1 MiB buffer), half-closes, waits for EOF,
          prints {"bytes", "seconds"}.

Bounded: every socket has a timeout (--timeout seconds), the sink stops reading after --bytes
(when given) and the source never sends more than --bytes. Same MPTCP sockets as
test/interop/echo_server.py (whose Info class samples struct mptcp_info)."""
import argparse, json, os, socket, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))
from echo_server import Info  # noqa: E402

IPPROTO_MPTCP = 262


def sink(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(8)
    s.settimeout(a.timeout)
    print("READY", flush=True)
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    for _ in range(a.count):
        c, _peer = s.accept()
        t0 = time.monotonic()
        c.settimeout(a.timeout)
        info = Info(c, a.mptcp)
        info.sample()
        n = 0
        k = 0
        while True:
            r = c.recv_into(view)
            if r == 0:
                break
            n += r
            k += 1
            if (k & 255) == 0:
                info.sample()
            if a.bytes and n > a.bytes:
                break
        dt = time.monotonic() - t0
        info.sample()
        c.close()
        print(json.dumps({"bytes": n, "seconds": dt, **info.json()}), flush=True)
    s.close()


def source(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
    s.settimeout(a.timeout)
    if a.bind:
        s.bind((a.bind, 0))
    s.connect((a.addr, a.port))
    t0 = time.monotonic()
    block = memoryview(bytes((i * 13 + 5) & 0xFF for i in range(1 << 20)))
    left = a.bytes
    deadline = t0 + a.seconds if a.seconds else None
    while left > 0:
        m = min(left, len(block))
        s.sendall(block[:m])
        left -= m
        if deadline and time.monotonic() > deadline:
            break
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    print(json.dumps({"bytes": a.bytes - left, "seconds": time.monotonic() - t0}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["sink", "source"])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default=None)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=0, help="source: stop sending after this long")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    (sink if a.mode == "sink" else source)(a)


if __name__ == "__main__":
    try:
        main()
    except BaseException as e:
        print(json.dumps({"error": repr(e)}), flush=True)
        sys.exit(1)
