// Allocation-free peeks into raw IP packets, for forwarding, ECMP hashing and NAT inside the
// simulated network. Full parsing (options, MPTCP) lives in core/wire; this is only what a
// router looks at. Every function tolerates garbage and returns -1 / undefined on it.

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** 4 or 6, or 0 when the packet is neither. */
export function ipVersion(p: Uint8Array): 0 | 4 | 6 {
  if (p.length >= 20 && p[0]! >> 4 === 4) return 4;
  if (p.length >= 40 && p[0]! >> 4 === 6) return 6;
  return 0;
}

/** The source address bytes (a view into the packet), or undefined. */
export function ipSrc(p: Uint8Array): Uint8Array | undefined {
  const v = ipVersion(p);
  if (v === 4) return p.subarray(12, 16);
  if (v === 6) return p.subarray(8, 24);
  return undefined;
}

/** The destination address bytes (a view into the packet), or undefined. */
export function ipDst(p: Uint8Array): Uint8Array | undefined {
  const v = ipVersion(p);
  if (v === 4) return p.subarray(16, 20);
  if (v === 6) return p.subarray(24, 40);
  return undefined;
}

/**
 * The transport protocol and the offset of the transport header, skipping IPv6 hop-by-hop,
 * routing and destination-options headers. Undefined for fragments or garbage.
 */
export function transport(p: Uint8Array): { proto: number; offset: number } | undefined {
  const v = ipVersion(p);
  if (v === 4) {
    const ihl = (p[0]! & 0x0f) * 4;
    if (ihl < 20 || ihl > p.length) return undefined;
    // Later fragments carry no transport header.
    if ((((p[6]! & 0x1f) << 8) | p[7]!) !== 0) return undefined;
    return { proto: p[9]!, offset: ihl };
  }
  if (v === 6) {
    let next = p[6]!;
    let off = 40;
    while (next === 0 || next === 43 || next === 60) {
      if (off + 8 > p.length) return undefined;
      next = p[off]!;
      off += (p[off + 1]! + 1) * 8;
    }
    if (next === 44 || off > p.length) return undefined;
    return { proto: next, offset: off };
  }
  return undefined;
}

/** Source and destination ports of a TCP or UDP packet, or undefined. */
export function ports(p: Uint8Array): { src: number; dst: number; offset: number; proto: number } | undefined {
  const t = transport(p);
  if (!t || (t.proto !== IPPROTO_TCP && t.proto !== IPPROTO_UDP) || t.offset + 4 > p.length) return undefined;
  return {
    src: (p[t.offset]! << 8) | p[t.offset + 1]!,
    dst: (p[t.offset + 2]! << 8) | p[t.offset + 3]!,
    offset: t.offset,
    proto: t.proto,
  };
}

/** True when `addr` lies inside prefix/len (same IP version required). */
export function inPrefix(addr: Uint8Array, prefix: Uint8Array, len: number): boolean {
  if (addr.length !== prefix.length) return false;
  let bits = len;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

/** Parses "198.18.0.1" or a full / "::"-compressed IPv6 address; throws on bad syntax. */
export function parseAddress(text: string): Uint8Array {
  if (text.includes(".") && !text.includes(":")) {
    const parts = text.split(".");
    if (parts.length !== 4) throw new Error(`bad IPv4 address ${text}`);
    return Uint8Array.from(parts.map((s) => {
      const n = Number(s);
      if (!/^\d{1,3}$/.test(s) || n > 255) throw new Error(`bad IPv4 address ${text}`);
      return n;
    }));
  }
  const halves = text.split("::");
  if (halves.length > 2) throw new Error(`bad IPv6 address ${text}`);
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(0, fill)).fill("0"), ...tail];
  if (groups.length !== 8 || (halves.length === 2 && fill < 1)) throw new Error(`bad IPv6 address ${text}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`bad IPv6 address ${text}`);
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

/** "a.b.c.d" or full-form lowercase IPv6 (no compression), for logs and test messages. */
export function formatAddress(a: Uint8Array): string {
  if (a.length === 4) return Array.from(a).join(".");
  const g: string[] = [];
  for (let i = 0; i < a.length; i += 2) g.push(((a[i]! << 8) | a[i + 1]!).toString(16));
  return g.join(":");
}

/** The 16-bit one's complement sum of bytes (no final complement), folded. */
export function onesSum(p: Uint8Array, start: number, end: number, initial: number = 0): number {
  let s = initial;
  let i = start;
  for (; i + 1 < end; i += 2) s += (p[i]! << 8) | p[i + 1]!;
  if (i < end) s += p[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Recomputes the IPv4 header checksum in place (no-op for IPv6). */
export function fixIpv4HeaderChecksum(p: Uint8Array): void {
  if (ipVersion(p) !== 4) return;
  const ihl = (p[0]! & 0x0f) * 4;
  p[10] = 0;
  p[11] = 0;
  const c = ~onesSum(p, 0, ihl) & 0xffff;
  p[10] = c >> 8;
  p[11] = c & 0xff;
}

/**
 * Recomputes the TCP or UDP checksum of a packet in place over the IPv4 / IPv6 pseudo-header.
 * Returns false (packet untouched) when it is not TCP/UDP or is truncated.
 */
export function fixTransportChecksum(p: Uint8Array): boolean {
  const v = ipVersion(p);
  const t = transport(p);
  if (!t || (t.proto !== IPPROTO_TCP && t.proto !== IPPROTO_UDP)) return false;
  const end = v === 4 ? Math.min(p.length, (p[2]! << 8) | p[3]!) : Math.min(p.length, 40 + ((p[4]! << 8) | p[5]!));
  const len = end - t.offset;
  const ck = t.offset + (t.proto === IPPROTO_TCP ? 16 : 6);
  if (len < (t.proto === IPPROTO_TCP ? 20 : 8)) return false;
  p[ck] = 0;
  p[ck + 1] = 0;
  let s = v === 4 ? onesSum(p, 12, 20) : onesSum(p, 8, 40);
  s = onesSum(new Uint8Array([0, t.proto, len >> 8, len & 0xff]), 0, 4, s);
  if (v === 6 && len > 0xffff) s = onesSum(new Uint8Array([len >>> 24, (len >>> 16) & 0xff]), 0, 2, s);
  s = onesSum(p, t.offset, end, s);
  let c = ~s & 0xffff;
  if (c === 0 && t.proto === IPPROTO_UDP) c = 0xffff;
  p[ck] = c >> 8;
  p[ck + 1] = c & 0xff;
  return true;
}
