// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditFile } from "./audit-file.ts";
import { NOISE_SUPPRESSIONS, secureStack } from "./fixtures/secure-stack.ts";

/**
 * Issue acceptance: "`dbtunnel audit` flags an insecure hand-edited cdk.tf.json (e.g. an added 0.0.0.0/0
 * ingress) with the right rule IDs". The file is edited as text would be, then audited from disk.
 */
const dir = mkdtempSync(join(tmpdir(), "dbtunnel-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeStack(name: string, edit: (tf: ReturnType<typeof secureStack>) => void): string {
  const tf = secureStack();
  edit(tf);
  const file = join(dir, `${name}.cdk.tf.json`);
  writeFileSync(file, JSON.stringify(tf, null, 2));
  return file;
}

describe("dbtunnel audit on a hand-edited cdk.tf.json", () => {
  test("the untouched stack passes", () => {
    expect(
      auditFile(
        writeStack("clean", () => {}),
        { suppressions: NOISE_SUPPRESSIONS },
      ).violations,
    ).toEqual([]);
  });

  test("an added 0.0.0.0/0 SSH ingress on the jump host is flagged as DBT-INGRESS-1, DBT-INGRESS-2 and CKV_AWS_24", () => {
    const file = writeStack("ssh-open", (tf) => {
      tf.resource.aws_security_group.jumphost.ingress = [
        { protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"], description: "debug" },
      ];
    });
    const report = auditFile(file, { suppressions: NOISE_SUPPRESSIONS });
    expect([...new Set(report.violations.map((v) => v.ruleId))].sort()).toEqual([
      "CKV_AWS_24",
      "DBT-INGRESS-1",
      "DBT-INGRESS-2",
    ]);
    expect(report.violations.every((v) => v.resource === "aws_security_group.jumphost")).toBe(true);
    const ckv = report.violations.find((v) => v.ruleId === "CKV_AWS_24");
    expect(ckv?.aliases).toEqual(["CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277", "AVD-AWS-0107"]);
  });

  test("an all-ports 0.0.0.0/0 rule on the database group also breaks DBT-INGRESS-3", () => {
    const file = writeStack("db-open", (tf) => {
      tf.resource.aws_vpc_security_group_ingress_rule.anyone = {
        security_group_id: "${aws_security_group.database.id}",
        cidr_ipv4: "0.0.0.0/0",
        ip_protocol: "-1",
      };
    });
    const report = auditFile(file, { suppressions: NOISE_SUPPRESSIONS });
    expect([...new Set(report.violations.map((v) => v.ruleId))].sort()).toEqual([
      "CKV_AWS_24",
      "DBT-INGRESS-2",
      "DBT-INGRESS-3",
    ]);
    expect(report.violations.every((v) => v.resource === "aws_vpc_security_group_ingress_rule.anyone")).toBe(
      true,
    );
  });
});
