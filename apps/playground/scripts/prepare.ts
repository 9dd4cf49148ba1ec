/**
 * Runs in Node before `vite` and `vite build` (package.json): writes what the app needs from the
 * modality packages that only Node can make.
 * - `.cache/generated/tasks.json`: every task's declaration, from the same tables the engine worker
 *   loads (src/modalities.ts, plus the modules named in `PLAYGROUND_TASK_MODULES`), so the page lists
 *   tasks without loading any modality's code; and `task-modules.json`, those modules' paths.
 * - `.cache/public/datasets/<name>.json`: the prepared datasets the app ships (Vite's public folder, so
 *   they sit beside the built assets), written by the packages' own Node loaders (which cache their
 *   results in the repository's .cache/datasets). Default: the first names (text/names trains in the
 *   tab on them); `PLAYGROUND_DATASETS=a,b` or `all` ships others.
 *
 * `PLAYGROUND_TASK_MODULES=a.ts,b.ts` (as the CLI's MULTIHEAD_TASK_MODULES): modules exporting `TASKS`
 * (or a default export), an array of tasks, added to the app with no change to it.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Task } from '@multihead/core';
import type { TaskInfo } from '../src/engine/protocol.js';
import { type LoadedModality, MODALITIES } from '../src/modalities.js';

const OUT = new URL('../.cache/', import.meta.url);
const DEFAULT_DATASETS = ['first-names-lowercase.v1'];

/** A module path as given: absolute, else from here (pnpm runs scripts in the package), else from where pnpm ran. */
function modulePath(spec: string): string {
  if (isAbsolute(spec)) return spec;
  const here = resolve(spec);
  return existsSync(here) ? here : resolve(process.env['INIT_CWD'] ?? '.', spec);
}

export async function loadTaskModule(path: string): Promise<LoadedModality> {
  const mod = (await import(pathToFileURL(path).href)) as { TASKS?: unknown; default?: unknown };
  const table = mod.TASKS ?? mod.default;
  if (!Array.isArray(table))
    throw new Error(`PLAYGROUND_TASK_MODULES: ${path} exports no TASKS array (nor a default one)`);
  return { tasks: table as Task[] };
}

const modules = (process.env['PLAYGROUND_TASK_MODULES'] ?? '').split(',').filter(Boolean).map(modulePath);
const sources: [string, LoadedModality][] = [
  ...(await Promise.all(
    Object.entries(MODALITIES).map(async ([name, load]) => [name, await load()] as [string, LoadedModality]),
  )),
  ...(await Promise.all(
    modules.map(async (path) => [`module:${path}`, await loadTaskModule(path)] as [string, LoadedModality]),
  )),
];

const manifest: TaskInfo[] = sources.flatMap(([source, m]) =>
  m.tasks.map((t) => ({
    id: t.id,
    modality: t.id.slice(0, t.id.indexOf('/')),
    source,
    kind: t.kind,
    description: t.description,
    input: t.input,
    output: t.output,
    params: [...(t.params ?? [])],
    metrics: [...t.metrics],
    ...(t.goal ? { goal: t.goal } : {}),
    positions: t.positions,
    committed: typeof t.committedCheckpoint === 'function',
  })),
);
const ids = manifest.map((t) => t.id);
const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
if (twice.length > 0) throw new Error(`tasks registered twice: ${twice.join(', ')}`);
await mkdir(new URL('generated/', OUT), { recursive: true });
await writeFile(new URL('generated/tasks.json', OUT), `${JSON.stringify(manifest, null, 1)}\n`);
await writeFile(new URL('generated/task-modules.json', OUT), `${JSON.stringify(modules)}\n`);

const available = sources.flatMap(([, m]) => m.datasets ?? []);
const asked = process.env['PLAYGROUND_DATASETS'];
const wanted =
  asked === 'all'
    ? available.map((d) => d.name)
    : asked
      ? asked.split(',').filter(Boolean)
      : DEFAULT_DATASETS;
const datasetDir = new URL('public/datasets/', OUT);
await mkdir(datasetDir, { recursive: true });
for (const name of wanted) {
  const dataset = available.find((d) => d.name === name);
  if (!dataset) {
    throw new Error(
      `PLAYGROUND_DATASETS: no dataset ${name}; the packages offer ${available.map((d) => d.name).join(', ')}`,
    );
  }
  const json = JSON.stringify(await dataset.load());
  await writeFile(new URL(`${name}.json`, datasetDir), json);
  console.log(`prepare: datasets/${name}.json (${(json.length / 1024).toFixed(0)} KiB)`);
}
console.log(
  `prepare: ${manifest.length} tasks from ${sources.length} tables (${modules.length} task modules) -> .cache/generated/tasks.json`,
);
