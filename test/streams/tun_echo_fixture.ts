// Child process of streams_tun.test.ts, run inside the test's network namespace (the TUN devices
// live there): listen() over TUN with the streams API, echo one connection, print one JSON line.
//   tun_echo_fixture.ts PORT DEV=ADDR [DEV=ADDR ...]
import process from "node:process";
import { listen } from "../../adapters/streams/index.ts";

const [port, ...devs] = process.argv.slice(2);
const tun = devs.map((d) => ({ device: d.split("=")[0]!, address: d.split("=")[1]! }));
const server = await listen({ transport: { tun }, port: Number(port) });
console.log(`READY ${server.addresses.join(" ")}`);
const conn = await server.accept();
if (!conn) process.exit(1);
const events: string[] = [];
conn.on("*", (e) => events.push(e.type));
await conn.readable.pipeTo(conn.writable).catch(() => {});
const end = await conn.closed;
const info = conn.info();
await server.close();
console.log(JSON.stringify({ reason: end.reason, mptcp: info.mptcp, bytesRead: info.bytesRead, bytesWritten: info.bytesWritten, subflows: info.subflows.map((s) => ({ local: s.localAddress, remote: s.remoteAddress, bytesReceived: s.bytesReceived })), events: [...conn.history.map((e) => e.type)] }));
