/** Test helpers: synthesize constructs and read the Terraform JSON (Testing.setupJest does not work under bun). */
import { TerraformStack, Testing } from "cdktf";

export type TfBlock = Record<string, unknown>;

export class Synthesized {
  constructor(
    readonly json: {
      resource?: Record<string, Record<string, TfBlock>>;
      data?: Record<string, Record<string, TfBlock>>;
      output?: Record<string, { value: unknown }>;
      [key: string]: unknown;
    },
  ) {}

  /** All resources of one type, as [logical name, body]. */
  resources(type: string): [string, TfBlock][] {
    return Object.entries(this.json.resource?.[type] ?? {});
  }

  /** The only resource of a type; fails the test when there are none or several. */
  one(type: string): TfBlock {
    const all = this.resources(type);
    if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
    return (all[0] as [string, TfBlock])[1];
  }

  /** Resource by type whose logical name contains `fragment`. */
  named(type: string, fragment: string): TfBlock {
    const found = this.resources(type).filter(([name]) => name.includes(fragment));
    if (found.length !== 1)
      throw new Error(`expected one ${type} named *${fragment}*, found ${found.length}`);
    return (found[0] as [string, TfBlock])[1];
  }

  count(type: string): number {
    return this.resources(type).length;
  }

  data(type: string): [string, TfBlock][] {
    return Object.entries(this.json.data?.[type] ?? {});
  }
}

export function synthesize(build: (stack: TerraformStack) => void): Synthesized {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  build(stack);
  return new Synthesized(JSON.parse(Testing.synth(stack)));
}

export function synthStack(stack: TerraformStack): Synthesized {
  return new Synthesized(JSON.parse(Testing.synth(stack)));
}

/** Parses an IAM policy JSON string from a resource attribute. */
export function policyOf(
  block: TfBlock,
  attribute = "policy",
): { Statement: Array<Record<string, unknown>> } {
  return JSON.parse(String(block[attribute]));
}

/** The statement with this Sid. */
export function statement(
  doc: { Statement: Array<Record<string, unknown>> },
  sid: string,
): Record<string, unknown> {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(doc)}`);
  return found;
}

/** How ARNs built by the modules name the partition in synthesized JSON (the stack's aws_partition). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform reference, not a JavaScript template
export const PARTITION = "${data.aws_partition.aws-partition.partition}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform reference, not a JavaScript template
export const DNS_SUFFIX = "${data.aws_partition.aws-partition.dns_suffix}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform reference, not a JavaScript template
export const REGION_REF = "${data.aws_region.aws-region.name}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform reference, not a JavaScript template
export const ACCOUNT_REF = "${data.aws_caller_identity.account.account_id}";
