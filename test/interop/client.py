#!/usr/bin/env python3
"""Kernel-side client for the interop tests (runs inside the test's network namespace):
connects (plain TCP, or MPTCP with --mptcp: socket(AF_INET[6], SOCK_STREAM, 262)), sends
--bytes bytes, half-closes, reads to EOF, and prints one JSON line
{"bytes_out", "bytes_in", "sha256_out", "sha256_in", "mptcp"}. Bounded by --timeout."""
import argparse, hashlib, json, os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from echo_server import Info  # noqa: E402

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default=None)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
    s.settimeout(a.timeout)
    if a.bind:
        s.bind((a.bind, 0))
    s.connect((a.addr, a.port))
    info = Info(s, a.mptcp)
    info.sample()
    hin, hout = hashlib.sha256(), hashlib.sha256()
    nin = nout = 0
    block = bytes((i * 13 + 5) & 0xFF for i in range(65536))
    left = a.bytes
    s.setblocking(True)
    s.settimeout(a.timeout)
    # Send and receive concurrently enough for an echo peer: interleave sendall in chunks with reads.
    import select
    s.setblocking(False)
    out_done = left == 0
    if out_done:
        s.shutdown(socket.SHUT_WR)
    pending = b""
    import time
    deadline = time.monotonic() + a.timeout
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("transfer did not finish in time")
        if not pending and left > 0:
            pending = block[: min(left, len(block))]
            left -= len(pending)
        r, w, _ = select.select([s], [s] if pending else [], [], 1.0)
        if w and pending:
            try:
                n = s.send(pending)
            except BlockingIOError:
                n = 0
            hout.update(pending[:n])
            nout += n
            pending = pending[n:]
            if not pending and left == 0 and not out_done:
                out_done = True
                s.shutdown(socket.SHUT_WR)
        if r:
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            if not d:
                break
            hin.update(d)
            nin += len(d)
            info.sample()
    info.sample()
    s.close()
    print(json.dumps({"bytes_out": nout, "bytes_in": nin, "sha256_out": hout.hexdigest(), "sha256_in": hin.hexdigest(), **info.json()}), flush=True)

if __name__ == "__main__":
    try:
        main()
    except BaseException as e:
        print(json.dumps({"error": repr(e)}), flush=True)
        sys.exit(1)
