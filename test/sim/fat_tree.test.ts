// The k-ary fat tree of the datacenter experiment (test/sim/exp_helpers.ts fatTree) and its
// helpers: the number of ECMP paths between two hosts at every distance, and the max-min
// fair rates used as TCP's reference in experiment 7.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { derangement, fatTree, maxMinRates, probePacket, tracePath } from "./exp_helpers.ts";

describe("fat tree (k=4) with ECMP", () => {
  const ft = fatTree({ k: 4, seed: 3, link: {} });
  const paths = (s: number, d: number): Set<string> => {
    const seen = new Set<string>();
    for (let port = 40000; port < 40200; port++) seen.add(tracePath(ft.links, ft.hosts[s]!, probePacket(ft.addrs[s]!, ft.addrs[d]!, port, 5001)).join(" "));
    return seen;
  };

  it("has 16 hosts, 20 switches, 48 links", () => {
    assert.equal(ft.hosts.length, 16);
    assert.equal(ft.switches.size, 20);
    assert.equal(ft.links.length, 48);
  });

  it("two hosts on one edge switch: 1 path of 2 links", () => {
    const p = [...paths(0, 1)];
    assert.deepEqual(p, ["h0.ab h1.ba"]);
  });

  it("two hosts of one pod on different edges: 2 paths of 4 links (one per aggregation switch)", () => {
    const p = [...paths(0, 3)];
    assert.equal(p.length, 2);
    for (const x of p) assert.equal(x.split(" ").length, 4);
  });

  it("two hosts in different pods: 4 paths of 6 links (one per core switch), each taken by about a quarter of the source ports", () => {
    const count = new Map<string, number>();
    for (let port = 40000; port < 42000; port++) {
      const core = tracePath(ft.links, ft.hosts[0]!, probePacket(ft.addrs[0]!, ft.addrs[13]!, port, 5001)).find((l) => /^p0a\dc\d\.ab$/.test(l))!;
      count.set(core, (count.get(core) ?? 0) + 1);
    }
    assert.equal(count.size, 4);
    for (const n of count.values()) assert.ok(n > 400 && n < 600, `${[...count.values()]}`);
    for (const x of paths(0, 13)) assert.equal(x.split(" ").length, 6);
  });

  it("the return path reaches the sender", () => {
    const p = tracePath(ft.links, ft.hosts[13]!, probePacket(ft.addrs[13]!, ft.addrs[0]!, 5001, 40000));
    assert.equal(p[0], "h13.ab");
    assert.equal(p.at(-1), "h0.ba");
  });

  it("k=8 has 128 hosts and 16 paths between pods", () => {
    const big = fatTree({ k: 8, seed: 1, link: {} });
    assert.equal(big.hosts.length, 128);
    const seen = new Set<string>();
    for (let port = 40000; port < 41000; port++) seen.add(tracePath(big.links, big.hosts[0]!, probePacket(big.addrs[0]!, big.addrs[127]!, port, 5001)).join(" "));
    assert.equal(seen.size, 16);
  });
});

describe("permutation and max-min helpers", () => {
  it("derangement: a permutation without fixed points, reproducible from its seed", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const p = derangement(16, seed);
      assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i));
      assert.ok(p.every((v, i) => v !== i));
      assert.deepEqual(derangement(16, seed), p);
    }
  });

  it("maxMinRates: progressive filling", () => {
    // Two flows share link x; a third shares y with the second: 1/2, 1/2, 1/2 + (y left) = 1/2.
    assert.deepEqual(maxMinRates([["x"], ["x", "y"], ["y"]]), [0.5, 0.5, 0.5]);
    // Three on x, one of them also on y with a fourth: the fourth gets what x leaves on y.
    const r = maxMinRates([["x"], ["x"], ["x", "y"], ["y"]]);
    assert.deepEqual(r.map((v) => Math.round(v * 1000) / 1000), [0.333, 0.333, 0.333, 0.667]);
    assert.deepEqual(maxMinRates([["a"], ["b"]]), [1, 1]);
  });
});
