import { defineRule, fail, ok } from "../define-rule.ts";
import { asArray, asString, isObject, parseJson, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

/**
 * Every VPC endpoint carries a policy (without one it admits any principal to any resource: calls
 * forwarded through a session would look as if they came from the VPC, and the S3 gateway endpoint would
 * reach every bucket of every account). Interface endpoints: every Allow is limited to principals of one
 * account or organization (`aws:PrincipalAccount` / `aws:PrincipalOrgID`, or an account principal).
 * Gateway endpoints (S3): every Allow names buckets, never `*` or a bucket wildcard.
 */
const PRINCIPAL_KEYS = new Set(["aws:principalaccount", "aws:principalorgid"]);

type Json = Record<string, unknown>;

function statementsOf(policy: unknown): Json[] | undefined {
  const doc = parseJson(policy);
  if (!isObject(doc)) return undefined;
  return asArray(doc.Statement).filter(isObject) as Json[];
}

function limitedToAccount(s: Json): boolean {
  const conditions = isObject(s.Condition) ? s.Condition : {};
  for (const [operator, body] of Object.entries(conditions)) {
    if (!operator.startsWith("StringEquals") || !isObject(body)) continue;
    for (const [key, values] of Object.entries(body)) {
      const list = asArray(values).map(String);
      if (PRINCIPAL_KEYS.has(key.toLowerCase()) && list.length > 0 && !list.some((v) => v.includes("*")))
        return true;
    }
  }
  const principal = s.Principal;
  if (isObject(principal)) {
    const ids = asArray(principal.AWS).map(String);
    return (
      ids.length > 0 && ids.every((id) => id !== "*" && /^(\d{12}|arn:[^:]+:iam::\d{12}:|\$\{)/.test(id))
    );
  }
  return false;
}

/** A bucket wildcard: `*`, `arn:...:s3:::*`, or a bucket name part with `*` in it. */
function wildcardBucket(resource: string): boolean {
  if (resource === "*") return true;
  const m = /^arn:[^:]+:s3:::([^/]*)/.exec(resource);
  return m ? (m[1] ?? "").includes("*") || (m[1] ?? "") === "" : false;
}

export const vpcEndpointPolicies = defineRule({
  id: "DBT-NET-2",
  description:
    "Every VPC endpoint has a policy: interface endpoints admit principals of this account only, the S3 gateway endpoint names its buckets (the stack's and the AWS-owned ones the SSM agent needs).",
  fix: "Set policy on each aws_vpc_endpoint: interface endpoints Allow with Condition StringEquals aws:PrincipalAccount = the account id; the S3 gateway endpoint Allow only on the session-log bucket and the AWS-owned SSM agent buckets (modules/endpoint-policies.ts).",
  check: (tf) => {
    const findings: Finding[] = [];
    for (const ep of resources(tf, "aws_vpc_endpoint")) {
      const where = ep.address;
      const type = asString(ep.body.vpc_endpoint_type) ?? "Gateway";
      const statements = statementsOf(ep.body.policy);
      if (ep.body.policy === undefined) {
        findings.push(
          fail(where, `${where} has no endpoint policy: it admits any principal to any resource`),
        );
        continue;
      }
      if (!statements) {
        findings.push(
          fail(where, `${where} has a policy that cannot be read as JSON (build it with JSON.stringify)`),
        );
        continue;
      }
      const allows = statements.filter((s) => s.Effect === "Allow");
      if (type === "Interface") {
        const open = allows.filter((s) => !limitedToAccount(s));
        findings.push(
          open.length > 0
            ? fail(where, `${where} allows principals of any account (no aws:PrincipalAccount condition)`)
            : ok(where, `${where} admits principals of this account only`),
        );
      } else {
        const wild = allows.flatMap((s) => asArray(s.Resource).map(String)).filter(wildcardBucket);
        const open = allows.filter((s) => !limitedToAccount(s));
        if (wild.length > 0) findings.push(fail(where, `${where} reaches any bucket: ${wild.join(", ")}`));
        else if (open.length > 0)
          findings.push(
            fail(where, `${where} allows principals of any account (no aws:PrincipalAccount condition)`),
          );
        else findings.push(ok(where, `${where} reaches named buckets only, for principals of this account`));
      }
    }
    return findings;
  },
});
