import { describe, expect, test } from "bun:test";
import { synthesize } from "../test-support/modules/synth.ts";
import { Endpoints } from "./endpoints.ts";

const props = {
  namePrefix: "dev",
  region: "us-east-1",
  accountId: "123456789012",
  vpcId: "vpc-1",
  s3BucketArns: ["arn:aws:s3:::dev-session-logs"],
  subnetIds: ["subnet-a", "subnet-b"],
  routeTableIds: ["rtb-1"],
};

describe("Endpoints", () => {
  const tf = synthesize((stack) => {
    const endpoints = new Endpoints(stack, "endpoints", props);
    endpoints.allowHttpsFrom("from-jumphost", "sg-jumphost");
  });
  const endpoints = tf.resources("aws_vpc_endpoint").map(([, e]) => e);

  test("interface endpoints for ssm, ssmmessages, ec2messages, kms, logs with private DNS in the private subnets", () => {
    const interfaces = endpoints.filter((e) => e.vpc_endpoint_type === "Interface");
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(
      ["ec2messages", "kms", "logs", "ssm", "ssmmessages"].map((s) => `com.amazonaws.us-east-1.${s}`),
    );
    for (const e of interfaces) {
      expect(e.private_dns_enabled).toBe(true);
      expect(e.subnet_ids).toEqual(["subnet-a", "subnet-b"]);
    }
  });

  test("S3 gateway endpoint on the private route tables", () => {
    const s3 = endpoints.find((e) => e.vpc_endpoint_type === "Gateway");
    expect(s3?.service_name).toBe("com.amazonaws.us-east-1.s3");
    expect(s3?.route_table_ids).toEqual(["rtb-1"]);
  });

  test("the endpoint group admits 443 only from the jump host group, with no inline rules", () => {
    const sg = tf.one("aws_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    const rule = tf.one("aws_vpc_security_group_ingress_rule");
    expect(rule).toMatchObject({
      referenced_security_group_id: "sg-jumphost",
      ip_protocol: "tcp",
      from_port: 443,
      to_port: 443,
    });
    expect(rule.cidr_ipv4).toBeUndefined();
    // moto drops descriptions of group-referencing rules: a description would diff on every plan.
    expect(rule.description).toBeUndefined();
  });

  test("extra services (ECR for Fargate) are added", () => {
    const ecs = synthesize(
      (stack) => new Endpoints(stack, "e", { ...props, extraServices: ["ecr.api", "ecr.dkr"] }),
    );
    const names = ecs.resources("aws_vpc_endpoint").map(([, e]) => e.service_name);
    expect(names).toContain("com.amazonaws.us-east-1.ecr.api");
    expect(names).toContain("com.amazonaws.us-east-1.ecr.dkr");
  });

  test("interface endpoint policies admit principals of this account only", () => {
    for (const e of endpoints.filter((x) => x.vpc_endpoint_type === "Interface")) {
      expect(JSON.parse(String(e.policy)).Statement).toEqual([
        {
          Sid: "PrincipalsOfThisAccountOnly",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "*",
          Resource: "*",
          Condition: { StringEquals: { "aws:PrincipalAccount": "123456789012" } },
        },
      ]);
    }
  });

  test("the S3 gateway endpoint reaches the session-log bucket and the AWS-owned agent buckets only", () => {
    const s3 = endpoints.find((e) => e.vpc_endpoint_type === "Gateway");
    const statements = JSON.parse(String(s3?.policy)).Statement as {
      Action: string | string[];
      Resource: string[];
      Condition: unknown;
    }[];
    const resources = statements.flatMap((s) => s.Resource);
    expect(resources).toContain("arn:aws:s3:::dev-session-logs/*");
    expect(resources.some((r) => r.endsWith(":s3:::us-east-1-birdwatcher-prod/*"))).toBe(true);
    expect(resources.some((r) => r.endsWith(":s3:::amazon-ssm-us-east-1/*"))).toBe(true);
    expect(resources.some((r) => r.includes("starport"))).toBe(false);
    expect(resources.every((r) => !r.endsWith(":::*") && r !== "*")).toBe(true);
    for (const s of statements) {
      expect(s.Condition).toEqual({ StringEquals: { "aws:PrincipalAccount": "123456789012" } });
    }
    const ecr = synthesize(
      (stack) => new Endpoints(stack, "e", { ...props, extraServices: ["ecr.api", "ecr.dkr"] }),
    );
    const ecrS3 = ecr.resources("aws_vpc_endpoint").find(([, e]) => e.vpc_endpoint_type === "Gateway")?.[1];
    expect(String(ecrS3?.policy)).toContain("prod-us-east-1-starport-layer-bucket/*");
  });

  test("no subnets is an error naming the field", () => {
    expect(() => synthesize((s) => new Endpoints(s, "e", { ...props, subnetIds: [] }))).toThrow(
      "Endpoints: subnetIds is empty",
    );
  });
});
