/**
 * Connect-time benchmark: how long `dbtunnel connect --exec -- psql -c 'select 1'` takes end to end against
 * the sandbox, split into the CLI's steps (from its --json events), compared with psql connecting to the same
 * PostgreSQL directly (same TLS verify-full and IAM token check, no tunnel), with bare CLI start-up, and with
 * the procedure dbtunnel replaces: `aws ssm start-session` (the machine's AWS CLI, driving dbtunnel's
 * session-manager-plugin entry), `aws rds generate-db-auth-token`, then psql, then Ctrl-C.
 * Prints figures and ratios; asserts nothing.
 *
 *   bun bench/connect.ts [runs=7]
 */
import { join } from "node:path";
import { generateToken } from "../cli/pipeline/index.ts";
import { cleanEnv, seedStack, startFixtureSandbox } from "../test-support/cli/fixtures.ts";
import { reportFigures } from "./figures.ts";

const runs = Number(process.argv[2] ?? 7);
const cli = [process.execPath, join(import.meta.dir, "..", "cli/main.ts")];
const pluginDir = join(import.meta.dir, "..", "bin");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timed(
  command: string[],
  env: Record<string, string>,
): Promise<{ ms: number; stdout: string; stderr: string; code: number }> {
  const start = performance.now();
  const child = Bun.spawn(command, { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { ms: performance.now() - start, stdout, stderr, code };
}

/** Reads a child's stdout until `pattern` matches; returns the text so far (the rest keeps draining). */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await reader.read()).done) {}
  })();
  return text;
}

/** The blog-post procedure, scripted: AWS CLI session (dbtunnel's plugin on PATH), CLI token, psql, Ctrl-C. */
async function awsCliPath(
  env: Record<string, string>,
  stack: { instanceId: string; endpoint: string; port: number; dbUser: string },
  region: string,
  caBundle: string,
): Promise<number> {
  const start = performance.now();
  const session = Bun.spawn(
    [
      "setsid",
      "aws",
      "ssm",
      "start-session",
      "--target",
      stack.instanceId,
      "--document-name",
      "AWS-StartPortForwardingSessionToRemoteHost",
      "--parameters",
      `host=${stack.endpoint},portNumber=${stack.port},localPortNumber=0`,
      "--endpoint-url",
      env.AWS_ENDPOINT_URL ?? "",
      "--region",
      region,
    ],
    { env: { ...env, PATH: `${pluginDir}:${env.PATH ?? ""}` }, stdout: "pipe", stderr: "pipe" },
  );
  try {
    const banner = await readUntil(session.stdout, /Waiting for connections/);
    const localPort = /Port (\d+) opened/.exec(banner)?.[1];
    if (!localPort) throw new Error(`aws ssm start-session printed no port: ${banner}`);
    const token = await timed(
      [
        "aws",
        "rds",
        "generate-db-auth-token",
        "--hostname",
        stack.endpoint,
        "--port",
        String(stack.port),
      ].concat(["--username", stack.dbUser, "--region", region]),
      env,
    );
    if (token.code !== 0) throw new Error(`aws rds generate-db-auth-token failed: ${token.stderr.trim()}`);
    const psql = await timed(["psql", "-tAc", "select 1"], {
      ...env,
      PGHOST: stack.endpoint,
      PGHOSTADDR: "127.0.0.1",
      PGPORT: localPort,
      PGUSER: stack.dbUser,
      PGDATABASE: "postgres",
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: caBundle,
      PGPASSWORD: token.stdout.trim(),
    });
    if (psql.code !== 0) throw new Error(`psql through the AWS CLI session failed: ${psql.stderr.trim()}`);
    process.kill(-session.pid, "SIGINT"); // what Ctrl-C does: the CLI leaves it to the plugin
    await session.exited;
    return performance.now() - start;
  } finally {
    if (session.exitCode === null) process.kill(-session.pid, "SIGKILL");
  }
}

const hasAwsCli = Bun.which("aws") !== null;
const sandbox = await startFixtureSandbox();
try {
  // The in-process baseline token uses the SDK's default chain: point it at the sandbox like the CLI.
  Object.assign(process.env, sandbox.env);
  const stack = await seedStack(sandbox);
  try {
    const env = cleanEnv(sandbox.env);
    const steps: Record<string, number[]> = {};
    const totals: number[] = [];
    const direct: number[] = [];
    const startup: number[] = [];
    const viaAwsCli: number[] = [];

    for (let i = 0; i < runs; i++) {
      const run = await timed(
        [...cli, "connect", "-o", stack.outputsFile, "--json", "--exec", "--", "psql", "-tAc", "select 1"],
        env,
      );
      if (run.code !== 0) throw new Error(`connect failed (exit ${run.code}): ${run.stdout}`);
      totals.push(run.ms);
      for (const line of run.stdout.trim().split("\n")) {
        const event = JSON.parse(line) as { type: string; step?: string; status?: string; ms?: number };
        if (event.type === "step" && event.status === "done" && event.step && event.ms !== undefined) {
          const samples = steps[event.step] ?? [];
          samples.push(event.ms);
          steps[event.step] = samples;
        }
      }

      // Baseline: the same psql, TLS verify-full and IAM-token check, straight to the sandbox PostgreSQL.
      const token = await generateToken({
        endpoint: stack.endpoint,
        port: stack.port,
        user: stack.dbUser,
        region: sandbox.region,
      });
      const baseline = await timed(["psql", "-tAc", "select 1"], {
        ...env,
        PGHOST: stack.endpoint,
        PGHOSTADDR: "127.0.0.1",
        PGPORT: String(sandbox.postgresPort),
        PGUSER: stack.dbUser,
        PGDATABASE: "postgres",
        PGSSLMODE: "verify-full",
        PGSSLROOTCERT: sandbox.caBundlePath,
        PGPASSWORD: token,
      });
      if (baseline.code !== 0) throw new Error("direct psql baseline failed");
      direct.push(baseline.ms);
      startup.push((await timed([...cli, "--version"], env)).ms);
      if (hasAwsCli) viaAwsCli.push(await awsCliPath(env, stack, sandbox.region, sandbox.caBundlePath));
    }

    const total = median(totals);
    const rows: [string, number][] = [
      ["connect --exec psql (total)", total],
      ...Object.entries(steps).map(([step, values]): [string, number] => [`  step ${step}`, median(values)]),
      ["direct psql (no tunnel)", median(direct)],
      ["CLI start-up (--version)", median(startup)],
      ...(hasAwsCli ? [["aws ssm start-session + token + psql", median(viaAwsCli)] as [string, number]] : []),
    ];
    console.log(
      `dbtunnel connect benchmark, ${runs} runs, medians (sandbox, load ${(await Bun.file("/proc/loadavg").text()).split(" ")[0]})`,
    );
    for (const [name, ms] of rows) console.log(`${name.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms`);
    console.log(`ratio connect / direct psql        ${(total / median(direct)).toFixed(1)}x`);
    console.log(`tunnel + CLI overhead              ${(total - median(direct)).toFixed(0)} ms`);
    console.log(`target: connect ≤ 1500 ms           ${(total / 1500).toFixed(2)}x of target`);
    if (hasAwsCli) {
      console.log(
        `ratio connect / AWS CLI path       ${(total / median(viaAwsCli)).toFixed(2)}x (below 1 = faster)`,
      );
    } else {
      console.log("AWS CLI path                       skipped: no 'aws' on PATH");
    }
    reportFigures("connect", [
      {
        name: "connect --exec psql select 1",
        value: total,
        unit: "ms",
        baseline: hasAwsCli
          ? { name: "aws ssm start-session + token + psql", value: median(viaAwsCli) }
          : { name: "direct psql, no tunnel", value: median(direct) },
        target: { value: 1500, better: "lower" },
      },
      { name: "CLI start-up (--version, from source)", value: median(startup), unit: "ms" },
    ]);
  } finally {
    await stack.cleanup();
  }
} finally {
  await sandbox.stop();
}
