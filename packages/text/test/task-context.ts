/**
 * What the task tests share: core's `taskTestContext` (a TaskContext whose store is a fresh temporary
 * folder `dir`, removed after the calling file's tests) on a CPU device of their own.
 */
import { createDevice, type Device, type TaskContext, tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll } from 'vitest';

export async function taskContext(
  task: string,
  seed: number,
): Promise<{ ctx: TaskContext; device: Device; dir: string }> {
  return taskTestContext(
    task,
    seed,
    { afterAll, store: tasks.folderStore },
    await createDevice({ backend: 'cpu' }),
  );
}
