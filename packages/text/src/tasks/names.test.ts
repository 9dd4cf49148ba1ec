/**
 * text/names on the committed names sample (test/fixtures/names-sample.txt, every 30th name): a few
 * training steps lower the loss, evaluate reports its metrics beside the bigram's, generation streams
 * a name after the prompt and stops at the boundary token.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice, type Device } from '@multihead/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLm, taskCheckpointPath } from './lm.js';
import { evaluateNames, NAME_BOUNDARY, namesTask, namesTokenizer, trainNames } from './names.js';
import type { TaskContext } from './task.js';

const sample = (await readFile(new URL('../../test/fixtures/names-sample.txt', import.meta.url), 'utf8'))
  .split('\n')
  .filter(Boolean);
const train = sample.slice(0, 240);
const test = sample.slice(240);

let device: Device;
let dir: string;
let ctx: TaskContext;
beforeAll(async () => {
  device = await createDevice({ backend: 'cpu' });
  dir = await mkdtemp(join(tmpdir(), 'names-task-'));
  ctx = { device, checkpointDir: dir, seed: 1 };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tiny = { nLayer: 1, nHead: 2, nEmbd: 16 };

describe('text/names', () => {
  it('the tokenizer wraps a name in the boundary token', () => {
    const tok = namesTokenizer(train);
    const { tokens } = tok.encode('mia');
    expect(tokens).toEqual([NAME_BOUNDARY, 'm', 'i', 'a', NAME_BOUNDARY]);
    expect(tok.bosId).toBe(tok.eosId);
  });

  it('trains a few steps, lowers the loss and saves a checkpoint that evaluate reads', async () => {
    const progress: number[] = [];
    const result = await trainNames(
      { ...ctx, onProgress: (p) => progress.push(p.loss) },
      { names: train, steps: 40, config: tiny, training: { batchSize: 16, warmupSteps: 5, lr: 1e-2 } },
    );
    expect(result.steps).toBe(40);
    expect(result.checkpoint).toBe(await taskCheckpointPath(ctx, 'text/names'));
    expect(progress).toHaveLength(8); // a report every 5 steps
    expect(progress.at(-1)!).toBeLessThan(progress[0]!);
    expect(result.losses.at(-1)!.loss).toBeLessThan(Math.log(namesTokenizer(train).vocabSize));

    const metrics = await evaluateNames(ctx, { train, test, samples: 5 });
    expect(Object.keys(metrics)).toEqual(
      expect.arrayContaining([
        'nll',
        'bigramNll',
        'bigramAddOneNll',
        'novelFraction',
        'samples',
        'checkpoint',
      ]),
    );
    expect(metrics.checkpointSource).toBe('trained');
    expect(metrics.trainedSteps).toBe(40);
    expect(metrics.heldOutNames).toBe(test.length);
    // every held-out name is scored on its characters and its end token
    expect(metrics.heldOutTokens).toBe(test.reduce((n, name) => n + name.length + 1, 0));
    expect(metrics.nll).toBeGreaterThan(0);
    expect((metrics.samples as string).split(', ')).toHaveLength(5);
  });

  it('stops on a time budget', async () => {
    const result = await trainNames(
      { ...ctx, checkpointDir: join(dir, 'timed') },
      { names: train, steps: 10_000, maxSeconds: 1, config: tiny },
    );
    expect(result.steps).toBeLessThan(10_000);
    expect(result.seconds).toBeLessThan(10);
  });

  it('generate streams a name after the prompt, one character at a time', async () => {
    const pieces: string[] = [];
    for await (const piece of namesTask.generate!(ctx, 'Ma', { seed: 3, maxNewTokens: 12 }))
      pieces.push(piece);
    expect(pieces.length).toBeLessThanOrEqual(12);
    for (const piece of pieces) expect(piece).toMatch(/^[a-z-]$|^<unk>$/);
    await expect(async () => {
      for await (const _ of namesTask.generate!(ctx, 'm4')) {
        // unreachable: the prompt is checked first
      }
    }).rejects.toThrow(/prompt character "4" is not in the names alphabet \(-?a/);
  });

  it('the committed checkpoint ends names at the boundary token and beats the bigram', async () => {
    const committed = { device, checkpointDir: join(dir, 'nothing-trained-here'), seed: 0 };
    const lm = await loadLm(committed, 'text/names', 'names.safetensors');
    expect(lm.source).toBe('committed');
    expect(lm.metadata.training).toMatchObject({
      steps: 3000,
      command: expect.stringContaining('train:names'),
    });
    lm.gpt.dispose();
    for (const seed of [0, 1, 2]) {
      const pieces: string[] = [];
      for await (const piece of namesTask.generate!(committed, 'ma', { seed, maxNewTokens: 14 }))
        pieces.push(piece);
      // a name of a few letters ends on the boundary token, long before the limit, without showing it
      expect(pieces.length).toBeLessThan(12);
      expect(pieces.join('')).toMatch(/^[a-z-]*$/);
    }
    // the sample's held-out names: the model knows names, the bigram counted on 240 only barely
    const metrics = await evaluateNames(committed, { train, test, samples: 0 });
    expect(metrics.checkpointSource).toBe('committed');
    expect(metrics.nll).toBeLessThan(metrics.bigramNll as number);
  });
});
