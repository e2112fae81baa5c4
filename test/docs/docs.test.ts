// The documentation is kept honest by this test (issue #9). For README.md and docs/*.md:
// - every ```ts block is type-checked with the TypeScript compiler API against the sources of
//   this repository (the package names `mptcp`, `mptcp/streams`, `mptcp/testing`,
//   `mptcp/adapters` map to their source entry points; a block that no longer compiles fails);
// - every ```ts run block is also executed, in a child process of the runtime running this test
//   (node --import tsx, or deno run -A), with a time bound; it must exit 0 (the examples check
//   their own results with node:assert);
// - every package entry point the examples import is a package.json export, and tsup builds it
//   from the source file the examples were checked against;
// - every name in the reference tables of docs/API.md ("| export |", "| member |", "| field |")
//   is an export of its section's entry point, or a member of the type its "###" heading names;
// - every repository path written in backticks (`core/mptcp/handshake.ts`) and every relative
//   link exists;
// - every --flag of an `mptcp <command>` line in a ```sh block is one the CLI sources know.
// Each check is also run on a deliberately broken input first, to show it can fail.
// Generated files go to test/docs/.generated/ (gitignored), one folder per process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Package specifiers the docs may import, and the source file each one stands for. */
export const PACKAGE_SOURCES: Record<string, string> = {
  "mptcp": "core/index.ts",
  "mptcp/streams": "adapters/streams/index.ts",
  "mptcp/testing": "adapters/testing/index.ts",
  "mptcp/adapters": "adapters/index.ts",
};

export interface Block {
  file: string;
  /** 1-based line of the first code line in the markdown file. */
  line: number;
  lang: string;
  run: boolean;
  code: string;
}

/** The fenced code blocks of a markdown text (``` or ~~~ fences, info string "lang [run]"). */
export function extractBlocks(file: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const lang = open[3]!.toLowerCase();
    const rest = open[4]!.trim().split(/\s+/);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j]!.trim().startsWith(fence[0]!.repeat(fence.length)) && lines[j]!.trim().replace(/[`~]/g, "") === "") break;
      body.push(lines[j]!);
    }
    out.push({ file, line: i + 2, lang, run: rest.includes("run"), code: body.join("\n") });
    i = j;
  }
  return out;
}

export function docFiles(): string[] {
  const files = ["README.md"];
  const docs = join(root, "docs");
  if (existsSync(docs)) for (const f of readdirSync(docs).sort()) if (f.endsWith(".md")) files.push(`docs/${f}`);
  return files;
}

/** Rewrites package imports to relative imports of the sources (same number of lines). */
export function rewriteImports(code: string, fromDir: string): string {
  return code.replace(/((?:from|import)\s*\(?\s*)(["'])(mptcp(?:\/[\w-]+)?)\2/g, (m, pre: string, q: string, spec: string) => {
    const src = PACKAGE_SOURCES[spec];
    if (!src) return m; // unknown subpath: left as is, so the compiler reports it
    let rel = relative(fromDir, join(root, src)).split("\\").join("/");
    if (!rel.startsWith(".")) rel = "./" + rel;
    return `${pre}${q}${rel}${q}`;
  });
}

export interface Diag {
  block: Block;
  line: number;
  message: string;
}

function compilerOptions(): ts.CompilerOptions {
  const cfg = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  return { ...parsed.options, noEmit: true, noUnusedLocals: false };
}

/** Type-checks the blocks (each as its own module in `dir`); returns the diagnostics, mapped to markdown lines. */
export function typecheck(blocks: Block[], dir: string): { diags: Diag[]; files: string[] } {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  blocks.forEach((b, i) => {
    const name = join(dir, `${b.file.replace(/[\/.]/g, "_")}_L${b.line}_${i}.ts`);
    // `export {}` keeps each block a module (its names do not clash with other blocks').
    writeFileSync(name, rewriteImports(b.code, dir) + "\nexport {};\n");
    files.push(name);
  });
  const program = ts.createProgram(files, compilerOptions());
  const diags: Diag[] = [];
  files.forEach((f, i) => {
    const sf = program.getSourceFile(f);
    if (!sf) {
      diags.push({ block: blocks[i]!, line: blocks[i]!.line, message: "not compiled" });
      return;
    }
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const pos = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line : 0;
      diags.push({ block: blocks[i]!, line: blocks[i]!.line + pos, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") });
    }
  });
  return { diags, files };
}

/** Runs one generated file under the current runtime; returns exit status and output. */
export function runFile(file: string, timeoutMs: number): { status: number | null; output: string } {
  const argv = isDeno ? ["run", "-A", "--quiet", file] : ["--import", "tsx", file];
  const r = spawnSync(process.execPath, argv, { cwd: root, timeout: timeoutMs, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

const format = (d: Diag): string => `${d.block.file}:${d.line}: ${d.message}`;
const workDir = join(root, "test", "docs", ".generated", `${isDeno ? "deno" : "node"}-${process.pid}`);
const allBlocks = docFiles().flatMap((f) => extractBlocks(f, readFileSync(join(root, f), "utf8")));
const tsBlocks = allBlocks.filter((b) => b.lang === "ts" || b.lang === "typescript");

test("docs: the checker itself fails on a broken example and on a failing run", () => {
  const dir = join(workDir, "selftest");
  const good: Block = { file: "SELFTEST.md", line: 10, lang: "ts", run: true, code: 'import { Endpoint, SeededRandomSource } from "mptcp";\nconst e: Endpoint = new Endpoint({ addresses: [{ address: new Uint8Array([198, 18, 0, 1]) }], random: new SeededRandomSource(1) });\nconsole.log(e.addresses.length);' };
  const bad: Block = { file: "SELFTEST.md", line: 20, lang: "ts", run: false, code: 'import { Endpoint } from "mptcp";\n\nconst n: number = new Endpoint({ addresses: [] }).noSuchMethod();' };
  const missing: Block = { file: "SELFTEST.md", line: 30, lang: "ts", run: false, code: 'import { x } from "mptcp/no-such-entry";\nconsole.log(x);' };
  const { diags, files } = typecheck([good, bad, missing], dir);
  assert.deepEqual(diags.filter((d) => d.block === good).map(format), []);
  assert.ok(diags.some((d) => d.block === bad && d.line === 22), `expected an error on SELFTEST.md:22, got ${diags.map(format).join("; ")}`);
  assert.ok(diags.some((d) => d.block === missing && d.line === 30), "an unknown package entry point must not compile");
  assert.equal(runFile(files[0]!, 60_000).status, 0);
  const failing = join(dir, "fails.ts");
  writeFileSync(failing, 'import assert from "node:assert/strict";\nassert.equal(1 + 1, 3);\n');
  assert.notEqual(runFile(failing, 60_000).status, 0);
});

test("docs: every ```ts block in README.md and docs/*.md type-checks", () => {
  assert.ok(tsBlocks.length > 0, "no ts blocks found");
  const { diags } = typecheck(tsBlocks, join(workDir, "blocks"));
  assert.deepEqual(diags.map(format), [], `documented examples that do not compile:\n${diags.map(format).join("\n")}`);
});

test("docs: every ```ts run block runs and exits 0", () => {
  const runs = tsBlocks.filter((b) => b.run);
  assert.ok(runs.length > 0, "no runnable blocks found");
  const { files } = typecheck(runs, join(workDir, "runs"));
  const failures: string[] = [];
  runs.forEach((b, i) => {
    const r = runFile(files[i]!, 60_000);
    if (r.status !== 0) failures.push(`${b.file}:${b.line}: exit ${r.status}\n${r.output.slice(-2000)}`);
  });
  assert.deepEqual(failures, []);
});

test("docs: every package entry point the examples import is exported by package.json (built by tsup from the source checked here) and by deno.json", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as { exports: Record<string, string> | string };
  const denoExports = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
  const tsup = readFileSync(join(root, "tsup.config.ts"), "utf8");
  const used = new Set<string>();
  for (const b of tsBlocks) for (const m of b.code.matchAll(/(?:from|import)\s*\(?\s*["'](mptcp(?:\/[\w-]+)?)["']/g)) used.add(m[1]!);
  assert.ok(used.has("mptcp"), "the docs import the core somewhere");
  const problems: string[] = [];
  for (const spec of [...used].sort()) {
    const sub = spec === "mptcp" ? "." : `./${spec.slice("mptcp/".length)}`;
    if (!(sub in pkg.exports)) problems.push(`${spec}: not in package.json exports`);
    if (denoExports[sub] !== `./${PACKAGE_SOURCES[spec]}`) problems.push(`${spec}: deno.json exports ${sub} as ${denoExports[sub]}, not ./${PACKAGE_SOURCES[spec]}`);
    // tsup names each entry after its dist file: index (the core), adapters, streams, testing.
    const entry = spec === "mptcp" ? "index" : spec.slice("mptcp/".length);
    const src = PACKAGE_SOURCES[spec];
    if (!src || !new RegExp(`\\b${entry}:\\s*"${src.replace(/[.]/g, "\\.")}"`).test(tsup)) problems.push(`${spec}: tsup.config.ts does not build it from ${src}`);
  }
  assert.deepEqual(problems, []);
});

/** A reference table's rows: the names in backticks of each row's first cell. */
export interface RefTable {
  file: string;
  line: number;
  kind: "export" | "member" | "field";
  /** The entry point of the enclosing "## `mptcp...`" section. */
  entry: string | undefined;
  /** The first backticked name of the enclosing "### " heading (for member / field tables). */
  subject: string | undefined;
  rows: Array<{ line: number; names: string[] }>;
}

/** Tables headed "| export |", "| member |" or "| field |", with their section context. */
export function refTables(file: string, text: string): RefTable[] {
  const out: RefTable[] = [];
  const lines = text.split("\n");
  let entry: string | undefined;
  let subject: string | undefined;
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^(```|~~~)/.test(l)) inFence = !inFence;
    if (inFence) continue;
    const h2 = /^## `(mptcp(?:\/[\w-]+)?)`/.exec(l);
    if (l.startsWith("## ")) {
      entry = h2?.[1];
      subject = undefined;
    }
    if (l.startsWith("### ")) subject = /`([A-Za-z_$][\w$]*)`/.exec(l)?.[1];
    const head = /^\|\s*(export|member|field)\s*\|/.exec(l);
    if (!head) continue;
    const t: RefTable = { file, line: i + 1, kind: head[1] as RefTable["kind"], entry, subject, rows: [] };
    for (i += 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
      const cell = lines[i]!.split("|")[1] ?? "";
      const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => /^(?:new\s+)?([A-Za-z_$][\w$]*)/.exec(m[1]!)?.[1]).filter((n): n is string => n !== undefined);
      t.rows.push({ line: i + 1, names });
    }
    out.push(t);
  }
  return out;
}

/** Names in reference tables that are not exports of their entry point / members of their type. */
export function unknownNames(tables: RefTable[]): string[] {
  const entries = Object.keys(PACKAGE_SOURCES).filter((e) => existsSync(join(root, PACKAGE_SOURCES[e]!)));
  const program = ts.createProgram(entries.map((e) => join(root, PACKAGE_SOURCES[e]!)), compilerOptions());
  const checker = program.getTypeChecker();
  const exportsOf = new Map<string, Map<string, ts.Symbol>>();
  for (const e of entries) {
    const sf = program.getSourceFile(join(root, PACKAGE_SOURCES[e]!));
    const mod = sf && checker.getSymbolAtLocation(sf);
    exportsOf.set(e, new Map((mod ? checker.getExportsOfModule(mod) : []).map((s) => [s.name, s])));
  }
  const problems: string[] = [];
  for (const t of tables) {
    const exp = t.entry ? exportsOf.get(t.entry) : undefined;
    if (!exp) {
      problems.push(`${t.file}:${t.line}: table outside a "## \`mptcp...\`" section (or unknown entry point ${t.entry})`);
      continue;
    }
    let allowed: Set<string>;
    let what: string;
    if (t.kind === "export") {
      allowed = new Set(exp.keys());
      what = `an export of ${t.entry}`;
    } else {
      const sym = t.subject ? exp.get(t.subject) : undefined;
      if (!sym) {
        problems.push(`${t.file}:${t.line}: ${t.kind} table under "${t.subject}", which is not an export of ${t.entry}`);
        continue;
      }
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      allowed = new Set(checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target)).map((p) => p.name));
      allowed.add(t.subject!); // the constructor row: `new Endpoint(...)`
      what = `a member of ${t.subject}`;
    }
    for (const r of t.rows) for (const n of r.names) if (!allowed.has(n)) problems.push(`${t.file}:${r.line}: \`${n}\` is not ${what}`);
  }
  return problems;
}

test("docs: every name in an export / member / field table of docs/API.md exists", () => {
  const probe = refTables("SELFTEST.md", "## `mptcp`: x\n\n### `Endpoint`\n\n| member | what |\n|---|---|\n| `listen(port)` / `noSuchMethod()` | x |\n\n| export | what |\n|---|---|\n| `new Endpoint(...)`, `NoSuchExport` | x |\n");
  assert.deepEqual(unknownNames(probe), ["SELFTEST.md:7: `noSuchMethod` is not a member of Endpoint", "SELFTEST.md:11: `NoSuchExport` is not an export of mptcp"]);
  const tables = docFiles().flatMap((f) => refTables(f, readFileSync(join(root, f), "utf8")));
  assert.ok(tables.length >= 5, `found ${tables.length} reference tables`);
  assert.deepEqual(unknownNames(tables), []);
});

/** Backticked tokens that look like repository paths (a top-level folder, then more). */
const PATH_RE = /`((?:core|adapters|assembly|bench|bin|docs|examples|scripts|test)\/[\w./*-]*)`/g;
const LINK_RE = /\]\(((?!https?:|mailto:|#)[^)\s]+)\)/g;

/** Repository paths in backticks and relative links of one markdown file that do not exist. */
export function missingPaths(file: string, text: string): string[] {
  const missing: string[] = [];
  // Paths inside code blocks are commands and examples (checked above or by hand): prose only.
  const prose = text.replace(/^(```|~~~)[\s\S]*?^\1\s*$/gm, "");
  for (const m of prose.matchAll(PATH_RE)) {
    const p = m[1]!.replace(/[.,:;]+$/, "");
    const check = p.includes("*") ? p.slice(0, p.indexOf("*")).replace(/[^/]*$/, "") : p;
    if (!existsSync(join(root, check))) missing.push(`${file}: ${p}`);
  }
  for (const m of prose.matchAll(LINK_RE)) {
    const target = m[1]!.split("#")[0]!;
    if (target && !existsSync(join(root, dirname(file), target))) missing.push(`${file}: link ${m[1]}`);
  }
  return missing;
}

test("docs: every repository path and relative link in the docs exists", () => {
  assert.deepEqual(missingPaths("SELFTEST.md", "see `core/mptcp/endpoint.ts` and [x](docs/nope.md), `core/nope.ts`"), ["SELFTEST.md: core/nope.ts", "SELFTEST.md: link docs/nope.md"]);
  assert.deepEqual(docFiles().flatMap((f) => missingPaths(f, readFileSync(join(root, f), "utf8"))), []);
});

test("docs: ARCHITECTURE.md's layering claim holds: core/ imports nothing from adapters/", () => {
  const bad: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(root, d))) {
      const p = join(d, e);
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) {
        readFileSync(join(root, p), "utf8").split("\n").forEach((l, i) => {
          if (/(?:from|import)\s*\(?\s*["'][^"']*adapters\//.test(l)) bad.push(`${p}:${i + 1}`);
        });
      }
    }
  };
  walk("core");
  assert.deepEqual(bad, []);
});

/** Sources that define the CLI's flags. */
function cliSources(): string {
  let text = readFileSync(join(root, "bin", "mptcp.mjs"), "utf8");
  const walk = (d: string): void => {
    for (const e of readdirSync(join(root, d))) {
      const p = join(d, e);
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) text += readFileSync(join(root, p), "utf8");
    }
  };
  for (const d of ["adapters/cli", "adapters/sim", "adapters/script"]) if (existsSync(join(root, d))) walk(d);
  return text;
}

/** `mptcp <command> --flag` uses in shell blocks whose flag the CLI sources do not contain. */
export function unknownFlags(blocks: Block[], src: string): { commands: number; unknown: string[] } {
  const unknown: string[] = [];
  let commands = 0;
  for (const b of blocks.filter((x) => x.lang === "sh" || x.lang === "bash" || x.lang === "shell")) {
    // Join continuation lines, then look at each command that runs the mptcp CLI.
    const text = b.code.replace(/\\\n\s*/g, " ");
    for (const line of text.split("\n")) {
      const m = /(?:^|\s)(?:mptcp|bin\/mptcp\.mjs)\s+(server|client|sim|script|proxy)\b(.*)$/.exec(line.replace(/#.*$/, ""));
      if (!m) continue;
      commands++;
      for (const f of m[2]!.matchAll(/(?:^|\s)(--[a-z][\w-]*)/g)) {
        const flag = f[1]!;
        if (!src.includes(`"${flag}"`) && !src.includes(`'${flag}'`) && !src.includes(`${flag} `) && !src.includes(`${flag}=`)) unknown.push(`${b.file}:${b.line}: mptcp ${m[1]} ${flag}`);
      }
    }
  }
  return { commands, unknown };
}

test("docs: every --flag of an `mptcp <command>` line in a ```sh block is known to the CLI", () => {
  const src = cliSources();
  const probe = extractBlocks("SELFTEST.md", "```sh\nnode bin/mptcp.mjs client --udp 127.0.0.1 \\\n  --no-such-flag 3 --json\n```\n");
  assert.deepEqual(unknownFlags(probe, src).unknown, ["SELFTEST.md:2: mptcp client --no-such-flag"]);
  const r = unknownFlags(allBlocks, src);
  assert.ok(r.commands > 0, "no mptcp command lines found");
  assert.deepEqual(r.unknown, []);
});

test("docs: clean up generated files", () => {
  rmSync(workDir, { recursive: true, force: true });
});
