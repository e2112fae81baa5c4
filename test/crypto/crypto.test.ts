// MPTCP crypto against every vector of PROTOCOL.md: the kernel's HMAC-SHA256 unit-test vectors,
// token/IDSN, MP_JOIN SYN/ACK and ACK HMACs, ADD_ADDR HMACs (with and without port).
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyBytes, keyMaterial, keyToIdsn, keyToToken } from "../../core/crypto/keys.ts";
import {
  addAddrHmac,
  constantTimeEqual,
  hmacSha256,
  joinAckHmac,
  joinSynAckHmac,
  verifyAddAddrHmac,
  verifyJoinAckHmac,
  verifyJoinSynAckHmac,
} from "../../core/crypto/hmac.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test("HMAC-SHA256 vectors of the Linux kernel's MPTCP crypto test", () => {
  const vectors: [string, string, string][] = [
    ["0b0b0b0b0b0b0b0b", "48692054", "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"],
    ["aaaaaaaaaaaaaaaa", "dddddddd", "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"],
    ["0102030405060708", "cdcdcdcd", "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"],
  ];
  for (const [key, msg, mac] of vectors) assert.equal(hex(hmacSha256(ascii(key), ascii(msg))), mac, `${key}/${msg}`);
});

test("token and IDSN of key 0x0102030405060708", () => {
  const key = 0x0102030405060708n;
  assert.equal(keyToToken(key), 0x66840dda);
  assert.equal(keyToIdsn(key), 0xf5a101d3d29d6f72n);
  assert.deepEqual(keyMaterial(key), { token: 0x66840dda, idsn: 0xf5a101d3d29d6f72n });
  assert.equal(hex(keyBytes(key)), "0102030405060708");
  assert.equal(hex(keyBytes(0xffffffffffffffffn)), "ffffffffffffffff");
  assert.throws(() => keyBytes(1n << 64n), { name: "InvalidArgumentError" });
  assert.throws(() => keyBytes(-1n), { name: "InvalidArgumentError" });
});

const keyA = 0x0102030405060708n;
const keyB = 0x1112131415161718n;
const nonceA = 0xaabbccdd;
const nonceB = 0x11223344;

test("MP_JOIN HMACs: SYN/ACK (first 64 bits) and third ACK (first 160 bits)", () => {
  const synAck = joinSynAckHmac(keyA, keyB, nonceA, nonceB);
  assert.equal(hex(synAck), "72bea43c69c0c206");
  const ack = joinAckHmac(keyA, keyB, nonceA, nonceB);
  assert.equal(hex(ack), "c2986b9ffe33dedc10955fc5c9c31544e3ac05c0");
  assert.equal(verifyJoinSynAckHmac(keyA, keyB, nonceA, nonceB, synAck), true);
  assert.equal(verifyJoinAckHmac(keyA, keyB, nonceA, nonceB, ack), true);
  // Roles matter: swapping A and B is a different HMAC.
  assert.equal(verifyJoinSynAckHmac(keyB, keyA, nonceB, nonceA, synAck), false);
  const bad = ack.slice();
  bad[19]! ^= 1;
  assert.equal(verifyJoinAckHmac(keyA, keyB, nonceA, nonceB, bad), false);
  assert.equal(verifyJoinAckHmac(keyA, keyB, nonceA, nonceB, ack.subarray(0, 19)), false, "wrong length");
  assert.throws(() => joinAckHmac(keyA, keyB, -1, nonceB), { name: "InvalidArgumentError" });
});

test("ADD_ADDR HMAC (last 64 bits): id 5, 198.18.1.2, without and with port 8080", () => {
  const addr = new Uint8Array([198, 18, 1, 2]);
  assert.equal(hex(addAddrHmac(keyA, keyB, 5, addr)), "96572ac73ce58926");
  assert.equal(hex(addAddrHmac(keyA, keyB, 5, addr, 0)), "96572ac73ce58926", "port 0 = absent");
  assert.equal(hex(addAddrHmac(keyA, keyB, 5, addr, 8080)), "c223407aa4d84b7e");
  assert.equal(verifyAddAddrHmac(keyA, keyB, 5, addr, 8080, addAddrHmac(keyA, keyB, 5, addr, 8080)), true);
  assert.equal(verifyAddAddrHmac(keyB, keyA, 5, addr, 8080, addAddrHmac(keyA, keyB, 5, addr, 8080)), false, "direction matters");
  assert.equal(verifyAddAddrHmac(keyA, keyB, 6, addr, 8080, addAddrHmac(keyA, keyB, 5, addr, 8080)), false);
  assert.equal(verifyAddAddrHmac(keyA, keyB, 5, new Uint8Array(3), 8080, new Uint8Array(8)), false, "bad address");
  // IPv6: the message is id | 16 address bytes | port; check the structure against a direct HMAC.
  const v6 = new Uint8Array(16).map((_, i) => i * 17);
  const msg = new Uint8Array([9, ...v6, 0x1f, 0x90]);
  const key = new Uint8Array([...keyBytes(keyA), ...keyBytes(keyB)]);
  assert.equal(hex(addAddrHmac(keyA, keyB, 9, v6, 8080)), hex(hmacSha256(key, msg).slice(24)));
});

test("constantTimeEqual", () => {
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 2])), false);
});
