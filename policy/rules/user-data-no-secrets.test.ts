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
import { userDataNoSecrets as rule } from "./user-data-no-secrets.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "access key in user data",
    change: (tf) => {
      R(tf).aws_instance.jumphost.user_data = "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n";
    },
    resource: "aws_instance.jumphost",
    message: /access key id/,
  },
  {
    name: "password in base64 user data",
    change: (tf) => {
      R(tf).aws_instance.jumphost.user_data_base64 = Buffer.from("PGPASSWORD=s3cretvalue psql").toString(
        "base64",
      );
    },
    resource: "aws_instance.jumphost",
    message: /password or token/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "secrets fetched at run time",
    change: (tf) => {
      R(tf).aws_instance.jumphost.user_data =
        "#!/bin/bash\nTOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token)\nPASSWORD=`aws secretsmanager get-secret-value`\n";
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
