/**
 * What CreateService / UpdateService set that moto forgets: moto answers `enableExecuteCommand` and
 * `availabilityZoneRebalancing` nowhere, so Terraform plans a change of `aws_ecs_service` on every run and
 * the service's tasks would start without ECS Exec. This keeps what the caller asked for, per service.
 */
import type { Json } from "./ecs-json.ts";

export interface ServiceSettings {
  readonly enableExecuteCommand: boolean;
  readonly availabilityZoneRebalancing: string;
}

/** How a service the gateway never saw created shows (AWS's defaults for an existing service). */
const UNKNOWN_SERVICE: ServiceSettings = {
  enableExecuteCommand: false,
  availabilityZoneRebalancing: "DISABLED",
};

export class EcsServiceSettings {
  /** By service ARN; lives as long as the gateway. */
  private readonly services = new Map<string, ServiceSettings>();

  /** Records a CreateService / UpdateService request: what it sets, else what the service had. */
  record(serviceArn: string, request: Json): void {
    const known = this.services.get(serviceArn);
    this.services.set(serviceArn, {
      enableExecuteCommand:
        typeof request.enableExecuteCommand === "boolean"
          ? request.enableExecuteCommand
          : (known?.enableExecuteCommand ?? false),
      // AWS: ENABLED when a create leaves it out; an update without it keeps the service's value.
      availabilityZoneRebalancing:
        typeof request.availabilityZoneRebalancing === "string"
          ? request.availabilityZoneRebalancing
          : (known?.availabilityZoneRebalancing ?? "ENABLED"),
    });
  }

  /** The settings a service's answers show. */
  of(serviceArn: string): ServiceSettings {
    return this.services.get(serviceArn) ?? UNKNOWN_SERVICE;
  }
}
