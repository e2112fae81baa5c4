// `mptcp/testing`: fast-check arbitraries and a simulator harness for property tests of your own
// embedding of the stack. fast-check (>= 4) is an optional peer dependency: install it to use
// this entry point.
//   wire.ts     TCP segments and options, every MPTCP option form, IP headers, a byte mutator
//   network.ts  link conditions (rate, delay, loss, jitter, queue) and middlebox behaviours
//   ops.ts      application operation sequences (open, join, write, read, close, announce, ...)
//   harness.ts  two hosts over N paths on the in-memory network; `runOps` plays a sequence
export * from "./wire.ts";
export * from "./network.ts";
export * from "./ops.ts";
export * from "./harness.ts";
