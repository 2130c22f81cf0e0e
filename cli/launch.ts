/**
 * Runs the database client (psql, mysql or the `--exec` command) with the connection variables, lets it own
 * the terminal, and explains its failures: psql's own messages are good, but "password authentication
 * failed" does not tell an engineer that the IAM role lacks rds-db:connect.
 */
import { partitionOfRegion } from "../contract/partitions.ts";
import { CliError } from "./errors.ts";
import { setClientRunning } from "./lifecycle.ts";
import { redact } from "./redact.ts";
import { userEnvironment } from "./user-environment.ts";

export interface LaunchOptions {
  readonly command: readonly string[];
  /** The connection variables, over the user's environment (user-environment.ts). */
  readonly env: Record<string, string>;
  /** Send the child's stdout to our stderr (keeps stdout pure JSON in --json mode). @default false */
  readonly stdoutToStderr?: boolean;
}

export interface LaunchResult {
  readonly exitCode: number;
  /** Last few KB of the child's stderr, for diagnosis. */
  readonly stderrTail: string;
  readonly signal?: string;
}

const STDERR_TAIL_BYTES = 16 * 1024;

export async function launchClient(options: LaunchOptions): Promise<LaunchResult> {
  const [program, ...args] = options.command;
  if (!program) throw new CliError("No command given after --exec --.", { code: "Usage", exitCode: 2 });
  const resolved = Bun.which(program, { PATH: options.env.PATH ?? process.env.PATH ?? "" });
  if (!resolved) throw clientMissing(program);
  const child = Bun.spawn([resolved, ...args], {
    env: { ...userEnvironment(), ...options.env },
    stdin: "inherit",
    stdout: options.stdoutToStderr ? "pipe" : "inherit",
    stderr: "pipe",
  });

  // Ctrl-C on a terminal reaches the whole foreground group: psql cancels its query itself, so we must not
  // die. Without a terminal, a SIGINT sent to us alone is passed on.
  const onSigint = () => {
    if (!process.stdin.isTTY) child.kill("SIGINT");
  };
  const onSigterm = () => child.kill("SIGTERM");
  const onSighup = () => child.kill("SIGHUP");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("SIGHUP", onSighup);
  setClientRunning(true);

  let tail = "";
  const decoder = new TextDecoder();
  const pumpStderr = (async () => {
    for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
      process.stderr.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL_BYTES);
    }
  })();
  const pumpStdout = options.stdoutToStderr
    ? (async () => {
        for await (const chunk of child.stdout as ReadableStream<Uint8Array>) process.stderr.write(chunk);
      })()
    : Promise.resolve();

  try {
    const exitCode = await child.exited;
    await Promise.all([pumpStderr, pumpStdout]);
    const signal = child.signalCode ? String(child.signalCode) : undefined;
    return { exitCode: signal ? 128 + signalNumber(signal) : exitCode, stderrTail: tail, signal };
  } finally {
    setClientRunning(false);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("SIGHUP", onSighup);
  }
}

export function clientMissing(program: string): CliError {
  const install =
    program === "psql"
      ? "install the PostgreSQL client (Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq)"
      : program === "mysql" || program === "mariadb"
        ? "install the MySQL client (Debian/Ubuntu: apt install default-mysql-client or mariadb-client; macOS: brew install mysql-client)"
        : "install it or check PATH";
  return new CliError(
    `'${program}' is not installed or not on PATH: ${install}, or use --exec -- <command>.`,
    {
      code: "ClientMissing",
    },
  );
}

export interface FailureContext {
  readonly user: string;
  readonly endpoint: string;
  readonly port: number;
  readonly caBundle: string;
  readonly region: string;
  readonly resourceId?: string;
  /** A MySQL target: the IAM user is made with AWSAuthenticationPlugin, not rds_iam. */
  readonly mysql?: boolean;
}

/** One-line explanation for a client failure recognised from its stderr, or undefined. */
export function explainClientFailure(
  stderr: string,
  ctx: FailureContext,
): { code: string; message: string } | undefined {
  const text = redact(stderr);
  if (
    /password authentication failed|LDAP authentication failed|PAM authentication failed|Access denied for user/i.test(
      text,
    )
  ) {
    const resource = `arn:${partitionOfRegion(ctx.region)}:rds-db:${ctx.region}:<account>:dbuser:${ctx.resourceId ?? "<DbiResourceId>"}/${ctx.user}`;
    const made = ctx.mysql
      ? `the user was created IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'`
      : `the role has 'GRANT rds_iam TO ${ctx.user}'`;
    return {
      code: "DatabaseAuthFailed",
      message: `The database refused the IAM token for user '${ctx.user}': check ${made}, your IAM policy allows rds-db:connect on ${resource}, and the token is signed for ${ctx.endpoint}:${ctx.port}.`,
    };
  }
  if (
    /certificate verify failed|does not match host name|server certificate for .* does not match|SSL error: certificate|TLS\/SSL error|SSL connection error/i.test(
      text,
    )
  ) {
    return {
      code: "TlsVerifyFailed",
      message: `TLS verification of ${ctx.endpoint} failed with CA bundle ${ctx.caBundle}: pass the bundle that signed the database certificate with --ca-bundle (verification cannot be turned off).`,
    };
  }
  if (
    /server closed the connection unexpectedly|could not receive data from server|Connection refused|Lost connection to (MySQL|MariaDB) server|Can't connect to (MySQL|MariaDB) server/i.test(
      text,
    )
  ) {
    return {
      code: "TunnelDropped",
      message: `The connection through the tunnel to ${ctx.endpoint}:${ctx.port} was dropped: check the jump host can reach the database (its security group egress) and run 'dbtunnel doctor'.`,
    };
  }
  return undefined;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? 1;
}
