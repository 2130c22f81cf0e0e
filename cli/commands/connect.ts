/**
 * `dbtunnel connect`: find the stack → jump host up → native Session Manager tunnel → fresh IAM token →
 * psql/mysql (or --exec, --listen, --print-env) with TLS verify-full → clean up on every path.
 */

import type { SSMClient } from "@aws-sdk/client-ssm";
import { ssmDocumentNameProblem } from "../../contract/values.ts";
import type { PoolEvent, TunnelPool, TunnelPoolOptions } from "../../tunnel/pool.ts";
import type { Tunnel, TunnelCloseReason, TunnelEvent } from "../../tunnel/types.ts";
import { TunnelError } from "../../tunnel/types.ts";
import { parseCommandArgs, parsePort } from "../args.ts";
import { resolveCaBundle } from "../ca-bundle.ts";
import type { CommandContext } from "../command.ts";
import { CliError, describeError, type ErrorContext, UsageError } from "../errors.ts";
import { addHostsEntry, assertHostsFileWritable, type HostsEntry, hostsFilePath } from "../hosts-file.ts";
import { clientMissing, explainClientFailure, launchClient } from "../launch.ts";
import { exitCodeForSignal, onExit } from "../lifecycle.ts";
import { assertLocalPortFree, portInUse } from "../local-port.ts";
import { findMysqlClient, type MysqlClient, mysqlArgs, mysqlExecEnv } from "../mysql-client.ts";
import {
  awsClients,
  type ClientParams,
  clientParameters,
  exportLines,
  findTarget,
  libpqConnectionString,
  libpqEnv,
  openSession,
  readyJumpHost,
  signToken,
} from "../pipeline/index.ts";
import {
  inPrivateHosts,
  type PrivateHosts,
  privateHostsAvailable,
  writePrivateHosts,
} from "../private-hosts.ts";
import { releaseStdout } from "../release-stdout.ts";
import { describeJumpHost, isMysql, type StackTarget } from "../target.ts";
import { pickUser, TARGET_HELP, TARGET_OPTIONS, tokenCommand } from "../target-options.ts";
import type { Reporter } from "../ui.ts";

export const help = `Usage: dbtunnel connect [target options] [options] [--exec -- COMMAND [ARGS...]]

Opens a Session Manager port-forwarding session to the stack's database (starting the jump host if it
was auto-stopped), generates a fresh RDS IAM token for the real endpoint, and runs psql with
sslmode=verify-full (MySQL: mysql/mariadb with VERIFY_IDENTITY / --ssl-verify-server-cert and the token
as a cleartext password inside that TLS). Nothing listens beyond 127.0.0.1 and the session closes when
the client exits.

${TARGET_HELP}

Options:
  -d, --database <name>  database name (default: the stack's db_name)
  -p, --local-port <n>   local port for the tunnel (default: a free port)
      --ca-bundle <pem>  CA bundle that verifies the database (default: DBTUNNEL_CA_BUNDLE, else the RDS
                         global bundle, downloaded once to the cache). Verification cannot be disabled.
      --hosts-file       map the endpoint to 127.0.0.1 in /etc/hosts (or DBTUNNEL_HOSTS_FILE) for this
                         run instead of libpq's hostaddr (needs write access: sudo). MySQL clients have no
                         hostaddr: on Linux they run in a private namespace with their own hosts file (no
                         sudo); elsewhere, and for MySQL with --listen/--print-env, this mode is used.
      --exec -- CMD ...  run CMD with PGHOST, PGHOSTADDR, PGPORT, PGUSER, PGDATABASE, PGSSLMODE,
                         PGSSLROOTCERT, PGPASSWORD set (MySQL: MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD and
                         an option file with the TLS settings in MYSQL_HOME / DBTUNNEL_MYSQL_CNF); exit
                         with its exit code
      --listen           keep the tunnel open for other tools and print the connection string
      --print-env        keep the tunnel open and print 'export' lines (PGPASSWORD via 'dbtunnel token')
                         With '&' inside "$(...)" either returns at once and the tunnel stays open in
                         the background (it prints the pid to kill on stderr).
      --sessions <n>     with --exec, --listen or --print-env: keep n Session Manager sessions (1-32,
                         default 1) and put each new local connection on the least busy one; one session
                         moves about 0.6-1 MB/s (the agent paces its reads), n sessions n times that for
                         parallel work (pg_dump --jobs n, GUIs, pgbench). With these modes the local port
                         outlives its session: a session that ends is replaced (its open connections are
                         closed with a message) and the jump host is started again if it was stopped.
      --reason <text>    reason recorded with StartSession in CloudTrail
      --document <name>  Session document of type Port to start (default: the stack's pinned document
                         from its outputs, session_document_name; use this for stacks dbtunnel did not
                         deploy, e.g. AWS-StartPortForwardingSessionToRemoteHost)
      --json             JSON event lines on stdout (a launched client's stdout goes to stderr)
  -v, --verbose          tunnel events and stack traces

Examples:
  dbtunnel connect --outputs outputs.json
  dbtunnel connect --stack dev --region eu-west-1 --user app_ro
  dbtunnel connect -o outputs.json --exec -- pg_dump --schema-only
  dbtunnel connect -o mysql-outputs.json --exec -- mariadb -e 'select current_user()'
  dbtunnel connect -o outputs.json --listen --local-port 15432
  dbtunnel connect -o outputs.json --sessions 4 --exec -- pg_dump --jobs 4 -Fd -f dump
  eval "$(dbtunnel connect -o outputs.json --print-env &)" && psql -c 'select 1'   # tunnel in the background
  sudo dbtunnel connect -o outputs.json --hosts-file`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  database: { type: "string", short: "d" },
  "local-port": { type: "string", short: "p" },
  "ca-bundle": { type: "string" },
  "hosts-file": { type: "boolean" },
  exec: { type: "boolean" },
  listen: { type: "boolean" },
  "print-env": { type: "boolean" },
  sessions: { type: "string" },
  reason: { type: "string" },
  document: { type: "string" },
} as const;

type Mode = "interactive" | "exec" | "listen" | "print-env";

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, rest } = parseCommandArgs(argv, OPTIONS, "dbtunnel connect");
  const localPort = parsePort(values["local-port"], "--local-port", "dbtunnel connect");
  const modes = (["exec", "listen", "print-env"] as const).filter((m) => values[m]);
  if (modes.length > 1)
    throw new UsageError(`--${modes.join(" and --")} cannot be combined`, "dbtunnel connect --help");
  const mode: Mode = modes[0] ?? "interactive";
  if (mode === "exec" && rest.length === 0) {
    throw new UsageError(
      "--exec needs a command after '--', e.g. --exec -- psql -c 'select 1'",
      "dbtunnel connect --help",
    );
  }
  if (mode !== "exec" && rest.length > 0) {
    throw new UsageError(`arguments after '--' need --exec (got '${rest[0]}')`, "dbtunnel connect --help");
  }
  const sessions = parseSessions(values.sessions, mode);
  const code = await connect(
    {
      outputs: values.outputs,
      stack: values.stack,
      db: values.db,
      region: values.region,
      user: values.user,
      database: values.database,
      localPort,
      caBundle: values["ca-bundle"],
      hostsFile: values["hosts-file"] ?? false,
      mode,
      command: rest,
      reason: values.reason,
      sessions,
      document: checkDocumentName(values.document),
    },
    ctx,
  );
  // Last event, after the session is closed and the hosts file restored.
  ctx.ui.event({ type: "exit", code });
  return code;
}

export interface ConnectOptions {
  readonly outputs?: string;
  readonly stack?: string;
  readonly db?: string;
  readonly region?: string;
  readonly user?: string;
  readonly database?: string;
  readonly localPort?: number;
  readonly caBundle?: string;
  readonly hostsFile: boolean;
  readonly mode: Mode;
  readonly command: readonly string[];
  readonly reason?: string;
  /** Sessions behind a listener that outlives them (exec/listen/print-env); undefined = plain connect. */
  readonly sessions?: number;
  /** --document: overrides the stack's pinned document. */
  readonly document?: string;
}

function parseSessions(value: string | undefined, mode: Mode): number | undefined {
  if (mode === "interactive") {
    if (value !== undefined) {
      throw new UsageError("--sessions needs --exec, --listen or --print-env", "dbtunnel connect --help");
    }
    return undefined;
  }
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 32) {
    throw new UsageError(
      `--sessions must be a number from 1 to 32, got '${value.slice(0, 20)}'`,
      "dbtunnel connect --help",
    );
  }
  return n;
}

/** `--document` must be an SSM document name (or ARN): nothing else reaches StartSession. */
function checkDocumentName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = ssmDocumentNameProblem(value);
  if (problem) throw new UsageError(`--document ${problem}`, "dbtunnel connect --help");
  return value;
}

/**
 * How the client finds the tunnel while verifying the real endpoint name: libpq's hostaddr (PostgreSQL),
 * a private hosts file in a mount namespace (MySQL on Linux, no sudo), or a block in the system hosts file.
 */
type NameResolution = "hostaddr" | "private-hosts" | "hosts-file";

/** Everything decided before any AWS session is opened; each check here fails without side effects. */
interface Plan {
  readonly target: StackTarget;
  readonly user: string;
  readonly mysql: boolean;
  /** The installed MySQL client, for MySQL targets. */
  readonly mysqlClient?: MysqlClient;
  readonly resolution: NameResolution;
  readonly useHostsFile: boolean;
  readonly hostsPath: string;
  readonly caBundle: string;
}

type MutableErrorContext = { -readonly [K in keyof ErrorContext]: ErrorContext[K] };

export async function connect(options: ConnectOptions, ctx: CommandContext): Promise<number> {
  const { ui, signal } = ctx;
  const errorCtx: MutableErrorContext = {};
  let tunnel: Tunnel | undefined;
  let hosts: HostsEntry | undefined;
  let privateHosts: PrivateHosts | undefined;
  let unregisterHosts: (() => void) | undefined;
  try {
    const plan = await makePlan(options, ui, errorCtx);
    abortIfRequested(signal);
    // The pipeline: target (in makePlan) → jump host ready → session → token (runClient) → client parameters.
    const aws = awsClients(plan.target.region);
    let ssmTarget = await readyJumpHost(plan.target, { aws, signal }, ui);
    errorCtx.target = ssmTarget;
    abortIfRequested(signal);

    // A replacement session trusts Session Manager's "Online" unless the previous replacement did and
    // still found no agent: then the EC2 state is checked (and a stopped host started).
    let trustOnline = true;
    const open = async (): Promise<Tunnel> =>
      options.sessions === undefined
        ? await openSession(
            plan.target,
            {
              ssmTarget,
              ssm: await aws.ssm(),
              localPort: options.localPort,
              reason: options.reason ?? `dbtunnel connect ${plan.user}@${plan.target.db.identifier}`,
              ...(options.document ? { documentName: options.document } : {}),
              signal,
            },
            ui,
          )
        : await openPool(
            plan,
            ssmTarget,
            await aws.ssm(),
            options,
            ui,
            signal,
            async () => {
              const target = await readyJumpHost(plan.target, { aws, signal, trustOnline }, ui);
              trustOnline = false;
              return { target };
            },
            () => {
              trustOnline = true;
            },
          );
    try {
      tunnel = await open();
    } catch (error) {
      // "Online" can outlive a stop by moments: check the instance itself (and start it), then once more.
      if (!(error instanceof TunnelError && error.code === "TargetNotConnected")) throw error;
      if (plan.target.jumpHost.kind !== "ec2") throw error;
      ssmTarget = await readyJumpHost(plan.target, { aws, signal, trustOnline: false }, ui);
      abortIfRequested(signal);
      tunnel = await open();
    }
    // The agent's dial failures explain a client's "server closed the connection" better than psql can.
    let dialFailure: string | undefined;
    tunnel.on((event) => {
      if (event.type === "connection-failed") dialFailure = dialFailureMessage(event);
      reportTunnelEvent(ui, event);
    });

    if (plan.useHostsFile) {
      // Register the sync cleanup BEFORE writing, so a crash between the two still removes the block.
      let entry: HostsEntry | undefined;
      unregisterHosts = onExit(() => entry?.remove());
      entry = addHostsEntry(plan.hostsPath, [plan.target.db.endpoint]);
      hosts = entry;
      ui.debug(`hosts file ${plan.hostsPath}: ${plan.target.db.endpoint} → 127.0.0.1 (pid ${process.pid})`);
    }
    if (plan.resolution === "private-hosts") {
      let file: PrivateHosts | undefined;
      unregisterHosts = onExit(() => file?.remove());
      file = writePrivateHosts([plan.target.db.endpoint]);
      privateHosts = file;
      ui.debug(
        `private hosts file ${privateHosts.path}: ${plan.target.db.endpoint} → 127.0.0.1 for the client only`,
      );
    }

    const params = clientParameters(plan.target, {
      localPort: tunnel.port,
      user: plan.user,
      database: options.database,
      caBundle: plan.caBundle,
      hostaddr: plan.resolution === "hostaddr",
    });
    if (options.mode === "listen" || options.mode === "print-env") {
      return await holdOpen(tunnel, plan.target, params, options, ui, signal);
    }
    abortIfRequested(signal);
    return await runClient(plan, params, options, ui, () => dialFailure, privateHosts);
  } catch (error) {
    if (signal.aborted) {
      ui.info("Cancelled.");
      return exitCodeForSignal(signal.reason);
    }
    throw describeError(error, errorCtx);
  } finally {
    if (tunnel) await closeQuietly(tunnel, ui);
    hosts?.remove();
    privateHosts?.remove();
    unregisterHosts?.();
  }
}

/** Finds the target and checks everything local (client, hosts file, port, CA) before touching AWS sessions. */
async function makePlan(options: ConnectOptions, ui: Reporter, errorCtx: MutableErrorContext): Promise<Plan> {
  const target = await findTarget(
    { outputs: options.outputs, stack: options.stack, db: options.db, region: options.region },
    ui,
  );
  errorCtx.stackName = target.stackName;
  errorCtx.engineerPolicyArn = target.engineerPolicyArn;
  errorCtx.target = describeJumpHost(target.jumpHost);

  const user = await pickUser(target, options.user);
  const mysql = isMysql(target.db.engine);
  const mysqlClient = mysql ? await findMysqlClient() : undefined;
  if (options.mode === "interactive") {
    if (mysql && !mysqlClient) throw clientMissing("mysql");
    if (!mysql && !Bun.which("psql")) throw clientMissing("psql");
  }
  const resolution = await chooseNameResolution(options, mysql);
  const useHostsFile = resolution === "hosts-file";
  const hostsPath = hostsFilePath();
  if (useHostsFile) assertHostsFileWritable(hostsPath);
  if (options.localPort !== undefined) await assertLocalPortFree(options.localPort);
  const ca = await resolveCaBundle({ flag: options.caBundle });
  ui.debug(`CA bundle ${ca.path} (${ca.source}, ${ca.certificates} certificates)`);
  ui.debug(
    `name resolution: ${resolution}${mysqlClient ? `, client ${mysqlClient.program} (${mysqlClient.flavor})` : ""}`,
  );
  return {
    target,
    user,
    mysql,
    ...(mysqlClient ? { mysqlClient } : {}),
    resolution,
    useHostsFile,
    hostsPath,
    caBundle: ca.path,
  };
}

/**
 * PostgreSQL: hostaddr unless --hosts-file. MySQL clients have no hostaddr: a private hosts namespace for
 * the client when it runs under us (Linux, no sudo), else the system hosts file; tools started later by
 * the engineer (--listen, --print-env) live outside any namespace, so they need the system hosts file.
 */
async function chooseNameResolution(options: ConnectOptions, mysql: boolean): Promise<NameResolution> {
  if (options.hostsFile) return "hosts-file";
  if (!mysql) return "hostaddr";
  const clientRunsUnderUs = options.mode === "interactive" || options.mode === "exec";
  return clientRunsUnderUs && (await privateHostsAvailable()) ? "private-hosts" : "hosts-file";
}

/** Runs psql/mysql or the --exec command with a fresh token; explains a recognised failure in one line. */
async function runClient(
  plan: Plan,
  params: ClientParams,
  options: ConnectOptions,
  ui: Reporter,
  dialFailure: () => string | undefined,
  privateHosts: PrivateHosts | undefined,
): Promise<number> {
  const { target, user, mysql, mysqlClient } = plan;
  ui.step("connect", "connecting").done(`${user}@${target.db.endpoint}`);
  const token = await signToken(target, user);
  // mysql takes host, port and TLS as arguments (interactive) or from its variables and option file (--exec).
  const clientCommand =
    options.mode === "exec"
      ? options.command
      : mysqlClient
        ? [mysqlClient.program, ...mysqlArgs(mysqlClient, params)]
        : ["psql"];
  const program = clientCommand[0] ?? "";
  // Inside the namespace a missing program would only be sh's "not found": say it the usual way first.
  if (privateHosts && !Bun.which(program)) throw clientMissing(program);
  const mysqlExec =
    mysql && options.mode === "exec" ? mysqlExecEnv(mysqlClient?.flavor, params, token) : undefined;
  const unregister = mysqlExec ? onExit(() => mysqlExec.remove()) : undefined;
  try {
    const command = privateHosts ? inPrivateHosts(clientCommand, privateHosts.path) : clientCommand;
    const env = mysql ? (mysqlExec?.env ?? { MYSQL_PWD: token }) : libpqEnv(params, token);
    return await finishClient(
      plan,
      await launchClient({ command, env, stdoutToStderr: ui.json }),
      ui,
      dialFailure,
    );
  } finally {
    mysqlExec?.remove();
    unregister?.();
  }
}

/** The client's exit code; a recognised failure explained in one line. */
function finishClient(
  plan: Plan,
  result: Awaited<ReturnType<typeof launchClient>>,
  ui: Reporter,
  dialFailure: () => string | undefined,
): number {
  const { target, user } = plan;
  if (result.exitCode === 0) return 0;
  const dial = dialFailure();
  const failure = dial
    ? { code: "ConnectToPortError", message: dial }
    : explainClientFailure(result.stderrTail, {
        user,
        endpoint: target.db.endpoint,
        port: target.db.port,
        caBundle: plan.caBundle,
        region: target.region,
        resourceId: target.db.resourceId,
        mysql: plan.mysql,
      });
  if (failure) ui.error(failure.message, failure.code);
  return result.exitCode;
}

async function holdOpen(
  tunnel: Tunnel,
  target: StackTarget,
  params: ClientParams,
  options: ConnectOptions,
  ui: Reporter,
  signal: AbortSignal,
): Promise<number> {
  const tokenCmd = tokenCommand(target, params.user, options.outputs);
  const connectionString = libpqConnectionString(params);
  const env = libpqEnv(params);
  ui.event({
    type: "ready",
    host: "127.0.0.1",
    port: tunnel.port,
    connectionString,
    env,
    tokenCommand: tokenCmd,
  });
  if (options.mode === "print-env") ui.result(exportLines(env, tokenCmd));
  else ui.result(connectionString);
  ui.info(
    `Tunnel open on 127.0.0.1:${tunnel.port}; the password is an IAM token (valid 15 min): ${tokenCmd}`,
  );
  // Under `$(... &)` the answer is complete: let the command substitution return, keep the tunnel.
  if (!ui.json && (await releaseStdout())) {
    ui.info(`The tunnel stays open in the background: kill ${process.pid} closes it.`);
  } else ui.info("Press Ctrl-C to close.");
  const aborted = new Promise<"signal">((resolve) => {
    if (signal.aborted) resolve("signal");
    signal.addEventListener("abort", () => resolve("signal"), { once: true });
  });
  const outcome = await Promise.race([aborted, tunnel.closed]);
  if (outcome === "signal") return 0;
  if (outcome.kind === "local") return 0;
  throw new CliError(`The session ended: ${describeEnd(outcome)}; run connect again.`, {
    code: "SessionEnded",
  });
}

/** Why a session ended, in words an engineer can act on. */
function describeEnd(reason: TunnelCloseReason): string {
  switch (reason.kind) {
    case "local":
      return "closed here";
    case "channel-closed":
      return reason.message
        ? `Session Manager closed it (${reason.message})`
        : "Session Manager closed it (terminated elsewhere, or an idle or maximum session timeout passed)";
    case "timed-out":
      return `it could not be resumed (${reason.message})`;
    default:
      return reason.message;
  }
}

/**
 * --exec/--listen/--print-env: a local listener that outlives its sessions, over options.sessions sessions
 * (tunnel/pool.ts). Presented as a Tunnel to the rest of connect: it ends only on Ctrl-C or close().
 */
async function openPool(
  plan: Plan,
  ssmTarget: string,
  ssm: SSMClient,
  options: ConnectOptions,
  ui: Reporter,
  signal: AbortSignal,
  beforeReopen: TunnelPoolOptions["beforeReopen"],
  onSessionOpened: () => void,
): Promise<Tunnel> {
  const count = options.sessions ?? 1;
  const opening = ui.step("open-session", count === 1 ? "opening session" : `opening ${count} sessions`);
  const listeners = new Set<(event: TunnelEvent) => void>();
  let firstMode: "mux" | "basic" = "mux";
  let listeningPort = 0;
  let pool: TunnelPool;
  try {
    const { openTunnelPool } = await import("../../tunnel/pool.ts");
    pool = await openTunnelPool({
      target: ssmTarget,
      host: plan.target.db.endpoint,
      port: plan.target.db.port,
      localPort: options.localPort ?? 0,
      ssm,
      sessions: options.sessions ?? 1,
      reason: options.reason ?? `dbtunnel connect ${plan.user}@${plan.target.db.identifier}`,
      ...((options.document ?? plan.target.sessionDocumentName)
        ? { documentName: options.document ?? plan.target.sessionDocumentName }
        : {}),
      ...(beforeReopen ? { beforeReopen } : {}),
      onEvent: (event) => {
        if (event.type === "listening") listeningPort = event.port;
        if (event.type === "session-opened") onSessionOpened();
        if (event.type === "session-opened" && event.slot === 0) firstMode = event.mode;
        reportPoolEvent(ui, event, listeningPort);
        if (event.type === "connection") for (const l of listeners) l(event.event);
      },
    });
  } catch (error) {
    opening.fail();
    if (error instanceof TunnelError && error.code === "LocalPortInUse" && options.localPort) {
      throw portInUse(options.localPort);
    }
    throw error;
  }
  const ids = pool.sessions().map((s) => s.sessionId);
  opening.done(`${ids.join(", ")}, 127.0.0.1:${pool.port}, ${firstMode}`);
  const closed = pool.closed.then((): TunnelCloseReason => ({ kind: "local" }));
  const stop = () => void pool.close();
  signal.addEventListener("abort", stop, { once: true });
  return {
    sessionId: ids[0] ?? "",
    port: pool.port,
    host: pool.host,
    mode: firstMode,
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => pool.close(),
    closed,
  };
}

function reportPoolEvent(ui: Reporter, event: PoolEvent, port: number): void {
  switch (event.type) {
    case "session-opened":
      ui.event({
        type: "session",
        sessionId: event.sessionId,
        host: "127.0.0.1",
        port,
        mode: event.mode,
        slot: event.slot,
      });
      ui.debug(`session ${event.sessionId} open (slot ${event.slot})`);
      break;
    case "session-ended": {
      ui.event({
        type: "session-ended",
        sessionId: event.sessionId,
        slot: event.slot,
        reason: event.reason.kind,
        message: describeEnd(event.reason),
        closedConnections: event.closedConnections,
      });
      const closedText =
        event.closedConnections > 0
          ? `; ${event.closedConnections} open connection(s) through it were closed`
          : "";
      ui.warn(
        `Session ${event.sessionId} ended: ${describeEnd(event.reason)}${closedText}. The local port stays open; a new session is starting.`,
      );
      break;
    }
    case "session-start-failed":
      ui.event({
        type: "session-start-failed",
        slot: event.slot,
        message: event.message,
        retryInMs: event.retryInMs,
      });
      ui.warn(
        `Could not start a new session (${event.message}); retrying in ${Math.ceil(event.retryInMs / 1000)} s.`,
      );
      break;
    case "connection-refused":
      ui.event({ type: "connection-refused", message: event.message });
      ui.warn(`A local connection was closed: ${event.message}.`);
      break;
    case "connection":
      reportTunnelEvent(ui, event.event);
      break;
    default:
      ui.debug(`pool ${JSON.stringify(event)}`);
  }
}

function reportTunnelEvent(ui: Reporter, event: TunnelEvent): void {
  const { type: kind, ...detail } = event;
  ui.event({ type: "tunnel", event: kind, ...detail });
  switch (event.type) {
    case "connection-failed":
      ui.warn(dialFailureMessage(event));
      break;
    case "reconnecting":
      ui.warn(`Session connection lost (${event.reason}); reconnecting (attempt ${event.attempt})…`);
      break;
    case "reconnected":
      ui.info("Session reconnected.");
      break;
    case "closed":
      if (event.reason.kind !== "local") ui.warn(`Session closed: ${describeEnd(event.reason)}`);
      break;
    default:
      ui.debug(`tunnel ${JSON.stringify(event)}`);
  }
}

function dialFailureMessage(event: Extract<TunnelEvent, { type: "connection-failed" }>): string {
  return `The jump host could not reach ${event.host}:${event.port}: check that the database is available and its security group admits the jump host (agent: ${event.message.replace(/\.$/, "")}).`;
}

async function closeQuietly(tunnel: Tunnel, ui: Reporter): Promise<void> {
  try {
    await Promise.race([tunnel.close(), Bun.sleep(3000)]);
  } catch (error) {
    ui.debug(`closing the session: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function abortIfRequested(signal: AbortSignal): void {
  if (signal.aborted) throw new CliError("Cancelled.", { code: "Aborted" });
}
