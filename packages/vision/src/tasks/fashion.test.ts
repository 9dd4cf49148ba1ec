/**
 * vision/fashion on the committed Fashion-MNIST sample (test/fixtures/fashion-mnist: 30 training and 20
 * test images) with a tiny ViT: training lowers the loss and stores a checkpoint, evaluate reports the
 * protocol's shape beside both pixel baselines, run classifies a PNG file and raw pixels alike, and the
 * attention report carries per-layer maps, a rollout over the 7 x 7 patch grid and the image under it.
 */
import { join } from 'node:path';
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetRgba } from '../data/batches.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../data/fashion-mnist.js';
import { encodePng } from '../preprocess/image-node.js';
import { createFashionTask } from './fashion.js';
import { VISION_TASKS } from './index.js';

const SAMPLE = new URL('../../test/fixtures/fashion-mnist', import.meta.url).pathname;
const data = async () => ({
  train: await loadFashionMnist({ dir: SAMPLE, cacheDir: false }),
  test: await loadFashionMnist({ dir: SAMPLE, split: 'test', cacheDir: false }),
});
const task = createFashionTask({
  data,
  // 4 x 4 patches (the default is 7 x 7): a 7 x 7 grid of 49 patches gives the rollout more to check
  config: { patchSize: 4, numLayers: 2, numHeads: 2, hiddenDim: 16, mlpDim: 32 },
  training: { batchSize: 16, warmupSteps: 2, lr: 3e-3 },
  baselineEpochs: { logistic: 2, mlp: 2 },
});

const { ctx, device, dir } = await taskTestContext('fashion', 2, { afterAll, store: tasks.folderStore });

describe('vision/fashion', () => {
  it('is in VISION_TASKS as a classify task over image input, with patches as positions', () => {
    const t = VISION_TASKS.find((x) => x.id === 'vision/fashion')!;
    expect(t).toMatchObject({ kind: 'classify', input: { kind: 'image' }, positions: 'patches' });
    expect(t.output.labels).toEqual(FASHION_MNIST_CLASSES);
  });

  it('trains, stores, evaluates beside the pixel baselines', async () => {
    const report = await task.train(ctx, { steps: 30 });
    expect(report).toMatchObject({ task: 'vision/fashion', steps: 30, unit: 'images' });
    expect(report.losses.at(-1)!.loss).toBeLessThan(report.losses[0]!.loss);
    expect(report.checkpoint).toBe(join(dir, 'vision/fashion.safetensors'));
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'vision/fashion',
      examples: 20,
      split: { name: 'test' },
      checkpoint: { source: 'trained', step: 30 },
      goal: { metric: 'accuracy', op: '>=', value: 0.91, beat: ['logisticRegression', 'mlp'] },
    });
    for (const m of [
      evaluation.metrics,
      evaluation.baselines['logisticRegression']!,
      evaluation.baselines['mlp']!,
    ]) {
      expect(m['accuracy']).toBeGreaterThanOrEqual(0);
      expect(m['accuracy']).toBeLessThanOrEqual(1);
    }
    expect((await task.evaluate(ctx, { limit: 5 })).examples).toBe(5);
  });

  it('classifies a PNG file and the same pixels passed directly alike', async () => {
    const { test } = await data();
    const rgba = datasetRgba(test, 3);
    const png = await encodePng(rgba);
    const fromFile = await task.run(ctx, { bytes: png, name: 'shirt.png' }, { invert: 'no' }).result;
    const fromPixels = await task.run(ctx, { ...rgba, channels: 4 }, { invert: 'no' }).result;
    if (fromFile.kind !== 'label' || fromPixels.kind !== 'label') throw new Error('expected labels');
    expect(fromFile.scores.map((s) => s.label)).toEqual(FASHION_MNIST_CLASSES);
    expect(fromFile.scores.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 5);
    expect(fromPixels.scores.map((s) => s.probability)).toEqual(fromFile.scores.map((s) => s.probability));
    const best = fromFile.scores.reduce((a, b) => (b.probability > a.probability ? b : a));
    expect(fromFile.label).toBe(best.label);
    await expect(task.run(ctx, 'not an image').result).rejects.toThrow(/vision\/fashion: expected an image/);
    await expect(task.run(ctx, { bytes: new Uint8Array([1, 2, 3]) }).result).rejects.toThrow();
  });

  it("inverts a dark-on-light picture ('auto') as the dataset draws light on dark", async () => {
    const { test } = await data();
    const rgba = datasetRgba(test, 0);
    const negative = { ...rgba, data: rgba.data.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
    const a = await task.run(ctx, { ...rgba, channels: 4 }).result;
    const b = await task.run(ctx, { ...negative, channels: 4 }).result;
    if (a.kind !== 'label' || b.kind !== 'label') throw new Error('expected labels');
    for (const [i, s] of a.scores.entries()) expect(b.scores[i]!.probability).toBeCloseTo(s.probability, 5);
  });

  it('attention: every layer and head over class token and patches, a rollout on the 7 x 7 grid', async () => {
    const { test } = await data();
    const report = await task.attention(ctx, { ...datasetRgba(test, 1), channels: 4 });
    expect(report).toMatchObject({
      positions: 'patches',
      numLayers: 2,
      grid: [7, 7],
      gridOffset: 1,
      causal: false,
    });
    expect(report.labels).toHaveLength(50);
    expect(report.labels.slice(0, 3)).toEqual(['cls', '0,0', '0,1']);
    expect(report.layers.map((l) => [l.layer, l.heads, l.weights.length])).toEqual([
      [0, 2, 2 * 50 * 50],
      [1, 2, 2 * 50 * 50],
    ]);
    expect(report.rollout).toHaveLength(49);
    expect(report.background).toMatchObject({ width: 28, height: 28, channels: 1 });
    expect(device.memory().liveTensors).toBeLessThan(200); // the model of each call is freed
  });
});
