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
import { s3LoggingReplicationLock as rule } from "./s3-logging-replication-lock.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "session-log bucket",
    change: () => {},
    resource: "aws_s3_bucket.session_logs",
    message: /access logging, replication, object lock/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "logging, replication and object lock",
    change: (tf) => {
      R(tf).aws_s3_bucket.session_logs.object_lock_enabled = true;
      R(tf).aws_s3_bucket_logging = {
        l: { bucket: "${aws_s3_bucket.session_logs.id}", target_bucket: "logs" },
      };
      R(tf).aws_s3_bucket_replication_configuration = {
        r: { bucket: "${aws_s3_bucket.session_logs.id}", role: "x", rule: [] },
      };
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
