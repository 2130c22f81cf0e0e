import { defineRule, fail, ok } from "../define-rule.ts";
import { sessionDocuments, UNREADABLE } from "../session-document.ts";
import { asString } from "../tf-json.ts";

export const sessionDocumentKms = defineRule({
  id: "CKV_AWS_112",
  description: "The Session Manager preferences document sets inputs.kmsKeyId.",
  fix: "Set inputs.kmsKeyId in the Session document content to the stack's KMS key.",
  check: (tf) =>
    sessionDocuments(tf).map(({ doc, inputs }) => {
      if (!inputs) return fail(doc.address, UNREADABLE);
      return (asString(inputs.kmsKeyId) ?? "") !== ""
        ? ok(doc.address, "session data encrypted with KMS")
        : fail(doc.address, "inputs.kmsKeyId is not set");
    }),
});
