import { Aspects, type TerraformStack } from "cdktf";
import { SecurityPolicyAspect } from "../policy/index.ts";
import type { RuleSuppression } from "./config.ts";

/** Wires the project's security policy (policy/) into a stack: synth fails listing rule, resource and fix. */
export function addSecurityPolicy(stack: TerraformStack, suppressions: readonly RuleSuppression[]): void {
  Aspects.of(stack).add(new SecurityPolicyAspect({ suppressions }));
}
