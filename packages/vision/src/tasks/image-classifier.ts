/**
 * Training and scoring a ViT classifier on an `ImageDataset` (u8 images): normalized batches with seeded
 * augmentation (random crop with padding, horizontal flip), AdamW with decay on matrices only, label
 * smoothing, clipping and a warmup + cosine schedule that a time budget bends (core's `budgetCosine`).
 */
import { nn, noGrad, seededUniform, softmax, type TaskContext, tasks, tidy } from '@multihead/core';
import { datasetBatch } from '../data/batches.js';
import type { ImageDataset } from '../data/fashion-mnist.js';
import type { VisionTransformer } from '../models/vit.js';
import { augment } from '../preprocess/augment.js';

export interface ImageClassifierTraining extends tasks.TaskTrainingHyper {
  labelSmoothing: number;
  /** Zero padding of the random crop (0 = no crop). */
  cropPadding: number;
  /** Probability of a horizontal flip (0 = none). */
  flip: number;
}

export interface Normalization {
  mean: number;
  std: number;
}

/** Images `[indices]` of a dataset as normalized floats `[B, 1, H, W]`. */
export function imageBatch(
  data: ImageDataset,
  indices: readonly number[],
  norm: Normalization,
): Float32Array {
  return datasetBatch(data, indices, norm).data;
}

/** Trains `vit` on `data`; stops at `steps`, `maxSeconds` or ctx.signal. */
export async function trainImageClassifier(
  ctx: TaskContext,
  vit: VisionTransformer,
  data: ImageDataset,
  norm: Normalization,
  h: ImageClassifierTraining,
  run: tasks.TaskTrainingRun,
): Promise<tasks.TaskTrainSummary> {
  const uniform = seededUniform(run.seed * 7919 + 11);
  const shape = [h.batchSize, 1, data.height, data.width] as const;
  return await tasks.trainTaskModel(ctx, vit, h, run, {
    unit: 'images',
    items: () => h.batchSize,
    batch: (step) => {
      const rows = Array.from({ length: h.batchSize }, () => Math.floor(uniform() * data.count));
      // augmented in pixel units [0, 1], so the crop's zero padding is the black background
      let x = imageBatch(data, rows, { mean: 0, std: 1 });
      if (h.cropPadding > 0 || h.flip > 0) {
        const crop = h.cropPadding > 0 ? { size: data.height, padding: h.cropPadding } : undefined;
        const flip = h.flip > 0 ? { p: h.flip } : undefined;
        const seed = run.seed * 1_000_003 + step;
        x = augment({ data: x, shape }, { ...(crop ? { crop } : {}), ...(flip ? { flip } : {}), seed }).data;
      }
      for (let i = 0; i < x.length; i++) x[i] = (x[i]! - norm.mean) / norm.std;
      return {
        images: ctx.device.tensor(x, [...shape]),
        labels: ctx.device.tensor(
          Int32Array.from(rows, (r) => data.labels[r]!),
          [h.batchSize],
        ),
      };
    },
    loss: ({ images, labels }) =>
      nn.crossEntropy(vit.forward(images), labels, { labelSmoothing: h.labelSmoothing }),
  });
}

/** Class probabilities `[count, classes]` of every image of `data` (eval mode, batches of `batch`). */
export async function classifyImages(
  vit: VisionTransformer,
  data: ImageDataset,
  norm: Normalization,
  batch = 500,
): Promise<Float32Array> {
  vit.eval();
  const classes = vit.config.numClasses;
  const out = new Float32Array(data.count * classes);
  for (let start = 0; start < data.count; start += batch) {
    const n = Math.min(batch, data.count - start);
    const rows = Array.from({ length: n }, (_, i) => start + i);
    const probs = noGrad(() =>
      tidy(() =>
        softmax(
          vit.forward(vit.device.tensor(imageBatch(data, rows, norm), [n, 1, data.height, data.width])),
          -1,
        ),
      ),
    );
    out.set(await probs.read(), start * classes);
    probs.dispose();
  }
  return out;
}

/** Index of the largest entry of each row. */
export function rowArgmax(probs: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(probs.length / classes);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[r * classes + c]! > probs[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}
