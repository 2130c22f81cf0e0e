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
import { ecsJumpHost, JUMP_SG, R } from "../fixtures/stack-edits.ts";
import { jumpHostNoIngress as rule } from "./jump-host-no-ingress.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "inline ingress on the jump host group",
    change: (tf) => {
      R(tf).aws_security_group.jumphost.ingress = [
        {
          protocol: "tcp",
          from_port: 22,
          to_port: 22,
          security_groups: ["${aws_security_group.endpoints.id}"],
        },
      ];
    },
    resource: "aws_security_group.jumphost",
    message: /has ingress tcp\/22/,
  },
  {
    name: "aws_security_group_rule of type ingress",
    change: (tf) => {
      R(tf).aws_security_group_rule = {
        ssh: {
          type: "ingress",
          security_group_id: JUMP_SG,
          protocol: "tcp",
          from_port: 22,
          to_port: 22,
          cidr_blocks: ["10.0.0.0/16"],
        },
      };
    },
    resource: "aws_security_group_rule.ssh",
    message: /jump host security group aws_security_group.jumphost/,
  },
  {
    name: "ingress on an ECS jump host's group",
    change: (tf) => {
      ecsJumpHost(tf);
      R(tf).aws_vpc_security_group_ingress_rule.into_task = {
        security_group_id: JUMP_SG,
        referenced_security_group_id: "${aws_security_group.endpoints.id}",
        ip_protocol: "tcp",
        from_port: 8080,
        to_port: 8080,
      };
    },
    resource: "aws_vpc_security_group_ingress_rule.into_task",
    message: /tcp\/8080/,
  },
];

const COMPLIANT: CompliantVariant[] = [{ name: "ECS jump host without ingress", change: ecsJumpHost }];

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
