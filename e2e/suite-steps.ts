/**
 * Which steps the suite adds to the flow for a variant: after deploy a clean second plan (and, for an ECS
 * jump host, its running task read from the live APIs), then the engine's CLI connection steps.
 */
import type { FlowExtension, FlowTarget } from "../cli/demo/flow.ts";
import type { PlannedStep } from "../cli/demo/runner.ts";
import type { DemoVariant } from "../cli/demo/variants.ts";
import { connectSteps, connectThroughCli, type EngineCliSteps, planIsClean } from "./cli-steps.ts";
import { ecsJumpHostRunning } from "./ecs-target.ts";
import { mysqlCliSteps } from "./mysql-cli-steps.ts";
import { postgresCliSteps } from "./postgres-cli-steps.ts";

const PLAN_CLEAN: PlannedStep = {
  name: "plan-clean",
  title: "second plan is clean (terraform plan -detailed-exitcode)",
};
const ECS_TASK: PlannedStep = {
  name: "ecs-task",
  title:
    "jump host task RUNNING with ECS Exec, in the private subnet, resolvable as ecs:<cluster>_<task>_<runtime>",
};

const VARIANTS: Record<DemoVariant, { readonly engine: EngineCliSteps; readonly ecs: boolean }> = {
  default: { engine: postgresCliSteps, ecs: false },
  "ecs-mysql": { engine: mysqlCliSteps, ecs: true },
};

export function suiteSteps(target: FlowTarget, variant: DemoVariant = "default"): FlowExtension {
  const { engine, ecs } = VARIANTS[variant];
  return {
    afterDeploySteps: ecs ? [PLAN_CLEAN, ECS_TASK] : [PLAN_CLEAN],
    afterDeploy: async (run, stack) => {
      await run.check("plan-clean", () => planIsClean(stack, run.signal));
      if (ecs) await run.check("ecs-task", () => ecsJumpHostRunning(stack));
    },
    connectSteps: connectSteps(engine),
    connect: (run, stack) => connectThroughCli(run, stack, target, engine),
  };
}
