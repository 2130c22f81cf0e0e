// biome-ignore-all lint/suspicious/noTemplateCurlyInString: a Terraform reference is not an ARN
import { describe, expect, test } from "bun:test";
import { partitionOfArn, partitionOfRegion } from "./partitions.ts";
import {
  arnProblem,
  dnsNameProblem,
  ecsNameProblem,
  instanceIdProblem,
  portProblem,
  rdsResourceIdProblem,
  regionProblem,
} from "./values.ts";

describe("DNS names", () => {
  test("RDS, China and sandbox endpoints are accepted", () => {
    for (const name of [
      "dev-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
      "dev-db.cluster-abc.cn-north-1.rds.amazonaws.com.cn",
      "db.sandbox.test",
      "localhost",
      "a.b.",
    ]) {
      expect(dnsNameProblem(name)).toBeUndefined();
    }
  });

  test("whitespace, control characters, bad labels and overlong names are refused", () => {
    expect(dnsNameProblem("db.example.com\n203.0.113.66 github.com")).toMatch(/whitespace or a control/);
    expect(dnsNameProblem("db example.com")).toMatch(/whitespace/);
    expect(dnsNameProblem("db\u0000.com")).toMatch(/control/);
    expect(dnsNameProblem("-db.example.com")).toMatch(/DNS name/);
    expect(dnsNameProblem("db..example.com")).toMatch(/DNS name/);
    expect(dnsNameProblem(`${"a".repeat(64)}.com`)).toMatch(/DNS name/);
    expect(dnsNameProblem(Array.from({ length: 60 }, () => "abcd").join("."))).toMatch(/at most 253/);
    expect(dnsNameProblem("")).toBe("is empty");
  });
});

describe("ids, ports and ARNs", () => {
  test("ports 1-65535", () => {
    expect(portProblem(1)).toBeUndefined();
    expect(portProblem(65535)).toBeUndefined();
    for (const bad of [0, 65536, 5432.5, "5432", -1]) expect(portProblem(bad)).toBeDefined();
  });

  test("instance ids, ECS names, resource ids, regions", () => {
    expect(instanceIdProblem("i-0123456789abcdef0")).toBeUndefined();
    expect(instanceIdProblem("i-01234567")).toBeUndefined();
    expect(instanceIdProblem("i-0123456789ABCDEF0")).toBeDefined();
    expect(instanceIdProblem("i-0123; rm -rf /")).toBeDefined();
    expect(ecsNameProblem("dev-jumphost")).toBeUndefined();
    expect(ecsNameProblem("a/b")).toBeDefined();
    expect(rdsResourceIdProblem("db-ABCDEFGHIJKL")).toBeUndefined();
    expect(rdsResourceIdProblem("cluster-ABCDEFGHIJKL")).toBeUndefined();
    expect(rdsResourceIdProblem("db-ABC/x")).toBeDefined();
    for (const region of ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"])
      expect(regionProblem(region)).toBeUndefined();
    expect(regionProblem("mars")).toBeDefined();
  });

  test("ARNs by partition and service", () => {
    expect(arnProblem("arn:aws:iam::123456789012:policy/dev-engineer", "iam")).toBeUndefined();
    expect(arnProblem("arn:aws-us-gov:iam::123456789012:policy/x", "iam")).toBeUndefined();
    expect(
      arnProblem("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:rds!db-1", "secretsmanager"),
    ).toBeUndefined();
    expect(arnProblem("arn:aws:s3:::bucket/key")).toBeUndefined();
    expect(arnProblem("arn:aws:iam::123456789012:policy/x", "secretsmanager")).toMatch(/secretsmanager ARN/);
    expect(arnProblem("arn:mars:iam::123456789012:policy/x")).toMatch(/ARN/);
    expect(arnProblem("arn:aws:iam::123456789012:policy/x\ny")).toMatch(/control/);
    expect(arnProblem("not-an-arn")).toMatch(/ARN/);
  });
});

describe("partitions", () => {
  test("each region's partition", () => {
    expect(partitionOfRegion("us-east-1")).toBe("aws");
    expect(partitionOfRegion("eu-west-1")).toBe("aws");
    expect(partitionOfRegion("us-gov-west-1")).toBe("aws-us-gov");
    expect(partitionOfRegion("cn-north-1")).toBe("aws-cn");
    expect(partitionOfRegion("cn-northwest-1")).toBe("aws-cn");
  });

  test("the partition field of an ARN", () => {
    expect(partitionOfArn("arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-1")).toBe("aws-cn");
    expect(partitionOfArn("${aws_instance.x.arn}")).toBeUndefined();
  });
});
