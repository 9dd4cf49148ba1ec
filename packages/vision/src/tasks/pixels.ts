/**
 * vision/pixels: ImageGPT-style generation of Fashion-MNIST images. Images are downsampled to 14 x 14,
 * quantized to an 8-level gray palette (k-means on the training pixels) and read in raster order after a
 * begin token; a causal GPT (core's models.GPT, full causal attention) learns the next pixel. Evaluated in
 * bits per pixel on the test images beside a per-pixel histogram and a count model of the left and upper
 * neighbours, fitted in the same call. `run` samples a grid of images, or completes the lower half of a
 * given picture, streaming pixel rows.
 */
import { type AttentionReport, models, type Task, type TaskContext, tasks } from '@multihead/core';
import { fitPixelBaselines } from '../baselines/pixel-counts.js';
import { type ImageDataset, loadFashionMnist } from '../data/fashion-mnist.js';
import { dequantize, downsampleImages, grayPalette, quantize } from '../data/pixel-tokens.js';
import { committedCheckpoint } from './committed.js';
import { fitGray, inputImage } from './image-input.js';
import { attentionOf, gridOf, type PixelPreprocessing, pixelNll, trainPixelGpt } from './pixel-gpt.js';
import { samplePixels } from './pixel-sampler.js';

export const PIXELS_TASK_ID = 'vision/pixels';
export const PIXELS_SIDE = 14;
export const PIXELS_LEVELS = 8;

export const PIXELS_GPT: Omit<models.GPTConfig, 'vocabSize'> = {
  blockSize: 196,
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  dropout: 0,
};

export const PIXELS_TRAINING = {
  steps: 3000,
  /** The default run stops here at the latest. */
  maxSeconds: 900,
  batchSize: 32,
  lr: 3e-3,
  minLr: 1e-4,
  warmupSteps: 100,
  weightDecay: 0.05,
  clipGradNorm: 1,
};

export interface PixelsOptions {
  config?: Partial<Omit<models.GPTConfig, 'vocabSize'>>;
  /**
   * Causal 2-D neighbourhood attention over the 14 x 14 pixel grid instead of full causal attention
   * (core's `attention: { neighborhood }` of models.GPT): each pixel sees the kernel x kernel window of
   * pixels around it, up to its own row and, in that row, up to itself. Default: full causal attention.
   */
  neighborhood?: { kernel: number | [number, number]; dilation?: number | [number, number] };
  training?: Partial<typeof PIXELS_TRAINING>;
  data?: () => Promise<{ train: ImageDataset; test: ImageDataset }>;
}

const loadSplits = async () => ({
  train: await loadFashionMnist({ split: 'train' }),
  test: await loadFashionMnist({ split: 'test' }),
});

async function loadModel(ctx: TaskContext, task: Task) {
  const loaded = await tasks.loadTaskCheckpoint<models.GPTConfig, PixelPreprocessing>(ctx, task);
  const gpt = new models.GPT(ctx.device, { ...loaded.config, seed: 0 });
  gpt.loadStateDict(loaded.checkpoint.model);
  gpt.eval();
  return { gpt, pre: loaded.preprocessing, loaded };
}

/** A picture's tokens as the model reads it: fit to 28 x 28, downsampled, quantized. */
async function pictureTokens(input: unknown, pre: PixelPreprocessing): Promise<Uint8Array> {
  const gray = fitGray(await inputImage(input as object, PIXELS_TASK_ID), 28, 'auto');
  const one = { images: gray, labels: new Uint8Array(1), count: 1, height: 28, width: 28, classes: [] };
  return quantize(downsampleImages(one, pre.side), pre.palette);
}

export function createPixelsTask(options: PixelsOptions = {}): Task {
  const data = options.data ?? loadSplits;
  const task: Task = tasks.defineTask({
    id: PIXELS_TASK_ID,
    kind: 'generate',
    description:
      'draws Fashion-MNIST-like images pixel by pixel (14 x 14, 8 grays): a causal GPT vs histogram and neighbour count models',
    input: {
      kind: 'image',
      description:
        'optional: a picture whose upper half the samples keep and complete (none: sample whole images)',
      required: false,
      accept: ['.png', '.jpg', '.jpeg', '.webp', '.gif', 'image/*'],
    },
    output: { kind: 'image', stream: 'pixels', description: 'a grid of sampled images' },
    params: [
      { name: 'samples', type: 'integer', min: 1, max: 64, default: 16, description: 'images to sample' },
      tasks.temperatureParam,
      {
        name: 'topK',
        type: 'integer',
        min: 1,
        max: PIXELS_LEVELS,
        description: 'sample from the k most likely gray levels',
      },
    ],
    metrics: [
      {
        name: 'bitsPerPixel',
        description: 'held-out negative log-likelihood per pixel (bits)',
        better: 'lower',
      },
    ],
    goal: { metric: 'bitsPerPixel', op: '<=', beat: ['pixelHistogram', 'neighbourCounts'] },
    positions: 'patches',
    async train(ctx, opts = {}) {
      const h = { ...PIXELS_TRAINING, ...options.training };
      const { steps, maxSeconds } = tasks.checkTrainOptions(PIXELS_TASK_ID, opts, h.steps);
      const budget = maxSeconds ?? (opts.steps === undefined ? h.maxSeconds : undefined);
      const { train } = await data();
      const values = downsampleImages(train, PIXELS_SIDE);
      const palette = grayPalette(values, PIXELS_LEVELS, ctx.seed ?? 0);
      const pre: PixelPreprocessing = { side: PIXELS_SIDE, palette, bos: PIXELS_LEVELS };
      const config: models.GPTConfig = {
        ...PIXELS_GPT,
        ...options.config,
        ...(options.neighborhood
          ? { attention: { neighborhood: { grid: [PIXELS_SIDE, PIXELS_SIDE], ...options.neighborhood } } }
          : {}),
        vocabSize: PIXELS_LEVELS + 1,
        seed: (ctx.seed ?? 0) + 1,
      };
      return trainPixelGpt(ctx, task.id, config, pre, quantize(values, palette), train.count, h, {
        steps,
        maxSeconds: budget,
      });
    },
    async evaluate(ctx, opts = {}) {
      const { gpt, pre, loaded } = await loadModel(ctx, task);
      try {
        const { train, test } = await data();
        const n = Math.min(test.count, opts.limit ?? test.count);
        const testTokens = quantize(downsampleImages(test, pre.side, n), pre.palette);
        const trainTokens = quantize(downsampleImages(train, pre.side), pre.palette);
        const pixels = pre.side * pre.side;
        const model = (await pixelNll(gpt, testTokens, n, pre)) / (n * pixels);
        const { histogram, neighbours } = fitPixelBaselines(
          trainTokens,
          train.count,
          pre.side,
          pre.palette.length,
        );
        const round = (x: number) => Math.round(x * 1e4) / 1e4;
        return tasks.evalReport(task, {
          metrics: { bitsPerPixel: round(model) },
          baselines: {
            pixelHistogram: { bitsPerPixel: round(histogram.nll(testTokens, n) / (n * pixels)) },
            neighbourCounts: { bitsPerPixel: round(neighbours.nll(testTokens, n) / (n * pixels)) },
          },
          split: {
            name: 'test',
            description: `${n} Fashion-MNIST test images at ${pre.side} x ${pre.side}, ${pre.palette.length} gray levels (${n * pixels} pixels)`,
          },
          examples: n,
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: {
            palette: pre.palette.map((v) => Math.round(v * 255)),
            neighbourPriorStrength: neighbours.strength,
          },
        });
      } finally {
        gpt.dispose();
      }
    },
    run: (ctx, input, params) =>
      tasks.streamingRun(async function* () {
        const p = tasks.resolveParams(task, params);
        const { gpt, pre } = await loadModel(ctx, task);
        try {
          const side = pre.side;
          const count = p['samples'] as number;
          const prompt =
            input === undefined
              ? undefined
              : (await pictureTokens(input, pre)).subarray(0, (side / 2) * side);
          const grid = gridOf(count, side);
          const sampler = samplePixels(gpt, {
            count,
            side,
            bos: pre.bos,
            ...(prompt ? { prompt } : {}),
            temperature: p['temperature'] as number,
            ...(p['topK'] !== undefined ? { topK: p['topK'] as number } : {}),
            seed: ctx.seed ?? 0,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          for (;;) {
            const next = await sampler.next();
            if (next.done) {
              for (let n = 0; n < count; n++)
                grid.place(
                  n,
                  dequantize(next.value.subarray(n * side * side, (n + 1) * side * side), pre.palette),
                );
              return { kind: 'image', image: grid.image };
            }
            // one image row of every sample: the grid rows it fills
            const { row, tokens } = next.value;
            for (let n = 0; n < count; n++)
              grid.placeRow(n, row, dequantize(tokens.subarray(n * side, (n + 1) * side), pre.palette));
            for (const r of grid.rowsOf(row))
              yield { kind: 'pixels', row: r, width: grid.image.width, channels: 1, data: grid.row(r) };
          }
        } finally {
          gpt.dispose();
        }
      }),
    async attention(ctx, input, opts = {}): Promise<AttentionReport> {
      const { gpt, pre } = await loadModel(ctx, task);
      try {
        return await attentionOf(gpt, pre, await pictureTokens(input, pre), opts.layers);
      } finally {
        gpt.dispose();
      }
    },
    committedCheckpoint: committedCheckpoint('pixels.safetensors'),
  });
  return task;
}

export const pixelsTask: Task = createPixelsTask();
