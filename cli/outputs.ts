/**
 * Reads the JSON that `cdktf output --outputs-file <file>` writes (`{ "<stack>": { "<output>": value } }`,
 * output names fixed by the cross-team contract) and turns one stack's outputs into a StackTarget.
 * Also accepts `terraform output -json` style values (`{ "value": ... }`) because people hand us those.
 */
import { readFileSync } from "node:fs";
import { CliError } from "./errors.ts";
import type { DbEngine, JumpHost, StackTarget } from "./target.ts";

export type OutputsFile = Record<string, Record<string, unknown>>;

const ENGINES: readonly DbEngine[] = ["postgres", "aurora-postgresql", "mysql", "aurora-mysql"];

export function readOutputsFile(path: string): OutputsFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "ENOENT"
        ? `Outputs file ${path} does not exist: write it with 'cdktf output --outputs-file ${path}' after deploying, or omit --outputs to find the stack by its tags.`
        : `Cannot read outputs file ${path} (${code ?? "error"}).`,
      { code: "OutputsFile" },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(
      `Outputs file ${path} is not valid JSON: regenerate it with 'cdktf output --outputs-file ${path}'.`,
      { code: "OutputsFile" },
    );
  }
  if (
    !isRecord(parsed) ||
    Object.values(parsed).some((v) => !isRecord(v)) ||
    Object.keys(parsed).length === 0
  ) {
    throw new CliError(
      `Outputs file ${path} is not a cdktf outputs file ({"<stack>": {"<output>": value}}): regenerate it with 'cdktf output --outputs-file ${path}'.`,
      { code: "OutputsFile" },
    );
  }
  return parsed as OutputsFile;
}

/** Stack names in the file that look like dbtunnel stacks (they carry `db_endpoint`). */
export function dbtunnelStacks(file: OutputsFile): string[] {
  return Object.keys(file).filter((name) => file[name] && "db_endpoint" in (file[name] as object));
}

/** Converts one stack's raw outputs to a StackTarget, with one-line errors naming the missing output. */
export function targetFromOutputs(
  stackName: string,
  raw: Record<string, unknown>,
  path: string,
): StackTarget {
  const where = `stack '${stackName}' in ${path}`;
  const fix = `regenerate it with 'cdktf output --outputs-file ${path}'`;
  const str = (name: string, required = true): string => {
    const value = unwrap(raw[name]);
    if (typeof value === "string" && value !== "") return value;
    if (value === undefined || value === null || value === "") {
      if (!required) return "";
      throw new CliError(`Output '${name}' is missing from ${where}: ${fix}.`, { code: "OutputsFile" });
    }
    throw new CliError(`Output '${name}' of ${where} must be a string: ${fix}.`, { code: "OutputsFile" });
  };

  const kind = str("jump_host_kind");
  let jumpHost: JumpHost;
  if (kind === "ec2") jumpHost = { kind, instanceId: str("jump_host_instance_id") };
  else if (kind === "ecs") jumpHost = { kind, cluster: str("ecs_cluster"), service: str("ecs_service") };
  else {
    throw new CliError(`Output 'jump_host_kind' of ${where} must be "ec2" or "ecs", got '${kind}': ${fix}.`, {
      code: "OutputsFile",
    });
  }

  const engine = str("db_engine");
  if (!ENGINES.includes(engine as DbEngine)) {
    throw new CliError(
      `Output 'db_engine' of ${where} must be one of ${ENGINES.join(", ")}, got '${engine}': ${fix}.`,
      { code: "OutputsFile" },
    );
  }
  const portValue = unwrap(raw.db_port);
  const port = typeof portValue === "string" ? Number(portValue) : portValue;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliError(`Output 'db_port' of ${where} must be a port number: ${fix}.`, {
      code: "OutputsFile",
    });
  }
  const endpoint = str("db_endpoint");
  if (endpoint.includes(":") || endpoint.includes("/")) {
    throw new CliError(`Output 'db_endpoint' of ${where} must be a hostname without port: ${fix}.`, {
      code: "OutputsFile",
    });
  }

  return {
    stackName: str("stack_name", false) || stackName,
    region: str("region"),
    jumpHost,
    db: {
      engine: engine as DbEngine,
      identifier: str("db_identifier"),
      endpoint,
      port,
      resourceId: str("db_resource_id", false) || undefined,
      name: str("db_name", false) || undefined,
      iamUsers: stringList(unwrap(raw.db_iam_users)),
      masterUsername: str("db_master_username", false) || undefined,
    },
    engineerPolicyArn: str("engineer_policy_arn", false) || undefined,
    source: "outputs",
  };
}

function unwrap(value: unknown): unknown {
  if (
    isRecord(value) &&
    "value" in value &&
    Object.keys(value).every((k) => ["value", "type", "sensitive"].includes(k))
  ) {
    return value.value;
  }
  return value;
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v !== "");
  if (typeof value === "string" && value !== "") {
    // Terraform sometimes serialises a list output as a JSON string; fall back to comma-separated.
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) return stringList(parsed);
    } catch {}
    return value
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
