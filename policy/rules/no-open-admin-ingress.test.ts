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
import { noOpenAdminIngress as rule } from "./no-open-admin-ingress.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "SSH from anywhere",
    change: (tf) => {
      R(tf).aws_security_group.jumphost.ingress = [
        { protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] },
      ];
    },
    resource: "aws_security_group.jumphost",
    message: /opens 22 to the internet/,
  },
  {
    name: "all traffic from anywhere",
    change: (tf) => {
      R(tf).aws_security_group_rule = {
        all: {
          type: "ingress",
          security_group_id: "${aws_security_group.database.id}",
          protocol: "-1",
          from_port: 0,
          to_port: 0,
          cidr_blocks: ["0.0.0.0/0"],
        },
      };
    },
    resource: "aws_security_group_rule.all",
    message: /all ports/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "0.0.0.0/0 on an unwatched port (DBT-INGRESS-2 still fails)",
    change: (tf) => {
      R(tf).aws_security_group.endpoints.ingress = [
        { protocol: "tcp", from_port: 8443, to_port: 8443, cidr_blocks: ["0.0.0.0/0"] },
      ];
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
