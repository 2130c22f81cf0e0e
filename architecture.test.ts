/**
 * The architecture check (architecture.depcruise.cjs, run by `npm run lint`) fails on each kind of
 * forbidden import and stays quiet on the allowed ones. It runs the real dependency-cruiser CLI on a
 * miniature tree with the project's layout; the real tree is checked by lint itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = import.meta.dir;
const CONFIG = join(ROOT, "architecture.depcruise.cjs");
const DEPCRUISE = join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** file → the files it imports (relative to the tree's root). */
const TREE: Record<string, readonly string[]> = {
  // Forbidden edges, one per rule.
  "tunnel/knows-emulator.ts": ["sandbox/emulator.ts"],
  "tunnel/knows-cli.ts": ["cli/command.ts"],
  "modules/knows-cli.ts": ["cli/command.ts"],
  "stacks/knows-emulator.ts": ["sandbox/emulator.ts"],
  "policy/knows-constructs.ts": ["modules/construct.ts"],
  "contract/knows-modules.ts": ["modules/construct.ts"],
  "cli/pipeline/knows-commands.ts": ["cli/commands/connect.ts"],
  "sandbox/knows-cli.ts": ["cli/command.ts"],
  "cli/runs-e2e.ts": ["e2e/flow.ts"],
  "cli/uses-test-helper.ts": ["test-support/cli/fixtures.ts"],
  "proxy/uses-fixture.ts": ["policy/fixtures/stack.ts"],
  "proxy/knows-cli.ts": ["cli/command.ts"],
  "e2e/cycle-a.ts": ["bench/cycle-b.ts"],
  "bench/cycle-b.ts": ["e2e/cycle-a.ts"],
  "cli/typo.ts": ["cli/not-there.ts"],
  // Allowed edges.
  "cli/command.ts": ["cli/pipeline/index.ts", "policy/rules.ts", "sandbox/emulator.ts"],
  "cli/commands/connect.ts": ["cli/pipeline/index.ts", "cli/command.ts"],
  "cli/pipeline/index.ts": ["tunnel/session.ts", "contract/outputs.ts", "cli/errors.ts"],
  "stacks/stack.ts": ["modules/construct.ts", "policy/rules.ts", "contract/outputs.ts"],
  "modules/construct.ts": ["contract/outputs.ts"],
  "e2e/flow.ts": ["cli/command.ts", "test-support/cli/fixtures.ts"],
  "tunnel/session.test.ts": ["tunnel/session.ts", "test-support/tunnel/destination.ts"],
  "integration/tunnel-through.test.ts": ["tunnel/session.ts", "sandbox/emulator.ts"],
  "cli/command.test.ts": ["cli/command.ts", "test-support/cli/fixtures.ts"],
  "test-support/cli/fixtures.ts": ["sandbox/emulator.ts", "cli/command.ts"],
  "policy/rules.test.ts": ["policy/rules.ts", "policy/fixtures/stack.ts"],
};

/** rule → "from → to" it must report, and nothing else. */
const EXPECTED = [
  "tunnel-never-knows-the-sandbox: tunnel/knows-emulator.ts → sandbox/emulator.ts",
  "tunnel-is-a-library: tunnel/knows-cli.ts → cli/command.ts",
  "modules-know-no-runtime: modules/knows-cli.ts → cli/command.ts",
  "stacks-know-no-runtime: stacks/knows-emulator.ts → sandbox/emulator.ts",
  "policy-reads-synthesized-json: policy/knows-constructs.ts → modules/construct.ts",
  "contract-is-pure: contract/knows-modules.ts → modules/construct.ts",
  "pipeline-is-below-the-commands: cli/pipeline/knows-commands.ts → cli/commands/connect.ts",
  "sandbox-is-not-the-product: sandbox/knows-cli.ts → cli/command.ts",
  "product-never-imports-tests: cli/runs-e2e.ts → e2e/flow.ts",
  "product-never-imports-tests: cli/uses-test-helper.ts → test-support/cli/fixtures.ts",
  "product-never-imports-tests: proxy/uses-fixture.ts → policy/fixtures/stack.ts",
  "proxy-is-wire-handling: proxy/knows-cli.ts → cli/command.ts",
  // A cycle is reported once, on whichever of its edges the tool meets first.
  "no-cycles-between-parts: bench/cycle-b.ts ↔ e2e/cycle-a.ts",
  // An unresolved import is named as written.
  "not-to-unresolvable: cli/typo.ts → ../cli/not-there.ts",
].sort();

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-architecture-"));
  copyFileSync(join(ROOT, "tsconfig.json"), join(dir, "tsconfig.json"));
  const files = new Set([...Object.keys(TREE), ...Object.values(TREE).flat()]);
  files.delete("cli/not-there.ts");
  for (const file of files) {
    const imports = (TREE[file] ?? []).map((to) => {
      let path = relativeImport(file, to);
      if (!path.startsWith(".")) path = `./${path}`;
      return `import "${path}";\n`;
    });
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    writeFileSync(join(dir, file), `${imports.join("")}export const name = ${JSON.stringify(file)};\n`);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function relativeImport(from: string, to: string): string {
  const up = from.split("/").length - 1;
  return `${"../".repeat(up)}${to}`;
}

test("each forbidden import fails the check naming its rule; the allowed ones pass", async () => {
  const child = Bun.spawn(
    ["node", DEPCRUISE, "--config", CONFIG, "--output-type", "err", "--no-progress", "."],
    { cwd: dir, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(stderr).toBe("");
  // The same report `npm run lint:arch` prints: "  error <rule>: <from> → <to>" per violation.
  const found = [...stdout.matchAll(/^\s*error ([\w-]+): (\S+) →\s+(\S+)/gm)]
    .map(([, rule, from, to]) =>
      rule === "no-cycles-between-parts"
        ? `${rule}: ${[from, to].sort().join(" ↔ ")}`
        : `${rule}: ${from} → ${to}`,
    )
    .sort();
  expect(found).toEqual(EXPECTED);
  // Errors make the process (and so `npm run lint`) fail.
  expect(exitCode).not.toBe(0);
}, 60_000);
