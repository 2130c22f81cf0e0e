/**
 * The stacks `dbtunnel demo --variant` and the e2e suite deploy: one place that names each variant's
 * configuration (relative to the project root) and what it shows. `default` is the project's own
 * dbtunnel.config.json. No imports: `dbtunnel demo --help` lists the variants without loading the flow.
 */
export const DEMO_VARIANTS = {
  default: {
    configFile: "dbtunnel.config.json",
    summary: "EC2 jump host + RDS PostgreSQL, sslmode=verify-full",
  },
  "ecs-mysql": {
    configFile: "cli/demo/variants/ecs-mysql.config.json",
    summary: "ECS Fargate jump host (ECS Exec) + RDS MySQL, hostname-verified TLS",
  },
} as const;

export type DemoVariant = keyof typeof DEMO_VARIANTS;

export const DEMO_VARIANT_NAMES = Object.keys(DEMO_VARIANTS) as DemoVariant[];

export function isDemoVariant(name: string): name is DemoVariant {
  return Object.hasOwn(DEMO_VARIANTS, name);
}
