/** The text tasks, by id: the CLI (`multihead train|eval|generate <task>`) and the web app list them from here. */
import { invalidArgument } from '../errors.js';
import { mobyTask } from './moby.js';
import { namesTask } from './names.js';
import { spamTask } from './spam.js';
import type { TextTask } from './task.js';

export const TEXT_TASKS: readonly TextTask[] = [namesTask, mobyTask, spamTask];

/** The task with this id, or a clear error listing the ids there are. */
export function textTask(id: string): TextTask {
  const task = TEXT_TASKS.find((t) => t.id === id);
  if (!task) {
    invalidArgument(
      `unknown task '${id}'; expected one of: ${TEXT_TASKS.map((t) => t.id).join(', ') || '(none yet)'}`,
    );
  }
  return task;
}

export type {
  GenerateTaskOptions,
  TaskContext,
  TaskKind,
  TaskMetrics,
  TextTask,
  TrainTaskOptions,
  TrainTaskResult,
} from './task.js';
