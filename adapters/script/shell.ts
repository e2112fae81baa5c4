// The back-quoted shell lines of community scripts, mapped to host commands. Only the helper
// forms listed here are understood; anything else is an error with a clear message (a script
// must never pass because a set-up line was silently ignored).
//   ../common/defaults.sh                   Linux sysctls: nothing to do
//   ../common/client.sh                     accept announced addresses, allow extra subflows
//   ../common/server.sh                     add local IP + 1 as a signal endpoint
//   ../common/multi-ep.sh -e N -m MODE      add local IP + 1..N as endpoints of MODE
//                                           (signal, subflow, backup, fullmesh; -e 0 adds none;
//                                           backup and fullmesh are subflow endpoints with that
//                                           flag: `ip mptcp endpoint add ADDR subflow backup`)
import type { IpAddress } from "../../core/wire/types.ts";
import type { HostCommand } from "./sut.ts";

/** The address `n` above `base` (last bytes incremented with carry). */
export function addressPlus(base: IpAddress, n: number): IpAddress {
  const out = base.slice();
  let carry = n;
  for (let i = out.length - 1; i >= 0 && carry > 0; i--) {
    const v = out[i]! + carry;
    out[i] = v & 0xff;
    carry = Math.floor(v / 256);
  }
  return out;
}

/** Parses one shell line; returns the commands or an error message. */
export function parseShellCommand(command: string, localAddress: IpAddress): { ok: true; commands: HostCommand[] } | { ok: false; error: string } {
  const words = command.trim().split(/\s+/);
  const prog = words[0] ?? "";
  const base = prog.replace(/^.*\//, "");
  const isHelper = /(^|\/)common\/[a-z-]+\.sh$/.test(prog) || /^[a-z-]+\.sh$/.test(prog);
  if (!isHelper) return { ok: false, error: `unsupported shell command \`${command}\`: only ../common/{defaults,client,server,multi-ep}.sh are understood` };
  switch (base) {
    case "defaults.sh":
      if (words.length > 1) return { ok: false, error: `defaults.sh takes no arguments here (got \`${command}\`)` };
      return { ok: true, commands: [{ kind: "defaults" }] };
    case "client.sh":
      if (words.length > 1) return { ok: false, error: `client.sh takes no arguments here (got \`${command}\`)` };
      return { ok: true, commands: [{ kind: "client" }] };
    case "server.sh":
      if (words.length > 1) return { ok: false, error: `server.sh takes no arguments here (got \`${command}\`)` };
      return { ok: true, commands: [{ kind: "endpoints", addresses: [addressPlus(localAddress, 1)], mode: "signal" }] };
    case "multi-ep.sh": {
      let n: number | undefined;
      let mode: string | undefined;
      for (let i = 1; i < words.length; i++) {
        const w = words[i]!;
        if (w === "-e" && i + 1 < words.length) n = Number(words[++i]);
        else if (w === "-m" && i + 1 < words.length) mode = words[++i];
        else return { ok: false, error: `multi-ep.sh: unexpected argument '${w}' (usage: -e N -m signal|subflow|backup|fullmesh)` };
      }
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 8) return { ok: false, error: "multi-ep.sh needs -e N with N in 0..8" };
      if (mode !== "signal" && mode !== "subflow" && mode !== "backup" && mode !== "fullmesh") {
        return { ok: false, error: `multi-ep.sh needs -m signal|subflow|backup|fullmesh (got ${mode ?? "nothing"})` };
      }
      const addresses: IpAddress[] = [];
      for (let i = 1; i <= n; i++) addresses.push(addressPlus(localAddress, i));
      return { ok: true, commands: [{ kind: "endpoints", addresses, mode }] };
    }
    default:
      return { ok: false, error: `unsupported helper \`${prog}\`: only defaults.sh, client.sh, server.sh and multi-ep.sh are understood` };
  }
}
