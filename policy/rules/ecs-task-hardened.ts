import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, isObject, isTrue, parseJson, resources } from "../tf-json.ts";

export const ecsTaskHardened = defineRule({
  id: "CKV_AWS_334",
  aliases: ["CKV_AWS_335", "CKV_AWS_249"],
  description:
    "ECS jump host task: no privileged container, no host PID namespace, execution role differs from task role.",
  fix: 'Remove privileged: true from container definitions and pid_mode = "host", and give the task its own task_role_arn separate from execution_role_arn.',
  check: (tf) =>
    resources(tf, "aws_ecs_task_definition").map((b) => {
      const problems: string[] = [];
      if (asString(b.body.pid_mode) === "host") problems.push('pid_mode = "host"');
      const exec = asString(b.body.execution_role_arn);
      const task = asString(b.body.task_role_arn);
      if (exec !== undefined && exec === task) problems.push("execution_role_arn equals task_role_arn");
      const defs = parseJson(b.body.container_definitions);
      if (!Array.isArray(defs)) {
        problems.push(
          "container_definitions cannot be read (build it with JSON.stringify), so privileged cannot be verified",
        );
      } else {
        for (const c of defs) {
          if (isObject(c) && isTrue(c.privileged))
            problems.push(`container ${String(c.name ?? "?")} is privileged`);
        }
      }
      return problems.length > 0 ? fail(b.address, problems.join("; ")) : ok(b.address, "task hardened");
    }),
});
