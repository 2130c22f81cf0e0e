import { defineRule, fail, ok } from "../define-rule.ts";
import { sessionDocuments, UNREADABLE } from "../session-document.ts";
import { asString, isTrue } from "../tf-json.ts";

export const sessionDocumentLogEncryption = defineRule({
  id: "CKV_AWS_113",
  description:
    "The Session document logs to S3 with s3EncryptionEnabled and/or to CloudWatch with cloudWatchEncryptionEnabled.",
  fix: "In the Session document inputs set s3BucketName with s3EncryptionEnabled: true and/or cloudWatchLogGroupName with cloudWatchEncryptionEnabled: true.",
  check: (tf) =>
    sessionDocuments(tf).map(({ doc, inputs }) => {
      if (!inputs) return fail(doc.address, UNREADABLE);
      const s3 = (asString(inputs.s3BucketName) ?? "") !== "";
      const cw = (asString(inputs.cloudWatchLogGroupName) ?? "") !== "";
      if (!s3 && !cw) return fail(doc.address, "session logging goes neither to S3 nor to CloudWatch");
      const problems: string[] = [];
      if (s3 && !isTrue(inputs.s3EncryptionEnabled)) problems.push("s3EncryptionEnabled is not true");
      if (cw && !isTrue(inputs.cloudWatchEncryptionEnabled))
        problems.push("cloudWatchEncryptionEnabled is not true");
      return problems.length > 0
        ? fail(doc.address, problems.join("; "))
        : ok(doc.address, "session logs encrypted");
    }),
});
