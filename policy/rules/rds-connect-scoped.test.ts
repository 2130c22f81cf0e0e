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
import { setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { rdsConnectScoped as rule } from "./rds-connect-scoped.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "any user",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) =>
          (d.Statement[3].Resource =
            "arn:aws:rds-db:eu-west-1:123456789012:dbuser:${aws_db_instance.db.resource_id}/*"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /does not name a database user/,
  },
  {
    name: "any database",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) => (d.Statement[3].Resource = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/alice"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /resource id/,
  },
];

const COMPLIANT: CompliantVariant[] = [];

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
