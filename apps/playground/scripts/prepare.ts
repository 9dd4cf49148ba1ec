/**
 * Runs in Node before `vite` and `vite build` (package.json): writes what the app needs from the
 * modality packages that only Node can make.
 * - `.cache/generated/tasks.json`: every task's declaration, from the same table the engine worker loads
 *   (src/modalities.ts), so the page lists tasks without loading any modality's code.
 * - `.cache/public/datasets/<name>.json`: the prepared datasets the app ships (Vite's public folder, so
 *   they sit beside the built assets), written by the packages' own Node loaders (which cache their
 *   results in the repository's .cache/datasets). Default: the first names (text/names trains in the
 *   tab on them); `PLAYGROUND_DATASETS=a,b` or `all` ships others.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { TaskInfo } from '../src/engine/protocol.js';
import { MODALITIES } from '../src/modalities.js';

const OUT = new URL('../.cache/', import.meta.url);
const DEFAULT_DATASETS = ['first-names-lowercase.v1'];

const loaded = await Promise.all(
  Object.entries(MODALITIES).map(async ([name, load]) => [name, await load()] as const),
);

const manifest: TaskInfo[] = loaded.flatMap(([modality, m]) =>
  m.tasks.map((t) => ({
    id: t.id,
    modality,
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
await mkdir(new URL('generated/', OUT), { recursive: true });
await writeFile(new URL('generated/tasks.json', OUT), `${JSON.stringify(manifest, null, 1)}\n`);

const available = loaded.flatMap(([, m]) => m.datasets ?? []);
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
  `prepare: ${manifest.length} tasks in ${loaded.length} modalities -> .cache/generated/tasks.json`,
);
