/** The session-manager-plugin drop-in's argument handling (no AWS involved; the end-to-end part is integration/plugin-entry.test.ts). */
import { describe, expect, test } from "bun:test";
import { isPortForwarding, parsePluginArgs, runPlugin } from "./plugin-entry.ts";

const response = { SessionId: "s-1", TokenValue: "tok", StreamUrl: "ws://127.0.0.1:1/v1/data-channel/s-1" };
const request = {
  Target: "i-0123456789abcdef0",
  DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
  Parameters: { host: ["db"], portNumber: ["5432"], localPortNumber: ["0"] },
};

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      env,
      interrupted: new Promise<void>(() => {}),
    },
  };
}

describe("argument handling (§3)", () => {
  test("no arguments prints the installed notice; --version prints a version above 1.2.497.0", async () => {
    const a = io();
    expect(await runPlugin([], a.io)).toBe(0);
    expect(a.out.join("")).toContain("installed successfully");
    const b = io();
    expect(await runPlugin(["--version"], b.io)).toBe(0);
    expect(b.out.join("")).toBe("1.2.677.0\n");
  });

  test("2-3 arguments and a wrong operation are refused with one line", async () => {
    const a = io();
    expect(await runPlugin(["x", "y"], a.io)).toBe(1);
    expect(a.err.join("")).toContain("Unknown operation");
    const b = io();
    expect(await runPlugin([JSON.stringify(response), "us-east-1", "Shell", "", "{}", ""], b.io)).toBe(1);
    expect(b.err.join("")).toContain("Invalid Operation");
  });

  test("argv[1] is the response JSON, or the env variable name (read, then unset)", () => {
    const direct = parsePluginArgs(
      [
        JSON.stringify(response),
        "eu-west-1",
        "StartSession",
        "dev",
        JSON.stringify(request),
        "https://ssm.example",
      ],
      {},
    );
    expect(direct.session).toEqual(response);
    expect(direct).toMatchObject({
      region: "eu-west-1",
      profile: "dev",
      target: request.Target,
      documentName: request.DocumentName,
      endpoint: "https://ssm.example",
    });
    const env: Record<string, string | undefined> = {
      AWS_SSM_START_SESSION_RESPONSE: JSON.stringify(response),
    };
    const viaEnv = parsePluginArgs(
      ["AWS_SSM_START_SESSION_RESPONSE", "eu-west-1", "StartSession", "", "{}", ""],
      env,
    );
    expect(viaEnv.session).toEqual(response);
    expect(env.AWS_SSM_START_SESSION_RESPONSE).toBeUndefined();
    expect(viaEnv.profile).toBeUndefined();
    // Legacy 4-argument form (no profile, request or endpoint).
    expect(parsePluginArgs([JSON.stringify(response), "eu-west-1", "StartSession", ""], {}).session).toEqual(
      response,
    );
    expect(() => parsePluginArgs(["{", "r", "StartSession", ""], {})).toThrow("not valid JSON");
    expect(() => parsePluginArgs(['{"SessionId":"x"}', "r", "StartSession", ""], {})).toThrow("lacks");
  });

  test("only port-forwarding documents are handled", () => {
    const parse = (req: unknown) =>
      parsePluginArgs([JSON.stringify(response), "r", "StartSession", "", JSON.stringify(req), ""], {});
    expect(isPortForwarding(parse(request))).toBe(true);
    expect(isPortForwarding(parse({ Target: "i-1", DocumentName: "AWS-StartPortForwardingSession" }))).toBe(
      true,
    );
    expect(isPortForwarding(parse({ Target: "i-1" }))).toBe(false); // default: shell
    expect(isPortForwarding(parse({ Target: "i-1", DocumentName: "AWS-StartInteractiveCommand" }))).toBe(
      false,
    );
  });
});
