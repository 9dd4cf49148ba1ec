/** The text tasks, in the order apps list them: the CLI and the web app gather this table. */
import type { Task } from '@multihead/core';
import { mobyTask } from './moby.js';
import { namesTask } from './names.js';
import { spamTask } from './spam/task.js';

export const TEXT_TASKS: readonly Task[] = [namesTask, mobyTask, spamTask];
