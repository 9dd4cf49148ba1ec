/**
 * text/names: a character-level GPT that makes up first names (Karpathy's makemore). Every name is one
 * sequence `. n a m e .`: the boundary token '.' is both BOS and EOS, so a name is generated from '.'
 * until the model writes '.' again. Trained on the names of a fixed seeded split
 * (loadFirstNames, seed 0: 6738 train / 1684 held out), evaluated by the held-out negative
 * log-likelihood per character, end token included, beside a smoothed bigram counted on the same
 * training names, and by how many sampled names are new.
 */
import { type EvalReport, models, seededUniform, type Task, type TaskContext, tasks } from '@multihead/core';
import { loadFirstNames } from '../data/names.js';
import { invalidArgument } from '../errors.js';
import { trainCharTokenizer } from '../tokenizers/char.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import {
  GENERATION_PARAMS,
  type GenerateOptions,
  gptAttention,
  gptTextRun,
  type PromptPlan,
} from './gpt-task.js';
import {
  committedCheckpoint,
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

export const NAMES_TASK_ID = 'text/names';
/** The boundary token: BOS before a name, EOS after it (makemore's '.'). */
export const NAME_BOUNDARY = '.';
/** The held-out split is part of the task: fixed, whatever seed the model trains with. */
const SPLIT_SEED = 0;
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

export interface TrainNamesOptions extends tasks.TrainTaskOptions {
  /** Training names (default: the task's training split). */
  names?: readonly string[];
  /** Model and optimizer overrides (tests use a smaller model). */
  config?: Partial<Omit<LmConfig, 'vocabSize'>>;
  training?: Partial<LmTraining>;
}

/** Trains a fresh model and saves it in ctx.store. */
export async function trainNames(ctx: TaskContext, opts: TrainNamesOptions = {}) {
  const h = { ...NAMES_TRAINING, ...opts.training };
  const { steps, maxSeconds } = tasks.checkTrainOptions(NAMES_TASK_ID, opts, h.steps);
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

export interface EvaluateNamesOptions extends tasks.EvaluateOptions {
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
export async function evaluateNames(ctx: TaskContext, opts: EvaluateNamesOptions = {}): Promise<EvalReport> {
  const split = opts.train && opts.test ? null : await loadFirstNames({ seed: SPLIT_SEED });
  const trainNames = opts.train ?? split!.train;
  const testNames = (opts.test ?? split!.test).slice(0, opts.limit);
  const lm = await loadLm(ctx, namesTask);
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
    const metrics = { nll: round(model.nll / model.count), novelFraction: count > 0 ? novel / count : 0 };
    const baselines = {
      bigram: { nll: round(b.nll / b.count) },
      bigramAddOne: { nll: round(a.nll / a.count) },
    };
    return tasks.evalReport(namesTask, {
      metrics,
      baselines,
      split: {
        name: 'held-out',
        description: `${testRows.length} first names never trained on (loadFirstNames seed ${SPLIT_SEED}: 20% of the list), ${model.count} characters with end tokens`,
      },
      examples: testRows.length,
      checkpoint: { location: lm.location, source: lm.source, step: lm.step },
      details: {
        heldOutTokens: model.count,
        bigramStrengths: { unigram: bigram.strengths[0]!, bigram: bigram.strengths[1]! },
        samples,
      },
    });
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

/** A name is generated from '.' and its prompt until the model writes '.' again. */
function namePlan(gpt: models.GPT, tokenizer: Tokenizer, prompt: string, opts: GenerateOptions): PromptPlan {
  const ids = promptIds(tokenizer, prompt);
  return {
    ids,
    shown: prompt.toLowerCase(),
    // a name fills the block at most; past it the window would slide over the name's own start
    maxNewTokens: opts.maxNewTokens ?? Math.max(1, gpt.config.blockSize - ids.length),
    stopTokens: [boundaryId(tokenizer)],
  };
}

function nameStream(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  prompt: string,
  opts: GenerateOptions,
): AsyncGenerator<string, void, undefined> {
  const plan = namePlan(gpt, tokenizer, prompt, opts);
  return streamText(gpt, tokenizer, plan.ids, { ...opts, ...plan });
}

async function sampleName(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  prompt: string,
  opts: GenerateOptions,
): Promise<string> {
  let name = prompt.toLowerCase();
  for await (const piece of nameStream(gpt, tokenizer, prompt, opts)) name += piece;
  return name;
}

export const namesTask: Task = tasks.defineTask({
  id: NAMES_TASK_ID,
  kind: 'generate',
  description:
    'makes up first names: a character-level GPT from BOS to EOS (makemore); held-out NLL per character vs a bigram',
  input: {
    kind: 'text',
    description: 'the start of a name (letters a-z and -); empty for any name',
    required: false,
    example: 'ma',
  },
  output: { kind: 'text', stream: 'text', description: 'a made-up first name' },
  params: GENERATION_PARAMS,
  metrics: [
    { name: 'nll', description: 'held-out NLL per character, end token included (nats)', better: 'lower' },
    {
      name: 'novelFraction',
      description: 'share of sampled names not in the training list',
      better: 'higher',
    },
  ],
  goal: { metric: 'nll', op: '<=', value: 2.1, beat: ['bigram'] },
  positions: 'tokens',
  async train(ctx, opts = {}) {
    return trainNames(ctx, opts);
  },
  evaluate: (ctx, opts) => evaluateNames(ctx, opts),
  run: (ctx, input, params) =>
    gptTextRun(namesTask, ctx, input, params, (lm, prompt, opts) =>
      namePlan(lm.gpt, lm.tokenizer, prompt, opts),
    ),
  // a whole name, '.' name '.', as the model reads it
  attention: (ctx, input, opts = {}) =>
    gptAttention(namesTask, ctx, input, opts.layers, (tokenizer, text) => [
      ...promptIds(tokenizer, text),
      boundaryId(tokenizer),
    ]),
  committedCheckpoint: committedCheckpoint('names.safetensors'),
});
