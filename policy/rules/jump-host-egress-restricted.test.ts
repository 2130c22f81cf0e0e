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
import { ecsJumpHost, R } from "../fixtures/stack-edits.ts";
import { jumpHostEgressRestricted as rule } from "./jump-host-egress-restricted.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "jump host egress to anywhere",
    change: (tf) => {
      R(tf).aws_security_group.jumphost.egress = [
        { protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] },
      ];
    },
    resource: "aws_security_group.jumphost",
    message: /egress all traffic to 0\.0\.0\.0\/0/,
  },
  {
    name: "database port towards the endpoint group",
    change: (tf) => {
      R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database.referenced_security_group_id =
        "${aws_security_group.endpoints.id}";
    },
    resource: "aws_vpc_security_group_egress_rule.jumphost_to_database",
    message: /tcp\/5432 to aws_security_group\.endpoints/,
  },
  {
    name: "a literal group on a literal port (not the database's)",
    change: (tf) => {
      R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database.referenced_security_group_id =
        "sg-0123456789abcdef0";
    },
    resource: "aws_vpc_security_group_egress_rule.jumphost_to_database",
    message: /tcp\/5432 to sg-0123456789abcdef0/,
  },
  {
    name: "the looked-up database port towards the endpoint group",
    change: (tf) => {
      Object.assign(R(tf).aws_vpc_security_group_egress_rule.jumphost_to_endpoints, {
        from_port: "${data.aws_db_instance.existing.port}",
        to_port: "${data.aws_db_instance.existing.port}",
      });
    },
    resource: "aws_vpc_security_group_egress_rule.jumphost_to_endpoints",
    message: /tcp\/\$\{data\.aws_db_instance\.existing\.port\} to aws_security_group\.endpoints/,
  },
  {
    name: "another group with all egress to the internet (CKV_AWS_382)",
    change: (tf) => {
      R(tf).aws_security_group.database.egress = [
        { protocol: "-1", from_port: 0, to_port: 0, ipv6_cidr_blocks: ["::/0"] },
      ];
    },
    resource: "aws_security_group.database",
    message: /all egress to the internet/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  { name: "ECS jump host with the same egress", change: ecsJumpHost },
  {
    name: "existing database: its group id and the looked-up port",
    change: (tf) => {
      tf.data.aws_db_instance = { existing: { db_instance_identifier: "prod-db" } };
      Object.assign(R(tf).aws_vpc_security_group_egress_rule.jumphost_to_database, {
        referenced_security_group_id: "sg-0123456789abcdef0",
        from_port: "${data.aws_db_instance.existing.port}",
        to_port: "${data.aws_db_instance.existing.port}",
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
