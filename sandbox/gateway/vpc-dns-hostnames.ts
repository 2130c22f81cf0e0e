/**
 * moto's awsvpc task ENI reads `private_dns_name`, which moto sets only in a VPC with DNS hostnames on,
 * and RunTask crashes otherwise (HTTP 500); a real task's ENI always has its `ip-…` name. The VPC's
 * attribute is switched on for the call and back so the task starts as it would in AWS. The caller
 * serializes these calls (ecs-corrections.ts): two at once would restore the attribute under each other.
 */
import {
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";

/** Runs `run` with DNS hostnames on in the subnet's VPC, restoring the VPC's setting after it. */
export async function withDnsHostnames<T>(
  ec2: EC2Client,
  subnetId: string,
  run: () => Promise<T>,
): Promise<T> {
  const subnets = await ec2
    .send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))
    .catch(() => undefined);
  const vpcId = subnets?.Subnets?.[0]?.VpcId;
  if (!vpcId) return run();
  const attribute = await ec2.send(
    new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: "enableDnsHostnames" }),
  );
  if (attribute.EnableDnsHostnames?.Value === true) return run();
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  try {
    return await run();
  } finally {
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: false } }));
  }
}
