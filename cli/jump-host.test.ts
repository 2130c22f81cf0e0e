import { afterAll, describe, expect, test } from "bun:test";
import { awsClients } from "./aws.ts";
import { ecsTargetString, readyJumpHost } from "./jump-host.ts";
import { QUIET } from "./pipeline/progress.ts";

describe("ECS Exec targets", () => {
  test("ecs:<cluster>_<taskId>_<runtimeId>, with the cluster name taken from an ARN", () => {
    expect(ecsTargetString("jump", "0123abcd", "0123abcd-3765917032")).toBe(
      "ecs:jump_0123abcd_0123abcd-3765917032",
    );
    expect(ecsTargetString("arn:aws:ecs:eu-west-1:123456789012:cluster/jump", "t1", "r1")).toBe(
      "ecs:jump_t1_r1",
    );
  });
});

describe("a running EC2 jump host", () => {
  /**
   * A local endpoint for the real SDK clients: Session Manager answers `ping`, EC2 answers `state` and
   * records each action (a tunnel should make none).
   */
  function account(ping: string, state: string) {
    const ec2Calls: string[] = [];
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        if (request.headers.get("x-amz-target") === "AmazonSSM.DescribeInstanceInformation") {
          return Response.json({ InstanceInformationList: [{ PingStatus: ping }] });
        }
        const action = new URLSearchParams(await request.text()).get("Action") ?? "?";
        ec2Calls.push(action);
        return new Response(
          `<${action}Response><reservationSet><item><instancesSet><item><instanceState><name>${state}</name></instanceState></item></instancesSet></item></reservationSet></${action}Response>`,
          { headers: { "content-type": "text/xml" } },
        );
      },
    });
    servers.push(server);
    const aws = awsClients("us-east-1", {
      endpoint: server.url.origin,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    });
    return { aws, ec2Calls };
  }
  const servers: { stop(force: boolean): unknown }[] = [];
  afterAll(() => {
    for (const server of servers) server.stop(true);
  });
  const jumpHost = { kind: "ec2", instanceId: "i-0123456789abcdef0" } as const;

  test("Session Manager's Online is enough: no EC2 call (the listener never loads the EC2 SDK)", async () => {
    const { aws, ec2Calls } = account("Online", "running");
    expect(await readyJumpHost(aws, jumpHost, QUIET, { pollMs: 1 })).toBe(jumpHost.instanceId);
    expect(ec2Calls).toEqual([]);
  });

  test("not Online, or trustOnline false (StartSession found no agent): the instance's state is checked", async () => {
    const lost = account("ConnectionLost", "running");
    const distrusted = account("Online", "running");
    await expect(readyJumpHost(lost.aws, jumpHost, QUIET, { pollMs: 1, timeoutMs: 50 })).rejects.toThrow(
      /did not come online in Session Manager \(ConnectionLost\)/,
    );
    await readyJumpHost(distrusted.aws, jumpHost, QUIET, { pollMs: 1, trustOnline: false });
    expect(lost.ec2Calls).toEqual(["DescribeInstances"]);
    expect(distrusted.ec2Calls).toEqual(["DescribeInstances"]);
  });
});
