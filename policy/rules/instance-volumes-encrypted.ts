import { defineRule, fail, ok } from "../define-rule.ts";
import { asObject, asObjects, isTrue, resources } from "../tf-json.ts";

export const instanceVolumesEncrypted = defineRule({
  id: "CKV_AWS_8",
  aliases: ["AVD-AWS-0131"],
  description: "Root and EBS volumes are encrypted.",
  fix: "Set root_block_device { encrypted = true } and encrypted = true on every ebs_block_device / aws_ebs_volume (or enable aws_ebs_encryption_by_default).",
  check: (tf) => {
    // Account-level default encryption covers volumes that do not say so themselves.
    const byDefault = resources(tf, "aws_ebs_encryption_by_default").some(
      (b) => b.body.enabled === undefined || isTrue(b.body.enabled),
    );
    const instances = resources(tf, "aws_instance").map((b) => {
      const root = asObject(b.body.root_block_device);
      const unencrypted: string[] = [];
      if (!isTrue(root?.encrypted) && !byDefault) unencrypted.push("root volume");
      for (const v of asObjects(b.body.ebs_block_device)) {
        if (!isTrue(v.encrypted) && !byDefault)
          unencrypted.push(`EBS volume ${String(v.device_name ?? "")}`.trim());
      }
      return unencrypted.length > 0
        ? fail(b.address, `not encrypted: ${unencrypted.join(", ")}`)
        : ok(b.address, "root and EBS volumes encrypted");
    });
    const volumes = resources(tf, "aws_ebs_volume").map((b) =>
      isTrue(b.body.encrypted) || byDefault
        ? ok(b.address, "volume encrypted")
        : fail(b.address, "encrypted is not true"),
    );
    const templates = resources(tf, "aws_launch_template").map((b) => {
      const bad = asObjects(b.body.block_device_mappings).filter(
        (m) => !isTrue(asObject(m.ebs)?.encrypted) && !byDefault,
      );
      return bad.length > 0
        ? fail(b.address, "a block device mapping is not encrypted")
        : ok(b.address, "volumes encrypted");
    });
    return [...instances, ...volumes, ...templates];
  },
});
