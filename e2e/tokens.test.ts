import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import { presignRdsToken, rdsSignerToken, type TokenRequest } from "./tokens.ts";

const request: TokenRequest = {
  hostname: "e2e-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
  port: 5432,
  username: "app_user",
  region: "eu-west-1",
  credentials: {
    accessKeyId: "ASIAEXAMPLEEXAMPLE12",
    secretAccessKey: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
    sessionToken: "session+token/with=chars",
  },
};

afterEach(() => setSystemTime());

describe("presignRdsToken", () => {
  test("matches @aws-sdk/rds-signer byte for byte at the same instant", async () => {
    const now = new Date("2026-11-21T12:00:00Z");
    setSystemTime(now);
    const fromSigner = await rdsSignerToken(request);
    const ours = await presignRdsToken(request, now);
    expect(ours).toBe(fromSigner);
  });

  test("an expired token carries the past signing date and the 900 s lifetime", async () => {
    const past = new Date(Date.now() - 20 * 60_000);
    const token = await presignRdsToken(request, past);
    const params = new URL(`https://${token}`).searchParams;
    const amzDate = params.get("X-Amz-Date") ?? "";
    const signed = Date.parse(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    expect(params.get("X-Amz-Expires")).toBe("900");
    expect(signed + 900_000).toBeLessThan(Date.now());
    expect(params.get("DBUser")).toBe("app_user");
    expect(token.startsWith(`${request.hostname}:5432/?`)).toBe(true);
  });
});
