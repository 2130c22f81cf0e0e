/**
 * "Find the target": from a cdktf outputs file when given, else by tags in the region. Several stacks or
 * databases → ask on a TTY, otherwise one line listing them and the flag that picks one.
 */
import { MARKER_OUTPUT, sessionDocumentNameFor } from "../contract/outputs.ts";
import { awsClients, resolveRegion } from "./aws.ts";
import { chooseOne } from "./choose.ts";
import { discoverStacks } from "./discover.ts";
import { CliError } from "./errors.ts";
import { dbtunnelStacks, readOutputsFile, targetFromOutputs } from "./outputs.ts";
import type { StackTarget } from "./target.ts";

export interface TargetOptions {
  /** `--outputs <file>` */
  readonly outputs?: string;
  /** `--stack <name>` */
  readonly stack?: string;
  /** `--db <identifier>`: pick a database when a stack found by tags has several. */
  readonly db?: string;
  /** `--region`; outputs carry their own region and win over the environment. */
  readonly region?: string;
  readonly interactive?: boolean;
}

export async function resolveTarget(options: TargetOptions): Promise<StackTarget> {
  return options.outputs ? fromOutputsFile(options.outputs, options) : fromTags(options);
}

async function fromOutputsFile(path: string, options: TargetOptions): Promise<StackTarget> {
  const file = readOutputsFile(path);
  const names = dbtunnelStacks(file);
  if (names.length === 0) {
    throw new CliError(
      `Outputs file ${path} holds no dbtunnel stack (no '${MARKER_OUTPUT}' output): regenerate it with 'cdktf output --outputs-file ${path}'.`,
      { code: "UnknownStack" },
    );
  }
  let name: string;
  if (options.stack) {
    if (!names.includes(options.stack)) {
      throw new CliError(
        `Stack '${options.stack}' is not in ${path} (it has: ${names.join(", ")}): fix --stack.`,
        {
          code: "UnknownStack",
        },
      );
    }
    name = options.stack;
  } else {
    name = await chooseOne({
      items: names,
      label: (n) => n,
      what: `stacks in ${path}`,
      flag: "--stack <name>",
      interactive: options.interactive,
    });
  }
  const target = targetFromOutputs(name, file[name] ?? {}, path);
  if (options.region && options.region !== target.region) {
    // The stack lives where its outputs say: another region would look for (and start sessions on) a
    // jump host and a database that are not there.
    throw new CliError(
      `--region ${options.region} does not match stack '${target.stackName}', which is in ${target.region} (outputs file ${options.outputs}): drop --region, or pass the outputs file of the stack in ${options.region}.`,
      { code: "RegionMismatch" },
    );
  }
  return target;
}

async function fromTags(options: TargetOptions): Promise<StackTarget> {
  const region = await resolveRegion(options.region);
  const aws = awsClients(region);
  const all = await discoverStacks(aws);
  const usable = all.filter((s) => s.jumpHosts.length > 0 && s.databases.length > 0);
  if (options.stack) {
    const found = all.find((s) => s.stackName === options.stack);
    if (!found) {
      const known = usable.map((s) => s.stackName);
      throw new CliError(
        `No dbtunnel stack named '${options.stack}' in ${region}${known.length ? ` (found: ${known.join(", ")})` : ""}: check --stack and --region, or pass --outputs <file>.`,
        { code: "UnknownStack" },
      );
    }
    if (found.jumpHosts.length === 0 || found.databases.length === 0) {
      const missing =
        found.jumpHosts.length === 0
          ? "jump host (dbtunnel:role=jump-host)"
          : "database (dbtunnel:role=database)";
      throw new CliError(
        `Stack '${options.stack}' in ${region} has no ${missing}: is the deployment complete? Pass --outputs <file> to skip tag lookup.`,
        { code: "UnknownStack" },
      );
    }
  } else if (usable.length === 0) {
    throw new CliError(
      `No dbtunnel stack found in ${region} (nothing tagged dbtunnel:role=jump-host and dbtunnel:role=database): check --region, or pass --outputs <file>.`,
      { code: "UnknownStack" },
    );
  }
  const stack = options.stack
    ? (all.find((s) => s.stackName === options.stack) as (typeof all)[number])
    : await chooseOne({
        items: usable,
        label: (s) => s.stackName,
        what: `stacks in ${region}`,
        flag: "--stack <name>",
        interactive: options.interactive,
      });

  let databases = stack.databases;
  if (options.db) {
    databases = databases.filter((d) => d.identifier === options.db);
    if (databases.length === 0) {
      throw new CliError(
        `Stack '${stack.stackName}' has no database '${options.db}' (it has: ${stack.databases.map((d) => d.identifier).join(", ")}): fix --db.`,
        { code: "UnknownDatabase" },
      );
    }
  }
  const db = await chooseOne({
    items: databases,
    label: (d) => d.identifier,
    what: `databases in stack ${stack.stackName}`,
    flag: "--db <identifier>",
    interactive: options.interactive,
  });
  const jumpHost = await chooseOne({
    items: stack.jumpHosts,
    label: (j) => (j.kind === "ec2" ? j.instanceId : `${j.cluster}/${j.service}`),
    what: `jump hosts in stack ${stack.stackName}`,
    flag: "--outputs <file>",
    interactive: options.interactive,
  });
  return {
    stackName: stack.stackName,
    region,
    jumpHost,
    db,
    sessionDocumentName: sessionDocumentNameFor(stack.stackName),
    source: "tags",
  };
}
