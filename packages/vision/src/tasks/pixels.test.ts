/**
 * vision/pixels on the committed Fashion-MNIST sample with a tiny GPT: the palette and quantization, the
 * count baselines on a case worked by hand, training and the bits-per-pixel report, sampling a grid that
 * streams every pixel row, half-image completion that keeps the given upper half, and attention maps.
 */
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { NeighbourCounts, PixelHistogram } from '../baselines/pixel-counts.js';
import { datasetRgba } from '../data/batches.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { dequantize, downsampleImages, grayPalette, quantize } from '../data/pixel-tokens.js';
import { createPixelsTask } from './pixels.js';

const SAMPLE = new URL('../../test/fixtures/fashion-mnist', import.meta.url).pathname;
const data = async () => ({
  train: await loadFashionMnist({ dir: SAMPLE, cacheDir: false }),
  test: await loadFashionMnist({ dir: SAMPLE, split: 'test', cacheDir: false }),
});
const task = createPixelsTask({
  data,
  config: { nLayer: 1, nHead: 2, nEmbd: 16 },
  training: { batchSize: 8, warmupSteps: 2 },
});

const { ctx } = await taskTestContext('pixels', 4, { afterAll, store: tasks.folderStore });

describe('pixel tokens and count baselines', () => {
  it('finds an ascending palette, quantizes to its nearest entry and back', async () => {
    const { train } = await data();
    const values = downsampleImages(train, 14);
    expect(values).toHaveLength(30 * 196);
    const palette = grayPalette(values, 8);
    expect(palette).toHaveLength(8);
    for (let k = 1; k < 8; k++) expect(palette[k]!).toBeGreaterThan(palette[k - 1]!);
    const tokens = quantize(values, palette);
    const back = dequantize(tokens, palette);
    for (let i = 0; i < values.length; i += 37) {
      const nearest = Math.min(...palette.map((p) => Math.abs(p - values[i]!)));
      expect(Math.abs(back[i]! / 255 - values[i]!)).toBeCloseTo(nearest, 2);
    }
    expect(() => dequantize([9], palette)).toThrow(/token 9 is not a palette index/);
  });

  it('histogram and neighbour counts give the probabilities worked by hand', () => {
    // two 2 x 2 images over 2 levels: [0 1 / 1 1] and [0 0 / 1 1]
    const tokens = Uint8Array.from([0, 1, 1, 1, 0, 0, 1, 1]);
    const hist = new PixelHistogram(4, 2, 1).add(tokens, 2);
    expect(hist.probability(0, 0)).toBeCloseTo(3 / 4); // (2 + 1) / (2 + 2)
    expect(hist.probability(1, 1)).toBeCloseTo(2 / 4);
    // pixel 3 (bottom right) has left = 1, up = 1 in image 1 and left = 1, up = 0 in image 2
    const nb = new NeighbourCounts(2, 2, hist).add(tokens, 2);
    nb.strength = 1;
    const bits = nb.nll(Uint8Array.from([0, 1, 1, 1]), 1);
    // p0: ctx (out, out): counts 2 of value 0 of 2 -> (2 + 1 * 3/4) / 3; p1: ctx (left 0, out): 1 of 1 is 1 in
    // image 1, 0 in image 2 -> (1 + 1 * 2/4) / (2 + 1); p2: ctx (out, up 0): (2 + 1 * 3/4) / 3 for value 1;
    // p3: ctx (1, 1): one count, value 1 -> (1 + 1 * 3/4) / 2
    const want = -[2.75 / 3, 1.5 / 3, 2.75 / 3, 1.75 / 2].reduce((a, p) => a + Math.log2(p), 0);
    expect(bits).toBeCloseTo(want, 6);
  });
});

describe('vision/pixels', () => {
  it('trains and reports bits per pixel beside both baselines', async () => {
    const report = await task.train(ctx, { steps: 20 });
    expect(report).toMatchObject({ task: 'vision/pixels', steps: 20, unit: 'pixels' });
    expect(report.losses.at(-1)!.loss).toBeLessThan(report.losses[0]!.loss);
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      examples: 20,
      split: { name: 'test' },
      goal: { beat: ['pixelHistogram', 'neighbourCounts'] },
    });
    for (const m of [
      evaluation.metrics,
      evaluation.baselines['pixelHistogram']!,
      evaluation.baselines['neighbourCounts']!,
    ]) {
      expect(m['bitsPerPixel']).toBeGreaterThan(0);
      expect(m['bitsPerPixel']).toBeLessThan(3); // at most log2(8) for a uniform guess
    }
  });

  it('samples a grid, streaming every pixel row of it', async () => {
    const run = task.run(ctx, undefined, { samples: 4, temperature: 1 });
    const { pieces, output } = await tasks.collectRun(run);
    if (output.kind !== 'image') throw new Error('expected an image');
    // 2 x 2 cells of 14 with 2-pixel margins: 34 x 34, each image row lands on 2 grid rows
    expect(output.image).toMatchObject({ width: 34, height: 34, channels: 1 });
    expect(pieces).toHaveLength(14 * 2);
    for (const piece of pieces) {
      if (piece.kind !== 'pixels') throw new Error('expected pixel rows');
      expect(Array.from(piece.data)).toEqual(
        Array.from(output.image.data.subarray(piece.row * 34, (piece.row + 1) * 34)),
      );
    }
    // the same seed, the same samples
    const again = await task.run(ctx, undefined, { samples: 4 }).result;
    expect(again).toEqual(output);
  });

  it('completes the lower half of a picture, keeping its upper half', async () => {
    const { test } = await data();
    const picture = { ...datasetRgba(test, 2), channels: 4 as const };
    const output = await task.run(ctx, picture, { samples: 2 }).result;
    if (output.kind !== 'image') throw new Error('expected an image');
    const cell = (n: number, row: number) =>
      output.image.data.slice(
        (2 + row) * output.image.width + 2 + n * 16,
        (2 + row) * output.image.width + 2 + n * 16 + 14,
      );
    for (let row = 0; row < 7; row++) expect(Array.from(cell(1, row))).toEqual(Array.from(cell(0, row)));
    const attention = await task.attention(ctx, picture);
    expect(attention).toMatchObject({ positions: 'patches', numLayers: 1, causal: true });
    expect(attention.labels).toHaveLength(196);
    expect(attention.layers[0]!.weights).toHaveLength(2 * 196 * 196);
  });
});
