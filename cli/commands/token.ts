/**
 * `dbtunnel token`: prints one fresh RDS IAM auth token for GUI clients (the only command that ever prints
 * a token). Signed for the real endpoint and port, not the tunnel's local port.
 */
import { parseCommandArgs } from "../args.ts";
import type { CommandContext } from "../command.ts";
import { describeError } from "../errors.ts";
import { findTarget, QUIET, signToken } from "../pipeline/index.ts";
import { pickUser, TARGET_HELP, TARGET_OPTIONS } from "../target-options.ts";

export const help = `Usage: dbtunnel token [target options] [--json]

Prints a fresh RDS IAM authentication token (valid 15 minutes, checked only when a connection starts) for
the stack's database, signed for the real endpoint and port. Use it as the password in a GUI client that
connects through 'dbtunnel connect --listen'.

${TARGET_HELP}

Options:
      --json   print {"type":"token","token":...,"endpoint":...,"port":...,"user":...,"expiresInSeconds":900}

Examples:
  dbtunnel token --outputs outputs.json --user app_ro
  PGPASSWORD="$(dbtunnel token -o outputs.json)" psql "$(dbtunnel connect -o outputs.json --listen &)"`;

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(argv, TARGET_OPTIONS, "dbtunnel token");
  // Quiet: stdout carries the token alone (or its one JSON line).
  const target = await findTarget(
    { outputs: values.outputs, stack: values.stack, db: values.db, region: values.region },
    QUIET,
  );
  const user = await pickUser(target, values.user);
  let token: string;
  try {
    token = await signToken(target, user);
  } catch (error) {
    throw describeError(error, { stackName: target.stackName, engineerPolicyArn: target.engineerPolicyArn });
  }
  // Written directly, not through the Reporter: the Reporter scrubs tokens, and printing one is the point here.
  const line = ctx.ui.json
    ? JSON.stringify({
        type: "token",
        token,
        endpoint: target.db.endpoint,
        port: target.db.port,
        user,
        region: target.region,
        expiresInSeconds: 900,
      })
    : token;
  process.stdout.write(`${line}\n`);
  return 0;
}
