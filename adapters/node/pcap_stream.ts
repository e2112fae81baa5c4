// A pcap file written while the driver runs (the --pcap option of every real-time adapter):
// classic pcap, LINKTYPE_RAW, one record per IP packet the stack sent or received, with
// wall-clock microsecond timestamps. For UDP paths the records are the IP/TCP packets as the
// stack sees them (before TCP-in-UDP encapsulation), so tshark decodes TCP and MPTCP options.
// Buffered; node:fs also works under Deno.
import { closeSync, openSync, writeSync } from "node:fs";
import { pcapGlobalHeader, pcapRecord } from "../../core/pcap/writer.ts";
import type { PacketTap } from "../driver.ts";

export class PcapFileTap implements PacketTap {
  private readonly fd: number;
  private chunks: Uint8Array[] = [];
  private size = 0;
  private closed = false;
  packets = 0;

  constructor(
    readonly path: string,
    private readonly snapLen: number = 65535,
  ) {
    this.fd = openSync(path, "w");
    writeSync(this.fd, pcapGlobalHeader(101, snapLen));
  }

  record(wallUs: number, packet: Uint8Array): void {
    if (this.closed) return;
    const r = pcapRecord(wallUs, packet, this.snapLen);
    this.chunks.push(r);
    this.size += r.length;
    this.packets++;
    if (this.size >= 1 << 18) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    const all = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    let w = 0;
    while (w < all.length) w += writeSync(this.fd, all, w, all.length - w);
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}
