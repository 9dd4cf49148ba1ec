/**
 * Training text/spam: a WordPiece tokenizer on the training split, optional masked-LM pretraining, then
 * the classifier with token-masking augmentation, length-grouped batches, AdamW with warmup + cosine,
 * and optionally a moving average of the weights. The checkpoint follows the task convention (model.ts).
 */
import { add, type Device, mul, nn, optim, type TaskContext, type Tensor, tasks } from '@multihead/core';
import { Bert, type BertConfig, maskTokens } from '../../models/bert.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { trainWordPieceTokenizer } from '../../tokenizers/wordpiece-trainer.js';
import {
  batchTensors,
  classifyUnits,
  encodeWindows,
  lengthGroupedBatches,
  padBatch,
  type Unit,
  unitBatch,
  unitTokens,
} from './batching.js';
import type { SpamPreprocessing } from './model.js';
import { emailText, labelOf, SPAM_LABELS, SPAM_TASK_ID, type SpamSettings } from './options.js';

/** Step -> indices of items of these sizes: size-grouped batches, a new seeded order every epoch. */
function batcher(lengths: readonly number[], batchSize: number, seed: number) {
  const perEpoch = Math.ceil(lengths.length / batchSize);
  let epoch = -1;
  let batches: number[][] = [];
  return (step: number): number[] => {
    const e = Math.floor(step / perEpoch);
    if (e !== epoch) [epoch, batches] = [e, lengthGroupedBatches(lengths, batchSize, seed + e)];
    return batches[step % perEpoch]!;
  };
}

/** BERT's MLM corruption settings for this tokenizer. */
function masking(tokenizer: Tokenizer, maskProb: number, seed: number) {
  return {
    maskId: tokenizer.maskId!,
    specialIds: [tokenizer.padId, tokenizer.clsId, tokenizer.sepId, tokenizer.unkId].filter(
      (id): id is number => id !== undefined,
    ),
    vocabSize: tokenizer.vocabSize,
    maskProb,
    seed,
  };
}

interface Phase {
  name: string;
  steps: number;
  batchAt: (step: number) => number[];
  loss: (which: number[], step: number) => Tensor;
  ema?: optim.ExponentialMovingAverage | null;
}

/** One AdamW run over `phase`, within what is left of the time budget. */
async function runPhase(
  ctx: TaskContext,
  s: SpamSettings,
  model: Bert,
  phase: Phase,
  secondsLeft: number | undefined,
) {
  const log = ctx.log ?? (() => {});
  const optimizer = new optim.AdamW(model.parameters(), { lr: s.lr, weightDecay: s.weightDecay });
  const scheduler = new optim.LRScheduler(
    optimizer,
    optim.cosineWithWarmup({
      warmupSteps: Math.round(phase.steps * s.warmupFraction),
      totalSteps: phase.steps,
    }),
  );
  const tokensPerStep = s.batchSize * s.maxTokens * (s.windowMode === 'pooled' ? s.windows : 1);
  try {
    return await tasks.trainForTask(ctx, {
      optimizer,
      scheduler,
      steps: phase.steps,
      batch: phase.batchAt,
      loss: (which) => phase.loss(which, optimizer.stepCount),
      clipGradNorm: 1,
      progressEvery: 10,
      maxSeconds: secondsLeft,
      unit: 'tokens',
      items: () => tokensPerStep,
      ...(phase.ema ? { afterStep: () => phase.ema!.update() } : {}),
      onReport: (p) => {
        if (p.step % 50 === 0 || p.step === phase.steps) {
          log(
            `${SPAM_TASK_ID} ${phase.name} step ${p.step}/${phase.steps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} (${p.msPerStep.toFixed(0)} ms/step)`,
          );
        }
      },
    });
  } finally {
    optimizer.dispose();
  }
}

/** Trains a fresh model on the split of `ctx.seed` and stores its checkpoint (ctx.store). */
export async function trainSpam(ctx: TaskContext, s: SpamSettings, opts: tasks.TrainTaskOptions = {}) {
  const { device } = ctx;
  const log = ctx.log ?? (() => {});
  const splitSeed = ctx.seed ?? 0;
  const seed = s.modelSeed ?? splitSeed;
  const { steps, maxSeconds } = tasks.checkTrainOptions(SPAM_TASK_ID, opts, s.steps);
  const t0 = performance.now();
  const secondsLeft = () =>
    maxSeconds === undefined ? undefined : Math.max(1e-3, maxSeconds - (performance.now() - t0) / 1000);
  const data = await s.loadData(splitSeed);
  const texts = data.train.map((e) => emailText(e, s.maxChars));
  const tokenizer = trainWordPieceTokenizer(texts, { vocabSize: s.vocabSize });
  const perEmail = texts.map((t) => encodeWindows(tokenizer, t, s.maxTokens, s.windows));
  // the training examples: every window with its email's label, or every email's windows together
  const units: Unit[] = s.windowMode === 'pooled' ? perEmail : perEmail.flatMap((w) => w.map((r) => [r]));
  const labels =
    s.windowMode === 'pooled'
      ? data.train.map(labelOf)
      : perEmail.flatMap((w, e) => w.map(() => labelOf(data.train[e]!)));
  const windowCount = perEmail.reduce((n, w) => n + w.length, 0);
  const spamCount = data.train.filter((e) => labelOf(e) === 1).length;
  log(
    `${SPAM_TASK_ID}: ${data.train.length} training emails (${spamCount} spam), ` +
      `WordPiece vocabulary ${tokenizer.vocabSize}, ${s.windows === 1 ? '1 window' : `${windowCount} windows (up to ${s.windows} per email, ${s.windowMode})`} of ${s.maxTokens} tokens at most ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const padId = tokenizer.padId!;
  const config: BertConfig = {
    vocabSize: tokenizer.vocabSize,
    maxPositions: s.maxTokens,
    ...s.size,
    numLabels: SPAM_LABELS.length,
    padId,
    seed,
    mlmHead: s.pretrainSteps > 0 || s.mlmWeight > 0,
  };
  const model = new Bert(device, config);
  try {
    log(
      `${SPAM_TASK_ID}: BERT ${JSON.stringify(s.size)}, ${model.numParameters()} parameters on ${device.backend}`,
    );
    let pretrained = 0;
    if (s.pretrainSteps > 0) {
      // MLM sees all of each training text (up to pretrainChars), cut into maxTokens windows
      const mlmRows = data.train.flatMap((e) =>
        encodeWindows(tokenizer, emailText(e, s.pretrainChars), s.maxTokens, Number.POSITIVE_INFINITY),
      );
      log(`${SPAM_TASK_ID}: MLM pretraining on ${mlmRows.length} windows of the training texts`);
      const r = await runPhase(
        ctx,
        s,
        model,
        {
          name: 'mlm',
          steps: s.pretrainSteps,
          batchAt: batcher(
            mlmRows.map((row) => row.length),
            s.batchSize,
            seed * 1000 + 500,
          ),
          loss: (which, step) =>
            model.mlmLoss(
              padBatch(
                which.map((i) => mlmRows[i]!),
                padId,
              ),
              masking(tokenizer, 0.15, seed * 7919 + step),
            ),
        },
        secondsLeft(),
      );
      pretrained = r.steps;
      log(`${SPAM_TASK_ID}: MLM pretraining ${r.steps} steps, loss ${r.finalLoss.toFixed(4)}`);
    }
    model.train();
    const ema =
      s.emaDecay > 0 ? new optim.ExponentialMovingAverage(model.parameters(), { decay: s.emaDecay }) : null;
    const summary = await runPhase(
      ctx,
      s,
      model,
      {
        name: 'classify',
        steps,
        batchAt: batcher(units.map(unitTokens), s.batchSize, seed * 1000),
        loss: (which, step) =>
          classifyLoss(device, model, tokenizer, s, units, labels, which, seed * 104729 + step),
        ema,
      },
      secondsLeft(),
    );
    if (ema) {
      ema.copyTo(); // the checkpoint holds the averaged weights
      ema.dispose();
    }
    const preprocessing: SpamPreprocessing = {
      tokenizer: tokenizer.toJSON(),
      maxChars: s.maxChars,
      maxTokens: s.maxTokens,
      windows: s.windows,
      windowMode: s.windowMode,
      labels: SPAM_LABELS,
    };
    const seconds = (performance.now() - t0) / 1000;
    const { location } = await tasks.saveTaskCheckpoint(ctx, SPAM_TASK_ID, {
      model: model.stateDict(),
      step: pretrained + summary.steps,
      config: { ...config },
      preprocessing: { ...preprocessing },
      training: {
        splitSeed,
        seed,
        steps: pretrained + summary.steps,
        seconds: Math.round(seconds * 10) / 10,
        finalLoss: summary.finalLoss,
        backend: device.backend,
      },
    });
    log(
      `${SPAM_TASK_ID}: ${summary.steps} steps in ${seconds.toFixed(1)} s, final loss ${summary.finalLoss.toFixed(4)}; saved ${location}`,
    );
    return {
      task: SPAM_TASK_ID,
      steps: pretrained + summary.steps,
      seconds,
      finalLoss: summary.finalLoss,
      losses: summary.losses,
      checkpoint: location,
      itemsPerSecond: summary.itemsPerSecond,
      unit: summary.unit,
    };
  } finally {
    model.dispose();
  }
}

/**
 * The classification loss of a batch of units. Token masking as augmentation: the classifier reads a
 * corrupted copy (BERT's 80/10/10), and with mlmWeight the same forward pass also predicts the corrupted
 * tokens (an auxiliary MLM loss).
 */
function classifyLoss(
  device: Device,
  model: Bert,
  tokenizer: Tokenizer,
  s: SpamSettings,
  units: readonly Unit[],
  labels: readonly number[],
  which: number[],
  maskSeed: number,
): Tensor {
  const { batch: clean, windows: perUnit } = unitBatch(
    which.map((i) => units[i]!),
    tokenizer.padId!,
  );
  const corrupted =
    s.augmentMaskProb > 0 ? maskTokens(clean, masking(tokenizer, s.augmentMaskProb, maskSeed)) : null;
  const { ids, mask } = batchTensors(device, corrupted ? { ...clean, ids: corrupted.inputIds } : clean);
  const targets = device.tensor(
    Int32Array.from(which, (i) => labels[i]!),
    [which.length],
  );
  const hidden = model.encode(ids, mask); // [B, T, C]
  const logits = classifyUnits(model, hidden, mask, perUnit);
  const loss = nn.crossEntropy(logits, targets, { labelSmoothing: s.labelSmoothing });
  if (!corrupted || s.mlmWeight === 0 || !corrupted.labels.some((l) => l !== -100)) return loss;
  return add(loss, mul(model.maskedLmLoss(hidden, corrupted.labels), s.mlmWeight));
}
