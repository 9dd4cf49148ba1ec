/**
 * text/moby: a character-level GPT on Moby-Dick (nanoGPT's shakespeare_char recipe on another book).
 * The last 10% of the book, cut at a paragraph (loadMobyDick's contiguous split), is held out.
 *
 * Characters rather than byte-level BPE: the book has 89 distinct characters, so the output layer
 * stays tiny (90 x C) and the few FLOPs a software adapter affords go to the transformer; loss per
 * token is loss per character, comparable at once with character n-gram baselines over the very same
 * tokens; and a 1.1 M-character book gives a BPE vocabulary of thousands too few examples per token
 * for a model trained for minutes.
 *
 * Evaluation: held-out NLL (nats per character, and bits per character) over the first
 * `MOBY_EVAL_CHARS` characters of the tail, each predicted with at least blockSize / 2 characters of
 * context (sliding windows), beside smoothed bigram and trigram models counted on the training text.
 */
import { type EvalReport, models, seededUniform, type Task, type TaskContext, tasks } from '@multihead/core';
import { loadMobyDick } from '../data/moby-dick.js';
import { invalidArgument } from '../errors.js';
import { trainCharTokenizer } from '../tokenizers/char.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { GENERATION_PARAMS, gptAttention, gptTextRun } from './gpt-task.js';
import {
  type LmConfig,
  type LmTraining,
  loadLm,
  rowsNll,
  saveTrainedLm,
  type TokenRow,
  trainLm,
} from './lm.js';
import { NgramModel, tuneNgram } from './ngram.js';

export const MOBY_TASK_ID = 'text/moby';
const UNK = '<unk>';
/** Held-out characters scored by `evaluate` (the whole tail is 121 k; this keeps it to seconds). */
export const MOBY_EVAL_CHARS = 16_384;
/** What an empty prompt starts from: a paragraph break. */
const EMPTY_PROMPT = '\n';

/** Small for its data on purpose: trained for minutes, a narrower model gets further per second. */
export const MOBY_GPT: Omit<LmConfig, 'vocabSize'> = {
  blockSize: 128,
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  dropout: 0,
};

export const MOBY_TRAINING: LmTraining = {
  steps: 1500,
  batchSize: 8,
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 30,
  weightDecay: 0.1,
  betas: [0.9, 0.99],
  clipGradNorm: 1,
};

export function mobyTokenizer(text: string): Tokenizer {
  return trainCharTokenizer(text, { specialTokens: { unk: UNK } });
}

/**
 * The ids of a text, one per character: what `tokenizer.encode` gives for a character tokenizer,
 * by direct lookup (a 1 M-character string in one call is slow).
 */
export function charIds(tokenizer: Tokenizer, text: string): Int32Array {
  const unk = tokenizer.unkId ?? -1;
  const cache = new Map<string, number>();
  const chars = Array.from(text);
  const ids = new Int32Array(chars.length);
  chars.forEach((c, i) => {
    let id = cache.get(c);
    if (id === undefined) {
      id = tokenizer.tokenToId(c) ?? unk;
      cache.set(c, id);
    }
    if (id < 0) invalidArgument(`${MOBY_TASK_ID}: character ${JSON.stringify(c)} is not in the vocabulary`);
    ids[i] = id;
  });
  return ids;
}

/**
 * Windows over `ids` for scoring every position from 1 on: each window holds blockSize + 1 ids
 * (inputs and their next tokens), windows advance by blockSize / 2, and each scores only targets that
 * the previous one did not (so every target after the first window has >= blockSize / 2 of context).
 */
export function scoringWindows(ids: ArrayLike<number>, blockSize: number): TokenRow[] {
  const stride = Math.max(1, Math.floor(blockSize / 2));
  const rows: TokenRow[] = [];
  let scoredUpTo = 0; // targets ids[1..scoredUpTo] are done
  for (let start = 0; scoredUpTo < ids.length - 1; start += stride) {
    const end = Math.min(ids.length, start + blockSize + 1);
    const window = Array.from({ length: end - start }, (_, t) => ids[start + t]!);
    // window target t predicts ids[start + t + 1]
    rows.push({ ids: window, from: Math.max(0, scoredUpTo - start) });
    scoredUpTo = end - 1;
  }
  return rows;
}

export interface TrainMobyOptions extends tasks.TrainTaskOptions {
  /** Training text (default: the first 90% of the book). */
  text?: string;
  config?: Partial<Omit<LmConfig, 'vocabSize'>>;
  training?: Partial<LmTraining>;
}

export async function trainMoby(ctx: TaskContext, opts: TrainMobyOptions = {}) {
  const h = { ...MOBY_TRAINING, ...opts.training };
  const { steps, maxSeconds } = tasks.checkTrainOptions(MOBY_TASK_ID, opts, h.steps);
  const text = opts.text ?? (await loadMobyDick()).train;
  const tokenizer = mobyTokenizer(text);
  const ids = charIds(tokenizer, text);
  const seed = ctx.seed ?? 0;
  const config: models.GPTConfig = {
    ...MOBY_GPT,
    ...opts.config,
    vocabSize: tokenizer.vocabSize,
    seed: seed + 1,
  };
  const T = config.blockSize;
  if (ids.length < T + 1)
    invalidArgument(`${MOBY_TASK_ID}: the training text has ${ids.length} characters; need > blockSize ${T}`);
  const gpt = new models.GPT(ctx.device, config);
  try {
    ctx.log?.(
      `${MOBY_TASK_ID}: GPT ${config.nLayer} layers x ${config.nEmbd}, context ${T} (${gpt.numParameters()} parameters) on ${ids.length} characters, ${ctx.device.backend}`,
    );
    const uniform = seededUniform(seed * 7919 + 23);
    const window = () => {
      const start = Math.floor(uniform() * (ids.length - T));
      return { ids: Array.from(ids.subarray(start, start + T + 1)) };
    };
    const summary = await trainLm(ctx, gpt, h, { steps, maxSeconds, padId: 0 }, () =>
      Array.from({ length: h.batchSize }, window),
    );
    return await saveTrainedLm(ctx, MOBY_TASK_ID, gpt, tokenizer, summary, {
      seed,
      characters: ids.length,
      hyper: h,
      maxSeconds,
    });
  } finally {
    gpt.dispose();
  }
}

/**
 * Bigram and trigram baselines: strengths tuned with counts from the first 90% of the training text
 * and the last 10% as validation, then counted on all of it.
 */
export function mobyNgrams(trainIds: Int32Array, vocabSize: number) {
  const cut = Math.floor(trainIds.length * 0.9);
  const fit = (order: number) => {
    const tuned = tuneNgram({ order, vocabSize }, [trainIds.subarray(0, cut)], [trainIds.subarray(cut)]);
    return new NgramModel({ order, vocabSize, strengths: tuned.strengths }).add(trainIds);
  };
  return { bigram: fit(2), trigram: fit(3) };
}

export interface EvaluateMobyOptions extends tasks.EvaluateOptions {
  /** Default: the book's split. */
  train?: string;
  test?: string;
  /** Held-out characters to score (default MOBY_EVAL_CHARS; `limit` also caps them). */
  chars?: number;
}

export async function evaluateMoby(ctx: TaskContext, opts: EvaluateMobyOptions = {}): Promise<EvalReport> {
  const split = opts.train !== undefined && opts.test !== undefined ? null : await loadMobyDick();
  const trainText = opts.train ?? split!.train;
  const testText = opts.test ?? split!.test;
  const lm = await loadLm(ctx, mobyTask);
  try {
    const { gpt, tokenizer } = lm;
    const chars = Math.min(opts.chars ?? MOBY_EVAL_CHARS, opts.limit ?? Number.POSITIVE_INFINITY);
    const heldOut = charIds(tokenizer, Array.from(testText).slice(0, chars).join(''));
    if (heldOut.length < 2)
      invalidArgument(`${MOBY_TASK_ID}: the held-out text is shorter than 2 characters`);
    const model = await rowsNll(gpt, scoringWindows(heldOut, gpt.config.blockSize), 0, 16);
    const { bigram, trigram } = mobyNgrams(charIds(tokenizer, trainText), tokenizer.vocabSize);
    const perChar = (nll: number, count: number) => ({
      nll: round(nll / count),
      bitsPerChar: round(nll / count / Math.LN2),
    });
    const b = bigram.nll(heldOut);
    const t = trigram.nll(heldOut);
    return tasks.evalReport(mobyTask, {
      metrics: perChar(model.nll, model.count),
      baselines: { bigram: perChar(b.nll, b.count), trigram: perChar(t.nll, t.count) },
      split: {
        name: 'held-out',
        description: `the first ${model.count + 1} characters of the book's last 10% (cut at a paragraph), each scored with at least ${Math.floor(gpt.config.blockSize / 2)} characters of context`,
      },
      examples: model.count,
      checkpoint: { location: lm.location, source: lm.source, step: lm.step },
      details: { charsPerToken: 1, heldOutChars: model.count },
    });
  } finally {
    lm.gpt.dispose();
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export const mobyTask: Task = tasks.defineTask({
  id: MOBY_TASK_ID,
  kind: 'generate',
  description:
    'writes like Moby-Dick: a character-level GPT; held-out bits per character vs bigram and trigram models',
  input: {
    kind: 'text',
    description: 'the start of a passage; empty to start a paragraph',
    required: false,
    example: 'Call me Ishmael.',
  },
  output: { kind: 'text', stream: 'text', description: 'the passage continued' },
  params: GENERATION_PARAMS,
  metrics: [
    { name: 'nll', description: 'held-out NLL per character (nats)', better: 'lower' },
    { name: 'bitsPerChar', description: 'the same in bits', better: 'lower' },
  ],
  goal: { metric: 'nll', op: '<=', beat: ['trigram'] },
  positions: 'tokens',
  async train(ctx, opts = {}) {
    return trainMoby(ctx, opts);
  },
  evaluate: (ctx, opts) => evaluateMoby(ctx, opts),
  run: (ctx, input, params) =>
    gptTextRun(mobyTask, ctx, input, params, (lm, prompt, opts) => ({
      ids: Array.from(charIds(lm.tokenizer, prompt === '' ? EMPTY_PROMPT : prompt)),
      shown: prompt,
      maxNewTokens: opts.maxNewTokens ?? 200,
    })),
  attention: (ctx, input, opts = {}) =>
    gptAttention(mobyTask, ctx, input, opts.layers, (tokenizer, text) =>
      Array.from(charIds(tokenizer, text === '' ? EMPTY_PROMPT : text)),
    ),
});
