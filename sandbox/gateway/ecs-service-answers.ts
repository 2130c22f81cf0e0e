/**
 * A service as AWS shows it in CreateService / UpdateService / DeleteService / DescribeServices answers:
 * moto reports its environment defaults (0) for `runningCount` / `pendingCount` and forgets the settings
 * of ecs-service-settings.ts; the corrected answer has the settings and counts the tasks that run.
 */
import { isRecord } from "../../contract/values.ts";
import type { Json } from "./ecs-json.ts";
import type { ServiceSettings } from "./ecs-service-settings.ts";

/** The service (a JSON object of moto's answer) with `settings` and its running tasks counted. */
export async function completeService(
  service: Json,
  settings: ServiceSettings,
  runningTasks: (clusterArn: string, serviceName: string) => Promise<readonly unknown[]>,
): Promise<Json> {
  const out: Json = { ...service, ...settings };
  const cluster = typeof service.clusterArn === "string" ? service.clusterArn : "";
  const name = typeof service.serviceName === "string" ? service.serviceName : "";
  if (cluster && name) {
    const running = (await runningTasks(cluster, name)).length;
    out.runningCount = running;
    out.pendingCount = 0;
    if (Array.isArray(service.deployments)) {
      out.deployments = service.deployments.map((d: unknown) =>
        isRecord(d) && d.status === "PRIMARY"
          ? {
              ...d,
              runningCount: running,
              pendingCount: 0,
              rolloutState: running >= Number(d.desiredCount ?? 0) ? "COMPLETED" : "IN_PROGRESS",
            }
          : d,
      );
    }
  }
  return out;
}
