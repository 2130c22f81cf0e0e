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
import { endpointIngressFromJumpHostOnly as rule } from "./endpoint-ingress-from-jump-host-only.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "endpoints admit the database group",
    change: (tf) => {
      R(tf).aws_vpc_security_group_ingress_rule.endpoints_from_jumphost.referenced_security_group_id =
        "${aws_security_group.database.id}";
    },
    resource: "aws_vpc_security_group_ingress_rule.endpoints_from_jumphost",
    message: /only tcp\/443 from the jump host group/,
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
