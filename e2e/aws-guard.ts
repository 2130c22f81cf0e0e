/**
 * The aws target deploys and destroys real resources, so it runs only when explicitly asked for AND the
 * credentials belong to the account named in DBTUNNEL_E2E_ACCOUNT: a developer with production
 * credentials in the shell must never get a stack deployed (or destroyed) there by `bun test`.
 */
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";

export type E2eSelection =
  | { readonly target: "aws"; readonly account: string }
  /** DBTUNNEL_E2E=aws but misconfigured: the suite fails with this line (asked for, so never skipped). */
  | { readonly target: "aws-misconfigured"; readonly problem: string };

/** Reads DBTUNNEL_E2E / DBTUNNEL_E2E_ACCOUNT. undefined = not asked for (the sandbox target runs regardless). */
export function selectAwsTarget(env: Readonly<Record<string, string | undefined>>): E2eSelection | undefined {
  const mode = env.DBTUNNEL_E2E ?? "";
  if (mode === "" || mode === "sandbox") return undefined;
  if (mode !== "aws") {
    return {
      target: "aws-misconfigured",
      problem: `DBTUNNEL_E2E is "${mode}": use "aws" (real sandbox account) or leave it unset (local sandbox)`,
    };
  }
  const account = env.DBTUNNEL_E2E_ACCOUNT ?? "";
  if (!/^\d{12}$/.test(account)) {
    return {
      target: "aws-misconfigured",
      problem:
        account === ""
          ? "DBTUNNEL_E2E=aws needs DBTUNNEL_E2E_ACCOUNT=<12-digit id of the sandbox account> so it never touches another account"
          : `DBTUNNEL_E2E_ACCOUNT "${account}" is not a 12-digit AWS account id`,
    };
  }
  if (env.AWS_ENDPOINT_URL) {
    return {
      target: "aws-misconfigured",
      problem: `AWS_ENDPOINT_URL is set (${env.AWS_ENDPOINT_URL}) but DBTUNNEL_E2E=aws targets real AWS: unset it`,
    };
  }
  if (!env.AWS_REGION && !env.AWS_DEFAULT_REGION) {
    return { target: "aws-misconfigured", problem: "DBTUNNEL_E2E=aws needs AWS_REGION" };
  }
  return { target: "aws", account };
}

/** One line for bun test's skipped aws test. */
export const AWS_NOT_CONFIGURED =
  "aws target not configured: set DBTUNNEL_E2E=aws and DBTUNNEL_E2E_ACCOUNT=<sandbox account id> (plus credentials and AWS_REGION) to run against a real account";

/** Refuses unless STS says the credentials belong to `expectedAccount`. Returns the caller ARN for the report. */
export async function assertAccount(sts: STSClient, expectedAccount: string): Promise<string> {
  const who = await sts.send(new GetCallerIdentityCommand({}));
  if (who.Account !== expectedAccount) {
    throw new Error(
      `refusing to run: the credentials belong to account ${who.Account ?? "(unknown)"}, but DBTUNNEL_E2E_ACCOUNT is ${expectedAccount}; switch credentials or fix DBTUNNEL_E2E_ACCOUNT`,
    );
  }
  return who.Arn ?? expectedAccount;
}
