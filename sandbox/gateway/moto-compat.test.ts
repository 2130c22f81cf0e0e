/**
 * The two moto corrections, first as pure rewrites, then against a real moto through the gateway with the
 * real SDK: the calls Terraform makes must leave moto in the state AWS would be in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateDBParameterGroupCommand,
  DescribeDBParametersCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { startTestGateway, type TestGateway } from "../testing.ts";
import { needsResponseRewrite, rewriteRequestBody, rewriteResponseText } from "./moto-compat.ts";

const form = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const text = (body: ArrayBuffer | undefined) => new TextDecoder().decode(body);

describe("pure rewrites", () => {
  test("ModifyInstanceAttribute X.Value=... becomes Attribute=x&Value=...", () => {
    const out = rewriteRequestBody(
      "ec2",
      form(
        "Action=ModifyInstanceAttribute&InstanceId=i-1&InstanceInitiatedShutdownBehavior.Value=stop&Version=2016-11-15",
      ),
    );
    const params = new URLSearchParams(text(out));
    expect(params.get("Attribute")).toBe("instanceInitiatedShutdownBehavior");
    expect(params.get("Value")).toBe("stop");
    expect(params.has("InstanceInitiatedShutdownBehavior.Value")).toBe(false);
    expect(params.get("InstanceId")).toBe("i-1");
  });

  test("other calls and services pass through untouched", () => {
    const groups = form("Action=ModifyInstanceAttribute&InstanceId=i-1&GroupId.1=sg-1");
    expect(rewriteRequestBody("ec2", groups)).toBe(groups);
    const other = form("Action=DescribeInstances");
    expect(rewriteRequestBody("ec2", other)).toBe(other);
    const rds = form("Action=ModifyInstanceAttribute&InstanceInitiatedShutdownBehavior.Value=stop");
    expect(rewriteRequestBody("rds", rds)).toBe(rds);
  });

  test("DescribeDBParameters answers get a user Source where moto left it out", () => {
    expect(needsResponseRewrite("rds", form("Action=DescribeDBParameters&DBParameterGroupName=x"))).toBe(
      true,
    );
    expect(needsResponseRewrite("rds", form("Action=DescribeDBInstances"))).toBe(false);
    const xml =
      "<Parameters><Parameter><ParameterName>rds.force_ssl</ParameterName><ParameterValue>1</ParameterValue></Parameter>" +
      "<Parameter><ParameterName>a</ParameterName><Source>system</Source></Parameter></Parameters>";
    expect(rewriteResponseText(xml)).toBe(
      "<Parameters><Parameter><ParameterName>rds.force_ssl</ParameterName><ParameterValue>1</ParameterValue><Source>user</Source></Parameter>" +
        "<Parameter><ParameterName>a</ParameterName><Source>system</Source></Parameter></Parameters>",
    );
  });
});

describe("through the gateway against moto", () => {
  let tg: TestGateway;
  const client = <T>(Client: new (c: object) => T) =>
    new Client({ endpoint: tg.gateway.url, region: tg.region, credentials: tg.credentials, maxAttempts: 1 });

  beforeAll(async () => {
    tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 } });
  }, 60_000);
  afterAll(async () => {
    await tg?.stop();
  });

  test("setting the shutdown behaviour keeps the instance's security groups", async () => {
    const ec2 = client(EC2Client);
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "jump", Description: "jump host" }),
    );
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        SecurityGroupIds: [group.GroupId ?? ""],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        InstanceInitiatedShutdownBehavior: { Value: "stop" },
      }),
    );
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const groups = described.Reservations?.[0]?.Instances?.[0]?.SecurityGroups?.map((g) => g.GroupId);
    expect(groups).toEqual([group.GroupId]);
    const behaviour = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instanceId,
        Attribute: "instanceInitiatedShutdownBehavior",
      }),
    );
    expect(behaviour.InstanceInitiatedShutdownBehavior?.Value).toBe("stop");
    ec2.destroy();
  });

  test("a parameter set in a group reads back as a user parameter", async () => {
    const rds = client(RDSClient);
    await rds.send(
      new CreateDBParameterGroupCommand({
        DBParameterGroupName: "force-tls",
        DBParameterGroupFamily: "postgres15",
        Description: "forces TLS",
      }),
    );
    await rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: "force-tls",
        Parameters: [{ ParameterName: "rds.force_ssl", ParameterValue: "1", ApplyMethod: "immediate" }],
      }),
    );
    const read = await rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "force-tls" }));
    const forceSsl = read.Parameters?.find((p) => p.ParameterName === "rds.force_ssl");
    expect(forceSsl).toMatchObject({ ParameterValue: "1", Source: "user" });
    rds.destroy();
  });
});
