/**
 * What the task tests share: a CPU device and a TaskContext whose store is a fresh temporary folder
 * (`dir`), removed after the calling file's tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice, type Device, type TaskContext, tasks } from '@multihead/core';
import { afterAll } from 'vitest';

export async function taskContext(
  task: string,
  seed: number,
): Promise<{ ctx: TaskContext; device: Device; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `${task}-task-`));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const device = await createDevice({ backend: 'cpu' });
  return { ctx: { device, store: tasks.folderStore(dir), seed }, device, dir };
}
