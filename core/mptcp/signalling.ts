// Address signalling of one MPTCP connection (RFC 8684 section 3.4): ADD_ADDR with its HMAC,
// echo and retransmission (Linux: add_addr_timeout, 3 retransmissions), REMOVE_ADDR, and the
// addresses the peer announced (at most MAX_REMOTE_ADDRS remembered). Holds state and builds
// options; the connection decides which segment carries them and counts events.
import { addAddrHmac, verifyAddAddrHmac } from "../crypto/hmac.ts";
import { ipEquals } from "../wire/ip.ts";
import type { AddAddr, IpAddress, MptcpOption } from "../wire/types.ts";

/** Addresses announced by the peer that we keep (Linux keeps one list per connection, capped). */
export const MAX_REMOTE_ADDRS = 8;

interface Announce {
  id: number;
  address: IpAddress;
  port: number | undefined;
  echoed: boolean;
  /** Transmissions so far. */
  sent: number;
  nextAt: number;
  /** Its time came: goes on the next segment with room. */
  due: boolean;
}

/** An address the peer announced. */
export interface RemoteAddr {
  id: number;
  address: IpAddress;
  port: number;
}

/** Outcome of an incoming ADD_ADDR (not an echo). */
export type AddAddrOutcome = "bad-hmac" | "repeat" | "limit" | RemoteAddr;

export class AddressSignalling {
  private readonly announces: Announce[] = [];
  private readonly removes: number[] = [];
  private readonly echoes: Array<{ id: number; address: IpAddress; port: number | undefined }> = [];
  readonly remote: RemoteAddr[] = [];

  constructor(
    private readonly retries: number,
    private readonly timeoutUs: number,
  ) {}

  /** Queues an ADD_ADDR (replacing an earlier one with the same id). */
  announce(now: number, id: number, address: IpAddress, port: number | undefined): void {
    this.forget(id);
    this.announces.push({ id, address, port, echoed: false, sent: 0, nextAt: now, due: true });
  }

  /** Stops announcing `id`; true if it was announced. */
  forget(id: number): boolean {
    const i = this.announces.findIndex((a) => a.id === id);
    if (i < 0) return false;
    this.announces.splice(i, 1);
    return true;
  }

  /** Queues a REMOVE_ADDR for `id`. */
  remove(id: number): void {
    this.removes.push(id);
  }

  clear(): void {
    this.announces.length = 0;
    this.removes.length = 0;
    this.echoes.length = 0;
  }

  /**
   * One announcement at a time, as Linux's in-kernel path manager (the next address is signalled
   * once the previous one was echoed or given up): a new one waits while another is outstanding.
   */
  private waiting(a: Announce): boolean {
    return a.sent === 0 && this.announces.some((b) => b !== a && b.sent > 0 && !b.echoed && b.sent <= this.retries);
  }

  /** Earliest retransmission time (Infinity when none). */
  nextTimeout(): number {
    let m = Infinity;
    for (const a of this.announces) if (!a.echoed && a.sent <= this.retries && !this.waiting(a)) m = Math.min(m, a.nextAt);
    return m;
  }

  /** Marks announcements whose time came; true when a segment should be sent for them. */
  fire(now: number): boolean {
    let any = false;
    for (const a of this.announces) {
      if (a.echoed || now < a.nextAt || a.sent > this.retries || this.waiting(a)) continue;
      a.due = true;
      a.nextAt = now + 100_000; // tried again if no segment had room for it
      any = true;
    }
    return any;
  }

  /** The peer echoed one of our ADD_ADDR; true if this is the first echo. */
  onEcho(id: number, address: IpAddress): boolean {
    const a = this.announces.find((x) => x.id === id && ipEquals(x.address, address));
    if (!a || a.echoed) return false;
    a.echoed = true;
    return true;
  }

  /** An ADD_ADDR from the peer (keys from the peer's point of view: it sent, we receive). */
  onAnnounce(peerKey: bigint, localKey: bigint, o: AddAddr, defaultPort: number): AddAddrOutcome {
    if (!o.hmac || !verifyAddAddrHmac(peerKey, localKey, o.addressId, o.address, o.port, o.hmac)) return "bad-hmac";
    this.echoes.push({ id: o.addressId, address: o.address, port: o.port });
    if (this.remote.some((a) => a.id === o.addressId)) return "repeat";
    if (this.remote.length >= MAX_REMOTE_ADDRS) return "limit";
    const ra: RemoteAddr = { id: o.addressId, address: o.address, port: o.port ?? defaultPort };
    this.remote.push(ra);
    return ra;
  }

  /** The peer withdrew `id`. */
  onRemove(id: number): void {
    const i = this.remote.findIndex((a) => a.id === id);
    if (i >= 0) this.remote.splice(i, 1);
  }

  /**
   * Adds the options pending for a pure ACK: echoes, REMOVE_ADDR, due ADD_ADDR. `room` adds an
   * option if it fits; `replace` may drop the other suboptions to make room for an ADD_ADDR
   * (Linux does so on a pure ACK). Returns counts for the connection's counters.
   */
  fillPureAck(
    now: number,
    localKey: bigint,
    peerKey: bigint,
    room: (o: MptcpOption) => boolean,
    replace: (o: MptcpOption) => boolean,
    rtoUs?: () => number,
  ): { echoes: number; removes: number; announces: number } {
    const n = { echoes: 0, removes: 0, announces: 0 };
    const e = this.echoes[0];
    if (e && room({ type: "add_addr", echo: true, addressId: e.id, address: e.address, ...(e.port !== undefined ? { port: e.port } : {}) })) {
      this.echoes.shift();
      n.echoes++;
    }
    if (this.removes.length > 0 && room({ type: "remove_addr", addressIds: this.removes.slice(0, 8) })) {
      n.removes += Math.min(8, this.removes.length);
      this.removes.splice(0, 8);
    }
    for (const a of this.announces) {
      if (a.echoed || (!a.due && a.nextAt > now) || a.sent > this.retries || this.waiting(a)) continue;
      const o: MptcpOption = { type: "add_addr", echo: false, addressId: a.id, address: a.address, hmac: addAddrHmac(localKey, peerKey, a.id, a.address, a.port) };
      if (a.port !== undefined) o.port = a.port;
      if (!room(o) && !replace(o)) break;
      a.sent++;
      a.due = false;
      // Linux 6.18 (mptcp_pm_add_timer): the largest subflow RTO, at most add_addr_timeout,
      // doubled after each retransmission.
      const rto = rtoUs?.() ?? 0;
      a.nextAt = now + (rto > 0 && rto < this.timeoutUs ? rto : this.timeoutUs) * 2 ** (a.sent - 1);
      n.announces++;
    }
    return n;
  }
}
