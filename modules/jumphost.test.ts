import { describe, expect, test } from "bun:test";
import { TerraformOutput } from "cdktf";
import { PARTITION, policyOf, statement, synthesize } from "../test-support/modules/synth.ts";
import { JumpHost, type JumpHostProps } from "./jumphost.ts";
import { AL2023_AMI_PARAMETER } from "./jumphost-ec2.ts";
import { ecrRepositoryOf } from "./jumphost-ecs.ts";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const base: JumpHostProps = {
  namePrefix: "dev",
  region: "us-east-1",
  accountId: "123456789012",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  kmsKeyArn: KEY,
  endpointSecurityGroupId: "sg-endpoints",
  s3PrefixListId: "pl-s3",
  database: { securityGroupId: "sg-db", port: 5432 },
  sessionLogging: {
    bucketArn: "arn:aws:s3:::logs",
    logGroupArn: "arn:aws:logs:us-east-1:123456789012:log-group:/dbtunnel/dev/sessions",
  },
};

function egressOf(tf: ReturnType<typeof synthesize>) {
  return tf.resources("aws_vpc_security_group_egress_rule").map(([, r]) => r);
}

describe("JumpHost security group (both kinds)", () => {
  for (const kind of ["ec2", "ecs"] as const) {
    const tf = synthesize(
      (stack) =>
        new JumpHost(stack, "jh", {
          ...base,
          kind,
          ...(kind === "ecs"
            ? { containerImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/jump:1" }
            : {}),
        }),
    );

    test(`${kind}: zero ingress rules of any form`, () => {
      expect(tf.count("aws_vpc_security_group_ingress_rule")).toBe(0);
      expect(tf.count("aws_security_group_rule")).toBe(0);
      expect(tf.one("aws_security_group").ingress).toBeUndefined();
    });

    test(`${kind}: egress only 443 to endpoints and S3, and the DB port to the DB group`, () => {
      const egress = egressOf(tf);
      expect(egress).toHaveLength(3);
      expect(egress).toContainEqual(
        expect.objectContaining({
          referenced_security_group_id: "sg-endpoints",
          from_port: 443,
          to_port: 443,
          ip_protocol: "tcp",
        }),
      );
      expect(egress).toContainEqual(
        expect.objectContaining({
          prefix_list_id: "pl-s3",
          from_port: 443,
          to_port: 443,
          ip_protocol: "tcp",
        }),
      );
      expect(egress).toContainEqual(
        expect.objectContaining({
          referenced_security_group_id: "sg-db",
          from_port: 5432,
          to_port: 5432,
          ip_protocol: "tcp",
        }),
      );
      for (const rule of egress) {
        expect(rule.cidr_ipv4).toBeUndefined();
        expect(rule.description).toBeUndefined();
      }
    });
  }
});

describe("JumpHost EC2", () => {
  let host: JumpHost | undefined;
  const tf = synthesize((stack) => {
    host = new JumpHost(stack, "jh", {
      ...base,
      idleStopMinutes: 15,
      volumeTags: { "dbtunnel:stack": "dev" },
    });
  });
  const instance = tf.one("aws_instance");

  test("AMI from the public Amazon Linux 2023 SSM parameter", () => {
    const [, ami] = tf.data("aws_ssm_parameter")[0] ?? ["", {}];
    expect(ami.name).toBe(AL2023_AMI_PARAMETER);
    expect(String(instance.ami)).toContain("data.aws_ssm_parameter.");
  });

  test("no key pair, no public IP attribute (subnets map none; moto would diff on false)", () => {
    expect(instance.key_name).toBeUndefined();
    expect(instance.associate_public_ip_address).toBeUndefined();
  });

  test("IMDSv2 required with hop limit 1", () => {
    expect(instance.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 1,
    });
  });

  test("root volume encrypted with the stack key and tagged", () => {
    expect(instance.root_block_device).toMatchObject({
      encrypted: true,
      kms_key_id: KEY,
      tags: { "dbtunnel:stack": "dev" },
    });
  });

  test("idle auto-stop: shutdown behaviour stop and a systemd timer in user data, without secrets or Terraform template syntax", () => {
    expect(instance.instance_initiated_shutdown_behavior).toBe("stop");
    const userData = String(instance.user_data);
    expect(userData).toContain("IDLE_MINUTES=15");
    expect(userData).toContain("pgrep -f ssm-session-worker");
    expect(userData).toContain("shutdown -h now");
    expect(userData).toContain("systemctl enable --now dbtunnel-idle-stop.timer");
    expect(userData).not.toContain("${");
    expect(userData).not.toContain("%{");
    expect(userData).not.toMatch(/password|secret|AKIA/i);
  });

  test("instance profile with an inline least-privilege policy, no AWS-managed policy", () => {
    expect(String(instance.iam_instance_profile)).toContain("aws_iam_instance_profile.");
    expect(tf.count("aws_iam_role_policy_attachment")).toBe(0);
    const doc = policyOf(tf.one("aws_iam_role_policy"));
    expect(statement(doc, "SessionManagerChannels").Action).toEqual([
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]);
    expect(statement(doc, "AgentRegistersThisAccountsInstances").Resource).toBe(
      `arn:${PARTITION}:ec2:us-east-1:123456789012:instance/*`,
    );
    expect(statement(doc, "DecryptSessionData").Resource).toBe(KEY);
    expect(statement(doc, "WriteSessionLogsToS3").Resource).toBe("arn:aws:s3:::logs/*");
    for (const s of doc.Statement) {
      expect(JSON.stringify(s.Action)).not.toContain("*");
      // "*" only where IAM offers no resource type.
      if (s.Resource === "*")
        expect(["SessionManagerChannels", "AgentChecksLogGroupExists"]).toContain(s.Sid as string);
    }
  });

  test("tagged as the jump host and exposes its ARN for the access policy", () => {
    expect(instance.tags).toMatchObject({ "dbtunnel:role": "jump-host" });
    const ec2 = host?.host;
    expect(ec2?.kind).toBe("ec2");
    expect(host?.sessionTargetArns).toEqual([ec2?.kind === "ec2" ? ec2.instanceArn : "missing"]);
    // The EC2 host carries no ECS fields (not even empty ones).
    expect(ec2 && "clusterName" in ec2).toBe(false);
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() => synthesize((s) => new JumpHost(s, "j", { ...base, idleStopMinutes: 0 }))).toThrow(
      "Ec2JumpHost: idleStopMinutes is 0; use a whole number from 1 to 1440",
    );
    expect(() => synthesize((s) => new JumpHost(s, "j", { ...base, containerImage: "x" }))).toThrow(
      /JumpHost: containerImage is set but kind is "ec2"/,
    );
    expect(() =>
      synthesize((s) => new JumpHost(s, "j", { ...base, database: { securityGroupId: "sg", port: 70000 } })),
    ).toThrow(/JumpHost: database.port/);
  });
});

describe("JumpHost ECS", () => {
  let host: JumpHost | undefined;
  const tf = synthesize((stack) => {
    host = new JumpHost(stack, "jh", {
      ...base,
      kind: "ecs",
      containerImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/jump:1",
    });
    new TerraformOutput(stack, "target", { value: host.sessionTargetArns[0] }).overrideLogicalId("target");
  });

  test("the execution role pulls from the image's own repository only", () => {
    const policy = tf
      .resources("aws_iam_role_policy")
      .map(([, p]) => String(p.policy))
      .find((p) => p.includes("PullFromThisAccountsRepositories"));
    expect(policy).toContain(':ecr:us-east-1:123456789012:repository/jump"');
    expect(policy).not.toContain("repository/*");
    expect(ecrRepositoryOf("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/jump@sha256:abc")).toBe(
      "team/jump",
    );
    expect(ecrRepositoryOf("public.ecr.aws/amazonlinux/amazonlinux:2023")).toBeUndefined();
  });

  test("service with desired count 1, ECS Exec on, no public IP, zero-ingress group", () => {
    const service = tf.one("aws_ecs_service");
    expect(service).toMatchObject({
      desired_count: 1,
      enable_execute_command: true,
      launch_type: "FARGATE",
      propagate_tags: "SERVICE",
    });
    expect(service.network_configuration).toMatchObject({ assign_public_ip: false });
    expect(service.tags).toMatchObject({ "dbtunnel:role": "jump-host" });
    expect(tf.count("aws_instance")).toBe(0);
  });

  test("task role has the four ssmmessages actions; execution role is a different role", () => {
    const task = tf.one("aws_ecs_task_definition");
    expect(task.task_role_arn).not.toEqual(task.execution_role_arn);
    const taskPolicy = policyOf(tf.named("aws_iam_role_policy", "task-policy"));
    expect(statement(taskPolicy, "EcsExecChannels").Action).toHaveLength(4);
  });

  test("container is not privileged, no host PID, writable root for the exec agent", () => {
    const task = tf.one("aws_ecs_task_definition");
    expect(task.pid_mode).toBeUndefined();
    const [container] = JSON.parse(String(task.container_definitions));
    expect(container.privileged).toBe(false);
    expect(container.readonlyRootFilesystem).toBe(false);
    expect(container.linuxParameters.initProcessEnabled).toBe(true);
  });

  test("cluster encrypts exec sessions with the stack key; StartSession targets the cluster's tasks", () => {
    const cluster = tf.one("aws_ecs_cluster");
    expect(cluster.configuration).toMatchObject({ execute_command_configuration: { kms_key_id: KEY } });
    // The ECS host carries no instance fields (not even empty ones).
    expect(host?.host && "instanceId" in host.host).toBe(false);
    const target = String(tf.json.output?.target?.value);
    expect(target).toStartWith(`arn:${PARTITION}:ecs:us-east-1:123456789012:task/`);
    expect(target).toMatch(/:task\/\$\{aws_ecs_cluster\.[\w-]+\.name\}\/\*$/);
  });

  test("a missing image is an error naming the field", () => {
    expect(() => synthesize((s) => new JumpHost(s, "j", { ...base, kind: "ecs" }))).toThrow(
      /EcsJumpHost: containerImage is empty; push an image/,
    );
  });
});
