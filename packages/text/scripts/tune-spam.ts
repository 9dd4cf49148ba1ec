/**
 * Tunes text/spam without looking at its test split: trains and evaluates the task on a validation split
 * of the TRAINING emails (a seeded, stratified 80/20 cut of them), with task options given as JSON, and
 * prints one JSON line with the model's and the two baselines' metrics. `--test` runs the real split instead
 * (what `multihead train text/spam && multihead eval text/spam` does), for the final check of a choice.
 *
 *   pnpm --filter @multihead/text tune:spam -- '{"steps": 600, "maxTokens": 128}' [--test] [--backend cpu]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice, tasks } from '@multihead/core';
import { createSpamTask, loadSpamAssassin, type SpamTaskOptions, splitTrainTest } from '../src/index.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const json = args.find((a) => a.startsWith('{')) ?? '{}';
const { steps, ...options } = JSON.parse(json) as SpamTaskOptions & { steps?: number };
const backend = option('--backend', 'cpu') as 'cpu' | 'webgpu' | 'auto';
const seed = Number(option('--seed', '0'));
const onTest = flag('--test');

const task = createSpamTask({
  ...options,
  ...(onTest
    ? {}
    : {
        data: async (s: number) => {
          const { train } = await loadSpamAssassin({ seed: s });
          return splitTrainTest(train, { seed: s + 1, testFraction: 0.2, stratify: (e) => e.label });
        },
      }),
});
const device = await createDevice({ backend });
const checkpointDir = await mkdtemp(join(tmpdir(), 'tune-spam-'));
try {
  const ctx = {
    device,
    store: tasks.folderStore(checkpointDir),
    seed,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const trained = await task.train(ctx, steps === undefined ? {} : { steps });
  const report = await task.evaluate(ctx);
  process.stdout.write(
    `${JSON.stringify({ split: onTest ? 'test' : 'validation', options: JSON.parse(json), metrics: report.metrics, baselines: report.baselines, examples: report.examples, trainSeconds: Math.round(trained.seconds) })}\n`,
  );
} finally {
  await rm(checkpointDir, { recursive: true, force: true });
  device.destroy();
}
