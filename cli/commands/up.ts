/**
 * `dbtunnel up [profile]`: one proxy per profile target in one process. Targets behind the same jump host
 * and endpoint share one Session Manager session (the port-forwarding documents pin host and port per
 * session, so different databases need their own); each jump host is made ready once.
 */
import { existsSync } from "node:fs";
import type { RunningProxy } from "../../proxy/server.ts";
import { parseCommandArgs } from "../args.ts";
import { awsClients } from "../aws.ts";
import { resolveCaBundle } from "../ca-bundle.ts";
import type { CommandContext } from "../command.ts";
import { CliError, describeError, UsageError } from "../errors.ts";
import { readyJumpHost } from "../jump-host.ts";
import { exitCodeForSignal } from "../lifecycle.ts";
import { assertLocalPortFree } from "../local-port.ts";
import { DEFAULT_PROFILE, type ProfileTarget, readProfile } from "../profile.ts";
import { announce, reportProxyEvent, SHOW_SECRET_COMMAND } from "../proxy-output.ts";
import {
  localAuthFor,
  localTlsFor,
  setupReporter,
  startProxyOrExplain,
  waitForShutdown,
} from "../proxy-run.ts";
import { poolEventLine, SessionStreams, upstreamFor } from "../proxy-upstream.ts";
import { resolveTarget } from "../resolve-target.ts";
import { describeJumpHost, isMysql, type StackTarget } from "../target.ts";

export const help = `Usage: dbtunnel up [profile] [options]

Starts one local proxy per target of a profile (default: ./${DEFAULT_PROFILE}), all in this process, for
GUIs and apps that use several databases. Each works like 'dbtunnel proxy': 127.0.0.1 only, your local
secret as password, verified TLS and a fresh IAM token per connection upstream. Targets behind the same
jump host and database endpoint share one Session Manager session.

Profile (JSON):
  {
    "targets": [
      { "name": "orders", "outputs": "outputs.json", "user": "app_user", "database": "orders",
        "localPort": 15432 },
      { "name": "reports", "stack": "reports", "region": "eu-west-1", "user": "analyst",
        "localPort": 15433 }
    ],
    "localTls": false,
    "caBundle": "rds-global-bundle.pem"
  }
  name       label in the output (unique)             user       database user (granted rds_iam)
  outputs    cdktf outputs file (relative to profile) localPort  1024-65535, unique
  stack      stack name (with outputs: which stack;    database   database clients get by default
             without: found by its dbtunnel:stack tag) db, region  as --db / --region of 'connect'
  localTls   also accept TLS from PostgreSQL clients (sslmode=require) with a local certificate
  caBundle   CA bundle that verifies the databases (default: DBTUNNEL_CA_BUNDLE, else the RDS bundle)

Options:
      --no-local-auth    accept clients without the local secret: only on a machine no one else uses
      --reason <text>    reason recorded with StartSession in CloudTrail
      --json             JSON event lines: one 'listening' per target first, then client events
  -v, --verbose          tunnel events and stack traces

Examples:
  dbtunnel up                          # ./${DEFAULT_PROFILE}
  dbtunnel up team-databases.json --json`;

const OPTIONS = {
  "no-local-auth": { type: "boolean" },
  reason: { type: "string" },
} as const;

interface Prepared {
  readonly entry: ProfileTarget;
  readonly target: StackTarget;
  readonly streams: SessionStreams;
}

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "dbtunnel up", true);
  if (positionals.length > 1)
    throw new UsageError(`one profile at a time (got ${positionals.length})`, "dbtunnel up --help");
  const path = positionals[0] ?? DEFAULT_PROFILE;
  if (positionals.length === 0 && !existsSync(path)) {
    throw new CliError(
      `No profile given and ./${DEFAULT_PROFILE} does not exist: write one (format in 'dbtunnel up --help') or name it: dbtunnel up <profile.json>.`,
      { code: "BadProfile" },
    );
  }
  const profile = readProfile(path);
  const { signal } = ctx;
  const ui = ctx.ui.json ? setupReporter(ctx.ui) : ctx.ui;
  const auth = localAuthFor(values["no-local-auth"] ?? false, ui);
  const localTls = profile.localTls ? localTlsFor() : undefined;
  for (const t of profile.targets) await assertLocalPortFree(t.localPort);
  const ca = await resolveCaBundle({ flag: profile.caBundle });

  const sessions = new Map<string, SessionStreams>();
  const readyHosts = new Map<string, Promise<string>>();
  const proxies: RunningProxy[] = [];
  try {
    const prepared: Prepared[] = [];
    for (const entry of profile.targets) {
      const finding = ui.step("find-stack", `${entry.name}: finding stack`);
      const target = await resolveTarget({
        outputs: entry.outputs,
        stack: entry.stack,
        db: entry.db,
        region: entry.region,
        interactive: false,
      }).catch((error) => {
        finding.fail();
        throw new CliError(`${entry.name}: ${describeError(error).message}`, {
          code: describeError(error).code,
        });
      });
      finding.done(
        `${target.stackName}: ${target.db.engine} ${target.db.identifier} via ${describeJumpHost(target.jumpHost)}`,
      );
      const aws = awsClients(target.region);
      const hostKey = `${target.region}|${describeJumpHost(target.jumpHost)}`;
      let ready = readyHosts.get(hostKey);
      if (!ready) {
        ready = readyJumpHost(aws, target.jumpHost, ui, {
          engineerPolicyArn: target.engineerPolicyArn,
          signal,
        });
        readyHosts.set(hostKey, ready);
      }
      const ssmTarget = await ready;
      const sessionKey = `${hostKey}|${target.db.endpoint}:${target.db.port}`;
      let streams = sessions.get(sessionKey);
      if (!streams) {
        streams = new SessionStreams({
          ssmTarget,
          host: target.db.endpoint,
          port: target.db.port,
          ...(target.sessionDocumentName ? { documentName: target.sessionDocumentName } : {}),
          ssm: await aws.ssm(),
          reason: values.reason ?? `dbtunnel up ${entry.name}`,
          beforeReopen: async () => ({
            target: await readyJumpHost(aws, target.jumpHost, ui, {
              engineerPolicyArn: target.engineerPolicyArn,
              signal,
            }),
          }),
          onPoolEvent: (event) => {
            ui.debug(`session pool ${event.type}`);
            const line = poolEventLine(entry.name, event);
            if (line) ui.warn(line);
          },
        });
        sessions.set(sessionKey, streams);
        const opening = ui.step("open-session", `${entry.name}: opening session`);
        const pool = await streams.start().catch((error) => {
          opening.fail();
          const described = describeError(error, {
            target: ssmTarget,
            engineerPolicyArn: target.engineerPolicyArn,
            stackName: target.stackName,
          });
          throw new CliError(`${entry.name}: ${described.message}`, { code: described.code });
        });
        opening.done(
          pool
            .sessions()
            .map((session) => session.sessionId)
            .join(", "),
        );
      } else ui.debug(`${entry.name}: shares the session of an earlier target`);
      prepared.push({ entry, target, streams });
    }
    for (const { entry, target, streams } of prepared) {
      const database = entry.database ?? target.db.name;
      const engine = isMysql(target.db.engine) ? "mysql" : "postgres";
      // Local TLS is a PostgreSQL SSLRequest answer; MySQL clients connect without SSL to 127.0.0.1.
      const tls = engine === "postgres" ? localTls : undefined;
      const proxy = await startProxyOrExplain({
        upstream: upstreamFor(target, streams, ca.path, database),
        auth,
        ...(tls ? { localTls: tls } : {}),
        port: entry.localPort,
        onEvent: (event) => reportProxyEvent(ctx.ui, entry.name, event),
      });
      proxies.push(proxy);
      announce(
        ctx.ui,
        {
          name: entry.name,
          engine,
          host: "127.0.0.1",
          port: proxy.port,
          user: entry.user,
          ...(database ? { database } : {}),
          ssl: tls ? "require" : "disable",
          ...(tls ? { localCertificate: tls.certPath } : {}),
          localAuth: auth.kind === "secret",
          endpoint: target.db.endpoint,
        },
        auth.kind === "secret" ? auth.secret : undefined,
        Boolean(process.stdout.isTTY),
      );
    }
    ui.info(
      `${proxies.length} proxies over ${sessions.size} session(s). Press Ctrl-C to stop. Password: your local secret ('${SHOW_SECRET_COMMAND}').`,
    );
    ctx.ui.event({ type: "ready", proxies: proxies.length, sessions: sessions.size });
    await waitForShutdown(signal);
    return 0;
  } catch (error) {
    if (signal.aborted) return exitCodeForSignal(signal.reason);
    throw error;
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all([...sessions.values()].map((s) => s.close()));
  }
}
