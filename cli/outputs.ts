/**
 * Reads the JSON that `cdktf output --outputs-file <file>` writes (`{ "<stack>": { "<output>": value } }`,
 * output names and value formats fixed by contract/outputs.ts) and turns one stack's outputs into a StackTarget.
 * Also accepts `terraform output -json` style values (`{ "value": ... }`) because people hand us those.
 */
import { readFileSync, statSync } from "node:fs";
import { MARKER_OUTPUT, OutputsError, parseStackOutputs, type StackOutputs } from "../contract/outputs.ts";
import { isRecord } from "../contract/values.ts";
import { CliError } from "./errors.ts";
import type { StackTarget } from "./target.ts";

export type OutputsFile = Record<string, Record<string, unknown>>;

/** Far above any real outputs file (a few KB per stack); bigger is a wrong file, not read into memory. */
export const MAX_OUTPUTS_FILE_BYTES = 4 * 1024 * 1024;

export function readOutputsFile(path: string): OutputsFile {
  let text: string;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      throw new CliError(
        `Outputs file ${path} is a directory: pass the JSON file 'cdktf output --outputs-file <file>' wrote, not its folder.`,
        { code: "OutputsFile" },
      );
    }
    if (!st.isFile()) {
      throw new CliError(`Outputs file ${path} is not a regular file: pass the JSON file cdktf wrote.`, {
        code: "OutputsFile",
      });
    }
    if (st.size > MAX_OUTPUTS_FILE_BYTES) {
      throw new CliError(
        `Outputs file ${path} is ${(st.size / 1024 / 1024).toFixed(1)} MiB, far larger than a cdktf outputs file (limit 4 MiB): check the path, or regenerate it with 'cdktf output --outputs-file ${path}'.`,
        { code: "OutputsFile" },
      );
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "ENOENT"
        ? `Outputs file ${path} does not exist: write it with 'cdktf output --outputs-file ${path}' after deploying, or omit --outputs to find the stack by its tags.`
        : code === "EACCES" || code === "EPERM"
          ? `No permission to read outputs file ${path}: check its owner and mode, or copy it somewhere you can read.`
          : `Cannot read outputs file ${path} (${code ?? "error"}): check the path, or regenerate it with 'cdktf output --outputs-file ${path}'.`,
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
  return Object.keys(file).filter((name) => file[name] && MARKER_OUTPUT in (file[name] as object));
}

/** Converts one stack's raw outputs to a StackTarget, with one-line errors naming the output and the file. */
export function targetFromOutputs(
  stackName: string,
  raw: Record<string, unknown>,
  path: string,
): StackTarget {
  let outputs: StackOutputs;
  try {
    outputs = parseStackOutputs(stackName, raw, path);
  } catch (error) {
    if (error instanceof OutputsError) throw new CliError(error.message, { code: "OutputsFile" });
    throw error;
  }
  const { db } = outputs;
  return {
    stackName: outputs.stackName ?? stackName,
    region: outputs.region,
    jumpHost: outputs.jumpHost,
    db: {
      engine: db.engine,
      identifier: db.identifier,
      endpoint: db.endpoint,
      port: db.port,
      resourceId: db.resourceId,
      name: db.name,
      iamUsers: db.iamUsers,
      masterUsername: db.masterUsername,
    },
    engineerPolicyArn: outputs.engineerPolicyArn,
    ...(outputs.sessionDocumentName ? { sessionDocumentName: outputs.sessionDocumentName } : {}),
    source: "outputs",
  };
}
