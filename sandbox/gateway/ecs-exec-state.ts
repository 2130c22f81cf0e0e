/**
 * ECS Exec per task, which moto does not keep: moto answers no `enableExecuteCommand` and no
 * `managedAgents`, so no task would have an ExecuteCommandAgent and no ECS Exec target could be reached.
 * This remembers what RunTask (the caller's or the service scheduler's) asked for, adds it to every task
 * answer, and tells StartSession (targets.ts) which tasks have ECS Exec on.
 */
import { isRecord } from "../../contract/values.ts";
import { type Json, tasksWithArn } from "./ecs-json.ts";

/** What ECS Exec needs to know about a task moto does not keep. */
interface ExecState {
  readonly enableExecuteCommand: boolean;
  readonly startedAt: Date;
}

export class EcsExecState {
  /** By task ARN; lives as long as the gateway. */
  private readonly tasks = new Map<string, ExecState>();

  /** Records the RunTask / StartTask request's `enableExecuteCommand` for each task it started. */
  remember(request: Json, tasks: unknown): void {
    for (const task of tasksWithArn(tasks)) {
      this.tasks.set(task.taskArn, {
        enableExecuteCommand: request.enableExecuteCommand === true,
        startedAt: new Date(),
      });
    }
  }

  /** ECS Exec on for this task (RunTask's or its service's `enableExecuteCommand`). */
  execEnabled(taskArn: string): boolean {
    return this.tasks.get(taskArn)?.enableExecuteCommand === true;
  }

  /**
   * `enableExecuteCommand` on each task of an answer (edited in place) and the ExecuteCommandAgent on each
   * container where it is on: RUNNING while the task runs, STOPPED after.
   */
  addFields(tasks: unknown): void {
    for (const task of tasksWithArn(tasks)) {
      const state = this.tasks.get(task.taskArn);
      task.enableExecuteCommand = state?.enableExecuteCommand === true;
      if (!state?.enableExecuteCommand || !Array.isArray(task.containers)) continue;
      const agentStatus = task.lastStatus === "RUNNING" ? "RUNNING" : "STOPPED";
      for (const container of task.containers) {
        if (!isRecord(container) || Array.isArray(container.managedAgents)) continue;
        container.managedAgents = [
          {
            name: "ExecuteCommandAgent",
            lastStatus: agentStatus,
            // JSON 1.1 timestamps are epoch seconds.
            lastStartedAt: state.startedAt.getTime() / 1000,
          },
        ];
      }
    }
  }
}
