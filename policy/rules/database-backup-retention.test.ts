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
import { databaseBackupRetention as rule } from "./database-backup-retention.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "one day of backups",
    change: (tf) => {
      R(tf).aws_db_instance.db.backup_retention_period = 1;
    },
    resource: "aws_db_instance.db",
    message: /= 1, must be more than 1/,
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
