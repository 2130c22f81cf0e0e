/** Security policy engine: the rules of shared/docs/security-rules.md over synthesized Terraform JSON. */
export { formatViolation, SecurityPolicyAspect, type SecurityPolicyAspectProps } from "./aspect.ts";
export { auditFile } from "./audit-file.ts";
export { renderAuditTable, summarize } from "./audit-table.ts";
export {
  embeddedSuppressions,
  recordSuppressions,
  SUPPRESSIONS_METADATA_KEY,
} from "./embedded-suppressions.ts";
export { evaluatePolicy, PolicyError, validateSuppressions } from "./evaluate.ts";
export { ALL_RULES } from "./rules/index.ts";
export type {
  EvaluateOptions,
  Finding,
  PolicyReport,
  Rule,
  RuleResult,
  RuleStatus,
  RuleSuppression,
  TerraformJson,
} from "./types.ts";
