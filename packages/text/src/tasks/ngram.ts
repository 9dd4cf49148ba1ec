/**
 * Smoothed n-gram language models over token ids: the baselines the GPT tasks are measured against, in
 * the same units (nats per predicted token) on the same token sequences.
 *
 * Smoothing is interpolated additive smoothing (a Dirichlet prior whose mean is the next lower order,
 * MacKay & Peto 1995): with h the last k tokens and h' the last k - 1,
 *
 *   P_k(w | h) = (c(h, w) + s_k · P_{k-1}(w | h')) / (c(h) + s_k),   P_{-1}(w) = 1 / V,
 *
 * so every order backs off smoothly to the one below, and an unseen context falls back to it entirely.
 * A strength of `Infinity` skips a level (it passes the lower order through): order 2 with strengths
 * [Infinity, V] is the add-one (Laplace) bigram (c(h, w) + 1) / (c(h) + V) of makemore's baseline.
 * `tuneNgram` picks the strengths on validation data from a fixed grid.
 */
import { invalidArgument } from '../errors.js';

export interface NgramOptions {
  /** 1 = unigram, 2 = bigram (one token of context), 3 = trigram, ... (at most 6). */
  order: number;
  /** Token ids are 0..vocabSize-1; the smoothing spreads the base mass over all of them. */
  vocabSize: number;
  /**
   * Smoothing strength per context length 0..order-1 (default 1 each); `Infinity` skips that level.
   * Larger means trusting the lower order more.
   */
  strengths?: readonly number[];
}

/** Totals of a scoring pass: `nll / count` is the mean in nats per token. */
export interface NllTotals {
  nll: number;
  count: number;
}

/** A count-based n-gram model (see the file comment for the smoothing). */
export class NgramModel {
  readonly order: number;
  readonly vocabSize: number;
  strengths: number[];
  /** counts[k]: context key (the last k tokens) -> [c(h), c(h, w) for each w seen]. */
  private readonly counts: Map<number, Map<number, number>>[];
  private readonly totals: Map<number, number>[];

  constructor(opts: NgramOptions) {
    const where = 'NgramModel';
    if (!Number.isInteger(opts.order) || opts.order < 1 || opts.order > 6)
      invalidArgument(`${where}: order ${opts.order} must be an integer in [1, 6]`);
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 1)
      invalidArgument(`${where}: vocabSize ${opts.vocabSize} must be a positive integer`);
    this.order = opts.order;
    this.vocabSize = opts.vocabSize;
    this.strengths = checkStrengths(opts.strengths ?? new Array(opts.order).fill(1), opts.order, where);
    this.counts = Array.from({ length: this.order }, () => new Map());
    this.totals = Array.from({ length: this.order }, () => new Map());
  }

  /**
   * Counts the tokens of `ids` at positions `start` (default 1: the first token is context only, as a
   * BOS token or the start of a text) to the end, each with the up to order - 1 tokens before it.
   */
  add(ids: ArrayLike<number>, opts: { start?: number } = {}): this {
    const start = this.checkSequence(ids, opts.start, 'NgramModel.add');
    for (let i = start; i < ids.length; i++) {
      const w = ids[i]!;
      for (let k = 0; k < this.order && k <= i; k++) {
        const key = this.contextKey(ids, i, k);
        let row = this.counts[k]!.get(key);
        if (!row) {
          row = new Map();
          this.counts[k]!.set(key, row);
        }
        row.set(w, (row.get(w) ?? 0) + 1);
        this.totals[k]!.set(key, (this.totals[k]!.get(key) ?? 0) + 1);
      }
    }
    return this;
  }

  /** P(ids[i] | the tokens before it), with at most order - 1 of them as context. */
  probability(ids: ArrayLike<number>, i: number): number {
    const w = ids[i]!;
    let p = 1 / this.vocabSize;
    for (let k = 0; k < this.order && k <= i; k++) {
      const s = this.strengths[k]!;
      if (s === Number.POSITIVE_INFINITY) continue;
      const key = this.contextKey(ids, i, k);
      const total = this.totals[k]!.get(key) ?? 0;
      if (total === 0) continue; // an unseen context: the lower order stands
      const c = this.counts[k]!.get(key)?.get(w) ?? 0;
      p = (c + s * p) / (total + s);
    }
    return p;
  }

  /** Negative log-likelihood (nats) of the tokens of `ids` from `start` (default 1) on. */
  nll(ids: ArrayLike<number>, opts: { start?: number } = {}): NllTotals {
    const start = this.checkSequence(ids, opts.start, 'NgramModel.nll');
    let nll = 0;
    for (let i = start; i < ids.length; i++) nll -= Math.log(this.probability(ids, i));
    return { nll, count: Math.max(0, ids.length - start) };
  }

  /** Summed over sequences. */
  nllOf(sequences: Iterable<ArrayLike<number>>, opts: { start?: number } = {}): NllTotals {
    const sum = { nll: 0, count: 0 };
    for (const ids of sequences) {
      const r = this.nll(ids, opts);
      sum.nll += r.nll;
      sum.count += r.count;
    }
    return sum;
  }

  /** The last k tokens before position i as one number (base V + 1, so lengths never collide). */
  private contextKey(ids: ArrayLike<number>, i: number, k: number): number {
    let key = 0;
    for (let j = i - k; j < i; j++) key = key * (this.vocabSize + 1) + ids[j]! + 1;
    return key;
  }

  private checkSequence(ids: ArrayLike<number>, start: number | undefined, where: string): number {
    const from = start ?? 1;
    if (!Number.isInteger(from) || from < 0)
      invalidArgument(`${where}: start ${from} must be an integer >= 0`);
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize)
        invalidArgument(`${where}: ids[${i}] = ${t} is not a token id in [0, ${this.vocabSize})`);
    }
    return from;
  }
}

function checkStrengths(strengths: readonly number[], order: number, where: string): number[] {
  if (!Array.isArray(strengths) || strengths.length !== order)
    invalidArgument(
      `${where}: strengths must list ${order} numbers (one per context length 0..${order - 1})`,
    );
  for (const [k, s] of strengths.entries()) {
    if (!(s > 0)) invalidArgument(`${where}: strengths[${k}] = ${s} must be > 0 (or Infinity to skip)`);
  }
  return [...strengths];
}

/** The strengths `tuneNgram` tries at each level. */
export const STRENGTH_GRID: readonly number[] = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000];

/**
 * Fits an n-gram on `train`, choosing each level's strength (lowest order first, one level at a time)
 * by the NLL of `valid` over STRENGTH_GRID. Returns the model with the chosen strengths, counted on
 * `train` only: refit on more data with `new NgramModel({ ..., strengths })` if wanted.
 */
export function tuneNgram(
  opts: Omit<NgramOptions, 'strengths'>,
  train: readonly ArrayLike<number>[],
  valid: readonly ArrayLike<number>[],
  scoring: { start?: number } = {},
): NgramModel {
  const model = new NgramModel({ ...opts, strengths: new Array(opts.order).fill(1) });
  for (const ids of train) model.add(ids, scoring);
  for (let k = 0; k < opts.order; k++) {
    let best = { s: 1, nll: Number.POSITIVE_INFINITY };
    for (const s of STRENGTH_GRID) {
      model.strengths[k] = s;
      const { nll } = model.nllOf(valid, scoring);
      if (nll < best.nll) best = { s, nll };
    }
    model.strengths[k] = best.s;
  }
  return model;
}
