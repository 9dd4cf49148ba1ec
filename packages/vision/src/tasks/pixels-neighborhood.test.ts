/**
 * vision/pixels with causal neighbourhood attention (`neighborhood: { kernel }`) on the committed
 * Fashion-MNIST sample with a tiny GPT: it trains (the loss falls), evaluates in bits per pixel, samples
 * a grid, keeps the option in its checkpoint, and its attention maps see only each pixel's causal window.
 */
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetRgba } from '../data/batches.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { createPixelsTask } from './pixels.js';

const SAMPLE = new URL('../../test/fixtures/fashion-mnist', import.meta.url).pathname;
const data = async () => ({
  train: await loadFashionMnist({ dir: SAMPLE, cacheDir: false }),
  test: await loadFashionMnist({ dir: SAMPLE, split: 'test', cacheDir: false }),
});
const KERNEL = 5;
const task = createPixelsTask({
  data,
  config: { nLayer: 1, nHead: 2, nEmbd: 16 },
  training: { batchSize: 8, warmupSteps: 2 },
  neighborhood: { kernel: KERNEL },
});

const { ctx } = await taskTestContext('pixels-nb', 5, { afterAll, store: tasks.folderStore });

describe('vision/pixels with neighbourhood attention', () => {
  it('trains, evaluates and samples', async () => {
    const report = await task.train(ctx, { steps: 20 });
    expect(report.losses.at(-1)!.loss).toBeLessThan(report.losses[0]!.loss);
    const evaluation = await task.evaluate(ctx);
    expect(evaluation.metrics['bitsPerPixel']).toBeGreaterThan(0);
    expect(evaluation.metrics['bitsPerPixel']).toBeLessThan(3);
    const output = await task.run(ctx, undefined, { samples: 4 }).result;
    expect(output).toMatchObject({ kind: 'image', image: { width: 34, height: 34 } });
  });

  it('attends only within each pixel causal window', async () => {
    const { test } = await data();
    const picture = { ...datasetRgba(test, 1), channels: 4 as const };
    const report = await task.attention(ctx, picture);
    const w = report.layers[0]!.weights; // [H, 196, 196]
    const side = 14;
    const start = (p: number) => Math.min(Math.max(p - (KERNEL >> 1), 0), side - KERNEL);
    let seen = 0;
    for (let i = 0; i < 196; i++) {
      const [y, x] = [Math.floor(i / side), i % side];
      for (let j = 0; j < 196; j++) {
        const [ky, kx] = [Math.floor(j / side), j % side];
        const inside =
          ky <= y && ky > y - KERNEL && kx >= start(x) && kx < start(x) + KERNEL && (ky < y || kx <= x);
        if (!inside) expect(w[i * 196 + j], `pixel ${i} key ${j}`).toBe(0);
        else if (w[i * 196 + j]! > 0) seen++;
      }
    }
    expect(seen).toBeGreaterThan(196 * 3);
  });
});
