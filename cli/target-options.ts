/** Flags that select the stack, database and user; shared by connect, token and doctor. */

import { resolve } from "node:path";
import type { OptionSpec } from "./args.ts";
import { chooseOne } from "./choose.ts";
import { shellQuote } from "./client-env.ts";
import { CliError } from "./errors.ts";
import { selfCommand } from "./self-command.ts";
import type { StackTarget } from "./target.ts";

export const TARGET_OPTIONS = {
  outputs: { type: "string", short: "o" },
  stack: { type: "string", short: "s" },
  db: { type: "string" },
  region: { type: "string" },
  user: { type: "string", short: "u" },
} as const satisfies OptionSpec;

export const TARGET_HELP = `Target:
  -o, --outputs <file>   cdktf outputs JSON ('cdktf output --outputs-file <file>'); without it the stack
                         is found by its dbtunnel:stack tag in --region
  -s, --stack <name>     stack to use when several exist (asked on a terminal otherwise)
      --db <identifier>  database to use when a stack found by tags has several
      --region <region>  AWS region (default: AWS_REGION / profile; outputs carry their own)
  -u, --user <name>      database user (default: the stack's only IAM user, output db_iam_users)`;

/** The database login: --user, else the stack's only IAM user, else ask / fail listing them. */
export async function pickUser(target: StackTarget, flag: string | undefined): Promise<string> {
  if (flag) return flag;
  if (target.db.iamUsers.length === 0) {
    throw new CliError(
      `No database user given and stack '${target.stackName}' lists none (output db_iam_users): pass --user <name> (a role granted rds_iam).`,
      { code: "NoUser" },
    );
  }
  return chooseOne({
    items: target.db.iamUsers,
    label: (u) => u,
    what: "IAM database users",
    flag: "--user <name>",
  });
}

/** The `dbtunnel token ...` command line that yields a fresh token for this target (used instead of the token). */
export function tokenCommand(target: StackTarget, user: string, outputsPath?: string): string {
  const parts = ["token"];
  if (outputsPath) parts.push("--outputs", resolve(outputsPath));
  parts.push("--stack", target.stackName);
  if (!outputsPath) parts.push("--region", target.region, "--db", target.db.identifier);
  parts.push("--user", user);
  // `dbtunnel` as it runs where this is printed (npx dbtunnel in the clone, the executable's name...).
  return [selfCommand(), ...parts.map(shellQuote)].join(" ");
}
