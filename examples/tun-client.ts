// An MPTCP client over Linux TUN devices with the streams API: sends N bytes to an echo server
// (e.g. the kernel's MPTCP: test/interop/echo_server.py --mptcp), reads them back, prints one
// JSON line and exits 0 when every byte came back intact. The TUN devices must exist, with the
// kernel's address on them (README: "Talking to the Linux kernel yourself"); path 1 onwards join.
//   node --import tsx examples/tun-client.ts --tun tun0=198.18.0.2 --tun tun1=198.18.1.2 --connect 198.18.0.1:5000 --send 4194304
//   deno run -A examples/tun-client.ts ...
import process from "node:process";
import { createHash } from "node:crypto";
import { connect } from "../adapters/streams/index.ts";

const argv = process.argv.slice(2);
const opt = (name: string): string[] => argv.flatMap((a, i) => (a === name && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const tun = opt("--tun").map((s) => ({ device: s.split("=")[0]!, address: s.split("=")[1] ?? "" }));
const remote = opt("--connect")[0];
const total = Number(opt("--send")[0] ?? 1 << 20);
if (tun.length === 0 || !remote || !Number.isInteger(total)) {
  console.error("usage: tun-client.ts --tun DEV=OUR_ADDR [--tun ...] --connect HOST:PORT [--send BYTES]");
  process.exit(2);
}

const t0 = performance.now();
const conn = await connect({ transport: { tun }, remote, signal: AbortSignal.timeout(10_000) });
const giveUp = setTimeout(() => conn.abort(), 60_000); // a bound on the whole transfer
conn.on("subflowEstablished", (e) => console.error(`subflow ${e.subflow} established`));
const sent = createHash("sha256");
const received = createHash("sha256");
// Writer: a deterministic byte pattern in 64 KiB chunks, then DATA_FIN. write() resolves when the
// chunk is in the connection's send buffer, so at most a few chunks are ever in memory.
const writing = (async () => {
  const w = conn.writable.getWriter();
  for (let off = 0; off < total; off += 65536) {
    const chunk = new Uint8Array(Math.min(65536, total - off));
    for (let i = 0; i < chunk.length; i++) chunk[i] = ((off + i) * 31 + ((off + i) >>> 16)) & 255;
    sent.update(chunk);
    await w.write(chunk);
  }
  await w.close();
})();
writing.catch(() => {}); // awaited below; a reset is reported once, by the read loop
let bytesReceived = 0;
let error: string | undefined;
try {
  for await (const chunk of conn.readable) {
    received.update(chunk);
    bytesReceived += chunk.length;
  }
  await writing;
} catch (e) {
  error = String(e);
}
const end = await conn.closed;
clearTimeout(giveUp);
const sha256Sent = sent.digest("hex");
const sha256Received = received.digest("hex");
const info = conn.info();
const ok = !error && end.reason === "normal" && bytesReceived === total && sha256Sent === sha256Received;
const subflows = info.subflows.map((s) => ({ local: s.localAddress, remote: s.remoteAddress, bytesReceived: s.bytesReceived, rttMs: s.srttUs / 1000 }));
console.log(JSON.stringify({ ok, mptcp: info.mptcp, bytesSent: total, bytesReceived, sha256Sent, sha256Received, seconds: (performance.now() - t0) / 1000, subflows, error }));
process.exit(ok ? 0 : 1);
