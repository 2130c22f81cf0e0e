import { describe, expect, test } from "bun:test";
import { CliError } from "./errors.ts";
import { explainClientFailure, launchClient } from "./launch.ts";

const ctx = {
  user: "app_ro",
  endpoint: "db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
  port: 5432,
  caBundle: "/ca.pem",
  region: "eu-west-1",
  resourceId: "db-XYZ",
};

describe("explainClientFailure", () => {
  test("psql auth failures point at rds_iam, rds-db:connect and the signed host", () => {
    for (const stderr of [
      'psql: error: connection to server at "127.0.0.1", port 4000 failed: FATAL:  LDAP authentication failed for user "app_ro"',
      'psql: error: FATAL:  password authentication failed for user "app_ro"',
    ]) {
      const failure = explainClientFailure(stderr, ctx);
      expect(failure?.code).toBe("DatabaseAuthFailed");
      expect(failure?.message).toContain("GRANT rds_iam TO app_ro");
      expect(failure?.message).toContain(
        "rds-db:connect on arn:aws:rds-db:eu-west-1:<account>:dbuser:db-XYZ/app_ro",
      );
      expect(failure?.message).toContain(`${ctx.endpoint}:5432`);
    }
  });

  test("the rds-db ARN in the hint names the region's partition (GovCloud, China)", () => {
    const stderr = 'psql: error: FATAL:  password authentication failed for user "app_ro"';
    expect(explainClientFailure(stderr, { ...ctx, region: "us-gov-west-1" })?.message).toContain(
      "arn:aws-us-gov:rds-db:us-gov-west-1:<account>:dbuser:db-XYZ/app_ro",
    );
    expect(explainClientFailure(stderr, { ...ctx, region: "cn-north-1" })?.message).toContain(
      "arn:aws-cn:rds-db:cn-north-1:<account>:dbuser:db-XYZ/app_ro",
    );
  });

  test("TLS failures point at --ca-bundle", () => {
    for (const stderr of [
      "psql: error: connection to server failed: SSL error: certificate verify failed",
      'psql: error: connection to server failed: server certificate for "x.example" does not match host name "db"',
    ]) {
      expect(explainClientFailure(stderr, ctx)?.code).toBe("TlsVerifyFailed");
    }
  });

  test("unrelated failures are left to the client's own message", () => {
    expect(explainClientFailure('ERROR:  relation "nope" does not exist', ctx)).toBeUndefined();
  });
});

describe("launchClient", () => {
  test("passes the environment and returns the command's exit code and stderr", async () => {
    const result = await launchClient({
      command: ["sh", "-c", 'echo "$PGHOST" >&2; exit 7'],
      env: { PGHOST: "from-env" },
    });
    expect(result.exitCode).toBe(7);
    expect(result.stderrTail).toBe("from-env\n");
  });

  test("a missing program is one clear error", async () => {
    await expect(launchClient({ command: ["no-such-client-xyz"], env: {} })).rejects.toBeInstanceOf(CliError);
    await expect(launchClient({ command: ["no-such-client-xyz"], env: {} })).rejects.toThrow(
      "is not installed or not on PATH",
    );
  });
});
