// Runs ONE script against the Linux kernel, inside the network namespace the parent
// (test/script/kernel.ts) prepared; prints the result as one JSON line.
import { readFileSync } from "node:fs";
import { runScriptText } from "../../../adapters/script/index.ts";
import type { SutFactory } from "../../../adapters/script/index.ts";
import { applySysctls, KernelSut } from "./kernel_sut.ts";

const file = process.argv[2]!;
let sut: KernelSut | undefined;
const factory: SutFactory = {
  name: "Linux kernel (TUN)",
  protocols: ["tcp", "mptcp"],
  commands: ["defaults", "client", "endpoints"],
  create(setup) {
    applySysctls(setup);
    sut = new KernelSut(setup);
    return sut;
  },
};
const r = runScriptText(readFileSync(file, "utf8"), file, factory, { verbose: true, lateSlack: 0.13, extraToleranceUsecs: 20000 });
if (process.env.SCRIPT_LOG === "1") console.error(r.log.join("\n"));
sut?.dispose();
console.log(JSON.stringify({ file, status: r.status, message: r.message, log: r.status === "fail" ? r.log : [] }));
