/**
 * Autoregressive generation for any causal language model with `forward(ids, { caches })` (models.GPT):
 * greedy or sampled decoding with temperature, top-k, top-p (nucleus, Holtzman et al. 2020) and
 * repetition penalty (Keskar et al. 2019, Hugging Face's convention), stop tokens, a seeded sampler,
 * and a streaming API (`for await (const token of stream(...))`).
 *
 * With the KV cache (default) the prompt runs once and each new token costs one position; without
 * it every step re-runs the whole window. Both read the same last-position logits, so the same seed
 * gives the same tokens. Sampling runs on the host over the vocabulary's logits: one read per token.
 */
import { noGrad } from '../autograd/engine.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { nextMacrotask } from '../macrotask.js';
import type { KVCache } from '../ops/attention/kv-cache.js';
import { tidy } from '../scope.js';
import { checkSeed, seededUniform } from '../seeded.js';
import type { Tensor } from '../tensor.js';

/** What generation needs of a model (models.GPT has it). */
export interface CausalLM {
  readonly device: Device;
  readonly config: { readonly blockSize: number; readonly vocabSize: number };
  forward(ids: Tensor, opts?: { caches?: readonly KVCache[] }): Tensor;
  createCaches(batch: number, maxLength?: number): KVCache[];
  eval(): unknown;
  /** Modules (nn.Module) have these: generation restores every module's train/eval flag when it ends. */
  namedModules?(): [string, { training: boolean }][];
}

export interface GenerateOptions {
  /** Tokens to produce at most (default 32). */
  maxNewTokens?: number;
  /** 0 = greedy (argmax); > 0 divides the logits before sampling (default 1). */
  temperature?: number;
  /** Keep the k most likely tokens (0 = all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = all). */
  topP?: number;
  /** > 1 makes tokens already in the context less likely (positive logits / p, negative · p). */
  repetitionPenalty?: number;
  /** Added to the logits of these token ids before anything else (OpenAI's logit_bias); -Infinity bans. */
  logitBias?: Readonly<Record<number, number>> | ReadonlyMap<number, number>;
  /** Token ids never generated (Hugging Face's suppress_tokens). */
  bannedTokens?: readonly number[];
  /** Generation ends after producing one of these (it is included in the output). */
  stopTokens?: readonly number[];
  /** Seed of the sampler (default 0): the same seed gives the same tokens. */
  seed?: number;
  /** Use the KV cache (default true). */
  useCache?: boolean;
  /**
   * Stops generation within one token of the abort (the tokens so far are returned): the signal is
   * checked after each token's logits are read, and the loop yields to the event loop once per token,
   * so an abort fired by a timer or a message is seen on the CPU backend too.
   */
  signal?: AbortSignal;
}

/** `logitBias` as [id, bias] pairs. */
function biasEntries(bias: GenerateOptions['logitBias']): [number, number][] {
  if (!bias) return [];
  if (bias instanceof Map) return [...bias.entries()];
  return Object.entries(bias).map(([id, b]) => [Number(id), b as number]);
}

/**
 * Picks the next token from one row of logits: logit bias and banned tokens, repetition penalty over
 * `context`, then greedy, or
 * temperature, top-k and top-p filtering and a draw from `uniform`. Exported for tests.
 */
export function pickToken(
  logits: Float32Array,
  context: readonly number[],
  opts: GenerateOptions,
  uniform: () => number,
): number {
  checkLogits(logits);
  const x = Float64Array.from(logits);
  for (const [id, b] of biasEntries(opts.logitBias)) x[id] = x[id]! + b;
  for (const id of opts.bannedTokens ?? []) x[id] = Number.NEGATIVE_INFINITY;
  const penalty = opts.repetitionPenalty ?? 1;
  if (penalty !== 1) {
    for (const t of new Set(context)) x[t] = x[t]! > 0 ? x[t]! / penalty : x[t]! * penalty;
  }
  if (!x.some((v) => v > Number.NEGATIVE_INFINITY)) {
    fail(
      'NON_FINITE',
      'generate: every token has a logit of -Infinity (after bans and logitBias): nothing can be drawn',
    );
  }
  const temperature = opts.temperature ?? 1;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
    return best;
  }
  // candidates by decreasing logit (ties by id), cut by top-k
  let order = Array.from(x.keys()).sort((a, b) => x[b]! - x[a]! || a - b);
  const k = opts.topK ?? 0;
  if (k > 0) order = order.slice(0, k);
  const top = x[order[0]!]!;
  const weights = order.map((i) => Math.exp((x[i]! - top) / temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  const p = opts.topP ?? 1;
  if (p < 1) {
    // nucleus: the smallest prefix whose mass reaches p (always at least one token)
    let mass = 0;
    let keep = 0;
    while (keep < order.length && mass < p * total) mass += weights[keep++]!;
    order = order.slice(0, keep);
    weights.length = keep;
    total = mass;
  }
  let u = uniform() * total;
  for (let i = 0; i < order.length; i++) {
    u -= weights[i]!;
    if (u < 0) return order[i]!;
  }
  return order[order.length - 1]!;
}

/**
 * Logits must be numbers a distribution can come from: NaN or +Infinity (a diverged model, an
 * overflow) is an error rather than a token; -Infinity is a token the model rules out.
 */
function checkLogits(logits: Float32Array): void {
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
      let bad = 0;
      for (const w of logits) if (Number.isNaN(w) || w === Number.POSITIVE_INFINITY) bad++;
      fail(
        'NON_FINITE',
        `generate: the model's logits hold ${v} at token ${i} (${bad} of ${logits.length} are NaN or +Infinity); ` +
          'expected finite logits (or -Infinity for ruled-out tokens)',
      );
    }
  }
}

/** Every module's train/eval flag, to put back when generation ends (it runs in eval mode). */
function saveModes(model: CausalLM): () => void {
  const modules = model.namedModules?.().map(([, m]) => [m, m.training] as const) ?? [];
  return () => {
    for (const [m, training] of modules) m.training = training;
  };
}

function checkOptions(model: CausalLM, prompt: readonly number[], opts: GenerateOptions): void {
  const op = 'generate';
  if (prompt.length === 0)
    fail('INVALID_ARGUMENT', `${op}: prompt is empty; give at least one token (e.g. BOS)`);
  const V = model.config.vocabSize;
  const bad = prompt.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= V);
  if (bad >= 0)
    fail('INVALID_ARGUMENT', `${op}: prompt[${bad}] = ${prompt[bad]} is not a token id in [0, ${V})`);
  const n = opts.maxNewTokens ?? 32;
  if (!Number.isInteger(n) || n < 0)
    fail('INVALID_ARGUMENT', `${op}: maxNewTokens ${n} must be an integer >= 0`);
  const t = opts.temperature ?? 1;
  if (!(t >= 0 && Number.isFinite(t))) fail('INVALID_ARGUMENT', `${op}: temperature ${t} must be >= 0`);
  const k = opts.topK ?? 0;
  if (!Number.isInteger(k) || k < 0) fail('INVALID_ARGUMENT', `${op}: topK ${k} must be an integer >= 0`);
  const p = opts.topP ?? 1;
  if (!(p > 0 && p <= 1)) fail('INVALID_ARGUMENT', `${op}: topP ${p} must be in (0, 1]`);
  checkSeed(op, opts.seed ?? 0);
  const r = opts.repetitionPenalty ?? 1;
  if (!(r > 0 && Number.isFinite(r))) fail('INVALID_ARGUMENT', `${op}: repetitionPenalty ${r} must be > 0`);
  const isId = (t: number) => Number.isInteger(t) && t >= 0 && t < V;
  const banned = new Set(opts.bannedTokens ?? []);
  for (const t of banned)
    if (!isId(t)) fail('INVALID_ARGUMENT', `${op}: bannedTokens has ${t}; expected token ids in [0, ${V})`);
  for (const [t, b] of biasEntries(opts.logitBias)) {
    if (!isId(t))
      fail('INVALID_ARGUMENT', `${op}: logitBias has token ${t}; expected token ids in [0, ${V})`);
    if (Number.isNaN(b) || b === Number.POSITIVE_INFINITY || typeof b !== 'number') {
      fail('INVALID_ARGUMENT', `${op}: logitBias[${t}] = ${b}; expected a finite number or -Infinity`);
    }
    if (b === Number.NEGATIVE_INFINITY) banned.add(t);
  }
  if (banned.size >= V) fail('INVALID_ARGUMENT', `${op}: bannedTokens and logitBias ban all ${V} tokens`);
}

/** The logits of the last position of `ids` [1, T] as a host row. */
async function lastLogits(
  model: CausalLM,
  ids: readonly number[],
  caches?: readonly KVCache[],
): Promise<Float32Array> {
  const row = noGrad(() =>
    tidy(() => {
      const input = model.device.tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' });
      const logits = model.forward(input, caches ? { caches } : {}); // [1, T, V]
      return logits.slice(1, ids.length - 1).reshape([-1]);
    }),
  );
  try {
    return (await row.read()) as Float32Array;
  } finally {
    row.dispose();
  }
}

/**
 * Yields new tokens one at a time as they are decoded. The context is the prompt plus what was
 * generated; past `blockSize` positions the oldest tokens fall out of the window (the cache is then
 * rebuilt from the last half window, so each rebuild is paid once per blockSize / 2 tokens).
 */
export async function* stream(
  model: CausalLM,
  prompt: readonly number[],
  opts: GenerateOptions = {},
): AsyncGenerator<number, void, undefined> {
  checkOptions(model, prompt, opts);
  const restoreModes = saveModes(model);
  model.eval();
  const block = model.config.blockSize;
  const useCache = opts.useCache ?? true;
  const stop = new Set(opts.stopTokens ?? []);
  const uniform = seededUniform(opts.seed ?? 0);
  const context = [...prompt];
  let caches: KVCache[] | null = null;
  let pending: number[] = []; // tokens not yet in the cache
  const reset = () => {
    for (const c of caches ?? []) c.dispose();
    caches = model.createCaches(1, block);
    pending = context.slice(-Math.max(1, Math.ceil(block / 2)));
  };
  try {
    if (useCache) {
      caches = model.createCaches(1, block);
      pending = context.slice(-block);
    }
    for (let i = 0; i < (opts.maxNewTokens ?? 32); i++) {
      if (opts.signal?.aborted) return;
      let logits: Float32Array;
      if (useCache) {
        if (caches![0]!.position + pending.length > block) reset();
        logits = await lastLogits(model, pending, caches!);
      } else {
        logits = await lastLogits(model, context.slice(-block));
      }
      await nextMacrotask(); // let timers and messages run: an abort may be waiting
      if (opts.signal?.aborted) return;
      const token = pickToken(logits, context, opts, uniform);
      context.push(token);
      pending = [token];
      yield token;
      if (stop.has(token)) return;
    }
  } finally {
    for (const c of caches ?? []) c.dispose();
    restoreModes();
  }
}

/** Generates up to `maxNewTokens` tokens after `prompt` and returns them (see `stream`). */
export async function generate(
  model: CausalLM,
  prompt: readonly number[],
  opts: GenerateOptions = {},
): Promise<number[]> {
  const out: number[] = [];
  for await (const token of stream(model, prompt, opts)) out.push(token);
  return out;
}
