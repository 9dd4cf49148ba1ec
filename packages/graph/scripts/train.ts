/**
 * Trains and evaluates one graph task with a folder store in one call, printing both reports as JSON lines
 * (`multihead train` and `multihead eval` do the same in two calls):
 *   pnpm --filter @multihead/graph train <graph/pfam | graph/protein | graph/karate | graph/molecules>
 *     [--steps N] [--max-seconds S] [--seed N] [--backend cpu|webgpu|auto] [--checkpoints DIR] [--eval-only]
 * Checkpoints go to DIR/<task id>.safetensors (default <repo>/.cache/checkpoints, core's cache folder).
 */
import { createDevice, io, type TaskContext, tasks } from '@multihead/core';
import { GRAPH_TASKS } from '../src/index.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const id = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const task = GRAPH_TASKS.find((t) => t.id === id);
if (!task) {
  console.error(`usage: train.ts <task> [options]; tasks: ${GRAPH_TASKS.map((t) => t.id).join(', ')}`);
  process.exit(2);
}
const number = (name: string) => {
  const value = flag(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} ${value}: expected a number`);
  return n;
};
const device = await createDevice({ backend: (flag('backend') ?? 'cpu') as 'cpu' | 'webgpu' | 'auto' });
const dir = flag('checkpoints') ?? (await io.cacheDir('checkpoints'));
const seed = number('seed');
const ctx: TaskContext = {
  device,
  store: tasks.folderStore(dir),
  ...(seed !== undefined ? { seed } : {}),
  log: (line) => console.error(line),
  onProgress: (p) =>
    console.error(
      `step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ${Math.round(p.itemsPerSecond)} ${p.unit}/s ${p.seconds.toFixed(0)} s`,
    ),
};
console.error(`${task.id} on ${device.reason}`);
if (!args.includes('--eval-only')) {
  const steps = number('steps');
  const maxSeconds = number('max-seconds');
  const report = await task.train(ctx, {
    ...(steps ? { steps } : {}),
    ...(maxSeconds ? { maxSeconds } : {}),
  });
  const { losses, ...rest } = report;
  console.log(
    JSON.stringify({
      train: { ...rest, losses: losses.filter((_, i) => i % 10 === 0 || i === losses.length - 1) },
    }),
  );
}
const started = performance.now();
const evaluation = await task.evaluate(ctx);
console.log(
  JSON.stringify({ evaluate: evaluation, evaluateSeconds: Math.round((performance.now() - started) / 1000) }),
);
