import { afterEach, describe, expect, test } from "bun:test";
import { TunnelError, type TunnelErrorCode } from "../tunnel/types.ts";
import { CliError, describeError, EXPIRED_CREDENTIALS, NO_CREDENTIALS } from "./errors.ts";
import { clearSecrets, redact, registerSecret } from "./redact.ts";

afterEach(clearSecrets);

const ctx = {
  target: "i-0abc",
  engineerPolicyArn: "arn:aws:iam::123456789012:policy/dev-engineer",
  stackName: "dev",
};

function sdkError(name: string, message = "boom"): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe("describeError", () => {
  test("AccessDenied on StartSession names ssm:StartSession and the engineer policy", () => {
    const error = describeError(new TunnelError("AccessDenied", "not authorized"), ctx);
    expect(error.message).toBe(
      "Access denied: you lack ssm:StartSession on i-0abc; attach the stack's engineer policy arn:aws:iam::123456789012:policy/dev-engineer to your role or user.",
    );
    expect(error.code).toBe("AccessDenied");
  });

  test("every tunnel error code maps to one line", () => {
    const codes: TunnelErrorCode[] = [
      "NoCredentials",
      "ExpiredCredentials",
      "AccessDenied",
      "InvalidTarget",
      "TargetNotConnected",
      "InvalidDocument",
      "LocalPortInUse",
      "HandshakeFailed",
      "ProtocolError",
      "ConnectionFailed",
      "Aborted",
    ];
    for (const code of codes) {
      const error = describeError(new TunnelError(code, "detail\nsecond line"), ctx);
      expect(error.code).toBe(code);
      expect(error.message).not.toContain("\n");
      expect(error.message.length).toBeGreaterThan(5);
    }
    expect(describeError(new TunnelError("TargetNotConnected", "x"), ctx).message).toContain(
      "i-0abc is not connected",
    );
  });

  test("SDK credential errors", () => {
    expect(
      describeError(sdkError("CredentialsProviderError", "Could not load credentials from any providers"))
        .message,
    ).toBe(NO_CREDENTIALS);
    expect(
      describeError(
        sdkError("ExpiredTokenException", "The security token included in the request is expired"),
      ).message,
    ).toBe(EXPIRED_CREDENTIALS);
    expect(describeError(sdkError("InvalidClientTokenId")).code).toBe("InvalidCredentials");
    expect(
      describeError(sdkError("AccessDeniedException", "User x is not authorized"), ctx).message,
    ).toContain("dev-engineer");
  });

  test("unreachable sandbox endpoint", () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:1";
    try {
      const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
      expect(describeError(error).message).toContain("is the sandbox running");
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });

  test("an unreadable AWS answer points at the endpoint's health", () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:4566";
    try {
      const error = describeError(sdkError("Error", "@aws-sdk XML parse error: unexpected content."));
      expect(error.message).toBe(
        "The AWS endpoint http://127.0.0.1:4566 sent an unreadable answer: check it is healthy ('dbtunnel sandbox status' for the sandbox) and retry.",
      );
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });

  test("messages are reduced to one line and scrubbed of tokens", () => {
    const token =
      "db.example.com:5432/?Action=connect&DBUser=u&X-Amz-Security-Token=SESSIONTOKEN123&X-Amz-Signature=abcdef0123";
    const error = describeError(new Error(`failed for ${token}\n    at stack frame`));
    expect(error.message).not.toContain("SESSIONTOKEN123");
    expect(error.message).not.toContain("abcdef0123");
    expect(error.message).not.toContain("stack frame");
    expect(describeError(new CliError("kept as is"))).toBeInstanceOf(CliError);
  });
});

describe("redact", () => {
  test("registered secrets and signing parameters disappear", () => {
    registerSecret("super-secret-token-value");
    registerSecret("short");
    expect(redact("a super-secret-token-value b short")).toBe("a [redacted] b short");
    expect(redact("X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeef")).toBe(
      "X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]",
    );
    expect(redact("nothing here", ["extra-secret-1"])).toBe("nothing here");
  });
});
