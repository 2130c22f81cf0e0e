/**
 * The background process behind `dbtunnel sandbox up`: starts a sandbox, publishes its env in
 * daemon.json and keeps it up until SIGTERM/SIGINT/SIGHUP (`dbtunnel sandbox down`). It owns moto and
 * PostgreSQL, so if it dies for any reason their watchdogs stop them.
 *
 * Usage: bun sandbox/daemon.ts --state-dir <dir> [--region <region>]
 *   (a standalone dbtunnel executable runs it as `dbtunnel __sandbox-daemon --state-dir ...`)
 */

import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type DaemonState,
  ensureStateDir,
  readDaemonState,
  statePath,
  writeDaemonState,
} from "./daemon-state.ts";
import { type Sandbox, startSandbox } from "./index.ts";
import { processStartTime } from "./state.ts";

/** Runs the daemon until a signal stops it (exits the process; never returns normally). */
export async function runDaemon(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { "state-dir": { type: "string" }, region: { type: "string" } },
    strict: true,
  });
  const stateDir = values["state-dir"];
  if (!stateDir) {
    console.error(
      "dbtunnel sandbox daemon: --state-dir is required (it is started by 'dbtunnel sandbox up')",
    );
    process.exit(2);
  }
  ensureStateDir(stateDir);

  const base: Pick<DaemonState, "pid" | "startTime" | "startedAt"> = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? "",
    startedAt: new Date().toISOString(),
  };
  writeDaemonState(stateDir, { ...base, state: "starting" });

  let sandbox: Sandbox | undefined;
  let shuttingDown = false;

  async function shutdown(code: number): Promise<never> {
    if (!shuttingDown) {
      shuttingDown = true;
      await sandbox?.stop().catch(() => {});
      // Remove the state only if it is still ours (a newer daemon may have replaced a failed one).
      if (readDaemonState(stateDir as string)?.pid === process.pid)
        rmSync(statePath(stateDir as string), { force: true });
    }
    process.exit(code);
  }

  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));

  try {
    sandbox = await startSandbox({
      ...(values.region ? { region: values.region } : {}),
      log: (line) => console.error(`${new Date().toISOString()} ${line}`),
    });
    if (shuttingDown) await shutdown(0);
    writeDaemonState(stateDir, {
      ...base,
      state: "ready",
      env: sandbox.env,
      dir: sandbox.dir,
      motoUrl: sandbox.motoUrl,
      gatewayUrl: sandbox.gateway.url,
      ldapPort: sandbox.ldapPort,
      postgres: {
        port: sandbox.postgres.port,
        user: sandbox.postgres.superuser.user,
        password: sandbox.postgres.superuser.password,
        tlsServerName: sandbox.postgres.superuser.tlsServerName,
      },
      timings: sandbox.timings,
    });
    console.error(
      `${new Date().toISOString()} sandbox ready in ${sandbox.timings.total} ms: ${sandbox.gateway.url}`,
    );
  } catch (error) {
    const message =
      (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unknown error";
    console.error(`${new Date().toISOString()} sandbox failed to start: ${message}`);
    writeDaemonState(stateDir, { ...base, state: "failed", error: message });
    process.exit(1);
  }
}

if (import.meta.main) await runDaemon(process.argv.slice(2));
