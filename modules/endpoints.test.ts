import { describe, expect, test } from "bun:test";
import { synthesize } from "../test-support/modules/synth.ts";
import { Endpoints } from "./endpoints.ts";

const props = {
  namePrefix: "dev",
  region: "us-east-1",
  vpcId: "vpc-1",
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

  test("no subnets is an error naming the field", () => {
    expect(() => synthesize((s) => new Endpoints(s, "e", { ...props, subnetIds: [] }))).toThrow(
      "Endpoints: subnetIds is empty",
    );
  });
});
