/**
 * Count models of event sequences, the bars a music language model must clear: a unigram with add-alpha
 * smoothing, and a bigram interpolated toward that unigram (a Dirichlet prior: P(w | v) = (c(v, w) +
 * s P1(w)) / (c(v) + s), MacKay & Peto 1995), its strength s chosen by validation NLL. Sequences are
 * scored from a start token, so the first event's bigram context is BOS.
 */
import { invalidArgument } from '../io/errors.js';

/** Strengths tried when tuning (the bigram prior's s, the unigram's alpha). */
export const STRENGTH_GRID = [0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500] as const;

function checkIds(fn: string, ids: ArrayLike<number>, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      invalidArgument(`${fn}: id ${id} at ${i}; expected [0, ${vocabSize})`);
  }
}

export class EventUnigram {
  readonly counts: Float64Array;
  total = 0;

  constructor(
    readonly vocabSize: number,
    /** Add-alpha smoothing (default 1: Laplace). */
    readonly alpha = 1,
  ) {
    if (!Number.isInteger(vocabSize) || vocabSize < 1)
      invalidArgument(`EventUnigram: vocabSize ${vocabSize}; expected >= 1`);
    if (!(alpha > 0)) invalidArgument(`EventUnigram: alpha ${alpha}; expected > 0`);
    this.counts = new Float64Array(vocabSize);
  }

  add(ids: ArrayLike<number>): this {
    checkIds('EventUnigram.add', ids, this.vocabSize);
    for (let i = 0; i < ids.length; i++) this.counts[ids[i]!]!++;
    this.total += ids.length;
    return this;
  }

  probability(id: number): number {
    return (this.counts[id]! + this.alpha) / (this.total + this.alpha * this.vocabSize);
  }

  /** Summed NLL (nats) of every id of `ids`. */
  nll(ids: ArrayLike<number>): number {
    checkIds('EventUnigram.nll', ids, this.vocabSize);
    let sum = 0;
    for (let i = 0; i < ids.length; i++) sum -= Math.log(this.probability(ids[i]!));
    return sum;
  }

  /** A copy with another alpha. */
  withAlpha(alpha: number): EventUnigram {
    const copy = new EventUnigram(this.vocabSize, alpha);
    copy.counts.set(this.counts);
    copy.total = this.total;
    return copy;
  }
}

export class EventBigram {
  private readonly pairs = new Map<number, number>();
  private readonly contexts: Float64Array;

  constructor(
    readonly unigram: EventUnigram,
    /** The prior's strength s (default 1). */
    readonly strength = 1,
  ) {
    if (!(strength > 0)) invalidArgument(`EventBigram: strength ${strength}; expected > 0`);
    this.contexts = new Float64Array(unigram.vocabSize);
  }

  /** Counts the pairs of `[start, ...ids]`. */
  add(ids: ArrayLike<number>, start: number): this {
    checkIds('EventBigram.add', [start, ...Array.from(ids)], this.unigram.vocabSize);
    let previous = start;
    for (let i = 0; i < ids.length; i++) {
      const key = previous * this.unigram.vocabSize + ids[i]!;
      this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
      this.contexts[previous]!++;
      previous = ids[i]!;
    }
    return this;
  }

  probability(previous: number, id: number): number {
    const pair = this.pairs.get(previous * this.unigram.vocabSize + id) ?? 0;
    return (pair + this.strength * this.unigram.probability(id)) / (this.contexts[previous]! + this.strength);
  }

  /** Summed NLL (nats) of the ids of `[start, ...ids]` after the start. */
  nll(ids: ArrayLike<number>, start: number): number {
    checkIds('EventBigram.nll', [start, ...Array.from(ids)], this.unigram.vocabSize);
    let sum = 0;
    let previous = start;
    for (let i = 0; i < ids.length; i++) {
      sum -= Math.log(this.probability(previous, ids[i]!));
      previous = ids[i]!;
    }
    return sum;
  }

  /** A copy with another strength (the counts are shared: tuning refits nothing). */
  withStrength(strength: number): EventBigram {
    const copy = new EventBigram(this.unigram, strength);
    for (const [k, v] of this.pairs) copy.pairs.set(k, v);
    copy.contexts.set(this.contexts);
    return copy;
  }
}

/**
 * The unigram and bigram of `train`, their smoothing strengths chosen on `valid` (both lists of event
 * sequences, scored from `start`), then counted again on train + valid.
 */
export function fitEventNgrams(
  train: readonly ArrayLike<number>[],
  valid: readonly ArrayLike<number>[],
  vocabSize: number,
  start: number,
): { unigram: EventUnigram; bigram: EventBigram } {
  const nllOf = (score: (ids: ArrayLike<number>) => number) =>
    valid.reduce((sum, ids) => sum + score(ids), 0);
  const best = (scores: number[]) => STRENGTH_GRID[scores.indexOf(Math.min(...scores))]!;
  const count = (alpha: number, pieces: readonly ArrayLike<number>[]) => {
    const unigram = new EventUnigram(vocabSize, alpha);
    for (const ids of pieces) unigram.add(ids);
    return unigram;
  };
  let alpha = 1;
  let strength = 1;
  if (valid.length > 0) {
    const counted = count(1, train);
    alpha = best(STRENGTH_GRID.map((a) => nllOf((ids) => counted.withAlpha(a).nll(ids))));
    const base = new EventBigram(counted.withAlpha(alpha));
    for (const ids of train) base.add(ids, start);
    strength = best(STRENGTH_GRID.map((s) => nllOf((ids) => base.withStrength(s).nll(ids, start))));
  }
  const all = [...train, ...valid];
  const unigram = count(alpha, all);
  const bigram = new EventBigram(unigram, strength);
  for (const ids of all) bigram.add(ids, start);
  return { unigram, bigram };
}
