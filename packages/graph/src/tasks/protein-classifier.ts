/**
 * Training and scoring graph/pfam's encoder on windows of residues. A step draws a batch of windows
 * (families in proportion to the square root of their size, so globins630's 534 training sequences do
 * not drown the six of Ependymin; a sequence of the family; a window start), corrupts them ESM-style
 * (15%) and minimizes the family cross-entropy plus `mlmWeight` times the masked-LM loss, one forward
 * for both. The first `pretrainSteps` steps are masked-LM alone, with the family's co-variation as pair
 * bias for half the aligned windows (pair-bias.ts). A sequence's prediction averages the log-probabilities
 * of windows that cover it, overlapping by half.
 */
import {
  add,
  logSoftmax,
  mul,
  nn,
  noGrad,
  optim,
  seededUniform,
  sum,
  type TaskContext,
  tasks,
  tidy,
} from '@multihead/core';
import { type ColumnCovariation, residueColumns, writeResidueCovariation } from '../models/covariation.js';
import type { EncodeInputs, ProteinEncoder } from '../models/protein-encoder.js';
import { maskTokens } from '../preprocess/protein-masking.js';
import type { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';
import { type LabelledSequence, windowStarts } from './pfam-data.js';

export interface ProteinClassifierTraining extends tasks.TaskTrainingHyper {
  /** Masked-LM-only steps at the start (with co-variation bias); 0 = none. */
  pretrainSteps: number;
  /** Residues per window (the encoder reads window + 2 tokens). */
  window: number;
  labelSmoothing: number;
  /** ESM masking rate of the corrupted inputs. */
  maskProb: number;
  /** Weight of the masked-LM loss beside the family loss. */
  mlmWeight: number;
  /** Learning-rate multiplier of the per-head co-variation scales. */
  covariationLrScale: number;
}

/** One window of a sequence, and the co-variation to bias it with (if any). */
export interface SequenceWindow {
  sequence: string;
  start: number;
  length: number;
  covariation?: { values: ColumnCovariation; columns: Int32Array };
}

/** Windows as encoder inputs: <cls> residues <eos>, padded to the longest. */
export function windowInputs(tokenizer: ProteinTokenizer, windows: readonly SequenceWindow[]): EncodeInputs {
  const L = Math.max(...windows.map((w) => w.length)) + 2;
  const B = windows.length;
  const ids = new Int32Array(B * L).fill(tokenizer.padId);
  const attentionMask = new Uint8Array(B * L);
  const withCovariation = windows.some((w) => w.covariation);
  const sequenceLengths = Int32Array.from(windows, (w) => w.sequence.length);
  const covariation = withCovariation ? new Float32Array(B * L * L) : undefined;
  windows.forEach((w, b) => {
    const encoded = tokenizer.encode(w.sequence.slice(w.start, w.start + w.length));
    ids.set(encoded, b * L);
    attentionMask.fill(1, b * L, b * L + encoded.length);
    if (covariation && w.covariation) {
      const block = covariation.subarray(b * L * L, (b + 1) * L * L);
      writeResidueCovariation(w.covariation.values, w.covariation.columns, w.start, w.length, block, L, 1);
    }
  });
  return { ids, shape: [B, L], attentionMask, sequenceLengths, ...(covariation ? { covariation } : {}) };
}

interface ClassifierBatch {
  inputs: EncodeInputs;
  /** Masked-LM targets, -100 where not scored. */
  mlmLabels: Int32Array;
  labels: Int32Array;
  pretraining: boolean;
  residues: number;
}

/** Trains `model` on `train`; stops at `steps`, `maxSeconds` or ctx.signal. */
export async function trainProteinClassifier(
  ctx: TaskContext,
  model: ProteinEncoder,
  tokenizer: ProteinTokenizer,
  train: readonly LabelledSequence[],
  covariation: readonly (ColumnCovariation | null)[],
  h: ProteinClassifierTraining,
  run: tasks.TaskTrainingRun,
): Promise<tasks.TaskTrainSummary> {
  // the co-variation scales (one per head, starting at zero) get their own learning rate: at the base
  // rate they move ~lr per step and stay negligible over the few pretraining steps that see co-variation
  const named = model.namedParameters();
  const isScale = (name: string) => name === 'pair_bias.covariation_scale';
  const params = named.filter(([name]) => !isScale(name)).map(([, p]) => p);
  const optimizer = new optim.AdamW(
    [
      { params: params.filter((p) => p.rank >= 2), weightDecay: h.weightDecay },
      { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
      {
        params: named.filter(([name]) => isScale(name)).map(([, p]) => p),
        weightDecay: 0,
        lr: h.lr * h.covariationLrScale,
      },
    ],
    { lr: h.lr },
  );
  const scheduler = new optim.LRScheduler(
    optimizer,
    tasks.budgetCosine({
      warmupSteps: h.warmupSteps,
      steps: run.steps,
      minLr: h.minLr,
      maxSeconds: run.maxSeconds,
    }),
  );
  const byFamily = new Map<number, LabelledSequence[]>();
  for (const s of train) byFamily.set(s.label, [...(byFamily.get(s.label) ?? []), s]);
  const families = [...byFamily.keys()];
  const weights = families.map((f) => Math.sqrt(byFamily.get(f)!.length));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const columnsOf = new Map<LabelledSequence, Int32Array>();
  const uniform = seededUniform(run.seed * 7919 + 17);
  const draw = (withCovariation: boolean): { window: SequenceWindow; label: number } => {
    let r = uniform() * totalWeight;
    let f = 0;
    while (f < families.length - 1 && r >= weights[f]!) r -= weights[f++]!;
    const members = byFamily.get(families[f]!)!;
    const s = members[Math.floor(uniform() * members.length)]!;
    const length = Math.min(h.window, s.sequence.length);
    const start = Math.floor(uniform() * (s.sequence.length - length + 1));
    const window: SequenceWindow = { sequence: s.sequence, start, length };
    const values = covariation[s.label];
    if (withCovariation && values && s.aligned !== undefined && uniform() < 0.5) {
      if (!columnsOf.has(s)) columnsOf.set(s, residueColumns(s.aligned));
      window.covariation = { values, columns: columnsOf.get(s)! };
    }
    return { window, label: s.label };
  };
  return await tasks.trainTaskModel<ClassifierBatch>(
    ctx,
    model,
    h,
    run,
    {
      unit: 'residues',
      items: (batch) => batch.residues,
      batch: (step) => {
        const pretraining = step < h.pretrainSteps;
        const drawn = Array.from({ length: h.batchSize }, () => draw(pretraining));
        const inputs = windowInputs(
          tokenizer,
          drawn.map((d) => d.window),
        );
        const masked = maskTokens(inputs.ids, tokenizer, {
          seed: run.seed * 1_000_003 + step,
          probability: h.maskProb,
        });
        return {
          inputs: { ...inputs, ids: masked.inputIds },
          mlmLabels: masked.labels,
          labels: Int32Array.from(drawn, (d) => d.label),
          pretraining,
          residues: drawn.reduce((n, d) => n + d.window.length, 0),
        };
      },
      loss: ({ inputs, mlmLabels, labels, pretraining }) => {
        const { hidden } = model.encode(inputs);
        const scored = mlmLabels.some((l) => l !== -100);
        const mlm = scored ? model.maskedLmLoss(hidden, mlmLabels) : null;
        if (pretraining) return mlm ?? mul(sum(hidden), 0);
        const family = nn.crossEntropy(
          model.classify(hidden, inputs.attentionMask),
          ctx.device.tensor(labels, [labels.length], { dtype: 'i32' }),
          { labelSmoothing: h.labelSmoothing },
        );
        return mlm && h.mlmWeight > 0 ? add(family, mul(mlm, h.mlmWeight)) : family;
      },
    },
    { optimizer, scheduler },
  );
}

/**
 * Logit adjustment (Menon et al. 2021, "Long-tail learning via logit adjustment", §4): training drew
 * families in proportion to sqrt(size), so the model's scores carry that prior; adding
 * log p_data(c) - log p_sampled(c) turns them back into scores under the data's own class frequencies.
 * Families without training sequences get -Infinity (never predicted).
 */
export function priorShift(train: readonly LabelledSequence[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const s of train) counts[s.label]! += 1;
  const sampled = counts.map(Math.sqrt);
  const [n, w] = [counts.reduce((a, b) => a + b, 0), sampled.reduce((a, b) => a + b, 0)];
  return counts.map((c, i) =>
    c === 0 ? Number.NEGATIVE_INFINITY : Math.log(c / n) - Math.log(sampled[i]! / w),
  );
}

/** Log-probabilities [sequences, labels] of each sequence: its windows' averaged, plus `shift` per class. */
export async function classifySequences(
  model: ProteinEncoder,
  tokenizer: ProteinTokenizer,
  sequences: readonly string[],
  window: number,
  shift?: readonly number[],
  maxBatch = 32,
): Promise<Float32Array> {
  model.eval();
  const C = model.config.numLabels;
  const windows = sequences.flatMap((sequence, index) =>
    windowStarts(sequence.length, window).map((start) => ({
      index,
      window: { sequence, start, length: Math.min(window, sequence.length) },
    })),
  );
  const out = new Float32Array(sequences.length * C);
  const counts = new Float32Array(sequences.length);
  for (let i = 0; i < windows.length; i += maxBatch) {
    const part = windows.slice(i, i + maxBatch);
    const inputs = windowInputs(
      tokenizer,
      part.map((p) => p.window),
    );
    const logProbs = noGrad(() =>
      tidy(() => logSoftmax(model.classify(model.encode(inputs).hidden, inputs.attentionMask), -1)),
    );
    const values = (await logProbs.read()) as Float32Array;
    logProbs.dispose();
    part.forEach((p, b) => {
      for (let c = 0; c < C; c++) out[p.index * C + c]! += values[b * C + c]!;
      counts[p.index]! += 1;
    });
  }
  for (let s = 0; s < sequences.length; s++)
    for (let c = 0; c < C; c++) out[s * C + c] = out[s * C + c]! / counts[s]! + (shift?.[c] ?? 0);
  return out;
}
