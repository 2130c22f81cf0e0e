import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, resources } from "../tf-json.ts";

export const MODERN_RDS_CAS = ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"] as const;

export const databaseCaCertificate = defineRule({
  id: "CKV_AWS_211",
  description: "The database CA certificate is rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 or rds-ca-ecc384-g1.",
  fix: 'Set ca_cert_identifier = "rds-ca-rsa2048-g1" (or rsa4096-g1 / ecc384-g1); clients trust the RDS global bundle.',
  check: (tf) =>
    resources(tf, "aws_db_instance", "aws_rds_cluster_instance").map((db) => {
      const ca = asString(db.body.ca_cert_identifier);
      if (ca === undefined)
        return fail(db.address, "ca_cert_identifier is not set, so the CA depends on the account default");
      return (MODERN_RDS_CAS as readonly string[]).includes(ca)
        ? ok(db.address, `CA ${ca}`)
        : fail(db.address, `ca_cert_identifier = ${ca} is not a current RDS CA`);
    }),
});
