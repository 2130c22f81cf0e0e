/**
 * `dbtunnel proxy`: a local database endpoint for GUIs and drivers. Clients connect to 127.0.0.1 with the
 * local secret as password; the proxy opens verified TLS to the real endpoint through the Session Manager
 * session and logs in with a fresh IAM token per connection.
 */

import { loadOrCreateSecret, secretPath } from "../../proxy/local-secret.ts";
import { parseCommandArgs, parsePort } from "../args.ts";
import { awsClients } from "../aws.ts";
import { resolveCaBundle } from "../ca-bundle.ts";
import type { CommandContext } from "../command.ts";
import { describeError, UsageError } from "../errors.ts";
import { exitCodeForSignal } from "../lifecycle.ts";
import { assertLocalPortFree } from "../local-port.ts";
import { findTarget, readyJumpHost } from "../pipeline/index.ts";
import { announce, reportProxyEvent, SHOW_SECRET_COMMAND } from "../proxy-output.ts";
import {
  localAuthFor,
  localTlsFor,
  setupReporter,
  startProxyOrExplain,
  waitForShutdown,
} from "../proxy-run.ts";
import { poolEventLine, SessionStreams, upstreamFor } from "../proxy-upstream.ts";
import { isMysql } from "../target.ts";
import { pickUser, TARGET_HELP, TARGET_OPTIONS } from "../target-options.ts";

export const help = `Usage: dbtunnel proxy [target options] [options]

Listens on 127.0.0.1 and lets any PostgreSQL or MySQL client (a GUI, a JDBC or Node driver, pgbench, an
app) connect to the stack's database with no token to paste. For each client connection the proxy opens TLS to
the real endpoint through the Session Manager session, verifies the certificate (server name = the
endpoint, the RDS CA bundle, TLS 1.2+) and logs in with a fresh IAM token. Clients authenticate to the
proxy with your local secret (created once in the config directory, mode 0600).

${TARGET_HELP}

Options:
  -d, --database <name>  database when the client names none (default: the stack's db_name)
  -p, --local-port <n>   local port (default: a free port)
      --ca-bundle <pem>  CA bundle that verifies the database (default: DBTUNNEL_CA_BUNDLE, else the RDS
                         global bundle). Verification cannot be disabled.
      --local-tls        also accept TLS from PostgreSQL clients (sslmode=require) with a generated local
                         certificate (MySQL clients connect without SSL)
      --no-local-auth    accept clients without the local secret: only on a machine no one else uses
      --show-secret      print the local secret (the password GUIs save) and exit
      --sessions <n>     Session Manager sessions to spread client connections over (1-32, default 1;
                         each session's download is capped near 1 MB/s). Ended sessions are replaced.
      --reason <text>    reason recorded with StartSession in CloudTrail
      --json             JSON event lines on stdout: 'listening' first, then one per client event
  -v, --verbose          tunnel events and stack traces

Examples:
  dbtunnel proxy --outputs outputs.json --local-port 15432
  dbtunnel proxy --show-secret
  dbtunnel proxy -o outputs.json -p 15432 --local-tls     # for clients that insist on sslmode=require
  dbtunnel proxy -o outputs.json --json`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  database: { type: "string", short: "d" },
  "local-port": { type: "string", short: "p" },
  "ca-bundle": { type: "string" },
  "local-tls": { type: "boolean" },
  "no-local-auth": { type: "boolean" },
  "show-secret": { type: "boolean" },
  reason: { type: "string" },
  sessions: { type: "string" },
} as const;

/** --sessions N: 1..32 sessions to spread client connections over (each session's download is capped). */
function parseSessions(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 32) {
    throw new UsageError(`--sessions must be a number from 1 to 32, got '${value}'`, "dbtunnel proxy --help");
  }
  return n;
}

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, "dbtunnel proxy");
  const { signal } = ctx;
  // With --json the first event is 'listening': set-up steps stay quiet unless they fail.
  const ui = ctx.ui.json ? setupReporter(ctx.ui) : ctx.ui;
  if (values["show-secret"]) {
    if (values["no-local-auth"])
      throw new UsageError("--show-secret and --no-local-auth cannot be combined", "dbtunnel proxy --help");
    const path = secretPath();
    const { secret, created } = loadOrCreateSecret(path);
    if (created) ui.info(`Created the local secret ${path} (mode 0600).`);
    ui.event({ type: "secret", path, secret });
    ui.result(secret);
    return 0;
  }
  const localPort = parsePort(values["local-port"], "--local-port", "dbtunnel proxy");
  const sessions = parseSessions(values.sessions);
  const auth = localAuthFor(values["no-local-auth"] ?? false, ui);
  const localTls = values["local-tls"] ? localTlsFor() : undefined;

  // The connect pipeline's steps: target → jump host ready; sessions and tokens per client connection.
  const target = await findTarget(
    { outputs: values.outputs, stack: values.stack, db: values.db, region: values.region },
    ui,
  );
  const engine = isMysql(target.db.engine) ? "mysql" : "postgres";
  if (engine === "mysql" && localTls) {
    throw new UsageError(
      "--local-tls is for PostgreSQL clients; MySQL clients connect without SSL to 127.0.0.1",
      "dbtunnel proxy --help",
    );
  }
  const user = await pickUser(target, values.user);
  if (localPort !== undefined) await assertLocalPortFree(localPort);
  const ca = await resolveCaBundle({ flag: values["ca-bundle"] });
  ui.debug(`CA bundle ${ca.path} (${ca.source}, ${ca.certificates} certificates)`);

  const aws = awsClients(target.region);
  let streams: SessionStreams | undefined;
  try {
    const ssmTarget = await readyJumpHost(target, { aws, signal }, ui);
    streams = new SessionStreams({
      ssmTarget,
      host: target.db.endpoint,
      port: target.db.port,
      ...(target.sessionDocumentName ? { documentName: target.sessionDocumentName } : {}),
      ssm: await aws.ssm(),
      reason: values.reason ?? `dbtunnel proxy ${user}@${target.db.identifier}`,
      sessions,
      beforeReopen: async () => ({ target: await readyJumpHost(target, { aws, signal }, ui) }),
      onPoolEvent: (event) => {
        ui.debug(`session pool ${event.type}`);
        const line = poolEventLine(target.stackName, event);
        if (line) ui.warn(line);
      },
    });
    const opening = ui.step(
      "open-session",
      sessions === 1 ? "opening session" : `opening ${sessions} sessions`,
    );
    // Opened now so that credentials, policy and jump host problems show here, not in a GUI later.
    const pool = await streams.start().catch((error) => {
      opening.fail();
      throw describeError(error, {
        target: ssmTarget,
        engineerPolicyArn: target.engineerPolicyArn,
        stackName: target.stackName,
      });
    });
    opening.done(
      pool
        .sessions()
        .map((session) => session.sessionId)
        .join(", "),
    );
    const database = values.database ?? target.db.name;
    const proxy = await startProxyOrExplain({
      upstream: upstreamFor(target, streams, ca.path, database),
      auth,
      ...(localTls ? { localTls } : {}),
      ...(localPort !== undefined ? { port: localPort } : {}),
      onEvent: (event) => reportProxyEvent(ctx.ui, target.stackName, event),
    });
    announce(
      ctx.ui,
      {
        name: target.stackName,
        engine,
        host: "127.0.0.1",
        port: proxy.port,
        user,
        ...(database ? { database } : {}),
        ssl: localTls ? "require" : "disable",
        ...(localTls ? { localCertificate: localTls.certPath } : {}),
        localAuth: auth.kind === "secret",
        endpoint: target.db.endpoint,
      },
      auth.kind === "secret" ? auth.secret : undefined,
      Boolean(process.stdout.isTTY),
    );
    ui.info(
      `Press Ctrl-C to stop. The password is your local secret ('${SHOW_SECRET_COMMAND}'), not a token.`,
    );
    await waitForShutdown(signal);
    await proxy.close();
    return 0;
  } catch (error) {
    if (signal.aborted) return exitCodeForSignal(signal.reason);
    throw error;
  } finally {
    await streams?.close();
  }
}
