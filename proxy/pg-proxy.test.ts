/**
 * The PostgreSQL proxy against the sandbox's real PostgreSQL (TLS with the sandbox CA, IAM tokens checked
 * by its verifier), with real clients: psql (plain and local TLS), the `postgres` driver, a cancelled
 * query, wrong secrets and refused logins. Streams go straight to the database port here; the CLI tests
 * run the same proxy through the Session Manager emulator.
 */
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { generateToken } from "../cli/pipeline/index.ts";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { fixtureFromSandbox, type SeededStack, seedStack } from "../test-support/cli/fixtures.ts";
import { until } from "../test-support/wait.ts";
import { loadOrCreateLocalCertificate } from "./local-tls.ts";
import { type RunningProxy, startProxy } from "./server.ts";
import type { LocalAuth, ProxyEvent, StreamSource, UpstreamTarget } from "./types.ts";

let sandbox: Sandbox;
let stack: SeededStack;
let dir: string;
const SECRET = "s3cr3t-local-proxy-secret-abcdefghij";
const running: RunningProxy[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-proxy-test-"));
  sandbox = await startSandbox({ log: () => {} });
  // The token source signs with the SDK's default credential chain, as in the CLI: the sandbox account's.
  Object.assign(process.env, sandbox.env);
  stack = await seedStack(fixtureFromSandbox(sandbox), { userWithoutRdsIam: "no_iam_user" });
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.close()));
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Streams straight to the sandbox PostgreSQL that plays the stack's endpoint. */
function directStreams(): StreamSource {
  return {
    async open() {
      const to = await sandbox.mirror.resolveDestination(stack.endpoint, stack.port);
      return new Promise((resolve, reject) => {
        const socket = connectTcp(to.port, to.host, () => resolve(socket));
        socket.once("error", reject);
      });
    },
  };
}

function upstream(overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return {
    engine: "postgres",
    endpoint: stack.endpoint,
    port: stack.port,
    ca: readFileSync(sandbox.caBundlePath, "utf8"),
    streams: directStreams(),
    tokens: (user) =>
      generateToken({ endpoint: stack.endpoint, port: stack.port, user, region: sandbox.region }),
    defaultDatabase: stack.dbName,
    ...overrides,
  };
}

async function proxy(
  options: { auth?: LocalAuth; localTls?: boolean; upstream?: Partial<UpstreamTarget> } = {},
): Promise<{ proxy: RunningProxy; events: ProxyEvent[] }> {
  const events: ProxyEvent[] = [];
  const started = await startProxy({
    upstream: upstream(options.upstream),
    auth: options.auth ?? { kind: "secret", secret: SECRET },
    ...(options.localTls ? { localTls: loadOrCreateLocalCertificate(dir) } : {}),
    onEvent: (e) => events.push(e),
  });
  running.push(started);
  return { proxy: started, events };
}

async function psql(conninfo: string, sql: string, password?: string) {
  const child = Bun.spawn(["psql", conninfo, "-XAtc", sql], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...(password ? { PGPASSWORD: password } : {}) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, out: out.trim(), err };
}

const WHO =
  "select current_user || '|' || current_database() || '|' || ssl from pg_stat_ssl where pid = pg_backend_pid()";

describe("PostgreSQL proxy", () => {
  test("psql with sslmode=disable logs in with the local secret; the server sees a TLS IAM login", async () => {
    const { proxy: p, events } = await proxy();
    const result = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      WHO,
      SECRET,
    );
    expect(result.err).toBe("");
    expect(result.out).toBe(`${stack.dbUser}|${stack.dbName}|true`);
    await until(() => events.some((e) => e.type === "client-disconnected" && e.bytesOut > 0));
    expect(events.map((e) => e.type)).toContain("client-authenticated");
  }, 30_000);

  test("psql with sslmode=require gets the local certificate; without --local-tls it is told the proxy has no TLS", async () => {
    const tls = await proxy({ localTls: true });
    const who = await psql(
      `host=127.0.0.1 port=${tls.proxy.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=require`,
      WHO,
      SECRET,
    );
    expect(who.err).toBe("");
    expect(who.out).toBe(`${stack.dbUser}|${stack.dbName}|true`);
    const plain = await proxy();
    const refused = await psql(
      `host=127.0.0.1 port=${plain.proxy.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=require`,
      "select 1",
      SECRET,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("server does not support SSL");
  }, 30_000);

  test("the postgres driver connects, names a database, and sees the server's parameters", async () => {
    const { proxy: p } = await proxy();
    const sql = postgres({
      host: "127.0.0.1",
      port: p.port,
      user: stack.dbUser,
      password: SECRET,
      database: "postgres",
      ssl: false,
      max: 2,
    });
    try {
      const [row] = await sql`select current_database() as db, current_setting('server_version') as v`;
      expect(row?.db).toBe("postgres");
      expect(String(row?.v)).toMatch(/^15\./);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 30_000);

  test("a wrong secret gets an authentication error and nothing reaches the database", async () => {
    let opened = 0;
    const counting: StreamSource = {
      open() {
        opened += 1;
        return directStreams().open();
      },
    };
    const { proxy: p, events } = await proxy({ upstream: { streams: counting } });
    const result = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 1",
      "another-engineers-secret-0123456789",
    );
    expect(result.code).not.toBe(0);
    expect(result.err).toContain(
      `password authentication failed for user "${stack.dbUser}" at the dbtunnel proxy`,
    );
    expect(result.err).toContain("dbtunnel proxy --show-secret");
    expect(opened).toBe(0);
    await until(() => events.some((e) => e.type === "client-refused"));
  }, 30_000);

  test("--no-local-auth lets a client in without a password", async () => {
    const { proxy: p } = await proxy({ auth: { kind: "none" } });
    const result = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 7*6",
    );
    expect(result.err).toBe("");
    expect(result.out).toBe("42");
  }, 30_000);

  test("a query cancelled from the client stops on the server; a guessed cancel key is ignored", async () => {
    const { proxy: p, events } = await proxy();
    const sql = postgres({
      host: "127.0.0.1",
      port: p.port,
      user: stack.dbUser,
      password: SECRET,
      database: stack.dbName,
      ssl: false,
      max: 1,
    });
    try {
      const started = performance.now();
      const query = sql`select pg_sleep(20)`;
      const outcome = query.then(
        () => "finished",
        (error: { code?: string }) => error.code,
      );
      await until(async () => {
        const admin = sandbox.postgres.connect();
        try {
          const rows =
            await admin`select 1 from pg_stat_activity where query like 'select pg_sleep(20)%' and state = 'active'`;
          return rows.length > 0;
        } finally {
          await admin.end({ timeout: 1 });
        }
      }, 10_000);
      query.cancel();
      expect(await outcome).toBe("57014");
      expect(performance.now() - started).toBeLessThan(15_000);
      await until(() => events.some((e) => e.type === "cancel-forwarded"));
      // A CancelRequest with a key the proxy never handed out goes nowhere.
      const guess = connectTcp(p.port, "127.0.0.1");
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4);
      packet.writeInt32BE(12345, 8);
      packet.writeInt32BE(678, 12);
      guess.end(packet);
      await until(() => events.some((e) => e.type === "cancel-ignored"));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 40_000);

  test("a connection opened 16 minutes after the proxy started gets a fresh token", async () => {
    // The proxy starts "16 minutes ago": a token made then would be expired by now (15 min lifetime).
    setSystemTime(new Date(Date.now() - 16 * 60_000));
    let p: RunningProxy;
    try {
      p = (await proxy()).proxy;
    } finally {
      setSystemTime();
    }
    const result = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 'fresh'",
      SECRET,
    );
    expect(result.err).toBe("");
    expect(result.out).toBe("fresh");
  }, 30_000);

  test("upstream refusals reach the client with the reason: unknown user, user without rds_iam, wrong CA", async () => {
    const { proxy: p } = await proxy();
    for (const user of ["nobody_here", "no_iam_user"]) {
      const result = await psql(
        `host=127.0.0.1 port=${p.port} user=${user} sslmode=disable`,
        "select 1",
        SECRET,
      );
      expect(result.code, user).not.toBe(0);
      expect(result.err, user).toContain(`the database asked user "${user}" for a password (SCRAM)`);
      expect(result.err, user).toContain(`GRANT rds_iam TO "${user}"`);
    }
    const otherCa = loadOrCreateLocalCertificate(join(dir, "other-ca")).cert;
    const wrongCa = await proxy({ upstream: { ca: otherCa } });
    const result = await psql(
      `host=127.0.0.1 port=${wrongCa.proxy.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 1",
      SECRET,
    );
    expect(result.code).not.toBe(0);
    expect(result.err).toContain(`the certificate of ${stack.endpoint} is not signed by the CA bundle`);
    expect(result.err).toContain("--ca-bundle");
  }, 30_000);

  test("a stream that cannot be opened becomes an ErrorResponse with the reason, never a silent close", async () => {
    const { proxy: p } = await proxy({
      upstream: {
        streams: {
          open: () => Promise.reject(new Error("the session could not start (TargetNotConnected)")),
        },
      },
    });
    const result = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 1",
      SECRET,
    );
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("TargetNotConnected");
  }, 30_000);

  test("a client that connects and never logs in is dropped at the login deadline", async () => {
    const events: ProxyEvent[] = [];
    const p = await startProxy({
      upstream: upstream(),
      auth: { kind: "secret", secret: SECRET },
      loginTimeoutMs: 200,
      onEvent: (e) => events.push(e),
    });
    running.push(p);
    const silent = connectTcp(p.port, "127.0.0.1");
    const closed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    silent.on("error", () => {});
    await closed;
    expect(events.map((e) => e.type)).toEqual(["client-connected", "client-disconnected"]);
  });

  test("a malformed startup packet gets an ErrorResponse, and the proxy keeps serving", async () => {
    const { proxy: p } = await proxy();
    const reply = await new Promise<Buffer>((resolve) => {
      const socket = connectTcp(p.port, "127.0.0.1", () => {
        const bogus = Buffer.alloc(8);
        bogus.writeInt32BE(8, 0);
        bogus.writeInt32BE(0x00090000, 4); // protocol 9.0
        socket.write(bogus);
      });
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("close", () => resolve(Buffer.concat(chunks)));
    });
    expect(reply.subarray(0, 1).toString()).toBe("E");
    expect(reply.toString("latin1")).toContain("unsupported protocol version 9.0");
    const after = await psql(
      `host=127.0.0.1 port=${p.port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
      "select 1",
      SECRET,
    );
    expect(after.out).toBe("1");
  }, 30_000);

  test("listens on 127.0.0.1 only", async () => {
    const { proxy: p } = await proxy();
    expect(p.host).toBe("127.0.0.1");
    const other = Bun.spawnSync(["sh", "-c", `ss -ltn 'sport = :${p.port}'`], {
      stdout: "pipe",
    }).stdout.toString();
    expect(other).toContain(`127.0.0.1:${p.port}`);
    expect(other).not.toContain(`0.0.0.0:${p.port}`);
  });
});
