import { describe, expect, test } from "bun:test";
import { policyOf, synthesize } from "../test-support/modules/synth.ts";
import { Database, type DatabaseProps } from "./database.ts";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const base: DatabaseProps = {
  namePrefix: "dev",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  kmsKeyArn: KEY,
};

function build(props: Partial<DatabaseProps> = {}) {
  let db: Database | undefined;
  const tf = synthesize((stack) => {
    db = new Database(stack, "db", { ...base, ...props });
    db.allowConnectionsFrom("from-jumphost", "sg-jumphost");
  });
  return { tf, db: db as Database };
}

describe("Database: RDS PostgreSQL (default)", () => {
  const { tf, db } = build();
  const instance = tf.one("aws_db_instance");

  test("private, encrypted with the stack key, IAM auth, managed master password", () => {
    expect(instance).toMatchObject({
      engine: "postgres",
      publicly_accessible: false,
      storage_encrypted: true,
      kms_key_id: KEY,
      iam_database_authentication_enabled: true,
      manage_master_user_password: true,
      master_user_secret_kms_key_id: KEY,
    });
    expect(instance.password).toBeUndefined();
    expect(instance.username).toBe("dbadmin");
    expect(instance.master_username).toBeUndefined();
  });

  test("TLS forced by the parameter group (rds.force_ssl=1)", () => {
    const params = tf.one("aws_db_parameter_group");
    expect(params.family).toBe("postgres16");
    expect(params.parameter).toEqual([{ name: "rds.force_ssl", value: "1" }]);
    expect(String(instance.parameter_group_name)).toContain("aws_db_parameter_group.");
  });

  test("log exports, backups > 1 day, deletion protection, CA, minor upgrades", () => {
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    expect(instance.backup_retention_period as number).toBeGreaterThan(1);
    expect(instance.deletion_protection).toBe(true);
    expect(instance.skip_final_snapshot).toBe(false);
    expect(instance.final_snapshot_identifier).toBe("dev-db-final");
    expect(instance.ca_cert_identifier).toBe("rds-ca-rsa2048-g1");
    expect(instance.auto_minor_version_upgrade).toBe(true);
    expect(instance.tags).toMatchObject({ "dbtunnel:role": "database" });
  });

  test("development profile: no Multi-AZ, monitoring or Performance Insights", () => {
    expect(instance.multi_az).toBe(false);
    expect(instance.monitoring_interval).toBe(0);
    expect(instance.performance_insights_enabled).toBe(false);
  });

  test("its group admits only the jump host's group on the database port", () => {
    expect(tf.one("aws_security_group").ingress).toBeUndefined();
    const rule = tf.one("aws_vpc_security_group_ingress_rule");
    expect(rule).toMatchObject({
      referenced_security_group_id: "sg-jumphost",
      from_port: 5432,
      to_port: 5432,
      ip_protocol: "tcp",
    });
    expect(rule.cidr_ipv4).toBeUndefined();
    expect(db.literalPort).toBe(5432);
  });
});

describe("Database: production profile", () => {
  const { tf } = build({ production: true });
  const instance = tf.one("aws_db_instance");

  test("Multi-AZ, enhanced monitoring with an inline-policy role, Performance Insights with the CMK", () => {
    expect(instance.multi_az).toBe(true);
    expect(instance.monitoring_interval).toBe(60);
    expect(String(instance.monitoring_role_arn)).toContain("aws_iam_role.");
    expect(instance.performance_insights_enabled).toBe(true);
    expect(instance.performance_insights_kms_key_id).toBe(KEY);
    expect(tf.count("aws_iam_role_policy_attachment")).toBe(0);
    for (const s of policyOf(tf.one("aws_iam_role_policy")).Statement) expect(s.Resource).not.toBe("*");
  });
});

describe("Database: test stack without deletion protection", () => {
  test("skips the final snapshot and warns at synth", () => {
    const { tf, db } = build({ deletionProtection: false });
    const instance = tf.one("aws_db_instance");
    expect(instance.deletion_protection).toBe(false);
    expect(instance.skip_final_snapshot).toBe(true);
    const warnings = db.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
    expect(warnings.join()).toContain("deletion protection is OFF");
  });
});

describe("Database: Aurora PostgreSQL", () => {
  const { tf, db } = build({ engine: "aurora-postgresql" });
  const cluster = tf.one("aws_rds_cluster");

  test("cluster encrypted, IAM auth, managed password, TLS, logs, backups, deletion protection", () => {
    expect(cluster).toMatchObject({
      engine: "aurora-postgresql",
      storage_encrypted: true,
      kms_key_id: KEY,
      iam_database_authentication_enabled: true,
      manage_master_user_password: true,
      deletion_protection: true,
      enabled_cloudwatch_logs_exports: ["postgresql"],
    });
    expect(tf.one("aws_rds_cluster_parameter_group").parameter).toEqual([
      { name: "rds.force_ssl", value: "1" },
    ]);
    expect(tf.count("aws_db_instance")).toBe(0);
  });

  test("instances are private with the right CA; the resource id is the cluster's", () => {
    const instance = tf.one("aws_rds_cluster_instance");
    expect(instance).toMatchObject({
      publicly_accessible: false,
      ca_cert_identifier: "rds-ca-rsa2048-g1",
      auto_minor_version_upgrade: true,
    });
    expect(db.resourceId).toContain("TOKEN");
  });

  test("production adds a second instance", () => {
    expect(
      build({ engine: "aurora-postgresql", production: true }).tf.count("aws_rds_cluster_instance"),
    ).toBe(2);
  });
});

describe("Database: MySQL", () => {
  const { tf } = build({ engine: "mysql" });

  test("require_secure_transport=ON, port 3306, MySQL log exports", () => {
    expect(tf.one("aws_db_parameter_group")).toMatchObject({
      family: "mysql8.0",
      parameter: [{ name: "require_secure_transport", value: "ON" }],
    });
    const instance = tf.one("aws_db_instance");
    expect(instance.port).toBe(3306);
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["error", "general", "slowquery"]);
    expect(tf.one("aws_vpc_security_group_ingress_rule")).toMatchObject({ from_port: 3306, to_port: 3306 });
  });
});

describe("Database: invalid props", () => {
  test("name the construct, the field and the fix", () => {
    expect(() => build({ engine: "oracle" as never })).toThrow(
      /^Database: engine is "oracle"; use one of postgres, aurora-postgresql, mysql, aurora-mysql$/,
    );
    expect(() => build({ port: 80 })).toThrow("Database: port is 80; use a whole number from 1150 to 65535");
    expect(() => build({ backupRetentionDays: 1 })).toThrow(/Database: backupRetentionDays is 1/);
    expect(() => build({ subnetIds: ["subnet-a"] })).toThrow(/Database: subnetIds has 1 subnet/);
    expect(() => build({ identifier: "Bad_Name" })).toThrow(/Database: identifier "Bad_Name"/);
    expect(() => build({ engine: "aurora-postgresql", allocatedStorageGiB: 50 })).toThrow(
      /Database: allocatedStorageGiB is set for Aurora/,
    );
  });
});

describe("Database.fromExisting", () => {
  test("reads an instance by identifier and adds one ingress rule to the given group", () => {
    const tf = synthesize((stack) => {
      Database.fromExisting(stack, "db", {
        identifier: "legacy",
        securityGroupId: "sg-0123abcd",
      }).allowConnectionsFrom("in", "sg-jump");
    });
    const [, data] = tf.data("aws_db_instance")[0] ?? ["", {}];
    expect(data.db_instance_identifier).toBe("legacy");
    const rule = tf.one("aws_vpc_security_group_ingress_rule");
    expect(rule).toMatchObject({ security_group_id: "sg-0123abcd", referenced_security_group_id: "sg-jump" });
    expect(String(rule.from_port)).toContain("data.aws_db_instance.");
  });

  test("Aurora reads the cluster", () => {
    const tf = synthesize((stack) =>
      Database.fromExisting(stack, "db", {
        identifier: "c",
        engine: "aurora-postgresql",
        securityGroupId: "sg-1",
      }),
    );
    expect(tf.data("aws_rds_cluster")).toHaveLength(1);
  });

  test("needs a security group", () => {
    expect(() =>
      synthesize((s) => Database.fromExisting(s, "db", { identifier: "x", securityGroupId: "" })),
    ).toThrow(/ExistingDatabase: securityGroupId is empty/);
  });
});

describe("Database: IAM users tag (discovery by tags)", () => {
  test("the users go to dbtunnel:iam-users, space-separated; none, no tag", () => {
    const tagged = build({ iamUsers: ["app_ro", "app_rw"] }).tf.one("aws_db_instance");
    expect(tagged.tags).toMatchObject({ "dbtunnel:iam-users": "app_ro app_rw", "dbtunnel:role": "database" });
    expect(build().tf.one("aws_db_instance").tags).not.toHaveProperty(["dbtunnel:iam-users"]);
  });

  test("a name that is no database user, or more than a tag holds, fails naming the field", () => {
    expect(() => build({ iamUsers: ["bad user"] })).toThrow(
      /^Database: iamUsers must be a database user name/,
    );
    const many = Array.from({ length: 30 }, (_, i) => `engineer_number_${i}`);
    expect(() => build({ iamUsers: many })).toThrow(
      /^Database: iamUsers needs \d+ characters in tag dbtunnel:iam-users \(at most 256\)/,
    );
  });
});
