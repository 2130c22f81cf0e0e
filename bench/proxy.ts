/**
 * Proxy benchmark: what `dbtunnel proxy` adds over `dbtunnel connect --listen` (the client doing verified
 * TLS and the IAM login itself through the same kind of session), both against the sandbox, in the same run:
 *   - latency per query: sequential `select 1` on one open connection (postgres driver), median and p95;
 *   - connection set-up: a new connection + `select 1`, median (the proxy adds local auth, its own TLS and a
 *     token per connection);
 *   - TPS: pgbench -S with 8 clients for a few seconds through each.
 * Prints figures and ratios; asserts nothing.
 *
 *   bun bench/proxy.ts [queries=300] [seconds=5]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { generateToken } from "../cli/pipeline/index.ts";
import { cleanEnv, seedStack, startFixtureSandbox } from "../test-support/cli/fixtures.ts";
import { reportFigures } from "./figures.ts";

const queries = Number(process.argv[2] ?? 300);
const seconds = Number(process.argv[3] ?? 5);
const cli = [process.execPath, join(import.meta.dir, "..", "cli/main.ts")];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

/** Starts a long-running CLI command and resolves with the first JSON event of `type` on its stdout. */
async function startLong(args: string[], env: Record<string, string>, type: string) {
  const child = Bun.spawn([...cli, ...args], { env: cleanEnv(env), stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const line = text.split("\n").find((l) => l.includes(`"type":"${type}"`));
    if (line) {
      void (async () => {
        while (!(await reader.read()).done) {}
      })();
      return { child, event: JSON.parse(line) as Record<string, unknown> };
    }
    const { value, done } = await reader.read();
    if (done)
      throw new Error(`${args[0]} ended before '${type}': ${await new Response(child.stderr).text()}`);
    text += decoder.decode(value, { stream: true });
  }
}

async function perQuery(sql: postgres.Sql): Promise<number[]> {
  await sql`select 1`;
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    const start = performance.now();
    await sql`select 1`;
    times.push(performance.now() - start);
  }
  return times;
}

async function setup(make: () => postgres.Sql, runs = 10): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const sql = make();
    await sql`select 1`;
    times.push(performance.now() - start);
    await sql.end({ timeout: 1 });
  }
  return percentile(times, 0.5);
}

async function pgbench(env: Record<string, string>, conninfo: string): Promise<number> {
  const child = Bun.spawn(["pgbench", "-S", "-n", "-c", "8", "-j", "2", "-T", String(seconds), conninfo], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const tps = /tps = ([\d.]+)/.exec(out)?.[1];
  if (code !== 0 || !tps) throw new Error(`pgbench failed: ${err || out}`);
  return Number(tps);
}

const home = mkdtempSync(join(tmpdir(), "dbtunnel-bench-proxy-"));
const sandbox = await startFixtureSandbox();
const stack = await seedStack(sandbox);
const env = { ...sandbox.env, DBTUNNEL_CONFIG_DIR: home };
Object.assign(process.env, sandbox.env);
const ca = readFileSync(sandbox.caBundlePath, "utf8");
const long: Bun.Subprocess[] = [];
try {
  const listen = await startLong(["connect", "-o", stack.outputsFile, "--listen", "--json"], env, "ready");
  long.push(listen.child);
  const proxy = await startLong(["proxy", "-o", stack.outputsFile, "--json"], env, "listening");
  long.push(proxy.child);
  const secret = (
    await new Response(
      Bun.spawn([...cli, "proxy", "--show-secret"], { env: cleanEnv(env), stdout: "pipe" }).stdout,
    ).text()
  ).trim();
  const token = () =>
    generateToken({ endpoint: stack.endpoint, port: stack.port, user: stack.dbUser, region: sandbox.region });
  const listenPort = Number(listen.event.port);
  const proxyPort = Number(proxy.event.port);
  // The owner of the database may run pgbench's tables.
  await sandbox
    .admin()
    .unsafe(`alter database ${stack.dbName} owner to ${stack.dbUser}`)
    .catch(() => {});

  const viaListen = () =>
    postgres({
      host: "127.0.0.1",
      port: listenPort,
      user: stack.dbUser,
      database: stack.dbName,
      password: token,
      ssl: { ca, servername: stack.endpoint },
      max: 1,
    });
  const viaProxy = () =>
    postgres({
      host: "127.0.0.1",
      port: proxyPort,
      user: stack.dbUser,
      database: stack.dbName,
      password: secret,
      ssl: false,
      max: 1,
    });

  const listenSql = viaListen();
  const proxySql = viaProxy();
  const listenTimes = await perQuery(listenSql);
  const proxyTimes = await perQuery(proxySql);
  await Promise.all([listenSql.end({ timeout: 1 }), proxySql.end({ timeout: 1 })]);
  const listenSetup = await setup(viaListen);
  const proxySetup = await setup(viaProxy);

  // pgbench's tables belong to the IAM user (the database exists since the first connection above).
  await sandbox.admin().unsafe(`alter database ${stack.dbName} owner to ${stack.dbUser}`);
  const listenEnv = {
    PGHOST: stack.endpoint,
    PGHOSTADDR: "127.0.0.1",
    PGPORT: String(listenPort),
    PGSSLMODE: "verify-full",
    PGSSLROOTCERT: sandbox.caBundlePath,
    PGPASSWORD: await token(),
  };
  const init = Bun.spawn(["pgbench", "-i", "-s", "1", "-q", `user=${stack.dbUser} dbname=${stack.dbName}`], {
    env: { PATH: process.env.PATH ?? "", ...listenEnv },
    stdout: "ignore",
    stderr: "ignore",
  });
  if ((await init.exited) !== 0) throw new Error("pgbench -i failed through connect --listen");
  const listenTps = await pgbench(listenEnv, `user=${stack.dbUser} dbname=${stack.dbName}`);
  const proxyTps = await pgbench(
    { PGPASSWORD: secret },
    `host=127.0.0.1 port=${proxyPort} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
  );

  const median = (t: number[]) => percentile(t, 0.5);
  const rows: Array<[string, string, string, string]> = [
    [
      "query latency, median (ms)",
      median(listenTimes).toFixed(3),
      median(proxyTimes).toFixed(3),
      `+${(median(proxyTimes) - median(listenTimes)).toFixed(3)} ms`,
    ],
    [
      "query latency, p95 (ms)",
      percentile(listenTimes, 0.95).toFixed(3),
      percentile(proxyTimes, 0.95).toFixed(3),
      `+${(percentile(proxyTimes, 0.95) - percentile(listenTimes, 0.95)).toFixed(3)} ms`,
    ],
    [
      "new connection + select 1, median (ms)",
      listenSetup.toFixed(1),
      proxySetup.toFixed(1),
      `x${(proxySetup / listenSetup).toFixed(2)}`,
    ],
    [
      `pgbench -S, 8 clients, ${seconds} s (tps)`,
      listenTps.toFixed(0),
      proxyTps.toFixed(0),
      `x${(proxyTps / listenTps).toFixed(2)}`,
    ],
  ];
  console.log(`\nbench/proxy: ${queries} sequential queries on one connection; same sandbox, same run`);
  console.log(
    `${"".padEnd(42)}${"connect --listen".padStart(18)}${"proxy".padStart(12)}${"proxy vs listen".padStart(18)}`,
  );
  for (const [name, a, b, c] of rows)
    console.log(`${name.padEnd(42)}${a.padStart(18)}${b.padStart(12)}${c.padStart(18)}`);
  reportFigures("proxy", [
    {
      name: "proxy query latency (median)",
      value: median(proxyTimes),
      unit: "ms",
      baseline: { name: "connect --listen", value: median(listenTimes) },
    },
    {
      name: "proxy connection set-up (median)",
      value: proxySetup,
      unit: "ms",
      baseline: { name: "connect --listen", value: listenSetup },
    },
    {
      name: "proxy pgbench -S 8 clients",
      value: proxyTps,
      unit: "tps",
      baseline: { name: "connect --listen", value: listenTps },
    },
  ]);
} finally {
  for (const child of long) child.kill("SIGINT");
  await Promise.all(long.map((c) => c.exited));
  await stack.cleanup();
  await sandbox.stop();
  rmSync(home, { recursive: true, force: true });
}
