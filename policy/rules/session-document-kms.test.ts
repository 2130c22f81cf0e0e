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
import { R, sessionInputs } from "../fixtures/stack-edits.ts";
import { sessionDocumentKms as rule } from "./session-document-kms.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "no kmsKeyId",
    change: (tf) => sessionInputs(tf, (i) => delete i.kmsKeyId),
    resource: "aws_ssm_document.session_preferences",
    message: /kmsKeyId is not set/,
  },
  {
    name: "content built with jsonencode",
    change: (tf) => {
      R(tf).aws_ssm_document.session_preferences.content = '${jsonencode({"inputs" = {"kmsKeyId" = "x"}})}';
    },
    resource: "aws_ssm_document.session_preferences",
    message: /JSON\.stringify/,
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
