/**
 * What the GPT text tasks (text/names, text/moby) share on the task protocol: the sampling parameters,
 * a streaming run (text after a prompt), and attention maps over the prompt's tokens.
 */
import {
  type AttentionReport,
  type InputValue,
  type models,
  type Task,
  type TaskContext,
  type TaskRun,
  tasks,
} from '@multihead/core';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { gptAttentionMaps } from './attention-maps.js';
import { type LoadedLm, loadLm, streamText } from './lm.js';

/** Sampling options of a generation (models.generate's, plus the seed). */
export interface GenerateOptions
  extends Pick<
    models.GenerateOptions,
    'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'
  > {
  seed?: number;
}

/** The sampling parameters every GPT task takes (the CLI makes flags of them, the app controls). */
export const GENERATION_PARAMS: tasks.ParamSpec[] = [
  {
    name: 'maxNewTokens',
    type: 'integer',
    min: 1,
    max: 100_000,
    description: "tokens to generate at most (default: the task's own)",
  },
  {
    name: 'temperature',
    type: 'number',
    min: 0,
    max: 100,
    default: 1,
    description: '0 = greedy; higher = more varied',
  },
  { name: 'topK', type: 'integer', min: 1, description: 'sample from the k most likely tokens' },
  {
    name: 'topP',
    type: 'number',
    min: 0,
    max: 1,
    description: 'nucleus sampling: the smallest set with probability p',
  },
  {
    name: 'repetitionPenalty',
    type: 'number',
    min: 0.01,
    max: 100,
    description: 'divides the logits of tokens already seen (1 = off)',
  },
];

/** Resolved parameters as generation options; the seed is the context's. */
export function generateOptions(
  task: Task,
  ctx: TaskContext,
  params: tasks.TaskParams | undefined,
): GenerateOptions {
  const p = tasks.resolveParams(task, params);
  const out: GenerateOptions = { seed: ctx.seed ?? 0 };
  for (const key of ['maxNewTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty'] as const) {
    if (typeof p[key] === 'number') out[key] = p[key];
  }
  return out;
}

/** How a GPT task reads its prompt: ids to start from, what to show before the generated text, limits. */
export interface PromptPlan {
  ids: number[];
  /** The prompt as the result text starts (e.g. lowercased). */
  shown: string;
  maxNewTokens: number;
  stopTokens?: number[];
}

/**
 * A streaming run of a GPT task: loads the model (given, stored or committed checkpoint), streams the
 * generated text piece by piece, and returns prompt + text. The model is freed when the run ends.
 */
export function gptTextRun(
  task: Task,
  ctx: TaskContext,
  input: InputValue | undefined,
  params: tasks.TaskParams | undefined,
  plan: (lm: LoadedLm, prompt: string, opts: GenerateOptions) => PromptPlan,
): TaskRun {
  return tasks.streamingRun(async function* () {
    const opts = generateOptions(task, ctx, params);
    const prompt = input === undefined ? '' : await tasks.inputText(input, task.id);
    const lm = await loadLm(ctx, task);
    try {
      const p = plan(lm, prompt, opts);
      let text = '';
      const pieces = streamText(lm.gpt, lm.tokenizer, p.ids, {
        ...opts,
        maxNewTokens: p.maxNewTokens,
        ...(p.stopTokens ? { stopTokens: p.stopTokens } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      for await (const piece of pieces) {
        text += piece;
        yield { kind: 'text', text: piece };
      }
      return { kind: 'text', text: p.shown + text };
    } finally {
      lm.gpt.dispose();
    }
  });
}

/**
 * Attention maps of a GPT task over `ids` (from the input by `tokens`), labelled by the tokens: every
 * layer (or those asked for) from one forward through the fused kernel's weights-on-demand path.
 */
export async function gptAttention(
  task: Task,
  ctx: TaskContext,
  input: InputValue | undefined,
  layers: readonly number[] | undefined,
  tokens: (tokenizer: Tokenizer, text: string, gpt: models.GPT) => number[],
): Promise<AttentionReport> {
  const text = input === undefined ? '' : await tasks.inputText(input, task.id);
  const lm = await loadLm(ctx, task);
  try {
    const { nLayer, blockSize } = lm.gpt.config;
    const ids = tokens(lm.tokenizer, text, lm.gpt).slice(-blockSize);
    const which = layers ?? Array.from({ length: nLayer }, (_, i) => i);
    const maps = await gptAttentionMaps(lm.gpt, ids, which);
    return {
      positions: 'tokens',
      labels: ids.map((id) => lm.tokenizer.idToToken(id) ?? '?'),
      numLayers: nLayer,
      layers: maps,
      causal: true,
    };
  } finally {
    lm.gpt.dispose();
  }
}
