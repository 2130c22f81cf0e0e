import { describe, expect, test } from "bun:test";
import { mapSsmError, validateTarget } from "./ssm-api.ts";
import { TunnelError } from "./types.ts";

const sdkError = (name: string, message = "boom") => Object.assign(new Error(message), { name });
const ctx = {
  operation: "StartSession",
  target: "i-0123456789abcdef0",
  documentName: "AWS-StartPortForwardingSessionToRemoteHost",
};

describe("mapSsmError", () => {
  const table: [string, string, string][] = [
    ["AccessDeniedException", "AccessDenied", "ssm:StartSession"],
    ["TargetNotConnected", "TargetNotConnected", "not connected"],
    ["InvalidTarget", "InvalidTarget", "i-0123456789abcdef0"],
    ["InvalidDocument", "InvalidDocument", "document"],
    ["ExpiredTokenException", "ExpiredCredentials", "expired"],
    ["ExpiredToken", "ExpiredCredentials", "refresh"],
    ["CredentialsProviderError", "NoCredentials", "no AWS credentials"],
    ["UnrecognizedClientException", "NoCredentials", "did not accept"],
    ["ThrottlingException", "ConnectionFailed", "ssm:StartSession failed"],
  ];
  for (const [name, code, text] of table) {
    test(`${name} → ${code}`, () => {
      const mapped = mapSsmError(sdkError(name, "line one\nline two"), ctx);
      expect(mapped).toBeInstanceOf(TunnelError);
      expect(mapped.code).toBe(code as TunnelError["code"]);
      expect(mapped.message).toContain(text);
      expect(mapped.message).not.toContain("\n"); // one line
    });
  }

  test("network errors say where the endpoint is configured", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const mapped = mapSsmError(refused, ctx);
    expect(mapped.code).toBe("ConnectionFailed");
    expect(mapped.message).toContain("AWS_ENDPOINT_URL");
  });

  test("a TunnelError passes through unchanged", () => {
    const original = new TunnelError("Aborted", "cancelled");
    expect(mapSsmError(original, ctx)).toBe(original);
  });
});

describe("validateTarget", () => {
  test("accepts instance ids and ECS Exec targets", () => {
    expect(() => validateTarget("i-0123456789abcdef0")).not.toThrow();
    expect(() => validateTarget("mi-0123456789abcdef0")).not.toThrow();
    expect(() =>
      validateTarget("ecs:prod_0123456789abcdef0123456789abcdef_0123456789abcdef0123456789abcdef-1234"),
    ).not.toThrow();
  });
  test("refuses anything else with InvalidTarget naming both forms", () => {
    for (const bad of ["", "jump-host", "i-xyz", "ecs:cluster", "ecs:cluster_task"]) {
      const error = (() => {
        try {
          validateTarget(bad);
        } catch (e) {
          return e;
        }
      })();
      expect((error as TunnelError).code).toBe("InvalidTarget");
      expect((error as TunnelError).message).toContain("ecs:<cluster>_<taskId>_<runtimeId>");
    }
  });
});
