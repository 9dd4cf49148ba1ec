/**
 * The baselines on hand-made cases: frame pooling worked by hand, logistic regression and nearest
 * centroid on separable clusters and on a line whose midpoint is known, the event
 * n-grams' probabilities written out from their formulas, and the strengths tuning picks on a held-out part.
 */
import { seededUniform } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import {
  EventBigram,
  EventUnigram,
  fitEventNgrams,
  LogisticRegression,
  NearestCentroid,
  poolFrames,
} from '../src/index.js';
import { gaussian } from '../src/preprocess/augment.js';

describe('clip baselines', () => {
  it('pools the mean and deviation of every bin over the frames asked for', () => {
    // 3 frames x 2 bins: bin 0 = 1, 2, 3; bin 1 = 4, 4, 4
    const features = Float32Array.from([1, 4, 2, 4, 3, 4]);
    expect(Array.from(poolFrames(features, 2, 0, 3))).toEqual([2, 4, Math.fround(Math.sqrt(2 / 3)), 0]);
    expect(Array.from(poolFrames(features, 2, 1, 1))).toEqual([2, 4, 0, 0]);
    expect(() => poolFrames(features, 2, 2, 2)).toThrow(/frames \[2, 4\) of an example of 3 frames x 2 bins/);
  });

  /** Three Gaussian clusters in 4 dimensions (the last two are noise). */
  function clusters(count: number, seed: number) {
    const random = seededUniform(seed);
    const centers = [
      [4, 0],
      [-4, 0],
      [0, 4],
    ];
    const x = new Float32Array(count * 4);
    const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
    for (let i = 0; i < count; i++) {
      for (let d = 0; d < 4; d++) x[i * 4 + d] = (d < 2 ? centers[labels[i]!]![d]! : 0) + gaussian(random);
    }
    return { x, labels, count, dims: 4, classes: 3 };
  }

  it('logistic regression and nearest centroid separate well-separated clusters', () => {
    const train = clusters(150, 1);
    const test = clusters(60, 2);
    const accuracy = (p: Int32Array) => p.filter((v, i) => v === test.labels[i]).length / test.count;
    const logistic = LogisticRegression.fit(train, { seed: 3 });
    expect(accuracy(logistic.predict(test.x))).toBeGreaterThanOrEqual(0.95);
    expect([1e-4, 1e-3, 1e-2, 1e-1]).toContain(logistic.l2);
    expect(accuracy(NearestCentroid.fit(train).predict(test.x))).toBeGreaterThanOrEqual(0.95);
    // one dimension: class 0 at -1, class 1 at 3; a point is given the class of the nearer centroid
    const line = {
      x: Float32Array.from([-1, -1, -1, 3, 3, 3]),
      labels: [0, 0, 0, 1, 1, 1],
      count: 6,
      dims: 1,
      classes: 2,
    };
    expect(Array.from(NearestCentroid.fit(line).predict(Float32Array.from([0.9, 1.1, -5, 9])))).toEqual([
      0, 1, 0, 1,
    ]);
  });

  it('refuses mismatched vectors and labels out of range', () => {
    expect(() =>
      NearestCentroid.fit({ x: new Float32Array(6), labels: [0, 1], count: 2, dims: 2, classes: 2 }),
    ).toThrow(/6 values and 2 labels; expected 2 x 2 and 2/);
    expect(() =>
      LogisticRegression.fit({ x: new Float32Array(4), labels: [0, 5], count: 2, dims: 2, classes: 2 }),
    ).toThrow(/label 1 is 5; expected \[0, 2\)/);
  });
});

describe('event n-grams', () => {
  it('unigram: add-alpha over the vocabulary; bigram: interpolated toward it', () => {
    const unigram = new EventUnigram(4, 1).add([0, 0, 1]); // counts 2, 1, 0, 0
    expect(unigram.probability(0)).toBeCloseTo(3 / 7, 12);
    expect(unigram.probability(3)).toBeCloseTo(1 / 7, 12);
    expect(unigram.nll([0, 3])).toBeCloseTo(-Math.log(3 / 7) - Math.log(1 / 7), 12);
    const bigram = new EventBigram(unigram, 2).add([0, 0, 1], 3); // pairs (3,0) (0,0) (0,1)
    // P(1 | 0) = (c(0,1) + s P1(1)) / (c(0) + s) = (1 + 2 * 2/7) / (2 + 2)
    expect(bigram.probability(0, 1)).toBeCloseTo((1 + (2 * 2) / 7) / 4, 12);
    expect(bigram.probability(2, 1)).toBeCloseTo(2 / 7, 12); // unseen context: the unigram
    expect(bigram.nll([0, 1], 3)).toBeCloseTo(
      -Math.log(bigram.probability(3, 0)) - Math.log(bigram.probability(0, 1)),
      12,
    );
    let total = 0;
    for (let w = 0; w < 4; w++) total += bigram.probability(0, w);
    expect(total).toBeCloseTo(1, 12);
    expect(() => unigram.add([4])).toThrow(/id 4 at 0; expected \[0, 4\)/);
  });

  it('fitEventNgrams tunes on held-out sequences: a strict alternation wants a weak prior', () => {
    const alternate = (n: number) => Array.from({ length: n }, (_, i) => i % 2);
    const { unigram, bigram } = fitEventNgrams([alternate(200)], [alternate(50)], 3, 2);
    expect(bigram.strength).toBe(0.01);
    expect(bigram.probability(0, 1)).toBeGreaterThan(0.99);
    expect(unigram.total).toBe(250); // refitted on train + valid
    expect(bigram.nll(alternate(10), 2)).toBeLessThan(unigram.nll(alternate(10)));
  });
});
