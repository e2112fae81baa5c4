// Configuration input (MptcpConfigInput): the Endpoint and connect() take any subset of
// MptcpConfig, and `pathManager` / `tcp` may be partial too; what is not given keeps its value.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Endpoint } from "../../core/mptcp/endpoint.ts";
import { DEFAULT_MPTCP_CONFIG, mergeMptcpConfig } from "../../core/mptcp/types.ts";
import { SeededRandomSource } from "../../core/crypto/random.ts";

const A = new Uint8Array([198, 18, 0, 1]);
const B = new Uint8Array([198, 18, 9, 9]);

describe("MptcpConfigInput", () => {
  it("the Endpoint merges a partial pathManager and tcp with the defaults", () => {
    const ep = new Endpoint({ addresses: [{ address: A }], random: new SeededRandomSource(1), config: { pathManager: { kind: "ndiffports", ndiffports: 4 }, tcp: { mss: 8948 } } });
    assert.deepEqual(ep.config.pathManager, { ...DEFAULT_MPTCP_CONFIG.pathManager, kind: "ndiffports", ndiffports: 4 });
    assert.equal(ep.config.tcp.mss, 8948);
    assert.equal(ep.config.scheduler, DEFAULT_MPTCP_CONFIG.scheduler);
    ep.dispose();
  });

  it("connect() merges a per-connection input with the endpoint's configuration, field by field", () => {
    const ep = new Endpoint({
      addresses: [{ address: A }],
      random: new SeededRandomSource(1),
      config: { congestion: "lia", pathManager: { kind: "ndiffports", ndiffports: 4 }, tcp: { mss: 8948 } },
    });
    const c = ep.connect(0, B, 443, { config: { scheduler: "redundant", pathManager: { subflows: 5 }, tcp: { sack: false } } });
    assert.equal(c.config.scheduler, "redundant");
    assert.equal(c.config.congestion, "lia");
    // Before: the per-connection pathManager and tcp replaced the endpoint's whole objects.
    assert.deepEqual(c.config.pathManager, { ...DEFAULT_MPTCP_CONFIG.pathManager, kind: "ndiffports", ndiffports: 4, subflows: 5 });
    assert.equal(c.config.tcp.mss, 8948);
    assert.equal(c.config.tcp.sack, false);
    // Another connection without input gets the endpoint's configuration as it is.
    assert.equal(ep.connect(0, B, 444).config, ep.config);
    ep.dispose();
  });

  it("mergeMptcpConfig leaves its inputs alone and returns frozen objects", () => {
    const input = { pathManager: { subflows: 3 } };
    const out = mergeMptcpConfig(DEFAULT_MPTCP_CONFIG, input);
    assert.equal(out.pathManager.subflows, 3);
    assert.equal(DEFAULT_MPTCP_CONFIG.pathManager.subflows, 2);
    assert.deepEqual(input, { pathManager: { subflows: 3 } });
    assert.ok(Object.isFrozen(out) && Object.isFrozen(out.pathManager) && Object.isFrozen(out.tcp));
    assert.equal(mergeMptcpConfig(DEFAULT_MPTCP_CONFIG, undefined), DEFAULT_MPTCP_CONFIG);
  });
});
