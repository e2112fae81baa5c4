// Writes pcap bytes (core/pcap/writer.ts, adapters/memory taps) to files. node:fs also works
// under Deno, so this one file serves both runtimes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PcapWriter } from "../../core/pcap/writer.ts";

/** Writes one pcap file. */
export function writePcapFile(path: string, pcap: PcapWriter | Uint8Array): void {
  writeFileSync(path, pcap instanceof Uint8Array ? pcap : pcap.bytes());
}

/** Writes `<dir>/<prefix><name>.pcap` for each writer (e.g. Simulator.captureAll()); returns the paths. */
export function writePcapFiles(dir: string, pcaps: Map<string, PcapWriter>, prefix: string = ""): string[] {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, w] of pcaps) {
    const safe = name.replace(/[^A-Za-z0-9._-]/g, "_");
    const p = join(dir, `${prefix}${safe}.pcap`);
    writePcapFile(p, w);
    paths.push(p);
  }
  return paths;
}
