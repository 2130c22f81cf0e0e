import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../test-support/wait.ts";
import { startSandboxCore } from "./core.ts";
import { isListening } from "./ports.ts";
import { cleanupStaleSandboxes, readOwner } from "./state.ts";
import { groupAlive } from "./supervisor.ts";

/** A private root per test file, so parallel test files never see each other's sandboxes. */
const root = mkdtempSync(join(tmpdir(), "dbtunnel-lifecycle-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function anyListening(ports: number[]): Promise<boolean> {
  return (await Promise.all(ports.map((p) => isListening(p)))).some(Boolean);
}

test("stop() leaves no process, port or directory", async () => {
  const core = await startSandboxCore({ root });
  const pgids = readOwner(core.dir)?.pgids ?? [];
  const ports = [core.moto.port, core.postgres.port, core.ldap.port];
  expect(pgids.length).toBe(2);
  expect(pgids.every(groupAlive)).toBe(true);
  expect(await anyListening(ports)).toBe(true);
  await core.stop();
  expect(pgids.some(groupAlive)).toBe(false);
  expect(await anyListening(ports)).toBe(false);
  expect(existsSync(core.dir)).toBe(false);
}, 60_000);

test("a failed start stops the parts that did start and removes the directory", async () => {
  const before = new Set(readdirSync(root));
  await expect(startSandboxCore({ root, postgresBinDir: "/nonexistent/pg/bin" })).rejects.toThrow("initdb");
  expect(readdirSync(root).filter((name) => !before.has(name))).toEqual([]);
}, 60_000);

test("kill -9 of the owner: children die by themselves, the next start removes the files", async () => {
  const script = `
    import { startSandboxCore } from ${JSON.stringify(join(import.meta.dir, "core.ts"))};
    const core = await startSandboxCore({ root: ${JSON.stringify(root)} });
    console.log(JSON.stringify({ dir: core.dir, ports: [core.moto.port, core.postgres.port, core.ldap.port] }));
    setInterval(() => {}, 1000);
  `;
  const owner = Bun.spawn({ cmd: [process.execPath, "-e", script], stdout: "pipe", stderr: "inherit" });
  const reader = owner.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const { dir, ports } = JSON.parse(text) as { dir: string; ports: number[] };
  const pgids = readOwner(dir)?.pgids ?? [];
  expect(pgids.length).toBe(2);
  owner.kill("SIGKILL");
  await owner.exited;
  // The watchdogs see their pipe close and stop moto/postgres: no later start is needed for that.
  expect(await waitFor(() => !pgids.some(groupAlive), 10_000)).toBe(true);
  expect(await anyListening(ports)).toBe(false);
  expect(existsSync(dir)).toBe(true);
  expect(cleanupStaleSandboxes(root)).toEqual([dir]);
  expect(existsSync(dir)).toBe(false);
}, 60_000);

test("an owner that exits without stop(): children stop cleanly and the directory goes, no next start needed", async () => {
  const script = `
    import { startSandboxCore } from ${JSON.stringify(join(import.meta.dir, "core.ts"))};
    const core = await startSandboxCore({ root: ${JSON.stringify(root)} });
    console.log(JSON.stringify({ dir: core.dir, ports: [core.moto.port, core.postgres.port] }));
    process.exit(0);
  `;
  const owner = Bun.spawn({ cmd: [process.execPath, "-e", script], stdout: "pipe", stderr: "inherit" });
  const text = await new Response(owner.stdout).text();
  const { dir, ports } = JSON.parse(text) as { dir: string; ports: number[] };
  expect(await owner.exited).toBe(0);
  expect(await waitFor(() => !existsSync(dir), 15_000)).toBe(true);
  expect(await anyListening(ports)).toBe(false);
}, 60_000);
