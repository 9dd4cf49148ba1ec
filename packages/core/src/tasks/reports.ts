/** Helpers for the one evaluation shape (`EvalReport`): the goal, checked the same way for every task. */
import type { EvalReport, Metrics, Task, TaskGoal } from './types.js';

/**
 * Whether `metrics` meet `goal`: the metric against its bound, and above (or below, for a '<=' goal)
 * every baseline the goal names. A metric or baseline that is missing or NaN does not meet it.
 */
export function goalMet(goal: TaskGoal, metrics: Metrics, baselines: Record<string, Metrics>): boolean {
  const value = metrics[goal.metric];
  if (value === undefined || Number.isNaN(value)) return false;
  const better = (a: number, b: number) => (goal.op === '>=' ? a >= b : a <= b);
  const strictlyBetter = (a: number, b: number) => (goal.op === '>=' ? a > b : a < b);
  if (goal.value !== undefined && !better(value, goal.value)) return false;
  return (goal.beat ?? []).every((name) => {
    const other = baselines[name]?.[goal.metric];
    return other !== undefined && !Number.isNaN(other) && strictlyBetter(value, other);
  });
}

/** `goal` with `met` filled in, or nothing when the task has no goal. */
export function checkGoal(
  goal: TaskGoal | undefined,
  metrics: Metrics,
  baselines: Record<string, Metrics>,
): (TaskGoal & { met: boolean }) | undefined {
  return goal ? { ...goal, met: goalMet(goal, metrics, baselines) } : undefined;
}

/** An `EvalReport` for `task`: its id, and its goal checked against the metrics and baselines. */
export function evalReport(
  task: Pick<Task, 'id' | 'goal'>,
  parts: Omit<EvalReport, 'task' | 'goal'>,
): EvalReport {
  const goal = checkGoal(task.goal, parts.metrics, parts.baselines);
  return { task: task.id, ...parts, ...(goal ? { goal } : {}) };
}
