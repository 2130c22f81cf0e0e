// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, test } from "bun:test";
import {
  type CompliantVariant,
  expectCompliant,
  expectNotApplicable,
  expectSecureStackPasses,
  expectViolation,
  type NonCompliantCase,
} from "../fixtures/expect-rule.ts";
import { secureStackWith } from "../fixtures/secure-stack.ts";
import { R } from "../fixtures/stack-edits.ts";
import { databaseHighAvailabilityMonitoring as rule } from "./database-high-availability-monitoring.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "dev database",
    change: () => {},
    resource: "aws_db_instance.db",
    message: /multi_az, enhanced monitoring/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "production profile",
    change: (tf) => {
      Object.assign(R(tf).aws_db_instance.db, {
        multi_az: true,
        monitoring_interval: 60,
        monitoring_role_arn: "${aws_iam_role.rds_monitoring.arn}",
        performance_insights_enabled: true,
        performance_insights_kms_key_id: "${aws_kms_key.key.arn}",
      });
    },
  },
];

describe(`${rule.id} ${rule.description}`, () => {
  test("compliant: the secure stack", () => {
    expectSecureStackPasses(rule.id);
  });
  for (const c of COMPLIANT) {
    test(`compliant: ${c.name}`, () => {
      expectCompliant(rule.id, secureStackWith(c.change));
    });
  }
  for (const c of NON_COMPLIANT) {
    test(`non-compliant: ${c.name}`, () => {
      expectViolation(rule.id, secureStackWith(c.change), c.resource, c.message);
    });
  }
  test("not-applicable: a stack with nothing the rule is about", () => {
    expectNotApplicable(rule.id, { resource: {} });
  });
});
