/**
 * Trains and evaluates an audio task from the terminal in one call (`pnpm multihead train` / `eval` do each
 * apart and made the committed checkpoints; see checkpoints/README.md): the task's own
 * `train` (its default steps and time budget unless told otherwise) into a folder store, then its
 * `evaluate`, printing progress lines and both reports as JSON. The machine's load average is printed
 * beside the timings, since on a shared machine they depend on it.
 *
 *   pnpm --filter @multihead/audio exec tsx scripts/train.ts <audio/digits|audio/music>
 *     [--steps N] [--max-seconds S] [--seed N] [--backend cpu|webgpu|auto] [--checkpoints DIR]
 *     [--eval-only] [--limit N]
 *
 * Checkpoints go to <repo>/.cache/checkpoints/<task id>.safetensors by default (the CLI's folder).
 */
import { loadavg } from 'node:os';
import { createDevice, io, type TaskContext, tasks } from '@multihead/core';
import { AUDIO_TASKS } from '../src/index.js';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}
const number = (name: string) => {
  const value = option(name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${name} ${value}: expected a number`);
  return parsed;
};

const id = process.argv[2];
const task = AUDIO_TASKS.find((t) => t.id === id);
if (!task) {
  console.error(`usage: scripts/train.ts <${AUDIO_TASKS.map((t) => t.id).join('|')}> [options]; got ${id}`);
  process.exit(2);
}
const backend = (option('backend') ?? 'cpu') as 'cpu' | 'webgpu' | 'auto';
const device = await createDevice({ backend });
const dir = option('checkpoints') ?? (await io.cacheDir('checkpoints'));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
let lastLine = 0;
const ctx: TaskContext = {
  device,
  store: tasks.folderStore(dir),
  seed: number('seed') ?? 0,
  log: (line) => console.log(line),
  onProgress: (p) => {
    if (p.seconds - lastLine < 30 && p.step !== p.steps) return;
    lastLine = p.seconds;
    console.log(
      `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${p.itemsPerSecond.toFixed(1)} ${p.unit}/s  ${p.seconds.toFixed(0)} s  load ${load()}`,
    );
  },
};
console.log(`${task.id} on ${device.reason}; load average ${load()}`);
if (process.argv.includes('--eval-only') === false) {
  const steps = number('steps');
  const maxSeconds = number('max-seconds');
  const report = await task.train(ctx, {
    ...(steps === undefined ? {} : { steps }),
    ...(maxSeconds === undefined ? {} : { maxSeconds }),
  });
  const { losses, ...rest } = report;
  console.log(`train report (load average ${load()}):`);
  console.log(JSON.stringify({ ...rest, lossCurve: losses.filter((_, i) => i % 10 === 0) }));
}
const started = performance.now();
const limit = number('limit');
const evaluation = await task.evaluate(ctx, limit === undefined ? {} : { limit });
console.log(`eval report (${((performance.now() - started) / 1000).toFixed(0)} s, load average ${load()}):`);
console.log(JSON.stringify(evaluation));
