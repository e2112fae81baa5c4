// An MPTCP echo server over UDP (TCP-in-UDP), with the streams API. Each argument is a local
// address (with the port on the first: every path listens on it); --once: serve one connection.
//   node --import tsx examples/udp-echo-server.ts 127.0.0.1:7000 127.0.0.2 [--once]
//   deno run -A --unstable-net examples/udp-echo-server.ts 127.0.0.1:7000
// A client: node bin/mptcp.mjs client --udp 127.0.0.1 --udp 127.0.0.2 --connect 127.0.0.1:7000 --send 4M --json
import process from "node:process";
import { listen, parseHostPort } from "../adapters/streams/index.ts";

const args = process.argv.slice(2);
const once = args.includes("--once");
const addrs = args.filter((a) => !a.startsWith("--"));
if (addrs.length === 0) addrs.push("127.0.0.1:7000");
const port = parseHostPort(addrs[0]!, "address").port ?? 7000;
const udp = addrs.map((a) => parseHostPort(a, "address").host);

const server = await listen({ transport: { udp }, port });
console.log(`echo server listening on ${server.addresses.join(", ")}`);
for await (const conn of server) {
  console.log(`${conn.remoteAddress}: connected (${conn.mptcp ? "MPTCP" : "TCP fallback"})`);
  conn.on("subflowEstablished", (e) => console.log(`${conn.remoteAddress}: subflow ${e.subflow} up`));
  const done = conn.readable
    .pipeTo(conn.writable) // echo, with backpressure both ways; closes at the peer's DATA_FIN
    .then(() => conn.closed)
    .then((c) => console.log(`${conn.remoteAddress}: closed (${c.reason}), ${conn.info().bytesRead} bytes echoed`))
    .catch((e: unknown) => console.log(`${conn.remoteAddress}: ${String(e)}`));
  if (once) {
    await done;
    break;
  }
}
await server.close();
