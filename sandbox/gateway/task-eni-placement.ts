/**
 * moto gives an awsvpc task's ENI a random `10.x.y.z` address, mostly outside the task's subnet, and keeps
 * it after the task stopped (with its security group, so a destroyed stack's subnet still holds an ENI).
 * AWS takes a free address of the subnet and deletes the ENI once the task has stopped. This places an ENI
 * in the subnet with the same security groups in place of moto's, shows it in every task answer, and
 * releases it when the task stops.
 */
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import type { Task } from "@aws-sdk/client-ecs";
import { isRecord } from "../../contract/values.ts";
import { attachmentDetails, eniAttachment, type Json, tasksWithArn } from "./ecs-json.ts";

/** The ENI that stands in for moto's in an awsvpc task. */
interface PlacedEni {
  readonly id: string;
  readonly ip: string;
  readonly mac: string;
  readonly dns: string;
}

export class TaskEniPlacement {
  /** By task ARN; lives as long as the gateway. */
  private readonly enis = new Map<string, PlacedEni>();

  constructor(private readonly ec2: EC2Client) {}

  /** Gives each awsvpc task of a RunTask / StartTask answer (edited in place) an ENI of its subnet. */
  async place(tasks: unknown): Promise<void> {
    for (const task of tasksWithArn(tasks)) {
      if (this.enis.has(task.taskArn)) continue;
      const attachment = eniAttachment(task);
      const details = attachmentDetails(attachment);
      const motoEni = details.networkInterfaceId;
      if (!attachment || !details.subnetId || !motoEni) continue;
      const [original, subnet] = await Promise.all([
        this.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [motoEni] })),
        this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [details.subnetId] })),
      ]);
      const cidr = subnet.Subnets?.[0]?.CidrBlock;
      const address = cidr ? await this.freeAddress(details.subnetId, cidr) : undefined;
      const created = await this.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: details.subnetId,
          Groups: (original.NetworkInterfaces?.[0]?.Groups ?? []).flatMap((g) =>
            g.GroupId ? [g.GroupId] : [],
          ),
          Description: `ECS task ${task.taskArn} attachment ${String(attachment.id ?? "")}`,
          ...(address ? { PrivateIpAddress: address } : {}),
        }),
      );
      const eni = created.NetworkInterface;
      if (!eni?.NetworkInterfaceId || !eni.PrivateIpAddress) continue;
      this.enis.set(task.taskArn, {
        id: eni.NetworkInterfaceId,
        ip: eni.PrivateIpAddress,
        mac: eni.MacAddress ?? "",
        dns: eni.PrivateDnsName || `ip-${eni.PrivateIpAddress.replaceAll(".", "-")}.ec2.internal`,
      });
      await this.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: motoEni }));
      this.show([task]);
    }
  }

  /** The placed ENI in the tasks' attachment details (edited in place), where moto names its own. */
  show(tasks: unknown): void {
    for (const task of tasksWithArn(tasks)) {
      const eni = this.enis.get(task.taskArn);
      const details = eniAttachment(task)?.details;
      if (!eni || !Array.isArray(details)) continue;
      const values: Record<string, string> = {
        networkInterfaceId: eni.id,
        privateIPv4Address: eni.ip,
        macAddress: eni.mac,
        privateDnsName: eni.dns,
      };
      for (const detail of details) {
        if (isRecord(detail) && typeof detail.name === "string" && values[detail.name] !== undefined)
          detail.value = values[detail.name];
      }
    }
  }

  /** AWS deletes an awsvpc task's ENI once the task has stopped; moto keeps it (and its security group). */
  async release(task: Task): Promise<void> {
    const placed = task.taskArn ? this.enis.get(task.taskArn)?.id : undefined;
    const motoEni = attachmentDetails(eniAttachment(task as Json)).networkInterfaceId;
    for (const eni of [placed, motoEni]) {
      if (!eni) continue;
      await this.ec2
        .send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }))
        .catch((error: Error) => {
          // Already gone (a second StopTask): nothing to release.
          if (!/InvalidNetworkInterfaceID/.test(error.name)) throw error;
        });
    }
  }

  /** A free address of the subnet: one that no ENI in it holds. */
  private async freeAddress(subnetId: string, cidr: string): Promise<string | undefined> {
    const used = await this.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: [subnetId] }] }),
    );
    return randomFreeAddress(cidr, new Set((used.NetworkInterfaces ?? []).map((n) => n.PrivateIpAddress)));
  }
}

/**
 * A random address of the IPv4 `cidr` not in `taken` and not one AWS reserves (the network's first four
 * and its last); undefined for a subnet smaller than /29 or after 64 tries (moto then picks one itself).
 */
export function randomFreeAddress(
  cidr: string,
  taken: ReadonlySet<string | undefined>,
  random: () => number = Math.random,
): string | undefined {
  const [base = "", bits = "32"] = cidr.split("/");
  const start = base.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  if (!Number.isInteger(start) || size < 8) return undefined;
  for (let attempt = 0; attempt < 64; attempt++) {
    const n = start + 4 + Math.floor(random() * (size - 5));
    const address = [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
    if (!taken.has(address)) return address;
  }
  return undefined;
}
