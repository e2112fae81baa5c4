// Scripted conformance tests in packetdrill syntax: parser, packet builder and matcher,
// virtual-time executor, and the system-under-test bindings. Runtime-neutral (no file or
// clock access): the caller reads the script files (test/script/, the CLI).
export * from "./ast.ts";
export { parseScript } from "./parse.ts";
export { runScript, runScriptText, sec } from "./executor.ts";
export type { RunOptions, ScriptResult } from "./executor.ts";
export { ScriptError, ScriptWorld, patternBytes } from "./packets.ts";
export type { ScriptSubflow, WorldOptions } from "./packets.ts";
export { describePacket } from "./describe.ts";
export { addressPlus, parseShellCommand } from "./shell.ts";
export * from "./sut.ts";
export { TcpSut, tcpSutFactory } from "./tcp_sut.ts";
export { MptcpSut, mptcpSutFactory } from "./mptcp_sut.ts";
export { runScriptFiles } from "./cli.ts";
export type { ScriptFilesReport } from "./cli.ts";
