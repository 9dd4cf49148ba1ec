/**
 * text/spam's model as its checkpoint holds it (the task checkpoint convention: BertConfig as config; the
 * tokenizer.json text and the windowing as preprocessing; the split seed under training), and P(spam)
 * of emails from their windows.
 */
import { type Device, noGrad, type Task, type TaskContext, tasks, tidy } from '@multihead/core';
import { invalidArgument } from '../../errors.js';
import { Bert, type BertConfig } from '../../models/bert.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import { batchTensors, classifyUnits, type Unit, unitBatch, unitTokens } from './batching.js';
import type { WindowMode } from './options.js';

export interface SpamPreprocessing {
  /** tokenizer.json text (WordPiece, trained on the training split). */
  tokenizer: string;
  maxChars: number;
  maxTokens: number;
  windows: number;
  windowMode: WindowMode;
  labels: readonly string[];
}

export interface LoadedSpamModel {
  model: Bert;
  tokenizer: Tokenizer;
  pre: SpamPreprocessing;
  /** The seed of the split the model was trained on: evaluate holds out the same emails. */
  splitSeed: number;
  loaded: tasks.LoadedTaskCheckpoint<BertConfig, SpamPreprocessing>;
}

/** The model of the given, stored or committed checkpoint, in eval mode; the caller disposes it. */
export async function loadSpamModel(
  ctx: TaskContext,
  task: Pick<Task, 'id' | 'committedCheckpoint'>,
): Promise<LoadedSpamModel> {
  const loaded = await tasks.loadTaskCheckpoint<BertConfig, SpamPreprocessing>(ctx, task);
  const pre = loaded.preprocessing;
  if (typeof pre.tokenizer !== 'string' || !(pre.maxTokens >= 3)) {
    invalidArgument(
      `${task.id}: ${loaded.location} lacks the tokenizer or windowing of a text/spam checkpoint`,
    );
  }
  const tokenizer = Tokenizer.fromJSON(pre.tokenizer);
  const model = new Bert(ctx.device, loaded.config);
  model.loadStateDict(loaded.checkpoint.model);
  model.eval();
  const training = (loaded.checkpoint.metadata['training'] ?? {}) as { splitSeed?: unknown };
  const splitSeed = typeof training.splitSeed === 'number' ? training.splitSeed : (ctx.seed ?? 0);
  return { model, tokenizer, pre, splitSeed, loaded };
}

/**
 * P(spam) of each email from its windows: 'separate' scores each window and takes the sigmoid of the mean
 * of the windows' log-odds (one window: the softmax); 'pooled' scores each email's windows together. Units
 * run in batches of similar size (eval mode, no autograd). Exported for the tests, not by the package.
 */
export async function spamProbabilities(
  device: Device,
  model: Bert,
  emails: readonly Int32Array[][],
  padId: number,
  mode: WindowMode,
  batchSize = 64,
): Promise<Float32Array> {
  const units: readonly Unit[] = mode === 'pooled' ? emails : emails.flatMap((w) => w.map((r) => [r]));
  const owner = mode === 'pooled' ? emails.map((_, e) => e) : emails.flatMap((w, e) => w.map(() => e));
  const order = Array.from({ length: units.length }, (_, i) => i).sort(
    (a, b) => unitTokens(units[a]!) - unitTokens(units[b]!),
  );
  const logOdds = new Float64Array(emails.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const which = order.slice(start, start + batchSize);
    const { batch, windows } = unitBatch(
      which.map((i) => units[i]!),
      padId,
    );
    const logits = noGrad(() =>
      tidy(() => {
        const { ids, mask } = batchTensors(device, batch);
        return classifyUnits(model, model.encode(ids, mask), mask, windows); // [units, 2]
      }),
    );
    const l = await logits.read();
    logits.dispose();
    which.forEach((i, k) => {
      logOdds[owner[i]!]! += l[2 * k + 1]! - l[2 * k]!;
    });
  }
  const scored = (e: number) => (mode === 'pooled' ? 1 : emails[e]!.length);
  return Float32Array.from(logOdds, (z, e) => 1 / (1 + Math.exp(-z / scored(e))));
}
