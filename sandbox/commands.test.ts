import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatEnvExports, sandboxDown, sandboxStatus, sandboxUp } from "./commands.ts";
import { pidAlive } from "./supervisor.ts";

const home = mkdtempSync(join(tmpdir(), "dbtunnel-home-"));
afterAll(async () => {
  await sandboxDown({ home }).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

test("up starts one daemon even when run twice at once, a later up reports it, status checks every part, down removes it all", async () => {
  const [a, b] = await Promise.all([
    sandboxUp({ home, region: "ap-south-1" }),
    sandboxUp({ home, region: "ap-south-1" }),
  ]);
  expect([a.status, b.status].sort()).toEqual(["already-running", "started"]);
  expect(a.pid).toBe(b.pid);
  const first = a.status === "started" ? a : b;
  expect(first.env.AWS_REGION).toBe("ap-south-1");
  expect(pidAlive(first.pid)).toBe(true);
  // The state holds credentials: private.
  expect(statSync(join(home, "sandbox", "daemon.json")).mode & 0o077).toBe(0);

  const second = await sandboxUp({ home });
  expect(second.status).toBe("already-running");
  expect(second.pid).toBe(first.pid);
  expect(second.env).toEqual(first.env);

  const status = await sandboxStatus({ home });
  expect(status.parts.map((p) => [p.name, p.healthy, p.detail])).toEqual([
    ["daemon", true, expect.any(String)],
    ["moto", true, expect.any(String)],
    ["gateway", true, expect.stringContaining("account 123456789012")],
    ["postgres", true, expect.stringContaining("TLS verified")],
    ["ldap", true, expect.any(String)],
  ]);
  expect(status.healthy).toBe(true);

  expect(await sandboxDown({ home })).toEqual({ status: "stopped", pid: first.pid });
  expect(pidAlive(first.pid)).toBe(false);
  expect(existsSync(first.dir)).toBe(false);
  expect(readdirSync(join(home, "sandbox"))).toEqual([]);
  expect((await sandboxStatus({ home })).running).toBe(false);
  expect(await sandboxDown({ home })).toEqual({ status: "not-running" });
}, 120_000);

test("a daemon that cannot start is reported in one line and leaves nothing", async () => {
  const saved = process.env.DBTUNNEL_PG_BIN;
  process.env.DBTUNNEL_PG_BIN = "/nonexistent/postgresql/bin";
  try {
    const failure = await sandboxUp({ home }).then(
      () => "started",
      (error: Error) => error.message,
    );
    expect(failure).toContain("The sandbox could not start: initdb");
    expect(failure).not.toContain("\n");
    expect(failure).toContain("daemon.log");
  } finally {
    if (saved === undefined) delete process.env.DBTUNNEL_PG_BIN;
    else process.env.DBTUNNEL_PG_BIN = saved;
  }
  // Only the log stays, for the user to read.
  expect(readdirSync(join(home, "sandbox"))).toEqual(["daemon.log"]);
}, 60_000);

test("export lines survive any value when eval'd by a shell", async () => {
  const env = { AWS_REGION: "it's; $(rm -rf /)" } as unknown as Parameters<typeof formatEnvExports>[0];
  const proc = Bun.spawn({
    cmd: ["sh", "-c", `${formatEnvExports(env)}\nprintf %s "$AWS_REGION"`],
    stdout: "pipe",
  });
  expect(await new Response(proc.stdout).text()).toBe("it's; $(rm -rf /)");
});
