/**
 * Connect-time benchmark: how long `dbtunnel connect --exec -- psql -c 'select 1'` takes end to end against
 * the sandbox, split into the CLI's steps (from its --json events), compared with psql connecting to the same
 * PostgreSQL directly (same TLS verify-full and IAM token check, no tunnel) and with bare CLI start-up.
 * Prints figures and ratios; asserts nothing.
 *
 *   bun bench/connect.ts [runs=7]
 */
import { join } from "node:path";
import { cleanEnv, seedStack, startFixtureSandbox } from "../cli/test-fixtures.ts";
import { generateToken } from "../cli/token.ts";

const runs = Number(process.argv[2] ?? 7);
const cli = [process.execPath, join(import.meta.dir, "..", "cli/main.ts")];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timed(
  command: string[],
  env: Record<string, string>,
): Promise<{ ms: number; stdout: string; code: number }> {
  const start = performance.now();
  const child = Bun.spawn(command, { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, , code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { ms: performance.now() - start, stdout, code };
}

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
    }

    const total = median(totals);
    const rows: [string, number][] = [
      ["connect --exec psql (total)", total],
      ...Object.entries(steps).map(([step, values]): [string, number] => [`  step ${step}`, median(values)]),
      ["direct psql (no tunnel)", median(direct)],
      ["CLI start-up (--version)", median(startup)],
    ];
    console.log(
      `dbtunnel connect benchmark, ${runs} runs, medians (sandbox, load ${(await Bun.file("/proc/loadavg").text()).split(" ")[0]})`,
    );
    for (const [name, ms] of rows) console.log(`${name.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms`);
    console.log(`ratio connect / direct psql        ${(total / median(direct)).toFixed(1)}x`);
    console.log(`tunnel + CLI overhead              ${(total - median(direct)).toFixed(0)} ms`);
  } finally {
    await stack.cleanup();
  }
} finally {
  await sandbox.stop();
}
