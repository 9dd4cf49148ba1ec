/**
 * The tasks this command knows: the tables of the modality packages it depends on, plus task modules
 * named with `--tasks-from` or `MULTIHEAD_TASK_MODULES` (comma-separated). A module exports `TASKS` (or a
 * default export) as an array of tasks, so a task added anywhere appears here with no change to the CLI.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUDIO_TASKS } from '@multihead/audio';
import { type Task, tasks } from '@multihead/core';
import { GRAPH_TASKS } from '@multihead/graph';
import { TEXT_TASKS } from '@multihead/text';
import { VISION_TASKS } from '@multihead/vision';
import { userPath } from './paths.js';

/** The tables this build of the command depends on, in the order `multihead tasks` lists them. */
export const BUILT_IN_TABLES: readonly (readonly Task[])[] = [
  TEXT_TASKS,
  VISION_TASKS,
  AUDIO_TASKS,
  GRAPH_TASKS,
];

async function loadModule(spec: string): Promise<readonly Task[]> {
  // a file (relative to where the command was run) or else a package name
  const path = resolve(userPath(spec));
  const url = existsSync(path) || spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(path).href : spec;
  let mod: { TASKS?: unknown; default?: unknown };
  try {
    mod = (await import(url)) as typeof mod;
  } catch (e) {
    throw new Error(`--tasks-from: cannot load ${spec} (${(e as Error).message})`);
  }
  const table = mod.TASKS ?? mod.default;
  if (!Array.isArray(table)) {
    throw new Error(
      `--tasks-from: ${spec} exports no TASKS array (nor a default one); expected an array of tasks`,
    );
  }
  return table as Task[];
}

/** The registry: built-in tables, then the modules given by flag or environment. */
export async function taskRegistry(modules: readonly string[] = []): Promise<tasks.TaskRegistry> {
  const fromEnv = (process.env['MULTIHEAD_TASK_MODULES'] ?? '').split(',').filter(Boolean);
  const extra = await Promise.all([...fromEnv, ...modules].map(loadModule));
  return new tasks.TaskRegistry([...BUILT_IN_TABLES, ...extra]);
}
