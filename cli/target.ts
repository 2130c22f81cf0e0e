/** What `connect`, `token` and `doctor` need to know about one deployed stack, wherever it came from. */
import { type DatabaseEngine, isMysqlEngine } from "../contract/engines.ts";
import type { JumpHostOutputs } from "../contract/outputs.ts";

/** The engines of contract/engines.ts. */
export type DbEngine = DatabaseEngine;

export type JumpHost = JumpHostOutputs;

export interface DatabaseTarget {
  readonly engine: DbEngine;
  readonly identifier: string;
  /** Hostname only, e.g. `db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com`. */
  readonly endpoint: string;
  readonly port: number;
  readonly resourceId?: string;
  /** Database to connect to by default. */
  readonly name?: string;
  /** IAM-authenticated login roles the stack created (from outputs; empty when found by tags). */
  readonly iamUsers: readonly string[];
  readonly masterUsername?: string;
  readonly iamAuthEnabled?: boolean;
}

export interface StackTarget {
  readonly stackName: string;
  readonly region: string;
  readonly jumpHost: JumpHost;
  readonly db: DatabaseTarget;
  readonly engineerPolicyArn?: string;
  /**
   * The stack's Session document pinned to the database (output session_document_name, or its name by
   * convention when found by tags). Undefined for stacks that predate it: the tunnel then uses
   * AWS-StartPortForwardingSessionToRemoteHost.
   */
  readonly sessionDocumentName?: string;
  /** How the stack was found, for messages. */
  readonly source: "outputs" | "tags";
}

export function isMysql(engine: DbEngine): boolean {
  return isMysqlEngine(engine);
}

export function describeJumpHost(jumpHost: JumpHost): string {
  return jumpHost.kind === "ec2" ? jumpHost.instanceId : `ecs ${jumpHost.cluster}/${jumpHost.service}`;
}
