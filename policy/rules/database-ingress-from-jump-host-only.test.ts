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
import { JUMP_SG, R } from "../fixtures/stack-edits.ts";
import { databaseIngressFromJumpHostOnly as rule } from "./database-ingress-from-jump-host-only.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "database admits the endpoint group",
    change: (tf) => {
      R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost.referenced_security_group_id =
        "${aws_security_group.endpoints.id}";
    },
    resource: "aws_vpc_security_group_ingress_rule.database_from_jumphost",
    message: /only tcp\/5432 from the jump host group/,
  },
  {
    name: "database admits a port range",
    change: (tf) => {
      Object.assign(R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost, {
        from_port: 5000,
        to_port: 6000,
      });
    },
    resource: "aws_vpc_security_group_ingress_rule.database_from_jumphost",
    message: /tcp\/5000-6000/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "legacy aws_security_group_rule from the jump host",
    change: (tf) => {
      delete R(tf).aws_vpc_security_group_ingress_rule.database_from_jumphost;
      R(tf).aws_security_group_rule = {
        db: {
          type: "ingress",
          security_group_id: "${aws_security_group.database.id}",
          source_security_group_id: JUMP_SG,
          protocol: "tcp",
          from_port: 5432,
          to_port: 5432,
        },
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
