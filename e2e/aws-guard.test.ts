import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STSClient } from "@aws-sdk/client-sts";
import { type Moto, startMoto } from "../sandbox/moto.ts";
import { assertAccount, selectAwsTarget } from "./aws-guard.ts";

describe("selectAwsTarget", () => {
  const base = { DBTUNNEL_E2E: "aws", DBTUNNEL_E2E_ACCOUNT: "111122223333", AWS_REGION: "eu-west-1" };

  test("not asked for: undefined (the suite skips the aws test with one line)", () => {
    expect(selectAwsTarget({})).toBeUndefined();
    expect(selectAwsTarget({ DBTUNNEL_E2E: "sandbox" })).toBeUndefined();
  });

  test("fully configured", () => {
    expect(selectAwsTarget(base)).toEqual({ target: "aws", account: "111122223333" });
  });

  test.each([
    [{ ...base, DBTUNNEL_E2E_ACCOUNT: undefined }, "needs DBTUNNEL_E2E_ACCOUNT"],
    [{ ...base, DBTUNNEL_E2E_ACCOUNT: "1234" }, "is not a 12-digit AWS account id"],
    [{ ...base, AWS_ENDPOINT_URL: "http://127.0.0.1:4566" }, "AWS_ENDPOINT_URL is set"],
    [{ ...base, AWS_REGION: undefined }, "needs AWS_REGION"],
    [{ ...base, DBTUNNEL_E2E: "prod" }, 'DBTUNNEL_E2E is "prod"'],
  ])("asked for but misconfigured fails instead of skipping (%#)", (env, problem) => {
    const selection = selectAwsTarget(env);
    expect(selection?.target).toBe("aws-misconfigured");
    expect(selection?.target === "aws-misconfigured" && selection.problem).toContain(problem);
  });
});

describe("assertAccount (moto's STS)", () => {
  let moto: Moto;
  let dir: string;
  let sts: STSClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dbtunnel-guard-"));
    moto = await startMoto({ dir });
    sts = new STSClient({
      region: "us-east-1",
      endpoint: moto.url,
      credentials: { accessKeyId: "AKIAGUARDTEST", secretAccessKey: "secret" },
    });
  }, 30_000);

  afterAll(async () => {
    sts?.destroy();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("refuses credentials of another account, naming both accounts", async () => {
    await expect(assertAccount(sts, "999999999999")).rejects.toThrow(
      "refusing to run: the credentials belong to account 123456789012, but DBTUNNEL_E2E_ACCOUNT is 999999999999",
    );
  });

  test("accepts the expected account and returns the caller ARN", async () => {
    expect(await assertAccount(sts, "123456789012")).toContain("arn:aws:");
  });
});
