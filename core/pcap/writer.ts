// A pcap (libpcap classic format) writer: global header, then one record per packet with a
// microsecond timestamp. Pure: it accumulates bytes in memory and hands them out; writing a
// file is the adapter's job. Default link type LINKTYPE_RAW (101): each record is a raw IPv4
// or IPv6 packet, the version told by its first nibble, exactly what a TUN device carries.

/** LINKTYPE_RAW: raw IPv4 / IPv6 packets, no link-layer header. */
export const LINKTYPE_RAW = 101;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export interface PcapWriterOptions {
  /** Link type of every record (default LINKTYPE_RAW). */
  linkType?: number;
  /** Bytes kept per packet (longer packets are truncated; original length recorded). */
  snapLen?: number;
}

/** The 24-byte pcap global header (little-endian, microsecond timestamps, version 2.4). */
export function pcapGlobalHeader(linkType: number = LINKTYPE_RAW, snapLen: number = 65535): Uint8Array {
  const b = new Uint8Array(GLOBAL_HEADER_LEN);
  const v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, snapLen, true);
  v.setUint32(20, linkType, true);
  return b;
}

/** One pcap record (16-byte header + captured bytes) for a packet seen at `timeUs`. */
export function pcapRecord(timeUs: number, packet: Uint8Array, snapLen: number = 65535): Uint8Array {
  const t = Math.max(0, Math.floor(timeUs));
  const caplen = Math.min(packet.length, snapLen);
  const b = new Uint8Array(RECORD_HEADER_LEN + caplen);
  const v = new DataView(b.buffer);
  v.setUint32(0, Math.floor(t / 1_000_000), true);
  v.setUint32(4, t % 1_000_000, true);
  v.setUint32(8, caplen, true);
  v.setUint32(12, packet.length, true);
  b.set(packet.subarray(0, caplen), RECORD_HEADER_LEN);
  return b;
}

/** Accumulates a pcap file in memory. */
export class PcapWriter {
  readonly linkType: number;
  readonly snapLen: number;
  private chunks: Uint8Array[];
  private length: number;
  private count = 0;

  constructor(options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LINKTYPE_RAW;
    this.snapLen = options.snapLen ?? 65535;
    const header = pcapGlobalHeader(this.linkType, this.snapLen);
    this.chunks = [header];
    this.length = header.length;
  }

  /** Appends one packet seen at `timeUs` (virtual microseconds). The bytes are copied. */
  write(timeUs: number, packet: Uint8Array): void {
    const rec = pcapRecord(timeUs, packet, this.snapLen);
    this.chunks.push(rec);
    this.length += rec.length;
    this.count++;
  }

  /** Number of records written. */
  get packets(): number {
    return this.count;
  }

  /** The whole file so far (global header + records), as one new array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    this.chunks = [out];
    return out.slice();
  }
}

/** One record read back from a pcap file. */
export interface PcapRecord {
  timeUs: number;
  originalLength: number;
  data: Uint8Array;
}

/**
 * Reads a classic little-endian microsecond pcap file as written by PcapWriter (for tests
 * and tools). Returns undefined when the bytes are not such a file.
 */
export function readPcap(bytes: Uint8Array): { linkType: number; snapLen: number; records: PcapRecord[] } | undefined {
  if (bytes.length < GLOBAL_HEADER_LEN) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== PCAP_MAGIC_US) return undefined;
  const snapLen = v.getUint32(16, true);
  const linkType = v.getUint32(20, true);
  const records: PcapRecord[] = [];
  let off = GLOBAL_HEADER_LEN;
  while (off < bytes.length) {
    if (off + RECORD_HEADER_LEN > bytes.length) return undefined;
    const sec = v.getUint32(off, true);
    const usec = v.getUint32(off + 4, true);
    const caplen = v.getUint32(off + 8, true);
    const orig = v.getUint32(off + 12, true);
    off += RECORD_HEADER_LEN;
    if (off + caplen > bytes.length || usec >= 1_000_000 || caplen > orig) return undefined;
    records.push({ timeUs: sec * 1_000_000 + usec, originalLength: orig, data: bytes.slice(off, off + caplen) });
    off += caplen;
  }
  return { linkType, snapLen, records };
}
