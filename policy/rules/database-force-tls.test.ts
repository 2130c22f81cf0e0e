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
import { databaseForceTls as rule } from "./database-force-tls.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "force_ssl = 0",
    change: (tf) => {
      R(tf).aws_db_parameter_group.pg.parameter = [{ name: "rds.force_ssl", value: "0" }];
    },
    resource: "aws_db_instance.db",
    message: /does not set rds\.force_ssl/,
  },
  {
    name: "default parameter group",
    change: (tf) => {
      delete R(tf).aws_db_instance.db.parameter_group_name;
    },
    resource: "aws_db_instance.db",
    message: /no parameter group/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "MySQL with require_secure_transport",
    change: (tf) => {
      Object.assign(R(tf).aws_db_instance.db, { engine: "mysql", port: 3306 });
      R(tf).aws_db_parameter_group.pg = {
        family: "mysql8.0",
        parameter: [{ name: "require_secure_transport", value: "ON" }],
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
