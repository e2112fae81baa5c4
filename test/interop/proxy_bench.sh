#!/usr/bin/env bash
# Throughput of the `mptcp proxy` pair over TUN (the topology of test/interop/proxy.test.ts,
# without its rate limits): plain TCP client -> proxy A (two TUN paths) -> kernel forwarding ->
# proxy B (two TUN paths) -> plain TCP echo server, all in one namespace this script creates and
# deletes (trap). Root and /dev/net/tun needed. Bounded: --timeout on every process.
#   test/interop/proxy_bench.sh [BYTES=67108864] [RUNTIME=node|deno] [CONNS=1]
set -euo pipefail
BYTES=${1:-67108864}
RUNTIME=${2:-node}
CONNS=${3:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NS=h3-proxy-bench-$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
if [ "$RUNTIME" = deno ]; then MPTCP=("$ROOT/node_modules/.bin/deno" run -A "$ROOT/bin/mptcp.mjs"); else MPTCP=(node "$ROOT/bin/mptcp.mjs"); fi
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
i=0
for d in h3a0 h3a1 h3b0 h3b1; do
  ip netns exec "$NS" ip tuntap add dev $d mode tun
  ip -n "$NS" addr add 198.18.$i.1/24 dev $d
  ip -n "$NS" link set $d up
  i=$((i + 1))
done
ip netns exec "$NS" python3 "$ROOT/test/interop/proxy_peers.py" server --addr 127.0.0.1 --port 9000 --timeout 120 > /dev/null &
PIDS+=($!)
ip netns exec "$NS" "${MPTCP[@]}" proxy --tun h3b0=198.18.2.2 --tun h3b1=198.18.3.2 --announce 198.18.3.2 --port 5000 --to 127.0.0.1:9000 --timeout 120 2> /dev/null &
PIDS+=($!)
ip netns exec "$NS" "${MPTCP[@]}" proxy --tun h3a0=198.18.0.2 --tun h3a1=198.18.1.2 --listen-tcp 127.0.0.1:8000 --connect 198.18.2.2:5000 --timeout 120 2> /dev/null &
PIDS+=($!)
for _ in $(seq 100); do
  ip netns exec "$NS" ss -ltnH 'sport = :8000' | grep -q . && break
  sleep 0.1
done
sleep 1
ip netns exec "$NS" python3 "$ROOT/test/interop/proxy_peers.py" client --addr 127.0.0.1 --port 8000 --bytes "$BYTES" --conns "$CONNS" --timeout 100 |
  python3 -c '
import json, sys
r = json.load(sys.stdin)
cs, secs = r["conns"], r["seconds"]
ok = all(c.get("error") is None and c["sha256_in"] == c["sha256_out"] for c in cs)
total = sum(c.get("bytes_in", 0) for c in cs)
print("%d connection(s), %d B echoed, byte-exact: %s, %s s, %.0f Mbit/s each way" % (len(cs), total, ok, secs, total * 8 / secs / 1e6))
'
for d in h3a0 h3a1 h3b0 h3b1; do
  ip -n "$NS" -s -j link show dev $d | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['stats64']; print('$d', 'from proxy', s['rx']['bytes'], 'B, to proxy', s['tx']['bytes'], 'B')"
done
