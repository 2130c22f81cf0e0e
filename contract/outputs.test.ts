import { describe, expect, test } from "bun:test";
import { OUTPUT_KEYS, OutputsError, parseStackOutputs } from "./outputs.ts";

const good = {
  stack_name: "dev",
  region: "eu-west-1",
  jump_host_kind: "ec2",
  jump_host_instance_id: "i-0123456789abcdef0",
  ecs_cluster: "",
  ecs_service: "",
  db_engine: "aurora-mysql",
  db_identifier: "dev-db",
  db_endpoint: "dev-db.cluster-abc.eu-west-1.rds.amazonaws.com",
  db_port: 3306,
  db_resource_id: "cluster-ABCDEFGHIJKL",
  db_name: "app",
  db_iam_users: ["app_ro"],
  db_master_username: "dbadmin",
  db_master_secret_arn: "",
  engineer_policy_arn: "arn:aws:iam::123456789012:policy/dev-engineer",
  session_document_name: "dev-db-port-forwarding",
};

function problem(changes: Record<string, unknown>): string {
  try {
    parseStackOutputs("dev", { ...good, ...changes }, "/tmp/outputs.json");
  } catch (error) {
    expect(error).toBeInstanceOf(OutputsError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  return "ok";
}

describe("parseStackOutputs", () => {
  test("the sample covers every output of the contract", () => {
    expect(Object.keys(good)).toEqual([...OUTPUT_KEYS]);
  });

  test("a good stack is read with absent optionals as undefined", () => {
    const outputs = parseStackOutputs("dev", good, "o.json");
    expect(outputs.jumpHost).toEqual({ kind: "ec2", instanceId: "i-0123456789abcdef0" });
    expect(outputs.db).toMatchObject({ engine: "aurora-mysql", port: 3306, masterSecretArn: undefined });
  });

  test("every bad value names the output, the stack and the file", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ db_endpoint: "db.example.com\n203.0.113.66 github.com" }, "db_endpoint", /whitespace or a control/],
      [{ db_endpoint: "db example.com" }, "db_endpoint", /whitespace/],
      [{ db_endpoint: `${"a".repeat(70)}.com` }, "db_endpoint", /DNS name/],
      [{ db_port: 0 }, "db_port", /port number/],
      [{ db_port: "54x" }, "db_port", /port number/],
      [{ jump_host_instance_id: "i-xyz\n" }, "jump_host_instance_id", /instance id/],
      [{ jump_host_kind: "ecs", ecs_cluster: "a b", ecs_service: "s" }, "ecs_cluster", /ECS name/],
      [{ db_resource_id: "db-1/../x" }, "db_resource_id", /resource id/],
      [{ db_identifier: "x;y" }, "db_identifier", /RDS identifier/],
      [{ region: "eu west 1" }, "region", /AWS region/],
      [{ db_iam_users: ["ok", "bad user"] }, "db_iam_users", /database user/],
      [
        { db_master_secret_arn: "arn:aws:iam::123456789012:role/x" },
        "db_master_secret_arn",
        /secretsmanager/,
      ],
      [{ engineer_policy_arn: "policy" }, "engineer_policy_arn", /iam ARN/],
      [{ db_engine: "oracle" }, "db_engine", /one of postgres, aurora-postgresql, mysql, aurora-mysql/],
    ];
    for (const [changes, output, why] of cases) {
      const message = problem(changes);
      expect(message).toStartWith(`Output '${output}' of stack 'dev' in /tmp/outputs.json `);
      expect(message).toMatch(why);
      expect(message).toEndWith("regenerate it with 'cdktf output --outputs-file /tmp/outputs.json'.");
    }
  });

  test("a long bad value is echoed escaped and cut", () => {
    const message = problem({ db_identifier: `x${"\u0007".repeat(500)}` });
    expect(message.length).toBeLessThan(400);
    expect(message).toContain("\\u0007");
  });

  test("a missing required output", () => {
    const { region: _, ...rest } = good;
    expect(() => parseStackOutputs("dev", rest, "o.json")).toThrow(
      "Output 'region' is missing from stack 'dev' in o.json",
    );
  });
});
