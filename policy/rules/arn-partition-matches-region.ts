import { partitionOfRegion } from "../../contract/partitions.ts";
import { ARN_PARTITION } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { asObject, asObjects, asString, dataSources, resources } from "../tf-json.ts";
import type { TerraformJson } from "../types.ts";

/** The literal region of the stack's (default) AWS provider; undefined when it is a variable or absent. */
function stackRegion(tf: TerraformJson): string | undefined {
  const providers = asObjects(asObject(asObjects(tf.provider)[0])?.aws);
  const region = asString((providers.find((p) => p.alias === undefined) ?? providers[0])?.region);
  return region && !region.includes("${") ? region : undefined;
}

/**
 * The partition field of every ARN in a block, also inside JSON-encoded policy documents: a literal, or
 * the aws_partition data source (which is always right).
 */
const ARN = new RegExp(`arn:(${ARN_PARTITION}):[a-z0-9-]*:`, "g");
const FROM_DATA_SOURCE = /^\$\{data\.aws_partition\./;

function allTypes(tf: TerraformJson, mode: "resource" | "data"): string[] {
  return [...new Set(asObjects(tf[mode]).flatMap((section) => Object.keys(section)))];
}

export const arnPartitionMatchesRegion = defineRule({
  id: "DBT-ARN-1",
  description:
    "Every literal ARN names the partition of the stack's region (aws, aws-us-gov for us-gov-*, aws-cn for cn-*).",
  fix: "Build ARNs from the aws_partition data source (data.aws_partition.<name>.partition) or write the region's partition; an arn:aws: ARN does not exist in GovCloud or China.",
  check: (tf) => {
    const region = stackRegion(tf);
    if (!region) return [];
    const expected = partitionOfRegion(region);
    const blocks = [
      ...resources(tf, ...allTypes(tf, "resource")),
      ...dataSources(tf, ...allTypes(tf, "data")),
    ];
    return blocks.flatMap((block) => {
      const partitions = [...JSON.stringify(block.body).matchAll(ARN)].map((m) => m[1] ?? "");
      if (partitions.length === 0) return [];
      const wrong = [...new Set(partitions.filter((p) => p !== expected && !FROM_DATA_SOURCE.test(p)))];
      return wrong.length > 0
        ? [
            fail(
              block.address,
              `names partition ${wrong.join(", ")} in ${region}, whose partition is ${expected}`,
            ),
          ]
        : [ok(block.address, `every ARN names ${expected} or the aws_partition data source`)];
    });
  },
});
