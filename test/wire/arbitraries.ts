// The wire arbitraries live in adapters/testing/wire.ts (published as `mptcp/testing`); the
// wire tests import them from here.
export * from "../../adapters/testing/wire.ts";
