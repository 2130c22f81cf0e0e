/**
 * Step 3, "open the session": a native Session Manager port-forwarding session from 127.0.0.1 to the
 * database, through the ready jump host. Reports the `open-session` step and a `session` event.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { Tunnel } from "../../tunnel/types.ts";
import { TunnelError } from "../../tunnel/types.ts";
import { portInUse } from "../local-port.ts";
import type { StackTarget } from "../target.ts";
import type { PipelineReporter } from "./progress.ts";

export interface SessionOptions {
  /** The StartSession target from readyJumpHost (an instance id or an `ecs:` target). */
  readonly ssmTarget: string;
  readonly ssm: SSMClient;
  /** @default a free port */
  readonly localPort?: number;
  /** Recorded with StartSession in CloudTrail. */
  readonly reason: string;
  /**
   * The Session document to start (`--document`). @default the stack's pinned Port document
   * (target.sessionDocumentName), else the tunnel's default for stacks that predate it
   */
  readonly documentName?: string;
  readonly signal: AbortSignal;
}

export async function openSession(
  target: StackTarget,
  options: SessionOptions,
  ui: PipelineReporter,
): Promise<Tunnel> {
  const opening = ui.step("open-session", "opening session");
  let tunnel: Tunnel;
  try {
    // Imported on use: the tunnel is the heaviest part and `--help` must not need it.
    const { openTunnel } = await import("../../tunnel/index.ts");
    tunnel = await openTunnel({
      target: options.ssmTarget,
      host: target.db.endpoint,
      port: target.db.port,
      localPort: options.localPort,
      ssm: options.ssm,
      reason: options.reason,
      ...((options.documentName ?? target.sessionDocumentName)
        ? { documentName: options.documentName ?? target.sessionDocumentName }
        : {}),
      signal: options.signal,
    });
  } catch (error) {
    opening.fail();
    if (error instanceof TunnelError && error.code === "LocalPortInUse" && options.localPort) {
      throw portInUse(options.localPort);
    }
    throw error;
  }
  opening.done(`${tunnel.sessionId}, 127.0.0.1:${tunnel.port}, ${tunnel.mode}`);
  ui.event({
    type: "session",
    sessionId: tunnel.sessionId,
    host: "127.0.0.1",
    port: tunnel.port,
    mode: tunnel.mode,
  });
  return tunnel;
}
