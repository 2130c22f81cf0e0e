/**
 * The evaluator against AWS's documented Session Manager policy examples ("Additional sample IAM policies
 * for Session Manager", "Start a session with a document by specifying the session documents in IAM
 * policies") and IAM's evaluation rules (explicit deny wins, variables without a value do not match).
 */
import { describe, expect, test } from "bun:test";
import { evaluate, type PolicyDocument, wildcardMatch } from "./iam-policy.ts";

const johnDoe = { "aws:userid": "AIDAJ45Q7YFFAREXAMPLE", "aws:username": "JohnDoe" };
const assumed = { "aws:userid": "AROAIDPPEZS35WEXAMPLE:JohnDoe" };

// Example 1 of the user guide: three instances, end/resume only one's own sessions by user name.
const example1: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["ssm:StartSession"],
      Resource: [
        "arn:aws:ec2:us-east-2:123456789012:instance/i-1234567890EXAMPLE",
        "arn:aws:ec2:us-east-2:123456789012:instance/i-abcdefghijEXAMPLE",
      ],
    },
    {
      Effect: "Allow",
      Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
      Resource: ["arn:aws:ssm:*:*:session/${aws:username}-*"],
    },
  ],
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable in the test name, not a template
describe("AWS example 1: instances and ${aws:username} sessions", () => {
  test("the listed instance is allowed, another is not", () => {
    expect(
      evaluate([example1], {
        action: "ssm:StartSession",
        resource: "arn:aws:ec2:us-east-2:123456789012:instance/i-1234567890EXAMPLE",
        context: johnDoe,
      }),
    ).toBe("allow");
    expect(
      evaluate([example1], {
        action: "ssm:StartSession",
        resource: "arn:aws:ec2:us-east-2:123456789012:instance/i-0e9d8c7b6aEXAMPLE",
        context: johnDoe,
      }),
    ).toBe("implicit-deny");
  });

  test("an IAM user's own session (the guide's session ARN example) is allowed, another's is not", () => {
    const own = "arn:aws:ssm:us-east-2:123456789012:session/JohnDoe-1a2b3c4d5eEXAMPLE";
    const other = "arn:aws:ssm:us-east-2:123456789012:session/JaneDoe-1a2b3c4d5eEXAMPLE";
    expect(evaluate([example1], { action: "ssm:TerminateSession", resource: own, context: johnDoe })).toBe(
      "allow",
    );
    expect(evaluate([example1], { action: "ssm:ResumeSession", resource: other, context: johnDoe })).toBe(
      "implicit-deny",
    );
  });

  test("an assumed role has no aws:username: the statement does not apply to it", () => {
    const own = "arn:aws:ssm:us-east-2:123456789012:session/JohnDoe-1a2b3c4d5eEXAMPLE";
    expect(evaluate([example1], { action: "ssm:TerminateSession", resource: own, context: assumed })).toBe(
      "implicit-deny",
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable in the test name, not a template
  test("session/${aws:userid}-* matches no real session id, of a user or of an assumed role", () => {
    const userIdPolicy: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Action: "ssm:ResumeSession",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
        Resource: "arn:aws:ssm:*:*:session/${aws:userid}-*",
      },
    };
    for (const context of [johnDoe, assumed]) {
      expect(
        evaluate([userIdPolicy], {
          action: "ssm:ResumeSession",
          resource: "arn:aws:ssm:us-east-2:123456789012:session/JohnDoe-0123456789abcdef0",
          context,
        }),
      ).toBe("implicit-deny");
    }
  });
});

describe("AWS example 2: instance tags", () => {
  const policy: PolicyDocument = {
    Statement: {
      Effect: "Allow",
      Action: ["ssm:StartSession"],
      Resource: ["arn:aws:ec2:us-east-2:987654321098:instance/*"],
      Condition: { StringLike: { "ssm:resourceTag/Finance": ["WebServers"] } },
    },
  };
  const resource = "arn:aws:ec2:us-east-2:987654321098:instance/i-02573cafcfEXAMPLE";
  test("tagged instance allowed; untagged or otherwise tagged not", () => {
    const context = (finance?: string) => ({ ...johnDoe, "ssm:resourceTag/Finance": finance });
    expect(evaluate([policy], { action: "ssm:StartSession", resource, context: context("WebServers") })).toBe(
      "allow",
    );
    expect(evaluate([policy], { action: "ssm:StartSession", resource, context: context() })).toBe(
      "implicit-deny",
    );
    expect(evaluate([policy], { action: "ssm:StartSession", resource, context: context("Payroll") })).toBe(
      "implicit-deny",
    );
  });
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable in the test name, not a template
describe("AWS example 3, method 2: the session-id tag with ${aws:userid}", () => {
  const policy: PolicyDocument = {
    Statement: {
      Effect: "Allow",
      Action: ["ssm:TerminateSession"],
      Resource: "*",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
      Condition: { StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": ["${aws:userid}"] } },
    },
  };
  const resource = "arn:aws:ssm:us-east-2:123456789012:session/JohnDoe-0123456789abcdef0";
  test("works for users and assumed roles alike; someone else's session is refused", () => {
    for (const context of [johnDoe, assumed]) {
      const tagged = { ...context, "ssm:resourceTag/aws:ssmmessages:session-id": context["aws:userid"] };
      expect(evaluate([policy], { action: "ssm:TerminateSession", resource, context: tagged })).toBe("allow");
      const others = { ...context, "ssm:resourceTag/aws:ssmmessages:session-id": "AIDAOTHERUSEREXAMPLE" };
      expect(evaluate([policy], { action: "ssm:TerminateSession", resource, context: others })).toBe(
        "implicit-deny",
      );
    }
  });

  test("a wildcard in the caller's own id is literal, not a pattern", () => {
    const sneaky = { "aws:userid": "AROAEXAMPLE:*" };
    const context = { ...sneaky, "ssm:resourceTag/aws:ssmmessages:session-id": "AROAEXAMPLE:victim" };
    expect(evaluate([policy], { action: "ssm:TerminateSession", resource, context })).toBe("implicit-deny");
  });
});

describe("document access check", () => {
  const policy: PolicyDocument = {
    Statement: {
      Effect: "Allow",
      Action: "ssm:StartSession",
      Resource: [
        "arn:aws:ec2:us-east-1:111122223333:instance/i-02573cafcfEXAMPLE",
        "arn:aws:ssm:us-east-1:111122223333:document/dbt-db-port",
      ],
      Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
    },
  };
  const context = { ...johnDoe, "ssm:SessionDocumentAccessCheck": "true" };
  test("the listed document is allowed, the AWS-owned remote-host document is not", () => {
    expect(
      evaluate([policy], {
        action: "ssm:StartSession",
        resource: "arn:aws:ssm:us-east-1:111122223333:document/dbt-db-port",
        context,
      }),
    ).toBe("allow");
    expect(
      evaluate([policy], {
        action: "ssm:StartSession",
        resource: "arn:aws:ssm:us-east-1::document/AWS-StartPortForwardingSessionToRemoteHost",
        context,
      }),
    ).toBe("implicit-deny");
  });

  test("BoolIfExists holds when the key is absent, fails when it is false", () => {
    const resource = "arn:aws:ec2:us-east-1:111122223333:instance/i-02573cafcfEXAMPLE";
    expect(evaluate([policy], { action: "ssm:StartSession", resource, context: johnDoe })).toBe("allow");
    expect(
      evaluate([policy], {
        action: "ssm:StartSession",
        resource,
        context: { ...johnDoe, "ssm:SessionDocumentAccessCheck": "false" },
      }),
    ).toBe("implicit-deny");
  });
});

describe("evaluation logic", () => {
  const allowAll: PolicyDocument = { Statement: { Effect: "Allow", Action: "ssm:*", Resource: "*" } };
  const denyDocs: PolicyDocument = {
    Statement: { Effect: "Deny", Action: "ssm:StartSession", Resource: "arn:aws:ssm:*::document/AWS-*" },
  };
  test("an explicit deny wins over any allow; action names are case-insensitive", () => {
    const resource = "arn:aws:ssm:us-east-1::document/AWS-StartSSHSession";
    expect(evaluate([allowAll, denyDocs], { action: "ssm:startsession", resource, context: {} })).toBe(
      "explicit-deny",
    );
    expect(evaluate([allowAll], { action: "SSM:StartSession", resource, context: {} })).toBe("allow");
    expect(evaluate([], { action: "ssm:StartSession", resource, context: {} })).toBe("implicit-deny");
  });

  test("an unknown condition operator fails closed", () => {
    const odd: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Action: "*",
        Resource: "*",
        Condition: { IpAddress: { "aws:SourceIp": "1" } },
      },
    };
    expect(evaluate([odd], { action: "ssm:StartSession", resource: "x", context: {} })).toBe("implicit-deny");
  });

  test("wildcards: * any run, ? one character, anchored", () => {
    expect(wildcardMatch("arn:aws:ssm:*:*:session/bob-*", "arn:aws:ssm:eu-west-1:1:session/bob-1")).toBe(
      true,
    );
    expect(wildcardMatch("arn:aws:ssm:*:*:session/bob-*", "arn:aws:ssm:eu-west-1:1:session/bobby-1")).toBe(
      false,
    );
    expect(wildcardMatch("i-?", "i-1")).toBe(true);
    expect(wildcardMatch("i-?", "i-12")).toBe(false);
  });
});
