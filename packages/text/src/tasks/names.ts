/**
 * text/names: a character-level GPT that makes up first names (Karpathy's makemore). Every name is one
 * sequence `. n a m e .`: the boundary token '.' is both BOS and EOS, so a name is generated from '.'
 * until the model writes '.' again. Trained on the names of a fixed seeded split
 * (loadFirstNames, seed 0: 6738 train / 1684 held out), evaluated by the held-out negative
 * log-likelihood per character, end token included, beside a smoothed bigram counted on the same
 * training names, and by how many sampled names are new.
 */
import { models, seededUniform } from '@multihead/core';
import { loadFirstNames } from '../data/names.js';
import { invalidArgument } from '../errors.js';
import { trainCharTokenizer } from '../tokenizers/char.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import {
  checkTrainOptions,
  type LmConfig,
  type LmTraining,
  loadLm,
  rowsNll,
  saveTrainedLm,
  streamText,
  type TokenRow,
  trainLm,
} from './lm.js';
import { NgramModel, tuneNgram } from './ngram.js';
import type { GenerateTaskOptions, TaskContext, TaskMetrics, TextTask, TrainTaskOptions } from './task.js';

export const NAMES_TASK_ID = 'text/names';
/** The boundary token: BOS before a name, EOS after it (makemore's '.'). */
export const NAME_BOUNDARY = '.';
/** The held-out split is part of the task: fixed, whatever seed the model trains with. */
const SPLIT_SEED = 0;
/** Shipped with the package: `packages/text/checkpoints/names.safetensors`. */
const COMMITTED_FILE = 'names.safetensors';
const SAMPLES = 20;

/** The model (vocabSize comes from the tokenizer): 16 positions hold '.' plus the longest name (15). */
export const NAMES_GPT: Omit<LmConfig, 'vocabSize'> = {
  blockSize: 16,
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  dropout: 0.1,
};

export const NAMES_TRAINING: LmTraining = {
  steps: 3000,
  batchSize: 32,
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 100,
  weightDecay: 0.1,
  betas: [0.9, 0.99],
  clipGradNorm: 1,
};

/** The names' characters, plus '.' as BOS = EOS and '<unk>' for characters never seen. */
export function namesTokenizer(names: readonly string[]): Tokenizer {
  return trainCharTokenizer(names, {
    specialTokens: { bos: NAME_BOUNDARY, eos: NAME_BOUNDARY, unk: '<unk>' },
  });
}

function boundaryId(tokenizer: Tokenizer): number {
  return tokenizer.bosId ?? invalidArgument(`${NAMES_TASK_ID}: the tokenizer has no boundary token`);
}

/** `. n a m e .` as ids. */
export function nameRow(tokenizer: Tokenizer, name: string): TokenRow {
  return { ids: tokenizer.encode(name).ids };
}

export interface TrainNamesOptions extends TrainTaskOptions {
  /** Training names (default: the task's training split). */
  names?: readonly string[];
  /** Model and optimizer overrides (tests use a smaller model). */
  config?: Partial<Omit<LmConfig, 'vocabSize'>>;
  training?: Partial<LmTraining>;
}

/** Trains a fresh model and saves it to `<checkpointDir>/text/names.safetensors`. */
export async function trainNames(ctx: TaskContext, opts: TrainNamesOptions = {}) {
  const h = { ...NAMES_TRAINING, ...opts.training };
  const { steps, maxSeconds } = checkTrainOptions(NAMES_TASK_ID, opts, h);
  const names = opts.names ?? (await loadFirstNames({ seed: SPLIT_SEED })).train;
  if (names.length === 0) invalidArgument(`${NAMES_TASK_ID}: no training names`);
  const tokenizer = namesTokenizer(names);
  const rows = names.map((name) => nameRow(tokenizer, name));
  const seed = ctx.seed ?? 0;
  const config: models.GPTConfig = {
    ...NAMES_GPT,
    ...opts.config,
    vocabSize: tokenizer.vocabSize,
    seed: seed + 1,
  };
  const gpt = new models.GPT(ctx.device, config);
  try {
    ctx.log?.(
      `${NAMES_TASK_ID}: GPT ${config.nLayer} layers x ${config.nEmbd} (${gpt.numParameters()} parameters) on ${names.length} names, ${ctx.device.backend}`,
    );
    const uniform = seededUniform(seed * 7919 + 17);
    const summary = await trainLm(ctx, gpt, h, { steps, maxSeconds, padId: boundaryId(tokenizer) }, () =>
      Array.from({ length: h.batchSize }, () => rows[Math.floor(uniform() * rows.length)]!),
    );
    return await saveTrainedLm(ctx, NAMES_TASK_ID, gpt, tokenizer, summary, {
      seed,
      names: names.length,
      splitSeed: SPLIT_SEED,
      hyper: h,
      maxSeconds,
    });
  } finally {
    gpt.dispose();
  }
}

export interface EvaluateNamesOptions {
  /** Default: the task's split. */
  train?: readonly string[];
  test?: readonly string[];
  /** Names to sample for the novelty figure (default 20). */
  samples?: number;
}

/**
 * The bigram baseline: strengths tuned on the last 10% of the training names (counts from the rest),
 * then counted on all of them. Also the add-one bigram (makemore's) for reference.
 */
export function namesBigrams(trainRows: readonly TokenRow[], vocabSize: number) {
  const cut = Math.floor(trainRows.length * 0.9);
  const seqs = trainRows.map((r) => r.ids);
  const tuned = tuneNgram({ order: 2, vocabSize }, seqs.slice(0, cut), seqs.slice(cut));
  const bigram = new NgramModel({ order: 2, vocabSize, strengths: tuned.strengths });
  const addOne = new NgramModel({ order: 2, vocabSize, strengths: [Number.POSITIVE_INFINITY, vocabSize] });
  for (const ids of seqs) {
    bigram.add(ids);
    addOne.add(ids);
  }
  return { bigram, addOne };
}

/** Held-out NLL per character (nats, end token included) of the model and the bigrams; novel samples. */
export async function evaluateNames(ctx: TaskContext, opts: EvaluateNamesOptions = {}): Promise<TaskMetrics> {
  const split = opts.train && opts.test ? null : await loadFirstNames({ seed: SPLIT_SEED });
  const trainNames = opts.train ?? split!.train;
  const testNames = opts.test ?? split!.test;
  const lm = await loadLm(ctx, NAMES_TASK_ID, COMMITTED_FILE);
  try {
    const { gpt, tokenizer } = lm;
    const boundary = boundaryId(tokenizer);
    const testRows = testNames.map((name) => nameRow(tokenizer, name));
    const model = await rowsNll(gpt, testRows, boundary, 128);
    const { bigram, addOne } = namesBigrams(
      trainNames.map((name) => nameRow(tokenizer, name)),
      tokenizer.vocabSize,
    );
    const seqs = testRows.map((r) => r.ids);
    const b = bigram.nllOf(seqs);
    const a = addOne.nllOf(seqs);
    const known = new Set(trainNames);
    const samples: string[] = [];
    const count = opts.samples ?? SAMPLES;
    for (let i = 0; i < count; i++) {
      samples.push(await sampleName(gpt, tokenizer, '', { seed: (ctx.seed ?? 0) * 1000 + i }));
    }
    const novel = samples.filter((s) => !known.has(s)).length;
    return {
      nll: round(model.nll / model.count),
      bigramNll: round(b.nll / b.count),
      bigramAddOneNll: round(a.nll / a.count),
      bigramStrengths: { unigram: bigram.strengths[0]!, bigram: bigram.strengths[1]! },
      heldOutNames: testRows.length,
      heldOutTokens: model.count,
      novelFraction: count > 0 ? novel / count : 0,
      samples: samples.join(', '),
      checkpoint: lm.path,
      checkpointSource: lm.source,
      trainedSteps: lm.step,
    };
  } finally {
    lm.gpt.dispose();
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Lowercases the prompt and checks every character is one the model knows. */
function promptIds(tokenizer: Tokenizer, prompt: string): number[] {
  if (typeof prompt !== 'string')
    invalidArgument(`${NAMES_TASK_ID}: prompt must be a string, got ${typeof prompt}`);
  const ids = [boundaryId(tokenizer)];
  for (const char of prompt.toLowerCase()) {
    const id = char === NAME_BOUNDARY ? undefined : tokenizer.tokenToId(char);
    if (id === undefined) {
      invalidArgument(
        `${NAMES_TASK_ID}: prompt character ${JSON.stringify(char)} is not in the names alphabet ` +
          `(${alphabet(tokenizer)})`,
      );
    }
    ids.push(id);
  }
  return ids;
}

function alphabet(tokenizer: Tokenizer): string {
  const chars: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const token = tokenizer.idToToken(id);
    if (token !== undefined && [...token].length === 1 && token !== NAME_BOUNDARY) chars.push(token);
  }
  return chars.join('');
}

function nameStream(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  prompt: string,
  opts: GenerateTaskOptions,
): AsyncGenerator<string, void, undefined> {
  const ids = promptIds(tokenizer, prompt);
  return streamText(gpt, tokenizer, ids, {
    ...opts,
    // a name fills the block at most; past it the window would slide over the name's own start
    maxNewTokens: opts.maxNewTokens ?? Math.max(1, gpt.config.blockSize - ids.length),
    stopTokens: [boundaryId(tokenizer)],
  });
}

async function sampleName(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  prompt: string,
  opts: GenerateTaskOptions,
): Promise<string> {
  let name = prompt.toLowerCase();
  for await (const piece of nameStream(gpt, tokenizer, prompt, opts)) name += piece;
  return name;
}

export const namesTask: TextTask = {
  id: NAMES_TASK_ID,
  kind: 'generate',
  description:
    'makes up first names: a character-level GPT from BOS to EOS (makemore); held-out NLL per character vs a bigram',
  async train(ctx, opts = {}) {
    const { losses: _, ...result } = await trainNames(ctx, opts);
    return result;
  },
  evaluate: (ctx) => evaluateNames(ctx),
  async *generate(ctx, prompt, opts = {}) {
    const lm = await loadLm(ctx, NAMES_TASK_ID, COMMITTED_FILE);
    try {
      yield* nameStream(lm.gpt, lm.tokenizer, prompt, { seed: ctx.seed ?? 0, ...opts });
    } finally {
      lm.gpt.dispose();
    }
  },
};
