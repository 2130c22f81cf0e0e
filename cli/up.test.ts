/**
 * `dbtunnel up` end to end through the sandbox: three profile targets on two stacks, one process, one
 * session per jump host and endpoint, psql through each port; a bad profile is one line and starts nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { failureLine, startCli } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let first: SeededStack;
let second: SeededStack;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-up-test-"));
  sandbox = await startFixtureSandbox();
  [first, second] = await Promise.all([
    seedStack(sandbox),
    seedStack(sandbox, { dbUser: "second_user", dbName: "seconddb" }),
  ]);
  env = { ...sandbox.env, DBTUNNEL_CONFIG_DIR: join(dir, "config") };
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([first?.cleanup(), second?.cleanup()]);
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function psql(port: number, user: string, database: string, password: string) {
  const child = Bun.spawn(
    [
      "psql",
      `host=127.0.0.1 port=${port} user=${user} dbname=${database} sslmode=disable`,
      "-XAtc",
      "select current_user || '@' || current_database()",
    ],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: password },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { out: out.trim(), err };
}

describe("dbtunnel up", () => {
  test("three targets on two stacks: three proxies, two sessions, each reachable with the local secret", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const profile = join(dir, "team.json");
    writeFileSync(
      profile,
      JSON.stringify({
        targets: [
          {
            name: "app",
            outputs: first.outputsFile,
            user: first.dbUser,
            database: first.dbName,
            localPort: ports[0],
          },
          {
            name: "app-admin-db",
            outputs: first.outputsFile,
            user: first.dbUser,
            database: "postgres",
            localPort: ports[1],
          },
          { name: "second", outputs: second.outputsFile, user: second.dbUser, localPort: ports[2] },
        ],
      }),
    );
    const up = startCli(["up", profile, "--json"], env);
    try {
      const out = await up.waitForStdout((s) => s.includes('"type":"ready"'), 40_000);
      const events = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
      expect(events.slice(0, 3).map((e) => [e.type, e.name, e.port])).toEqual([
        ["listening", "app", ports[0]],
        ["listening", "app-admin-db", ports[1]],
        ["listening", "second", ports[2]],
      ]);
      expect(events[3]).toMatchObject({ type: "ready", proxies: 3, sessions: 2 });
      expect(sandbox.activeSessions().length).toBe(2);
      const secret = (await runCli(["proxy", "--show-secret"], env)).stdout.trim();
      expect(await psql(ports[0] ?? 0, first.dbUser, first.dbName, secret)).toEqual({
        out: `${first.dbUser}@${first.dbName}`,
        err: "",
      });
      expect(await psql(ports[1] ?? 0, first.dbUser, "postgres", secret)).toEqual({
        out: `${first.dbUser}@postgres`,
        err: "",
      });
      expect(await psql(ports[2] ?? 0, second.dbUser, second.dbName, secret)).toEqual({
        out: `${second.dbUser}@${second.dbName}`,
        err: "",
      });
    } finally {
      up.kill("SIGINT");
    }
    expect(await up.exited).toBe(0);
    expect(await waitFor(() => sandbox.activeSessions().length === 0, 10_000)).toBe(true);
  }, 90_000);

  test("a profile with a mistake: one line naming the field, exit 1, no session started", async () => {
    const profile = join(dir, "bad.json");
    writeFileSync(
      profile,
      JSON.stringify({ targets: [{ name: "x", outputs: first.outputsFile, user: "u", localPort: 80 }] }),
    );
    const result = await runCli(["up", profile], env);
    expect(result.exitCode).toBe(1);
    expect(failureLine(result.stderr)).toBe(
      `Profile ${profile}: targets[0].localPort must be an integer from 1024 to 65535 (got 80).`,
    );
    expect(sandbox.activeSessions().length).toBe(0);
    const missing = await runCli(["up"], env);
    expect(missing.exitCode).toBe(1);
    expect(failureLine(missing.stderr)).toContain("dbtunnel-up.json does not exist");
  }, 30_000);
});
