/**
 * Guards the rule that the browser client can reuse the pre-filter: no file of this folder (tests
 * and the bench script aside), nor anything it imports inside the repo, may import a Node builtin
 * or use Node globals. This test itself runs in Node and may use node:fs.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "")));

/**
 * Blanks out comments and, when `strings` is set, the contents of string and template literals,
 * keeping the length of the text. Good enough for this repo's sources (no regex literals holding
 * quotes or slashes).
 */
function strip(src: string, strings: boolean): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") (out += " "), i++;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      const body = src.slice(i + 1, j);
      out += c + (strings ? body.replace(/[^\n]/g, " ") : body) + c;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const SPECIFIERS = [
  /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];
const NODE_GLOBALS: [RegExp, string][] = [
  [/\bBuffer\b/, "uses Buffer"],
  [/\bprocess\s*[.[]/, "uses process"],
  [/\brequire\s*\(/, "uses require()"],
  [/\b__dirname\b|\b__filename\b/, "uses __dirname/__filename"],
];

function importsOf(src: string): string[] {
  const code = strip(src, false);
  return SPECIFIERS.flatMap((re) => [...code.matchAll(re)].map((m) => m[1]!));
}

/** What in one source file breaks the browser rule, as readable lines. */
function nodeUsesOf(src: string): string[] {
  const problems = importsOf(src)
    .filter((s) => s.startsWith("node:") || BUILTINS.has(s.split("/")[0]!))
    .map((s) => `imports Node builtin "${s}"`);
  const code = strip(src, true);
  for (const [re, what] of NODE_GLOBALS) if (re.test(code)) problems.push(what);
  return problems;
}

function resolveLocal(fromFile: string, spec: string): string {
  const base = resolve(dirname(fromFile), spec);
  for (const p of [base, `${base}.ts`, join(base, "index.ts")]) if (existsSync(p) && p.endsWith(".ts")) return p;
  throw new Error(`${relative(REPO, fromFile)} imports "${spec}", which does not resolve to a .ts file`);
}

/** Module files of this folder and, transitively, every repo file they import. */
function moduleClosure(): Map<string, string[]> {
  const roots = readdirSync(HERE)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "bench-prefilter.ts")
    .map((f) => join(HERE, f));
  const found = new Map<string, string[]>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (found.has(file)) continue;
    const src = readFileSync(file, "utf8");
    found.set(file, nodeUsesOf(src));
    for (const spec of importsOf(src)) {
      if (!spec.startsWith(".")) continue;
      const target = resolveLocal(file, spec);
      if (!target.startsWith(REPO)) throw new Error(`${relative(REPO, file)} imports ${spec} from outside the repo`);
      queue.push(target);
    }
  }
  return found;
}

describe("browser safety of encoder/prefilter", () => {
  it("nodeUsesOf, sources using Node in code, reports each use; the same words in comments and strings pass", () => {
    const bad = [
      'import { readFileSync } from "node:fs";',
      "import path from 'path';",
      'import {\n  spawn,\n} from "child_process";',
      'export { x } from "fs/promises";',
      'const m = await import("os");',
      "const b = Buffer.from([1]);",
      "const e = process.env.HOME;",
    ];
    for (const src of bad) expect(nodeUsesOf(src), src).not.toEqual([]);
    const fine = '// no Buffer, no process.env, import fs from "fs"\nconst s = "Buffer process.exit";\nimport { a } from "./a.ts";';
    expect(nodeUsesOf(fine)).toEqual([]);
  });

  it("module files and everything they import inside the repo, checked transitively, import no Node builtin and use no Node global", () => {
    const closure = moduleClosure();
    const files = [...closure.keys()].map((f) => relative(REPO, f)).sort();
    // The walk really followed the imports out of the folder.
    expect(files).toEqual(expect.arrayContaining([
      "encoder/errors.ts",
      "encoder/importance/map.ts",
      "encoder/prefilter/index.ts",
      "encoder/prefilter/prefilter.ts",
      "encoder/prefilter/kernels.ts",
      "encoder/prefilter/field.ts",
      "encoder/prefilter/i420.ts",
    ]));
    const problems = [...closure].flatMap(([f, p]) => p.map((what) => `${relative(REPO, f)} ${what}`));
    expect(problems).toEqual([]);
  });
});
