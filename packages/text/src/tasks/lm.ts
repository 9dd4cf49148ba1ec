/**
 * What the GPT text tasks (text/names, text/moby) share: packing token rows into batches, training
 * with AdamW and a cosine schedule (optionally bounded by time), checkpoints that carry their config
 * and tokenizer, held-out NLL, and streaming decoded text from `models.stream`.
 */
import {
  type Device,
  models,
  nn,
  noGrad,
  type Task,
  type TaskContext,
  type Tensor,
  tasks,
  tidy,
} from '@multihead/core';
import { invalidArgument } from '../errors.js';
import type { SpecialTokens } from '../tokenizers/special-tokens.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';
import type { GenerateOptions } from './gpt-task.js';

/** A GPT's shape, as stored in a checkpoint (models.GPT's config without the seed). */
export type LmConfig = Omit<models.GPTConfig, 'seed'>;

/** Optimizer and batch settings of a task's training run. */
export interface LmTraining extends tasks.TaskTrainingHyper {
  /** AdamW decay on matrices and embeddings only (nanoGPT's groups). */
  weightDecay: number;
  betas: [number, number];
}

/** One training or scoring row: next-token targets for `ids[1..]`, the first `from` of them not scored. */
export interface TokenRow {
  ids: readonly number[];
  /** Targets before this index are -100 (ignored); default 0. */
  from?: number;
}

/**
 * Rows padded to the longest (at most `length`): inputs ids[0..n-2], targets ids[1..n-1], with
 * -100 (crossEntropy's ignoreIndex) for padding and unscored positions; padded inputs are `padId`.
 */
export function packRows(
  device: Device,
  rows: readonly TokenRow[],
  padId: number,
): { inputs: Tensor; targets: Tensor; scored: number } {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.ids.length - 1));
  const inputs = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-100);
  let scored = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t < row.ids.length - 1; t++) {
      inputs[b * T + t] = row.ids[t]!;
      if (t >= (row.from ?? 0)) {
        targets[b * T + t] = row.ids[t + 1]!;
        scored++;
      }
    }
  });
  return {
    inputs: device.tensor(inputs, [B, T], { dtype: 'i32' }), // [B, T]
    targets: device.tensor(targets, [B, T], { dtype: 'i32' }),
    scored,
  };
}

/** Steps between loss reads (train's progressEvery): short (time-bounded) runs still report. */
const REPORT_EVERY = 5;

/**
 * Trains `gpt` on rows from `batch(step)` with AdamW (decay on rank >= 2 tensors only), gradient
 * clipping and the cosine schedule; stops after `steps`, at `maxSeconds`, or at ctx.signal.
 */
export async function trainLm(
  ctx: TaskContext,
  gpt: models.GPT,
  h: LmTraining,
  opts: { steps: number; maxSeconds?: number | undefined; padId: number },
  batch: (step: number) => readonly TokenRow[],
) {
  return await tasks.trainTaskModel<ReturnType<typeof packRows>>(ctx, gpt, h, opts, {
    progressEvery: REPORT_EVERY,
    unit: 'tokens',
    items: (packed) => packed.scored,
    batch: (step) => packRows(gpt.device, batch(step), opts.padId),
    loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets), // logits [B, T, V]
  });
}

/** Summed next-token NLL (nats) of `rows` under `gpt`, in batches of `batchRows`. */
export async function rowsNll(
  gpt: models.GPT,
  rows: readonly TokenRow[],
  padId: number,
  batchRows = 64,
): Promise<{ nll: number; count: number }> {
  gpt.eval();
  let nll = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += batchRows) {
    const part = rows.slice(i, i + batchRows);
    const loss = noGrad(() =>
      tidy(() => {
        const { inputs, targets } = packRows(gpt.device, part, padId);
        return nn.crossEntropy(gpt.forward(inputs), targets, { reduction: 'sum' });
      }),
    );
    nll += (await loss.read())[0]!;
    loss.dispose();
    for (const r of part) count += Math.max(0, r.ids.length - 1 - (r.from ?? 0));
  }
  return { nll, count };
}

/**
 * Decoded text as it comes: token ids from `models.stream`, joined and decoded, yielding what each new
 * token adds (held back while the text ends in an incomplete character). Ends before a stop token.
 */
export async function* streamText(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  opts: GenerateOptions & { maxNewTokens: number; stopTokens?: readonly number[]; signal?: AbortSignal },
): AsyncGenerator<string, void, undefined> {
  const stop = new Set(opts.stopTokens ?? []);
  const ids: number[] = [];
  let shown = '';
  const tokens = models.stream(gpt, promptIds, {
    maxNewTokens: opts.maxNewTokens,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
    ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
    ...(opts.repetitionPenalty !== undefined ? { repetitionPenalty: opts.repetitionPenalty } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    stopTokens: [...stop],
  });
  for await (const token of tokens) {
    if (stop.has(token)) return;
    ids.push(token);
    const text = tokenizer.decode(ids);
    if (text.endsWith('\uFFFD')) continue; // a multi-byte character not yet complete
    yield text.slice(shown.length);
    shown = text;
  }
}

// ---- checkpoints -----------------------------------------------------------------------------------

/** A text task's preprocessing, as its checkpoint records it: the tokenizer.json text and its roles. */
export interface TokenizerPreprocessing {
  tokenizer: string;
  specialTokens: SpecialTokens;
}

export interface LoadedLm {
  gpt: models.GPT;
  tokenizer: Tokenizer;
  /** What the run was (steps, seconds, hyper-parameters...), when the checkpoint records it. */
  training: Record<string, unknown>;
  location: string;
  source: tasks.LoadedTaskCheckpoint['source'];
  step: number;
}

/**
 * Saves a task's trained GPT (the task checkpoint convention: config, tokenizer, what the run was) in
 * ctx.store, logs where, and returns the task's train report.
 */
export async function saveTrainedLm(
  ctx: TaskContext,
  id: string,
  gpt: models.GPT,
  tokenizer: Tokenizer,
  summary: tasks.TaskTrainSummary,
  run: { seed: number; hyper: LmTraining; maxSeconds: number | undefined } & Record<string, unknown>,
) {
  const { seed, hyper, maxSeconds, ...extra } = run;
  const preprocessing: TokenizerPreprocessing = {
    tokenizer: tokenizer.toJSON(),
    specialTokens: { ...tokenizer.specialTokens },
  };
  const { location } = await tasks.saveTaskCheckpoint(ctx, id, {
    // the weights only: tasks train from scratch, and the optimizer's state would triple the file
    model: gpt.stateDict(),
    step: summary.steps,
    config: { ...gpt.config },
    preprocessing: { ...preprocessing },
    training: {
      steps: summary.steps,
      seconds: Math.round(summary.seconds * 10) / 10,
      finalLoss: summary.finalLoss,
      backend: ctx.device.backend,
      seed,
      ...extra,
      hyper,
      maxSeconds: maxSeconds ?? null,
      tokensPerSecond: Math.round(summary.itemsPerSecond),
    },
  });
  ctx.log?.(`${id}: saved ${location}`);
  return {
    task: id,
    steps: summary.steps,
    seconds: summary.seconds,
    finalLoss: summary.finalLoss,
    losses: summary.losses,
    checkpoint: location,
    itemsPerSecond: summary.itemsPerSecond,
    unit: summary.unit,
  };
}

/** The checkpoint a package ships (`packages/text/checkpoints/<file>`), from the sources or from dist/. */
export function committedCheckpoint(file: string): () => Promise<Uint8Array | null> {
  return () =>
    tasks.packageFile([
      new URL(`../../checkpoints/${file}`, import.meta.url), // from src/tasks/
      new URL(`../checkpoints/${file}`, import.meta.url), // from dist/
    ]);
}

/** Loads a GPT task's model: the given checkpoint, else the stored one, else the committed one. */
export async function loadLm(
  ctx: TaskContext,
  task: Pick<Task, 'id' | 'committedCheckpoint'>,
): Promise<LoadedLm> {
  const loaded = await tasks.loadTaskCheckpoint<LmConfig, TokenizerPreprocessing>(ctx, task);
  const { tokenizer: json, specialTokens } = loaded.preprocessing;
  if (typeof json !== 'string') {
    invalidArgument(`${task.id}: ${loaded.location} has no tokenizer in its preprocessing metadata`);
  }
  const tokenizer = Tokenizer.fromJSON(json, { specialTokens });
  const gpt = new models.GPT(ctx.device, { ...loaded.config, seed: 0 });
  gpt.loadStateDict(loaded.checkpoint.model);
  gpt.eval();
  const training = (loaded.checkpoint.metadata['training'] ?? {}) as Record<string, unknown>;
  return { gpt, tokenizer, training, location: loaded.location, source: loaded.source, step: loaded.step };
}
