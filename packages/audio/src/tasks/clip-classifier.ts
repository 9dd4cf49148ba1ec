/**
 * Training and scoring a spectrogram transformer on labelled clips (16 kHz mono): each step draws a batch
 * with a seeded generator (words evenly), augments every clip on the waveform (speed, gain, noise; preprocess/augment.ts),
 * puts it at a random place in its window, computes the log-mel on the device and masks it (SpecAugment);
 * AdamW with decay on matrices only, label smoothing, clipping, and a warmup + cosine schedule that a time
 * budget bends (core's `budgetCosine`). Scoring puts each clip in the middle of its window, as `run` does.
 */
import {
  add,
  mean,
  mul,
  nn,
  noGrad,
  seededUniform,
  softmax,
  sub,
  type TaskContext,
  tasks,
  tidy,
} from '@multihead/core';
import { poolFrames } from '../baselines/clip-classifiers.js';
import type { SpectrogramTransformer } from '../models/spectrogram-transformer.js';
import {
  augmentClip,
  checkWaveAugmentation,
  type Equalizer,
  equalizerGains,
  type SpecAugment,
  specAugmentMask,
  type WaveAugmentation,
} from '../preprocess/augment.js';
import {
  type ClipFeatureConfig,
  type ClipSpan,
  clipFeatures,
  frameWidth,
  placeInWindow,
  spanFrames,
  windowFrames,
} from '../preprocess/clip-features.js';

export interface LabelledClip {
  samples: Float32Array;
  label: number;
  /**
   * What was said ("zero" and "oh" are both label 0): batches draw words evenly, so a label spoken two
   * ways gets each way as often as any other word. Without it, clips are drawn evenly.
   */
  word?: string;
}

/** Draws a clip: a word evenly, then one of its clips (clips without a word share one group). */
function clipSampler(clips: readonly LabelledClip[]): (random: () => number) => LabelledClip {
  const groups = new Map<string, LabelledClip[]>();
  for (const clip of clips) {
    const key = clip.word ?? '';
    const group = groups.get(key);
    if (group) group.push(clip);
    else groups.set(key, [clip]);
  }
  const lists = [...groups.values()];
  return (random) => {
    const list = lists[Math.floor(random() * lists.length)]!;
    return list[Math.floor(random() * list.length)]!;
  };
}

export interface ClipClassifierTraining extends tasks.TaskTrainingHyper {
  labelSmoothing: number;
  augmentation: WaveAugmentation;
  specAugment: SpecAugment;
  /** A random equalizer on the log-mel (none when absent). */
  equalizer?: Equalizer;
}

/** The seed of step `step`'s draws (clips, augmentation, placement, masks). */
const stepSeed = (seed: number, step: number) =>
  (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0;

/**
 * One training batch, on the host: the windows `[B * windowSamples]`, the SpecAugment masks
 * `[B * frames * frameWidth]`, the equalizer's gains `[B * nMels]` (dB) and the labels. Deterministic
 * in (seed, step).
 */
export function trainingBatch(
  clips: readonly LabelledClip[],
  cfg: ClipFeatureConfig,
  h: ClipClassifierTraining,
  seed: number,
  step: number,
) {
  const random = seededUniform(stepSeed(seed, step));
  const B = h.batchSize;
  const frames = windowFrames(cfg);
  const width = frameWidth(cfg);
  const windows = new Float32Array(B * cfg.windowSamples);
  const masks = new Float32Array(B * frames * width);
  const labels = new Int32Array(B);
  const binGainsDb = new Float32Array(B * cfg.nMels);
  const spans: ClipSpan[] = [];
  const draw = clipSampler(clips);
  for (let b = 0; b < B; b++) {
    const clip = draw(random);
    labels[b] = clip.label;
    const augmented = augmentClip(clip.samples, h.augmentation, cfg.sampleRate, random);
    const { window, offset, length } = placeInWindow(augmented.samples, cfg.windowSamples, random());
    augmented.noise(window);
    windows.set(window, b * cfg.windowSamples);
    spans.push({ offset, length });
    // one mask for every copy of a bin (the log-mel and its clip-mean-normalized copy)
    const mask = specAugmentMask(frames, cfg.nMels, h.specAugment, random);
    for (let t = 0; t < frames; t++) {
      for (let copy = 0; copy < width / cfg.nMels; copy++) {
        masks.set(
          mask.subarray(t * cfg.nMels, (t + 1) * cfg.nMels),
          (b * frames + t) * width + copy * cfg.nMels,
        );
      }
    }
    if (h.equalizer) binGainsDb.set(equalizerGains(cfg.nMels, h.equalizer, random), b * cfg.nMels);
  }
  return { windows, masks, labels, spans, binGainsDb };
}

/** Trains `model` on `clips`; stops at `steps`, `maxSeconds` or ctx.signal. */
export async function trainClipClassifier(
  ctx: TaskContext,
  model: SpectrogramTransformer,
  clips: readonly LabelledClip[],
  cfg: ClipFeatureConfig,
  h: ClipClassifierTraining,
  run: tasks.TaskTrainingRun,
): Promise<tasks.TaskTrainSummary> {
  checkWaveAugmentation(h.augmentation);
  const frames = windowFrames(cfg);
  const B = h.batchSize;
  return await tasks.trainTaskModel(ctx, model, h, run, {
    unit: 'clips',
    items: () => B,
    batch: (step) => {
      const { windows, masks, labels, spans, binGainsDb } = trainingBatch(clips, cfg, h, run.seed, step);
      const gains = h.equalizer ? binGainsDb : undefined;
      return {
        features: tidy(() => {
          const x = clipFeatures(ctx.device, windows, B, cfg, spans, gains); // [B, frames, width]
          const m = ctx.device.tensor(masks, [B, frames, frameWidth(cfg)]);
          // SpecAugment fills masked values with the example's mean (Park et al. 2019)
          const fill = mean(x, [1, 2], { keepdim: true });
          return add(mul(sub(x, fill), m), fill);
        }),
        labels: ctx.device.tensor(labels, [B], { dtype: 'i32' }),
      };
    },
    loss: ({ features, labels }) =>
      nn.crossEntropy(model.forward(features), labels, { labelSmoothing: h.labelSmoothing }),
  });
}

/** Centered windows of `clips` `[count * windowSamples]` (what scoring and `run` read). */
export function centeredWindows(clips: readonly Float32Array[], cfg: ClipFeatureConfig) {
  const windows = new Float32Array(clips.length * cfg.windowSamples);
  const spans = clips.map((samples, i) => {
    const placed = placeInWindow(samples, cfg.windowSamples, 0.5);
    windows.set(placed.window, i * cfg.windowSamples);
    return { offset: placed.offset, length: placed.length };
  });
  return { windows, spans };
}

/** Class probabilities `[count, classes]` of clips (eval mode, batches of `batch`). */
export async function classifyClips(
  model: SpectrogramTransformer,
  clips: readonly Float32Array[],
  cfg: ClipFeatureConfig,
  batch = 100,
): Promise<Float32Array> {
  model.eval();
  const classes = model.config.numClasses;
  const out = new Float32Array(clips.length * classes);
  for (let start = 0; start < clips.length; start += batch) {
    const part = clips.slice(start, start + batch);
    const { windows, spans } = centeredWindows(part, cfg);
    const probs = noGrad(() =>
      tidy(() => softmax(model.forward(clipFeatures(model.device, windows, part.length, cfg, spans)), -1)),
    );
    out.set((await probs.read()) as Float32Array, start * classes);
    probs.dispose();
  }
  return out;
}

/** Index of the largest entry of each row. */
export function rowArgmax(probs: Float32Array, classes: number): Int32Array {
  return Int32Array.from({ length: probs.length / classes }, (_, r) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[r * classes + c]! > probs[r * classes + best]!) best = c;
    return best;
  });
}

/**
 * Each clip's mean and deviation over its own frames of every log-mel bin `[count, 2 * nMels]` (what the
 * baselines read): the clip centered in its window, frames whose centers fall inside it.
 */
export async function pooledFeatures(
  device: TaskContext['device'],
  clips: readonly Float32Array[],
  cfg: ClipFeatureConfig,
  batch = 200,
): Promise<Float32Array> {
  const frames = windowFrames(cfg);
  const width = frames * cfg.nMels;
  const out = new Float32Array(clips.length * 2 * cfg.nMels);
  for (let start = 0; start < clips.length; start += batch) {
    const part = clips.slice(start, start + batch);
    const { windows, spans } = centeredWindows(part, cfg);
    const features = clipFeatures(device, windows, part.length, { ...cfg, clipMeanNormalized: false });
    const values = (await features.read()) as Float32Array;
    features.dispose();
    spans.forEach((span, i) => {
      const { first, count } = spanFrames(cfg, span);
      const pooled = poolFrames(values.subarray(i * width, (i + 1) * width), cfg.nMels, first, count);
      out.set(pooled, (start + i) * 2 * cfg.nMels);
    });
  }
  return out;
}
