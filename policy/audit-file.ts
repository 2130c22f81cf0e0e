import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { embeddedSuppressions } from "./embedded-suppressions.ts";
import { evaluatePolicy, PolicyError } from "./evaluate.ts";
import { isObject } from "./tf-json.ts";
import type { EvaluateOptions, PolicyReport } from "./types.ts";

const TERRAFORM_SECTIONS = ["resource", "data", "provider", "terraform"];

/**
 * Audits a synthesized stack file (`cdktf.out/stacks/<name>/cdk.tf.json`); a stack directory works too.
 * Suppressions recorded in the file by SecurityPolicyAspect apply together with `opts.suppressions`.
 * Throws PolicyError with a one-line message for a missing, unreadable or non-Terraform file.
 */
export function auditFile(path: string, opts: EvaluateOptions = {}): PolicyReport {
  let file = path;
  if (!existsSync(file)) {
    throw new PolicyError(
      `${path}: file not found; run "cdktf synth" first or pass the path of a cdk.tf.json`,
    );
  }
  if (statSync(file).isDirectory()) {
    file = join(path, "cdk.tf.json");
    if (!existsSync(file))
      throw new PolicyError(`${path} is a directory without cdk.tf.json; pass the stack's cdk.tf.json`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new PolicyError(`${file} cannot be read (${why}); check the path and its permissions`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new PolicyError(`${file} is not valid JSON (${why}); pass a synthesized cdk.tf.json`);
  }
  if (!isObject(parsed) || !TERRAFORM_SECTIONS.some((k) => k in parsed)) {
    throw new PolicyError(
      `${file} is not Terraform JSON (no resource/data/provider/terraform section); pass a synthesized cdk.tf.json`,
    );
  }
  return evaluatePolicy(parsed, {
    suppressions: [...embeddedSuppressions(parsed), ...(opts.suppressions ?? [])],
  });
}
