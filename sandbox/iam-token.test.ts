import { describe, expect, test } from "bun:test";
import { Signer } from "@aws-sdk/rds-signer";
import { generateSandboxCredentials } from "./credentials.ts";
import {
  checkIamToken,
  loginUserFromDn,
  parseMysqlBindDn,
  parsePostgresBindDn,
  type TokenCheckContext,
} from "./iam-token.ts";

const region = "eu-central-1";
const endpoint = `appdb.aaaaaaaaaa.${region}.rds.amazonaws.com`;
const creds = generateSandboxCredentials();

function sign(overrides: Partial<{ hostname: string; port: number; username: string; region: string }> = {}) {
  return new Signer({
    hostname: endpoint,
    port: 5432,
    username: "alice",
    region,
    credentials: creds,
    ...overrides,
  }).getAuthToken();
}

const ctx = (over: Partial<TokenCheckContext> = {}): TokenCheckContext => ({
  credentials: creds,
  region,
  loginUser: "alice",
  isDatabaseEndpoint: async (host, port) => host === endpoint && port === 5432,
  ...over,
});

async function reasonOf(token: string, over: Partial<TokenCheckContext> = {}): Promise<string> {
  const result = await checkIamToken(token, ctx(over));
  return result.ok ? "accepted" : result.reason;
}

describe("checkIamToken", () => {
  test("accepts a fresh rds-signer token of realistic length", async () => {
    const token = await sign();
    expect(token.length).toBeGreaterThan(770);
    expect(await reasonOf(token)).toBe("accepted");
  });

  test("refuses a token made for another user", async () => {
    expect(await reasonOf(await sign({ username: "mallory" }))).toContain('DBUser "mallory"');
  });

  test("refuses an expired token and one dated in the future", async () => {
    const token = await sign();
    const later = new Date(Date.now() + 901_000);
    expect(await reasonOf(token, { now: later })).toContain("expired");
    const earlier = new Date(Date.now() - 5 * 60_000);
    expect(await reasonOf(token, { now: earlier })).toContain("future");
  });

  test("refuses a tampered token", async () => {
    const token = await sign();
    const tampered = token.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
    );
    expect(tampered).not.toBe(token);
    expect(await reasonOf(tampered)).toContain("signature does not match");
    const longer = token.replace("X-Amz-Expires=900", "X-Amz-Expires=899");
    expect(await reasonOf(longer)).toContain("signature does not match");
  });

  test("refuses a token signed for the local tunnel port", async () => {
    const token = await sign({ hostname: "localhost", port: 15432 });
    expect(await reasonOf(token)).toContain("not the endpoint of a database");
  });

  test("refuses a token signed for another region", async () => {
    expect(await reasonOf(await sign({ region: "us-east-1" }))).toContain("region is us-east-1");
  });

  test("refuses a token signed with the wrong secret or another session token", async () => {
    const wrongSecret = await new Signer({
      hostname: endpoint,
      port: 5432,
      username: "alice",
      region,
      credentials: { ...creds, secretAccessKey: generateSandboxCredentials().secretAccessKey },
    }).getAuthToken();
    expect(await reasonOf(wrongSecret)).toContain("signature does not match");
    const otherSession = await new Signer({
      hostname: endpoint,
      port: 5432,
      username: "alice",
      region,
      credentials: { ...creds, sessionToken: "other" },
    }).getAuthToken();
    expect(await reasonOf(otherSession)).toContain("X-Amz-Security-Token");
    const otherKey = await new Signer({
      hostname: endpoint,
      port: 5432,
      username: "alice",
      region,
      credentials: generateSandboxCredentials(),
    }).getAuthToken();
    expect(await reasonOf(otherKey)).toContain("access key id");
  });

  test("verifies the query as sent: the same values in a non-canonical form are refused", async () => {
    const token = await sign();
    expect(await reasonOf(token)).toBe("accepted");
    // Same parsed values, other bytes: a percent-encoded unreserved character, lower-case hex in an
    // escape, parameters in another order.
    const escaped = token.replace("DBUser=alice", "DBUser=al%69ce");
    const lowerHex = token.replace(/%2F/g, "%2f");
    const params = token.slice(token.indexOf("/?") + 2).split("&");
    const reordered = `${token.slice(0, token.indexOf("/?") + 2)}${[params[1], params[0], ...params.slice(2)].join("&")}`;
    for (const altered of [escaped, lowerHex, reordered]) {
      expect(altered).not.toBe(token);
      expect(await reasonOf(altered)).toContain("not in the canonical form");
    }
  });

  test("accepts the token the AWS CLI writes (botocore: signing parameters in its own order, signature last)", async () => {
    // The real botocore, which moto brings with it (the sandbox needs python3 + moto anyway): what
    // `aws rds generate-db-auth-token` prints. RDS accepts it, so the sandbox must.
    const python = process.env.DBTUNNEL_PYTHON ?? "python3";
    const script = [
      "import sys, botocore.session",
      "s = botocore.session.get_session()",
      "s.set_credentials(sys.argv[1], sys.argv[2], sys.argv[3])",
      "c = s.create_client('rds', region_name=sys.argv[4])",
      "print(c.generate_db_auth_token(sys.argv[5], 5432, 'alice'))",
    ].join("\n");
    const child = Bun.spawnSync(
      [
        python,
        "-c",
        script,
        creds.accessKeyId,
        creds.secretAccessKey,
        creds.sessionToken ?? "",
        region,
        endpoint,
      ],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    );
    expect(child.exitCode).toBe(0);
    const token = child.stdout.toString().trim();
    expect(token).toStartWith(`${endpoint}:5432/?Action=connect&DBUser=alice&`);
    expect(token).not.toBe(await sign()); // another order than rds-signer's
    expect(await reasonOf(token)).toBe("accepted");
    // Still the query as sent: the same token with an escape altered is refused.
    expect(await reasonOf(token.replace(/%2F/g, "%2f"))).toContain("not in the canonical form");
  });

  test("refuses garbage and extra parameters, and never echoes the token", async () => {
    expect(await reasonOf("hunter2")).toContain("not an RDS IAM token");
    const token = await sign();
    const extra = `${token}&X-Evil=1`;
    const reason = await reasonOf(extra);
    expect(reason).toContain("unexpected query parameter");
    expect(reason).not.toContain(creds.sessionToken.slice(0, 40));
  });
});

describe("parsePostgresBindDn", () => {
  test("reads the role and the database slot from the end of the DN", () => {
    expect(parsePostgresBindDn("cn=alice,dc=db-3,dc=rds-iam")).toEqual({ user: "alice", slot: 3 });
    expect(parsePostgresBindDn("cn=alice,dc=any,dc=rds-iam")).toEqual({ user: "alice" });
    // A role name that contains a scope cannot choose the slot.
    expect(parsePostgresBindDn("cn=alice,dc=db-3,dc=any,dc=rds-iam")).toEqual({ user: "alice,dc=db-3" });
    expect(parsePostgresBindDn("cn=alice,dc=rds-iam")).toBeUndefined();
    expect(parsePostgresBindDn("cn=,dc=db-1,dc=rds-iam")).toBeUndefined();
  });
});

describe("loginUserFromDn", () => {
  test("takes the role from the DN PostgreSQL builds", () => {
    expect(loginUserFromDn("cn=alice,dc=rds-iam")).toBe("alice");
    expect(loginUserFromDn("cn=,dc=rds-iam")).toBeUndefined();
    expect(loginUserFromDn("uid=alice,dc=other")).toBeUndefined();
  });
});

describe("parseMysqlBindDn", () => {
  test("user and, from a database slot's address, the slot; the address is read from the end", () => {
    expect(parseMysqlBindDn("cn=alice,dc=127.0.1.7,dc=rds-iam-mysql")).toEqual({ user: "alice", slot: 7 });
    expect(parseMysqlBindDn("cn=alice,dc=127.0.0.1,dc=rds-iam-mysql")).toEqual({ user: "alice" });
    expect(parseMysqlBindDn("cn=alice,dc=::1,dc=rds-iam-mysql")).toEqual({ user: "alice" });
    expect(parseMysqlBindDn("cn=alice,dc=127.0.1.7,dc=rds-iam")).toBeUndefined();
    expect(parseMysqlBindDn("cn=a,dc=127.0.1.2,dc=127.0.1.7,dc=rds-iam-mysql")).toBeUndefined();
    expect(parseMysqlBindDn("cn=alice,dc=rds-iam-mysql")).toBeUndefined();
  });
});
