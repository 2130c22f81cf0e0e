import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label } from "../iam-documents.ts";
import { judgeDocument, referencedDocument } from "../port-documents.ts";
import type { Finding } from "../types.ts";

/** Documents the statement names (anything with `:document/` or an aws_ssm_document reference). */
const DOCUMENT_ARN = /:document\/|^\*$/;

export const pinnedPortDocument = defineRule({
  id: "DBT-IAM-4",
  description:
    "Every document engineers may start sessions with is the stack's own Port document whose host and portNumber admit only the database (no AWS-owned remote-host, SSH or wildcard document).",
  fix: "Start sessions only with PortForwardingDocument: a Session document of sessionType Port whose host and portNumber parameters default to the database endpoint and port and whose allowedPattern admits nothing else.",
  check: (tf) => {
    const findings: Finding[] = [];
    for (const doc of documentsOfKind(tf, "identity")) {
      if (!doc.statements) continue; // DBT-IAM-1 reports unreadable documents
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect !== "Allow" || !grants(s, "ssm:StartSession")) continue;
        const where = `${label(doc)} ${describeStatement(s, i)}`;
        for (const resource of s.resources) {
          const block = referencedDocument(tf, resource);
          if (block) {
            const verdict = judgeDocument(block);
            findings.push(
              verdict.pinned
                ? ok(doc.owner, `${where}: ${block.address} pins sessions to the database`)
                : fail(
                    doc.owner,
                    `${where}: ${block.address} ${verdict.why}, so sessions are not pinned to the database`,
                  ),
            );
          } else if (DOCUMENT_ARN.test(resource)) {
            findings.push(
              fail(
                doc.owner,
                `${where} allows ${resource}, a document whose host and port are not pinned to the database`,
              ),
            );
          }
        }
      }
    }
    return findings;
  },
});
