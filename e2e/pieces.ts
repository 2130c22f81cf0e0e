/**
 * The flow depends on parts other helpers build (sandbox/, tunnel/, policy/). They are imported here, by
 * a variable specifier, so that a missing part fails the one step that needs it with a line naming the
 * file and the export, instead of breaking the whole suite at load time or being skipped quietly.
 * The structural types below are the subset of each contract the flow uses.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { OpenTunnelOptions, Tunnel } from "../tunnel/types.ts";
import { PROJECT_ROOT } from "./terraform.ts";

export class MissingPieceError extends Error {
  override readonly name = "MissingPieceError";
}

export async function loadPiece<T>(relativePath: string, exportName: string, owner: string): Promise<T> {
  const absolute = resolve(PROJECT_ROOT, relativePath);
  if (!existsSync(absolute)) {
    throw new MissingPieceError(
      `${relativePath} is missing (${owner}): the e2e flow needs its '${exportName}'`,
    );
  }
  const mod = (await import(absolute)) as Record<string, unknown>;
  const value = mod[exportName];
  if (value === undefined) {
    throw new MissingPieceError(`${relativePath} does not export '${exportName}' (${owner}) yet`);
  }
  return value as T;
}

/** What startSandbox() returns, as far as the flow uses it (contract in e2e.md / contract.md). */
export interface SandboxHandle {
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, DBTUNNEL_CA_BUNDLE, ... */
  readonly env: Readonly<Record<string, string>>;
  readonly caBundlePath: string;
  readonly region: string;
  readonly gateway?: { activeSessions(): string[] };
  stop(): Promise<void>;
}

export type StartSandbox = (options?: {
  region?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}) => Promise<SandboxHandle>;

export const loadStartSandbox = () =>
  loadPiece<StartSandbox>("sandbox/index.ts", "startSandbox", "sandbox helper");

export const loadOpenTunnel = () =>
  loadPiece<(options: OpenTunnelOptions) => Promise<Tunnel>>(
    "tunnel/index.ts",
    "openTunnel",
    "tunnel helper",
  );

export interface PolicyResult {
  readonly ruleId: string;
  readonly status: string;
  readonly resource?: string;
  readonly message: string;
  readonly fix: string;
}
export interface PolicyReport {
  readonly results: readonly PolicyResult[];
  readonly violations: readonly PolicyResult[];
}
/** policy/audit-file.ts: evaluates a cdk.tf.json with the suppressions the synth aspect recorded in it. */
export type AuditFile = (
  path: string,
  opts?: { suppressions?: readonly { ruleId: string; reason: string }[] },
) => PolicyReport;

export async function loadPolicy(): Promise<{
  auditFile: AuditFile;
  renderAuditTable: (report: PolicyReport) => string;
}> {
  const auditFile = await loadPiece<AuditFile>("policy/index.ts", "auditFile", "policy helper");
  const renderAuditTable = await loadPiece<(report: PolicyReport) => string>(
    "policy/index.ts",
    "renderAuditTable",
    "policy helper",
  );
  return { auditFile, renderAuditTable };
}
