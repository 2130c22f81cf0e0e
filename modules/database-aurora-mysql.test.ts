import { describe, expect, test } from "bun:test";
import { databaseForceTls } from "../policy/rules/database-force-tls.ts";
import type { TerraformJson } from "../policy/types.ts";
import { synthesize } from "../test-support/modules/synth.ts";
import { Database, type DatabaseProps } from "./database.ts";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const props: DatabaseProps = {
  namePrefix: "dev",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  kmsKeyArn: KEY,
  engine: "aurora-mysql",
};

describe("Database: Aurora MySQL", () => {
  const tf = synthesize((stack) => {
    new Database(stack, "db", props).allowConnectionsFrom("from-jumphost", "sg-jumphost");
  });

  test("cluster with IAM auth, managed password, encryption and MySQL logs; TLS forced by the cluster parameter group", () => {
    expect(tf.one("aws_rds_cluster")).toMatchObject({
      engine: "aurora-mysql",
      engine_version: "8.0.mysql_aurora.3.08.0",
      port: 3306,
      storage_encrypted: true,
      kms_key_id: KEY,
      iam_database_authentication_enabled: true,
      manage_master_user_password: true,
      enabled_cloudwatch_logs_exports: ["error", "general", "slowquery"],
    });
    expect(tf.one("aws_rds_cluster_parameter_group")).toMatchObject({
      family: "aurora-mysql8.0",
      parameter: [{ name: "require_secure_transport", value: "ON" }],
    });
    expect(tf.one("aws_rds_cluster_instance")).toMatchObject({
      engine: "aurora-mysql",
      instance_class: "db.t4g.medium",
      publicly_accessible: false,
    });
    expect(tf.one("aws_vpc_security_group_ingress_rule")).toMatchObject({ from_port: 3306, to_port: 3306 });
  });

  test("CKV2_AWS_69 (force TLS): compliant as synthesized, failing without require_secure_transport", () => {
    const json = JSON.parse(JSON.stringify(tf.json)) as TerraformJson;
    expect(databaseForceTls.evaluate(json).map((r) => r.status)).toEqual(["compliant"]);
    const groups = (json.resource as Record<string, Record<string, { parameter: unknown[] }>>)
      .aws_rds_cluster_parameter_group;
    for (const group of Object.values(groups ?? {})) group.parameter = [{ name: "time_zone", value: "UTC" }];
    const [result] = databaseForceTls.evaluate(json);
    expect(result?.status).toBe("non-compliant");
    expect(result?.message).toContain("does not set require_secure_transport to on");
  });
});
