#!/usr/bin/env python3
"""Kernel-side echo / sink / source server for the interop tests (runs inside the test's
network namespace). Plain TCP by default; --mptcp uses socket(AF_INET[6], SOCK_STREAM, 262).
Serves --count connections (default 1), one at a time, then prints one JSON line per
connection: {"bytes_in", "bytes_out", "sha256_in", "sha256_out", "mptcp"} and exits.
Bounded: every socket has a timeout (--timeout seconds, default 30)."""
import argparse, hashlib, json, os, socket, struct, sys, time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1

class Info:
    """The kernel's own view of an MPTCP socket (struct mptcp_info), sampled during the transfer."""

    def __init__(self, sock, enabled):
        self.sock, self.enabled = sock, enabled
        self.max_subflows = 0
        self.add_addr_accepted = 0
        self.csum = None
        self.ok = False

    def sample(self):
        if not self.enabled:
            return
        try:
            b = self.sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 64)
        except OSError:
            return
        if len(b) >= 43:
            self.ok = True
            self.max_subflows = max(self.max_subflows, b[0])
            self.add_addr_accepted = max(self.add_addr_accepted, b[2])
            self.csum = bool(b[42])

    def json(self):
        return {"mptcp": self.ok, "max_subflows": self.max_subflows, "add_addr_accepted": self.add_addr_accepted, "csum_enabled": self.csum}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["echo", "sink", "source"], default="echo")
    ap.add_argument("--source-bytes", type=int, default=0)
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF of the listener (0: the default)")
    ap.add_argument("--read-after", default="", help="do not read before this file exists (prints PAUSED after accept)")
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.bind((a.addr, a.port))
    s.listen(8)
    s.settimeout(a.timeout)
    print("READY", flush=True)
    for _ in range(a.count):
        c, peer = s.accept()
        c.settimeout(a.timeout)
        hin, hout = hashlib.sha256(), hashlib.sha256()
        nin = nout = 0
        info = Info(c, a.mptcp)
        info.sample()
        if a.read_after:
            # Our receive window closes while we do not read; bounded by the timeout.
            print("PAUSED", flush=True)
            until = time.monotonic() + a.timeout
            while not os.path.exists(a.read_after):
                if time.monotonic() > until:
                    raise TimeoutError(f"{a.read_after} did not appear")
                time.sleep(0.02)
            info.sample()
        if a.mode == "source":
            # Deterministic bytes: the same SplitMix-free pattern is not needed here, any bytes do.
            left = a.source_bytes
            block = bytes((i * 7 + 3) & 0xFF for i in range(65536))
            while left > 0:
                chunk = block[: min(left, len(block))]
                c.sendall(chunk)
                info.sample()
                hout.update(chunk)
                nout += len(chunk)
                left -= len(chunk)
            c.shutdown(socket.SHUT_WR)
        while True:
            d = c.recv(65536)
            if not d:
                break
            hin.update(d)
            nin += len(d)
            info.sample()
            if a.mode == "echo":
                c.sendall(d)
                hout.update(d)
                nout += len(d)
        if a.mode != "source":
            c.shutdown(socket.SHUT_WR)
        info.sample()
        c.close()
        print(json.dumps({"peer": str(peer[0]), "bytes_in": nin, "bytes_out": nout, "sha256_in": hin.hexdigest(), "sha256_out": hout.hexdigest(), **info.json()}), flush=True)
    s.close()

if __name__ == "__main__":
    try:
        main()
    except BaseException as e:  # visible in the test's failure message
        print(json.dumps({"error": repr(e)}), flush=True)
        sys.exit(1)
