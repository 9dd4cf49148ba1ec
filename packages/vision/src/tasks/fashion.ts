/**
 * vision/fashion: Fashion-MNIST (Debian `dataset-fashion-mnist`; 60 000 training and 10 000 test images of
 * 28 x 28, ten kinds of clothing) classified by a small ViT trained from scratch: 7 x 7 patches (16 tokens
 * and a class token). Evaluated on the 10 000 test images beside a logistic regression and an MLP on the
 * pixels, fitted in the same call.
 *
 * The defaults suit an 18-minute run on a 2-core CPU: 16 tokens make a step about 3x cheaper than 4 x 4
 * patches (49 tokens), so the run sees several epochs; with that few epochs augmentation (crop, flip) and
 * label smoothing slow the fit more than they help (checkpoints/README.md: 0.814 with them and 4 x 4
 * patches, 0.8885 without them and 7 x 7 patches, both in 18 minutes).
 */
import { type AttentionReport, noGrad, type Task, type TaskContext, tasks, tidy } from '@multihead/core';
import { fitAndPredict } from '../baselines/pixel-classifiers.js';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from '../data/batches.js';
import { FASHION_MNIST_CLASSES, type ImageDataset, loadFashionMnist } from '../data/fashion-mnist.js';
import { attentionRollout } from '../models/rollout.js';
import { VisionTransformer } from '../models/vit.js';
import type { ViTConfig } from '../models/vit-config.js';
import { committedCheckpoint } from './committed.js';
import {
  classifyImages,
  type ImageClassifierTraining,
  imageBatch,
  rowArgmax,
  trainImageClassifier,
} from './image-classifier.js';
import { fitGray, inputImage } from './image-input.js';

export const FASHION_TASK_ID = 'vision/fashion';
/** Pixel statistics of the training images (on the [0, 1] scale). */
export const FASHION_NORMALIZATION = { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };

export const FASHION_VIT: ViTConfig = {
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  numLayers: 4,
  numHeads: 4,
  hiddenDim: 64,
  mlpDim: 128,
  numClasses: FASHION_MNIST_CLASSES.length,
};

export const FASHION_TRAINING: ImageClassifierTraining & { maxSeconds: number } = {
  /** More than 18 minutes allow on a 2-core machine: the time budget ends the default run. */
  steps: 30_000,
  /** The default run stops here at the latest, so it ends within 20 minutes on a 2-core machine. */
  maxSeconds: 1080,
  batchSize: 64,
  lr: 3e-3,
  minLr: 1e-5,
  warmupSteps: 100,
  weightDecay: 0.05,
  labelSmoothing: 0,
  clipGradNorm: 1,
  cropPadding: 0,
  flip: 0,
};

export interface FashionOptions {
  /** Model and training overrides (tests use tiny ones). */
  config?: Partial<ViTConfig>;
  training?: Partial<ImageClassifierTraining>;
  /** The data (default: the Debian dataset's train and test splits). */
  data?: () => Promise<{ train: ImageDataset; test: ImageDataset }>;
  /** Epochs of the pixel baselines (default 5 for the logistic regression, 8 for the MLP). */
  baselineEpochs?: { logistic?: number; mlp?: number };
}

const loadSplits = async () => ({
  train: await loadFashionMnist({ split: 'train' }),
  test: await loadFashionMnist({ split: 'test' }),
});

async function loadModel(ctx: TaskContext, task: Task) {
  const loaded = await tasks.loadTaskCheckpoint<ViTConfig>(ctx, task);
  const vit = new VisionTransformer(ctx.device, loaded.config);
  vit.loadStateDict(loaded.checkpoint.model);
  vit.eval();
  return { vit, loaded };
}

/** One input image as the model reads it: 28 x 28 gray bytes. */
async function inputGray(
  input: unknown,
  params: tasks.TaskParams | undefined,
  task: Task,
): Promise<Uint8Array> {
  const p = tasks.resolveParams(task, params);
  return fitGray(
    await inputImage(input as object, FASHION_TASK_ID),
    28,
    p['invert'] as 'auto' | 'yes' | 'no',
  );
}

const single = (gray: Uint8Array): ImageDataset => ({
  images: gray,
  labels: new Uint8Array(1),
  count: 1,
  height: 28,
  width: 28,
  classes: FASHION_MNIST_CLASSES,
});

export function createFashionTask(options: FashionOptions = {}): Task {
  const data = options.data ?? loadSplits;
  const task: Task = tasks.defineTask({
    id: FASHION_TASK_ID,
    kind: 'classify',
    description:
      'Fashion-MNIST: which of ten kinds of clothing a picture shows; a small ViT vs logistic regression and an MLP on the pixels',
    input: {
      kind: 'image',
      description: 'a picture of one garment (any size; made 28 x 28 gray, light on dark as the dataset)',
      accept: ['.png', '.jpg', '.jpeg', '.webp', '.gif', 'image/*'],
    },
    output: {
      kind: 'label',
      labels: FASHION_MNIST_CLASSES,
      description: 'the kind of clothing, with probabilities',
    },
    params: [
      {
        name: 'invert',
        type: 'choice',
        choices: ['auto', 'yes', 'no'],
        default: 'auto',
        description:
          "make a dark-on-light picture light-on-dark as the dataset ('auto': when its border is light)",
      },
    ],
    metrics: [
      { name: 'accuracy', description: 'share of the 10 000 test images labelled right', better: 'higher' },
    ],
    goal: { metric: 'accuracy', op: '>=', value: 0.91, beat: ['logisticRegression', 'mlp'] },
    positions: 'patches',
    async train(ctx, opts = {}) {
      const plan = tasks.trainingPlan(ctx, FASHION_TASK_ID, opts, FASHION_TRAINING, options.training);
      const config: ViTConfig = { ...FASHION_VIT, ...options.config, seed: plan.seed + 1 };
      const { train } = await data();
      return await tasks.trainAndSave(ctx, FASHION_TASK_ID, plan, {
        build: () => new VisionTransformer(ctx.device, config),
        describe: (vit) =>
          `${FASHION_TASK_ID}: ViT ${config.numLayers} layers x ${config.hiddenDim}, patches ${config.patchSize} (${vit.numParameters()} parameters) on ${train.count} images, ${ctx.device.backend}`,
        train: (vit) => trainImageClassifier(ctx, vit, train, FASHION_NORMALIZATION, plan.h, plan.run),
        preprocessing: {
          height: 28,
          width: 28,
          channels: 1,
          ...FASHION_NORMALIZATION,
          classes: FASHION_MNIST_CLASSES,
        },
        config,
      });
    },
    async evaluate(ctx, opts = {}) {
      const { vit, loaded } = await loadModel(ctx, task);
      try {
        const { train, test: full } = await data();
        const n = Math.min(full.count, opts.limit ?? full.count);
        const test = {
          ...full,
          images: full.images.subarray(0, n * 784),
          labels: full.labels.subarray(0, n),
          count: n,
        };
        const accuracy = (predicted: Uint8Array) =>
          predicted.filter((p, i) => p === test.labels[i]).length / n;
        const model = accuracy(rowArgmax(await classifyImages(vit, test, FASHION_NORMALIZATION), 10));
        // the baselines read the same normalized pixels; with a limit they also fit on fewer images
        const fitCount = Math.min(train.count, opts.limit === undefined ? train.count : 6 * n);
        const pixels = (d: ImageDataset, count: number) =>
          imageBatch(
            d,
            Array.from({ length: count }, (_, i) => i),
            FASHION_NORMALIZATION,
          );
        const trainSet = {
          x: pixels(train, fitCount),
          labels: train.labels,
          count: fitCount,
          features: 784,
          classes: 10,
        };
        const testSet = { x: pixels(test, n), count: n };
        const epochs = options.baselineEpochs ?? {};
        const seed = ctx.seed ?? 0;
        const logistic = accuracy(
          await fitAndPredict(ctx.device, trainSet, testSet, { epochs: epochs.logistic ?? 5, seed }),
        );
        const mlp = accuracy(
          await fitAndPredict(ctx.device, trainSet, testSet, { hidden: 256, epochs: epochs.mlp ?? 8, seed }),
        );
        return tasks.evalReport(task, {
          metrics: { accuracy: model },
          baselines: { logisticRegression: { accuracy: logistic }, mlp: { accuracy: mlp } },
          split: {
            name: 'test',
            description: `${n} Fashion-MNIST test images${n < full.count ? ` (the first ${n} of ${full.count})` : ''}; baselines fitted on ${fitCount} training images`,
          },
          examples: n,
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: { backend: ctx.device.backend },
        });
      } finally {
        vit.dispose();
      }
    },
    run: (ctx, input, params) =>
      tasks.resultRun(async () => {
        const gray = await inputGray(input, params, task);
        const { vit } = await loadModel(ctx, task);
        try {
          const probs = await classifyImages(vit, single(gray), FASHION_NORMALIZATION);
          const scores = FASHION_MNIST_CLASSES.map((label, i) => ({ label, probability: probs[i]! }));
          return { kind: 'label', label: FASHION_MNIST_CLASSES[rowArgmax(probs, 10)[0]!]!, scores };
        } finally {
          vit.dispose();
        }
      }),
    async attention(ctx, input, opts = {}): Promise<AttentionReport> {
      const gray = await inputGray(input, opts.params, task);
      const { vit } = await loadModel(ctx, task);
      try {
        const L = vit.config.numLayers;
        const layers = opts.layers ?? Array.from({ length: L }, (_, i) => i);
        const x = imageBatch(single(gray), [0], FASHION_NORMALIZATION);
        const { attentions } = noGrad(() =>
          tidy(() => {
            const out = vit.forwardDetailed(vit.device.tensor(x, [1, 1, 28, 28]), { attentionWeights: true });
            return { attentions: out.attentions };
          }),
        );
        const maps = await Promise.all(
          attentions.map(async (t) => ({ data: (await t!.read()) as Float32Array, shape: t!.shape })),
        );
        for (const t of attentions) t?.dispose();
        const [gh, gw] = vit.grid;
        const offset = vit.config.classToken ? 1 : 0;
        const labels = [
          ...(offset ? ['cls'] : []),
          ...Array.from({ length: gh * gw }, (_, i) => `${Math.floor(i / gw)},${i % gw}`),
        ];
        return {
          positions: 'patches',
          labels,
          numLayers: L,
          layers: layers.map((layer) => ({ layer, heads: vit.config.numHeads, weights: maps[layer]!.data })),
          causal: false,
          grid: [gh, gw],
          gridOffset: offset,
          rollout: attentionRollout(maps, [gh, gw]).data,
          background: { width: 28, height: 28, channels: 1, data: gray },
        };
      } finally {
        vit.dispose();
      }
    },
    committedCheckpoint: committedCheckpoint('fashion.safetensors'),
  });
  return task;
}

export const fashionTask: Task = createFashionTask();
