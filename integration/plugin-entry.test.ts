/** The session-manager-plugin drop-in driven by the real AWS CLI against the sandbox's gateway and agent emulator. */
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { StartSessionCommand } from "@aws-sdk/client-ssm";
import { gatewayWorld } from "../test-support/tunnel/gateway-world.ts";

const BIN = join(import.meta.dir, "..", "bin");
describe("with the AWS CLI and the agent emulator", () => {
  const world = gatewayWorld();

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
        world.gw.instanceId,
        "--document-name",
        "AWS-StartPortForwardingSessionToRemoteHost",
        "--parameters",
        "host=db.internal,portNumber=5432,localPortNumber=0",
        "--endpoint-url",
        world.gw.gateway.url,
        "--region",
        world.gw.region,
      ],
      {
        env: { ...process.env, ...world.gw.env, PATH: `${BIN}:${process.env.PATH}` },
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
    const stats = world.gw.gateway.sessionStats(sessionId);
    expect(stats?.terminateFlagReceived).toBe(true);
    expect(stats?.terminated).toBe(true);
  }, 60_000);

  test("the 6-argument form in env mode, started from an existing session; a shell document is refused", async () => {
    const started = await world.ssm.send(
      new StartSessionCommand({
        Target: world.gw.instanceId,
        DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
        Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["0"] },
      }),
    );
    const child = Bun.spawn(
      [
        join(BIN, "session-manager-plugin"),
        "AWS_SSM_START_SESSION_RESPONSE",
        world.gw.region,
        "StartSession",
        "",
        JSON.stringify({
          Target: world.gw.instanceId,
          DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
        }),
        world.gw.gateway.url,
      ],
      {
        env: { ...process.env, ...world.gw.env, AWS_SSM_START_SESSION_RESPONSE: JSON.stringify(started) },
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
    expect(world.gw.gateway.sessionStats(started.SessionId ?? "")?.terminated).toBe(true);

    // The sandbox refuses shell sessions at StartSession, so hand the plugin what AWS would have returned.
    const shell = { SessionId: "dbtunnel-sandbox-shell", StreamUrl: "ws://127.0.0.1:9/x", TokenValue: "t" };
    const refused = Bun.spawn(
      [
        join(BIN, "session-manager-plugin"),
        JSON.stringify(shell),
        world.gw.region,
        "StartSession",
        "",
        JSON.stringify({ Target: world.gw.instanceId }),
        world.gw.gateway.url,
      ],
      { env: { ...process.env, ...world.gw.env }, stdout: "pipe", stderr: "pipe" },
    );
    expect(await refused.exited).toBe(1);
    const stderr = await new Response(refused.stderr).text();
    expect(stderr).toContain("not supported: dbtunnel's plugin handles port forwarding only");
    expect(stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);
});
