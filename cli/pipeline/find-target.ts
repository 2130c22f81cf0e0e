/**
 * Step 1, "find the target": the stack, its database and jump host, from a cdktf outputs file or by tags.
 * Reports the `find-stack` step and a `target` event.
 */
import { resolveTarget, type TargetOptions } from "../resolve-target.ts";
import { describeJumpHost, type StackTarget } from "../target.ts";
import type { PipelineReporter } from "./progress.ts";

export type { TargetOptions as TargetQuery };

export async function findTarget(query: TargetOptions, ui: PipelineReporter): Promise<StackTarget> {
  const finding = ui.step("find-stack", "finding stack");
  let target: StackTarget;
  try {
    target = await resolveTarget(query);
  } catch (error) {
    finding.fail();
    throw error;
  }
  finding.done(
    `${target.stackName}: ${target.db.engine} ${target.db.identifier} via ${describeJumpHost(target.jumpHost)}`,
  );
  ui.event({
    type: "target",
    stack: target.stackName,
    region: target.region,
    endpoint: target.db.endpoint,
    port: target.db.port,
    engine: target.db.engine,
    jumpHost: target.jumpHost,
    source: target.source,
  });
  return target;
}
