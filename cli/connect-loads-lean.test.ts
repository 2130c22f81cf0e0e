/**
 * What `dbtunnel connect` loads before it needs it: the static import graph (what Bun loads when the
 * module loads, `import type` aside) from the entry point and the connect command may not reach an AWS
 * SDK client, the RDS signer, cdktf, the sandbox, the proxy or the demo. Each of those stays behind a
 * literal `await import(...)` where it is used, so a long-lived `connect --listen` keeps its memory
 * (bench/tunnel-memory.ts measures it). The SSM client is the one SDK client a tunnel needs, loaded with
 * the tunnel.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

/** Static, value-level import and re-export specifiers of one TypeScript file. */
export function staticImports(source: string): string[] {
  const specifiers: string[] = [];
  const statement =
    /^\s*(import|export)\s+(type\s+)?([^'"]*?)\s*from\s*["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;
  for (const match of source.matchAll(statement)) {
    const sideEffect = match[5];
    if (sideEffect) {
      specifiers.push(sideEffect);
      continue;
    }
    if (match[2]) continue; // import type / export type
    const clause = match[3] ?? "";
    // `import { type A, type B } from` loads nothing either.
    const names = /^\{([\s\S]*)\}$/.exec(clause.trim())?.[1];
    if (names?.split(",").every((n) => n.trim() === "" || /^type\s/.test(n.trim()))) continue;
    specifiers.push(match[4] ?? "");
  }
  return specifiers;
}

/** Every project file and package reached through static imports from `entries`. */
function staticGraph(entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.map((e) => join(ROOT, e));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of staticImports(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith("node:") && !specifier.startsWith("bun")) packages.add(specifier);
    }
  }
  return { files: new Set([...files].map((f) => relative(ROOT, f))), packages };
}

test("the static imports of connect reach no SDK client but SSM's, no signer, cdktf, sandbox, proxy or demo", () => {
  const { files, packages } = staticGraph(["cli/main.ts", "cli/commands/connect.ts", "tunnel/pool.ts"]);
  expect(files.has("tunnel/session.ts")).toBe(true); // the walk does follow the tunnel
  expect([...packages].filter((p) => p !== "@aws-sdk/client-ssm")).toEqual([]);
  expect([...files].filter((f) => /^(sandbox|proxy|cli\/demo|stacks|modules)\//.test(f))).toEqual([]);
});

test("the import scanner sees value imports and re-exports, and skips type-only ones", () => {
  const source = [
    'import { a } from "./a.ts";',
    'import type { B } from "./b.ts";',
    'import { type C, type D } from "./c.ts";',
    'import { type E, f } from "./e.ts";',
    'export { g } from "./g.ts";',
    'export type { H } from "./h.ts";',
    'import "./side.ts";',
    'import {\n  i,\n  j,\n} from "@aws-sdk/client-ec2";',
    'const later = () => import("@aws-sdk/rds-signer");',
  ].join("\n");
  expect(staticImports(source)).toEqual(["./a.ts", "./e.ts", "./g.ts", "./side.ts", "@aws-sdk/client-ec2"]);
});
