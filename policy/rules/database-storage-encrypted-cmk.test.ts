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
import { databaseStorageEncryptedCmk as rule } from "./database-storage-encrypted-cmk.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "AWS-managed key",
    change: (tf) => {
      delete R(tf).aws_db_instance.db.kms_key_id;
    },
    resource: "aws_db_instance.db",
    message: /AWS-managed key/,
  },
  {
    name: "not encrypted",
    change: (tf) => {
      R(tf).aws_db_instance.db.storage_encrypted = false;
    },
    resource: "aws_db_instance.db",
    message: /storage_encrypted/,
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
