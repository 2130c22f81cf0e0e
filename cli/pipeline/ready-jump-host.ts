/**
 * Step 2, "jump host ready": starts an EC2 jump host the idle auto-stop stopped and waits until Session
 * Manager reports its agent Online, or resolves an ECS jump host to its `ecs:` target. Returns the
 * StartSession target. The waiting itself lives in jump-host.ts, with the read-only checks doctor uses.
 */
import type { AwsClients } from "../aws.ts";
import { readyJumpHost as waitUntilReady } from "../jump-host.ts";
import type { StackTarget } from "../target.ts";
import type { PipelineReporter } from "./progress.ts";

export interface JumpHostOptions {
  readonly aws: AwsClients;
  readonly signal?: AbortSignal;
  /** @default DBTUNNEL_WAIT_TIMEOUT_S or 600 s */
  readonly timeoutMs?: number;
  /** @default DBTUNNEL_POLL_MS or 3000 ms */
  readonly pollMs?: number;
  /** Skip the EC2 calls when Session Manager says Online (see jump-host.ts). @default true */
  readonly trustOnline?: boolean;
}

export function readyJumpHost(
  target: StackTarget,
  options: JumpHostOptions,
  ui: PipelineReporter,
): Promise<string> {
  return waitUntilReady(options.aws, target.jumpHost, ui, {
    engineerPolicyArn: target.engineerPolicyArn,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    pollMs: options.pollMs,
    trustOnline: options.trustOnline,
  });
}
