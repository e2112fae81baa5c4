// Data-level zero window (RFC 8684 section 3.3.4; Linux keeps probing a closed window): a
// receiver stops reading until its connection-level window is zero, then reads again; the
// window update it sends is lost; the sender's probes of the closed window bring the update
// again and the transfer completes, byte-exact.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FunctionBox } from "../../adapters/memory/middleboxes.ts";
import type { MptcpConnection } from "../../core/mptcp/connection.ts";
import { PORT, clientAddr, scenario, sourceBytes } from "./helpers.ts";
import type { LinkSpec } from "../../adapters/memory/simulator.ts";
import { finishTcp, put16, tcpChecksumOk, tcpInfo } from "../../adapters/memory/tcpbytes.ts";

interface Run {
  got: number;
  bad: number;
  dropped: number;
  doneUs: number;
  finished: boolean;
  client: MptcpConnection | undefined;
}

interface Upload {
  got: number;
  bad: number;
  cc: MptcpConnection | undefined;
  srv: MptcpConnection | undefined;
  /** Every byte received (and checked) and the client's DATA_FIN in. */
  done(): boolean;
}

/**
 * The client connects at 0, uploads `total` bytes and shuts down; the server reads nothing
 * before `resumeUs`, then everything it holds at each wake-up, or with `burstUs` one read of at
 * most 64 KiB per `burstUs` (some data waits in the buffer). Every byte read is checked.
 */
function upload(sc: ReturnType<typeof scenario>, total: number, resumeUs: number, burstUs?: number): Upload {
  const data = sourceBytes(total);
  const u: Upload = { got: 0, bad: -1, cc: undefined, srv: undefined, done: () => u.got === total && !!u.srv?.peerClosed };
  let off = 0;
  let nextRead = 0;
  const buf = new Uint8Array(65536);
  const take = (srv: MptcpConnection, now: number): number => {
    const n = srv.read(now, buf);
    for (let i = 0; i < n && u.bad < 0; i++) if (buf[i] !== data[u.got + i]) u.bad = u.got + i;
    u.got += n;
    return n;
  };
  sc.client.app = (now) => {
    const cc = u.cc;
    if (!cc) return;
    while (cc.pollEvent() !== undefined);
    if (cc.state === "ESTABLISHED" && off < data.length) {
      off += cc.write(now, data.subarray(off));
      if (off === data.length) cc.shutdown(now);
    }
  };
  sc.server.app = (now) => {
    const srv = (u.srv ??= sc.server.endpoint.pollAccept());
    if (!srv) return;
    while (srv.pollEvent() !== undefined);
    if (now < resumeUs) return;
    if (burstUs === undefined) while (take(srv, now) > 0);
    else if (now >= nextRead) {
      nextRead = now + burstUs;
      take(srv, now);
    } else return;
    if (srv.peerClosed && srv.state === "CLOSE_WAIT") srv.shutdown(now);
  };
  sc.sim.at(0, (now) => {
    u.cc = sc.client.endpoint.connect(now, sc.serverAddress, PORT, { localAddress: clientAddr(0) });
  });
  return u;
}

/** Client uploads `total` bytes; the server reads nothing before `resumeUs`; every server-to-client packet in [resumeUs, resumeUs + dropUs) is lost. */
function run(o: { paths: LinkSpec[]; total: number; rcvBuf: number; resumeUs: number; dropUs: number; seed?: number; mptcp?: boolean }): Run {
  const sc = scenario({ paths: o.paths, seed: o.seed ?? 1, serverConfig: { receiveBufferSize: o.rcvBuf, ...(o.mptcp === false ? { mptcp: false } : {}) }, clientConfig: o.mptcp === false ? { mptcp: false } : {} });
  const u = upload(sc, o.total, o.resumeUs);
  let dropped = 0;
  // Server side of the server link is B (direction 1: B -> A).
  sc.serverLink.addMiddlebox(new FunctionBox("drop-window-update", (p, ctx) => {
    if (ctx.dir === 1 && ctx.now >= o.resumeUs && ctx.now < o.resumeUs + o.dropUs) {
      dropped++;
      return [];
    }
    return [p];
  }));
  // The server resumes reading at resumeUs (no packet arrives then: the window is closed).
  sc.sim.at(o.resumeUs, (now) => {
    sc.server.app?.(now, sc.server);
    sc.sim.poke(sc.server);
  });
  const finished = sc.sim.runUntilTrue(u.done, 120_000_000);
  return { got: u.got, bad: u.bad, dropped, doneUs: sc.sim.now, finished, client: u.cc };
}

describe("mptcp data-level zero window", () => {
  // 90 * 1448: the window closes to exactly 0; 128 KiB: 752 bytes stay open (less than an MSS).
  for (const [paths, rcvBuf] of [[1, 90 * 1448], [2, 90 * 1448], [1, 128 * 1024], [2, 128 * 1024]] as const) {
    it(`${paths} subflow(s), ${rcvBuf}-byte buffer: a lost window update after the receiver resumes reading is recovered by probing`, () => {
      const link = { rateBps: 100e6, delayUs: 5_000 };
      const r = run({ paths: Array.from({ length: paths }, () => link), total: 2 << 20, rcvBuf, resumeUs: 1_000_000, dropUs: 50_000 });
      assert.ok(r.dropped > 0, "the window update was dropped");
      assert.equal(r.bad, -1);
      assert.equal(r.got, 2 << 20, `received ${r.got}`);
      assert.ok(r.finished);
      // Probing backs off from the RTO (about 200 ms here), not the 60 s close timeout.
      assert.ok(r.doneUs < 10_000_000, `done at ${r.doneUs} µs`);
    });
  }
});

// Interop case 6b (h12 report): the join's last segment advertised a zero window, then its path
// dies; the receiver reads again and its window updates reach us on the first subflow only. The
// join, its TCP window closed and its probes unanswered, must not hold back data the first
// subflow could carry (Linux shares the connection-level window with the subflow,
// mptcp_check_allowed_size, and reinjects what the dead subflow holds).
describe("mptcp zero window on a subflow whose path then dies", () => {
  for (const downUs of [600_000, 1_000_000, 1_900_000]) {
    it(`the join's path dies at ${downUs / 1000} ms, the receiver reads again at 2 s: the transfer completes over the first subflow`, () => {
      // Path 1 (the join) is the faster one: idle subflows tie on linger time, the lower RTT wins.
      // (Autotuning keeps the advertised window below the 4 MiB buffer while nothing is read.)
      const sc = scenario({ paths: [{ rateBps: 100e6, delayUs: 10_000 }, { rateBps: 100e6, delayUs: 2_000 }], serverConfig: { receiveBufferSize: 4 << 20, receiveBufferAutotune: true } });
      const total = 4 << 20;
      const resumeUs = 2_000_000;
      const u = upload(sc, total, resumeUs);
      const cc = (): MptcpConnection | undefined => u.cc;
      // By then the window is closed on both subflows (the server has not read anything yet).
      let zeroOnJoin = false;
      sc.sim.at(downUs, () => {
        const c = cc();
        const join = c?.subflows.find((s) => !s.initial);
        // Since h15 our receiver advertises the connection's right edge on every subflow (Linux
        // msk->rcv_wnd_sent), so the join's own TCP window may stay open (relative to an older
        // DATA_ACK) while the connection-level one is closed: either closes the join.
        const connClosed = c !== undefined && c.sndWndEdge <= c.sndNxt;
        zeroOnJoin = join !== undefined && (join.tcp.stats().sndWnd === 0 || connClosed);
        sc.paths[1]!.setUp(false);
      });
      sc.sim.at(resumeUs, (now) => {
        sc.server.app?.(now, sc.server);
        sc.sim.poke(sc.server);
      });
      const finished = sc.sim.runUntilTrue(u.done, 60_000_000);
      assert.ok(zeroOnJoin, "the join's TCP send window (or the connection-level one) was zero when its path died");
      assert.equal(u.bad, -1);
      assert.equal(u.got, total, `received ${u.got} of ${total}`);
      assert.ok(finished);
      assert.ok(sc.sim.now < 20_000_000, `done at ${sc.sim.now} µs`);
    });
  }
});

// h15: a fixed 256 KiB receive buffer (no autotuning), two subflows; the receiver stops reading,
// the join's path dies, the receiver reads again. Every subflow advertises the connection's
// right edge (Linux msk->rcv_wnd_sent): none may advertise past the buffer, so our receiver
// drops nothing out of window; and data the dead join carried (or that was dropped after the
// TCP ACK) goes again on the first subflow through the data-level retransmission timer.
describe("mptcp fixed receive buffer, receiver pauses, the join's path dies", () => {
  // inflate: a middlebox doubles the window the server advertises on the join (a peer whose
  // subflow advertises past its buffer): data beyond the buffer is TCP-acked, then dropped at
  // the data level; it must go again once the join's path is dead.
  for (const [downUs, inflate] of [[600_000, false], [1_000_000, false], [1_900_000, false], [600_000, true], [1_000_000, true], [1_900_000, true]] as const) {
    it(`256 KiB buffer, the join dies at ${downUs / 1000} ms, reads resume at 2 s${inflate ? ", join's window inflated on the way" : ""}: completes${inflate ? "" : ", no out-of-window drops"}`, () => {
      const sc = scenario({ paths: [{ rateBps: 100e6, delayUs: 10_000 }, { rateBps: 100e6, delayUs: 2_000 }], serverConfig: { receiveBufferSize: 256 << 10, receiveBufferAutotune: false } });
      if (inflate) {
        sc.paths[1]!.addMiddlebox(new FunctionBox("inflate-window", (p, ctx) => {
          const info = ctx.dir === 1 ? tcpInfo(p) : undefined;
          if (info && info.window > 0 && !(info.flags & 0x02)) {
            const ok = tcpChecksumOk(p, info);
            put16(p, info.tcpOff + 14, Math.min(0xffff, info.window * 2));
            finishTcp(p, info, ok);
          }
          return [p];
        }));
      }
      const total = 4 << 20;
      const resumeUs = 2_000_000;
      // The receiver reads in bursts: every 5 ms, 64 KiB at most (some data waits in the buffer).
      const u = upload(sc, total, resumeUs, 5_000);
      sc.sim.at(downUs, () => sc.paths[1]!.setUp(false));
      for (let t = resumeUs; t < 40_000_000; t += 5_000) {
        sc.sim.at(t, (now) => {
          sc.server.app?.(now, sc.server);
          sc.sim.poke(sc.server);
        });
      }
      const finished = sc.sim.runUntilTrue(u.done, 60_000_000);
      const drops = u.srv?.drops.OutOfWindow ?? 0;
      assert.equal(u.bad, -1);
      assert.equal(u.got, total, `received ${u.got} of ${total}`);
      assert.ok(finished);
      if (inflate) assert.ok(drops > 0, "the receiver dropped data beyond its buffer");
      else assert.equal(drops, 0, `our receiver dropped ${drops} segments out of window`);
      assert.ok(sc.sim.now < 30_000_000, `done at ${sc.sim.now} µs`);
    });
  }
});
