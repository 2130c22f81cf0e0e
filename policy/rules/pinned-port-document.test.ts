// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, expect, test } from "bun:test";
import {
  type CompliantVariant,
  expectCompliant,
  expectNotApplicable,
  expectSecureStackPasses,
  expectViolation,
  type NonCompliantCase,
} from "../fixtures/expect-rule.ts";
import type { MutableTf } from "../fixtures/secure-stack.ts";
import { secureStackWith } from "../fixtures/secure-stack.ts";
import { R, setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { fixedValuePattern } from "../port-documents.ts";
import { pinnedPortDocument as rule } from "./pinned-port-document.ts";

const editDocument = (tf: MutableTf, edit: (doc: MutableTf) => void) => {
  const doc = JSON.parse(R(tf).aws_ssm_document.db_port.content);
  edit(doc);
  R(tf).aws_ssm_document.db_port.content = JSON.stringify(doc);
};

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "the AWS-owned remote-host document (host and port free)",
    change: (tf) =>
      setEngineerPolicy(tf, (d) =>
        d.Statement[0].Resource.push(
          "arn:aws:ssm:eu-west-1::document/AWS-StartPortForwardingSessionToRemoteHost",
        ),
      ),
    resource: "aws_iam_policy.engineer",
    message: /AWS-StartPortForwardingSessionToRemoteHost, a document whose host and port are not pinned/,
  },
  {
    name: "every document",
    change: (tf) => setEngineerPolicy(tf, (d) => d.Statement[0].Resource.push("arn:aws:ssm:*:*:document/*")),
    resource: "aws_iam_policy.engineer",
    message: /document\/\*, a document whose host/,
  },
  {
    name: "the stack's document with a host pattern that admits any host",
    change: (tf) => editDocument(tf, (doc) => (doc.parameters.host.allowedPattern = "^[^;]{3,}$")),
    resource: "aws_iam_policy.engineer",
    message: /aws_ssm_document\.db_port takes host from a parameter whose allowedPattern/,
  },
  {
    name: "the stack's document with a free port",
    change: (tf) => editDocument(tf, (doc) => delete doc.parameters.portNumber.allowedPattern),
    resource: "aws_iam_policy.engineer",
    message: /portNumber from a parameter without allowedPattern/,
  },
  {
    name: "a shell (Standard_Stream) document",
    change: (tf) => editDocument(tf, (doc) => (doc.sessionType = "Standard_Stream")),
    resource: "aws_iam_policy.engineer",
    message: /not of sessionType Port/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "host and port fixed literally in properties (no parameters)",
    change: (tf) =>
      editDocument(tf, (doc) => {
        doc.properties.host = "db.abcdefghijkl.eu-west-1.rds.amazonaws.com";
        doc.properties.portNumber = "5432";
        doc.parameters = {};
      }),
  },
  {
    name: "a cluster's writer and reader endpoints, escaped with backslashes",
    change: (tf) =>
      editDocument(
        tf,
        (doc) =>
          (doc.parameters.host.allowedPattern =
            "^(db\\.cluster-abc\\.eu-west-1\\.rds\\.amazonaws\\.com|db\\.cluster-ro-abc\\.eu-west-1\\.rds\\.amazonaws\\.com)$"),
      ),
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

describe("fixedValuePattern", () => {
  test("admits anchored alternatives of literal names or one expression each, nothing looser", () => {
    expect(fixedValuePattern("^5432$")).toBe(true);
    expect(fixedValuePattern("^(db[.]x[.]rds[.]amazonaws[.]com)$")).toBe(true);
    expect(fixedValuePattern("^(${local.host_pattern})$")).toBe(true);
    for (const loose of ["^.*$", "5432", "^54.2$", "^(db|.*)$", "^[0-9]+$", "^(db[.]x)", "^()$"]) {
      expect(fixedValuePattern(loose), loose).toBe(false);
    }
  });
});
