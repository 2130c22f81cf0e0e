import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import { startTestGateway, type TestGateway } from "../test-support/sandbox/test-gateway.ts";
import { type Destination, startDestination } from "../test-support/tunnel/destination.ts";
import { isPortForwarding, parsePluginArgs, runPlugin } from "./plugin-entry.ts";

const BIN = join(import.meta.dir, "..", "bin");
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

describe("with the AWS CLI and the agent emulator", () => {
  let dest: Destination;
  let gw: TestGateway;

  beforeAll(async () => {
    dest = await startDestination();
    gw = await startTestGateway({ destination: dest });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await dest?.stop();
  });

  /** Reads a child's stdout until `pattern` matches; returns everything read so far. */
  async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp, sink: { text: string }) {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    while (!pattern.test(sink.text)) {
      const { value, done } = await reader.read();
      if (done) break;
      sink.text += decoder.decode(value);
    }
    reader.releaseLock();
    // Wrapped in an object: returning the bare promise would make the caller's await wait for EOF.
    const rest = (async () => {
      for await (const chunk of stream) sink.text += decoder.decode(chunk);
    })();
    return { rest };
  }

  async function echoThrough(port: number, text: string): Promise<string> {
    const socket = connect(port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`E${text}`);
    const reply = await new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())));
    socket.destroy();
    return reply;
  }

  test("`aws ssm start-session` with this plugin on PATH forwards a port; SIGINT ends the session", async () => {
    const child = Bun.spawn(
      [
        "setsid",
        "aws",
        "ssm",
        "start-session",
        "--target",
        gw.instanceId,
        "--document-name",
        "AWS-StartPortForwardingSessionToRemoteHost",
        "--parameters",
        "host=db.internal,portNumber=5432,localPortNumber=0",
        "--endpoint-url",
        gw.gateway.url,
        "--region",
        gw.region,
      ],
      {
        env: { ...process.env, ...gw.env, PATH: `${BIN}:${process.env.PATH}` },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const sink = { text: "" };
    const { rest } = await readUntil(child.stdout, /Waiting for connections/, sink);
    expect(sink.text).toMatch(/Starting session with SessionId: (\S+)/);
    const match = /Port (\d+) opened for sessionId (\S+)\.\nWaiting for connections\.\.\.\n/.exec(sink.text);
    expect(match).not.toBeNull();
    const port = Number(match?.[1]);
    const sessionId = match?.[2] ?? "";
    expect(await echoThrough(port, "via aws cli")).toBe("via aws cli");
    process.kill(-child.pid, "SIGINT"); // the CLI ignores SIGINT and leaves it to the plugin, like a Ctrl-C
    expect(await child.exited).toBe(0);
    await rest;
    expect(sink.text).toContain(`Connection accepted for session [${sessionId}]`);
    expect(sink.text).toContain(`Exiting session with sessionId: ${sessionId}.`);
    const stats = gw.gateway.sessionStats(sessionId);
    expect(stats?.terminateFlagReceived).toBe(true);
    expect(stats?.terminated).toBe(true);
  }, 60_000);

  test("the 6-argument form in env mode, started from an existing session; a shell document is refused", async () => {
    const ssm = new SSMClient({ endpoint: gw.gateway.url, region: gw.region, credentials: gw.credentials });
    try {
      const started = await ssm.send(
        new StartSessionCommand({
          Target: gw.instanceId,
          DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
          Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["0"] },
        }),
      );
      const child = Bun.spawn(
        [
          join(BIN, "session-manager-plugin"),
          "AWS_SSM_START_SESSION_RESPONSE",
          gw.region,
          "StartSession",
          "",
          JSON.stringify({
            Target: gw.instanceId,
            DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
          }),
          gw.gateway.url,
        ],
        {
          env: { ...process.env, ...gw.env, AWS_SSM_START_SESSION_RESPONSE: JSON.stringify(started) },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const sink = { text: "" };
      const { rest } = await readUntil(child.stdout, /Waiting for connections/, sink);
      const port = Number(/Port (\d+) opened/.exec(sink.text)?.[1]);
      expect(await echoThrough(port, "env mode")).toBe("env mode");
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      await rest;
      expect(gw.gateway.sessionStats(started.SessionId ?? "")?.terminated).toBe(true);

      // The sandbox refuses shell sessions at StartSession, so hand the plugin what AWS would have returned.
      const shell = { SessionId: "dbtunnel-sandbox-shell", StreamUrl: "ws://127.0.0.1:9/x", TokenValue: "t" };
      const refused = Bun.spawn(
        [
          join(BIN, "session-manager-plugin"),
          JSON.stringify(shell),
          gw.region,
          "StartSession",
          "",
          JSON.stringify({ Target: gw.instanceId }),
          gw.gateway.url,
        ],
        { env: { ...process.env, ...gw.env }, stdout: "pipe", stderr: "pipe" },
      );
      expect(await refused.exited).toBe(1);
      const stderr = await new Response(refused.stderr).text();
      expect(stderr).toContain("not supported: dbtunnel's plugin handles port forwarding only");
      expect(stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      ssm.destroy();
    }
  }, 60_000);
});
