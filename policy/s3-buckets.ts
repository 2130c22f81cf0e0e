import { asString, exactReference, resources, type TfBlock } from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/** S3 settings live in separate resources since AWS provider v4; find the ones that target a bucket. */
export function buckets(tf: TerraformJson): TfBlock[] {
  return resources(tf, "aws_s3_bucket");
}

/** Resources of `type` whose `bucket` points at `bucket` (by reference, or by the same literal name). */
export function attachedTo(tf: TerraformJson, type: string, bucket: TfBlock): TfBlock[] {
  const name = asString(bucket.body.bucket);
  return resources(tf, type).filter((r) => {
    const ref = exactReference(r.body.bucket);
    if (ref) return ref.address === bucket.address;
    return name !== undefined && !name.includes("${") && asString(r.body.bucket) === name;
  });
}
