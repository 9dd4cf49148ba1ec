/** n-gram baselines: probabilities and NLL checked by hand on a toy corpus. */
import { describe, expect, it } from 'vitest';
import { NgramModel, tuneNgram } from './ngram.js';

// tokens: 0 = '.', 1 = 'a', 2 = 'b'; the names ".ab." and ".b."
const corpus = [
  [0, 1, 2, 0],
  [0, 2, 0],
];

describe('NgramModel', () => {
  it('add-one bigram: (c(h, w) + 1) / (c(h) + V)', () => {
    const m = new NgramModel({ order: 2, vocabSize: 3, strengths: [Number.POSITIVE_INFINITY, 3] });
    for (const ids of corpus) m.add(ids);
    // after '.': 'a' once, 'b' once (2 in all) -> (1 + 1) / (2 + 3) = 0.4; '.' never -> 1 / 5
    expect(m.probability([0, 1], 1)).toBeCloseTo(0.4, 12);
    expect(m.probability([0, 2], 1)).toBeCloseTo(0.4, 12);
    expect(m.probability([0, 0], 1)).toBeCloseTo(0.2, 12);
    // after 'a': 'b' once -> 2 / 4; after 'b': '.' twice -> 3 / 5
    expect(m.probability([1, 2], 1)).toBeCloseTo(0.5, 12);
    expect(m.probability([2, 0], 1)).toBeCloseTo(0.6, 12);
    expect(m.probability([1, 1], 1)).toBeCloseTo(0.25, 12);
    // ".ab.": -ln 0.4 - ln 0.5 - ln 0.6 = 2.120263536200091 over 3 tokens (the first is context only)
    const r = m.nll([0, 1, 2, 0]);
    expect(r.count).toBe(3);
    expect(r.nll).toBeCloseTo(2.120263536200091, 12);
    expect(m.nllOf(corpus)).toEqual({ nll: r.nll + m.nll([0, 2, 0]).nll, count: 5 });
    // each row sums to 1
    for (const h of [0, 1, 2]) {
      const total = [0, 1, 2].reduce((s, w) => s + m.probability([h, w], 1), 0);
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('interpolates with the unigram; an unseen context falls back to it', () => {
    const m = new NgramModel({ order: 2, vocabSize: 4, strengths: [1, 1] });
    for (const ids of corpus) m.add(ids);
    // unigram over the 5 targets (. twice, a once, b twice): P0(a) = (1 + 1 · 1/4) / (5 + 1)
    const p0a = (1 + 0.25) / 6;
    expect(m.probability([3, 1], 1)).toBeCloseTo(p0a, 12); // token 3 was never a context
    // after '.': (c('.', a) + 1 · P0(a)) / (c('.') + 1) = (1 + p0a) / 3
    expect(m.probability([0, 1], 1)).toBeCloseTo((1 + p0a) / 3, 12);
    const total = [0, 1, 2, 3].reduce((s, w) => s + m.probability([0, w], 1), 0);
    expect(total).toBeCloseTo(1, 12);
  });

  it('a trigram uses two tokens of context, fewer at the start', () => {
    const m = new NgramModel({ order: 3, vocabSize: 3, strengths: [1, 1, 1] });
    m.add([0, 1, 2, 0, 1, 1], { start: 1 });
    // context (1, 2) was followed by 0 once: the top level has c = 1, c(h) = 1
    const lower = new NgramModel({ order: 2, vocabSize: 3, strengths: [1, 1] }).add([0, 1, 2, 0, 1, 1]);
    const pLower = lower.probability([2, 0], 1);
    expect(m.probability([1, 2, 0], 2)).toBeCloseTo((1 + pLower) / 2, 12);
    expect(m.probability([0, 1], 1)).toBeCloseTo(lower.probability([0, 1], 1), 12);
  });

  it('tuneNgram picks strengths that do not lose to add-one on validation data', () => {
    const seqs = Array.from({ length: 200 }, (_, i) => [0, 1 + (i % 2), 2 - (i % 2), 0]);
    const tuned = tuneNgram({ order: 2, vocabSize: 3 }, seqs.slice(0, 150), seqs.slice(150));
    const addOne = new NgramModel({ order: 2, vocabSize: 3, strengths: [Number.POSITIVE_INFINITY, 3] });
    for (const s of seqs.slice(0, 150)) addOne.add(s);
    expect(tuned.nllOf(seqs.slice(150)).nll).toBeLessThanOrEqual(addOne.nllOf(seqs.slice(150)).nll);
  });

  it('rejects bad options and ids', () => {
    expect(() => new NgramModel({ order: 0, vocabSize: 3 })).toThrow(
      /order 0 must be an integer in \[1, 6\]/,
    );
    expect(() => new NgramModel({ order: 2, vocabSize: 3, strengths: [1] })).toThrow(/strengths must list 2/);
    expect(() => new NgramModel({ order: 2, vocabSize: 3 }).add([0, 5])).toThrow(
      /ids\[1\] = 5 is not a token id in \[0, 3\)/,
    );
  });
});
