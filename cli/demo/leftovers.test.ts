import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecurityGroupCommand, CreateVpcCommand, DeleteVpcCommand } from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { CreateKeyCommand, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import { type Moto, startMoto } from "../../sandbox/moto.ts";
import { type AwsClients, makeClients } from "./aws-clients.ts";
import { findLeftovers, resourcesFromShowJson } from "./leftovers.ts";

test("resourcesFromShowJson lists managed resources with id, arn and name, data sources excluded", () => {
  const show = {
    values: {
      root_module: {
        resources: [
          { mode: "managed", type: "aws_vpc", address: "aws_vpc.v", values: { id: "vpc-1", arn: "arn:vpc" } },
          {
            mode: "data",
            type: "aws_ssm_parameter",
            address: "data.aws_ssm_parameter.ami",
            values: { id: "x" },
          },
          {
            mode: "managed",
            type: "aws_db_instance",
            address: "aws_db_instance.db",
            values: { id: "db-ABC", identifier: "e2e-db" },
          },
        ],
        child_modules: [
          {
            resources: [
              {
                mode: "managed",
                type: "aws_s3_bucket",
                address: "module.m.aws_s3_bucket.b",
                values: { id: "b", bucket: "b" },
              },
            ],
          },
        ],
      },
    },
  };
  expect(resourcesFromShowJson(show)).toEqual([
    { type: "aws_vpc", address: "aws_vpc.v", id: "vpc-1", arn: "arn:vpc", name: undefined },
    { type: "aws_db_instance", address: "aws_db_instance.db", id: "db-ABC", arn: undefined, name: "e2e-db" },
    { type: "aws_s3_bucket", address: "module.m.aws_s3_bucket.b", id: "b", arn: undefined, name: "b" },
  ]);
  expect(resourcesFromShowJson({})).toEqual([]);
});

describe("findLeftovers against moto", () => {
  let moto: Moto;
  let dir: string;
  let clients: AwsClients;
  const stackName = "e2e-leftover-test";
  const Tags = [{ Key: "dbtunnel:stack", Value: stackName }];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dbtunnel-leftovers-"));
    moto = await startMoto({ dir });
    clients = makeClients({
      region: "us-east-1",
      endpoint: moto.url,
      credentials: { accessKeyId: "AKIALEFTOVERTEST", secretAccessKey: "secret" },
    });
  }, 30_000);

  afterAll(async () => {
    clients?.destroy();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("reports what still exists, ignores what is gone or kept by AWS on purpose", async () => {
    const vpc = (await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc?.VpcId ?? "";
    const sg =
      (
        await clients.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: "left-behind",
            Description: "left behind",
            VpcId: vpc,
            TagSpecifications: [{ ResourceType: "security-group", Tags }],
          }),
        )
      ).GroupId ?? "";
    const key =
      (
        await clients.kms.send(
          new CreateKeyCommand({ Tags: [{ TagKey: Tags[0]?.Key, TagValue: stackName }] }),
        )
      ).KeyMetadata?.KeyId ?? "";
    await clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
    await clients.iam.send(
      new CreateRoleCommand({ RoleName: `${stackName}-role`, AssumeRolePolicyDocument: "{}" }),
    );
    const goneVpc =
      (await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.8.0.0/16" }))).Vpc?.VpcId ?? "";
    await clients.ec2.send(new DeleteVpcCommand({ VpcId: goneVpc }));

    const leftovers = await findLeftovers({
      stackName,
      clients,
      deployed: [
        { type: "aws_vpc", address: "aws_vpc.gone", id: goneVpc },
        { type: "aws_kms_key", address: "aws_kms_key.k", id: key },
        {
          type: "aws_iam_role",
          address: "aws_iam_role.r",
          id: `${stackName}-role`,
          name: `${stackName}-role`,
        },
      ],
    });
    const reported = leftovers.map((l) => l.resource).sort();
    // The IAM role (from state; IAM is not in the tagging API) and the tagged group are left; the deleted
    // VPC and the key pending deletion are not.
    expect(reported).toHaveLength(2);
    expect(reported.some((r) => r.startsWith("aws_iam_role.r"))).toBe(true);
    expect(reported.some((r) => r.includes(sg))).toBe(true);
    expect(leftovers.find((l) => l.resource.includes(sg))?.reason).toBe("security group exists");
  }, 30_000);

  test("a service's task tagged with the stack is left while it runs, not once it has stopped", async () => {
    const cluster = `${stackName}-jumphost`;
    const ecsTags = [{ key: "dbtunnel:stack", value: stackName }];
    await clients.ecs.send(new CreateClusterCommand({ clusterName: cluster, tags: ecsTags }));
    await clients.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: cluster,
        containerDefinitions: [{ name: "jumphost", image: "busybox", memory: 64 }],
      }),
    );
    const run = await clients.ecs.send(
      new RunTaskCommand({ cluster, taskDefinition: cluster, launchType: "FARGATE", tags: ecsTags }),
    );
    const taskArn = run.tasks?.[0]?.taskArn ?? "";
    await clients.ecs.send(new DeleteClusterCommand({ cluster }));
    const reasons = async () =>
      (await findLeftovers({ stackName, clients, deployed: [] }))
        .filter((l) => l.resource === taskArn)
        .map((l) => l.reason);
    // Plain moto moves a described task on (RUNNING, DEACTIVATING, ...): any state but STOPPED is left.
    const left = await reasons();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^ECS task is (RUNNING|DEACTIVATING|STOPPING|DEPROVISIONING)$/);
    await clients.ecs.send(new StopTaskCommand({ cluster, task: taskArn }));
    expect(await reasons()).toEqual([]);
  }, 30_000);
});
