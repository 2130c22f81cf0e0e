/**
 * The stacks `dbtunnel demo --variant` and the e2e suite deploy: one place that names each variant's
 * configuration and what it proves. `default` is the project's own dbtunnel.config.json.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "./terraform.ts";

export const DEMO_VARIANTS = {
  default: {
    config: join(PROJECT_ROOT, "dbtunnel.config.json"),
    summary: "EC2 jump host + RDS PostgreSQL (IAM authentication, verify-full)",
  },
  "ecs-mysql": {
    config: join(PROJECT_ROOT, "cli", "demo", "variants", "ecs-mysql.config.json"),
    summary: "ECS Fargate jump host (ECS Exec) + RDS MySQL (IAM authentication, hostname-verified TLS)",
  },
} as const;

export type DemoVariant = keyof typeof DEMO_VARIANTS;

export const DEMO_VARIANT_NAMES = Object.keys(DEMO_VARIANTS) as DemoVariant[];

export function isDemoVariant(name: string): name is DemoVariant {
  return Object.hasOwn(DEMO_VARIANTS, name);
}
