/** The baselines on hand-made cases whose answers are known in closed form. */
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { parseEdgeList } from '../preprocess/edge-list.js';
import { FamilyUnigram } from './family-unigram.js';
import { KmerLogisticRegression, kmerFeatures } from './kmer-logistic.js';
import { labelPropagation } from './label-propagation.js';
import { RidgeRegression } from './ridge.js';

describe('KmerLogisticRegression (bag of 3-mers)', () => {
  it('counts overlapping k-mers, sublinear and L2-normalized', () => {
    const { index, value } = kmerFeatures('AAAC', 2); // AA twice, AC once
    const AA = 0;
    const AC = 0 * 21 + 1;
    const byId = new Map(Array.from(index, (id, i) => [id, value[i]!]));
    const aa = 1 + Math.log(2);
    expect(byId.get(AA)).toBeCloseTo(aa / Math.hypot(aa, 1), 12);
    expect(byId.get(AC)).toBeCloseTo(1 / Math.hypot(aa, 1), 12);
    expect(kmerFeatures('AZ', 1).index).toContain(20); // Z is outside the 20: the 'other' letter
  });

  it('separates families that differ in their 3-mers and gives probabilities', () => {
    const a = ['MKVLAAGIVG', 'MKVLAAGLVG', 'KVLAAGIVGM'];
    const b = ['WYHPTWYHPT', 'YHPTWYHPTW', 'WYHPSWYHPT'];
    const model = KmerLogisticRegression.fit([...a, ...b], [0, 0, 0, 1, 1, 1], 2, {
      l2: 1e-3,
      iterations: 200,
    });
    expect(model.predict('MKVLAAGIVGA')).toBe(0);
    expect(model.predict('TWYHPTWYH')).toBe(1);
    const p = model.predictProba('MKVLAAG');
    expect(p[0]! + p[1]!).toBeCloseTo(1, 12);
    expect(p[0]).toBeGreaterThan(0.5);
  });

  it('chooses its penalty on a hold-out when none is given', () => {
    const seqs = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'WYHPT' : 'MKVLA').repeat(2 + (i % 3)));
    const model = KmerLogisticRegression.fit(
      seqs,
      seqs.map((_, i) => i % 2),
      2,
      { l2Grid: [1e-2, 1e-4], iterations: 50 },
    );
    expect([1e-2, 1e-4]).toContain(model.l2);
  });

  it('chooses its penalty on a given hold-out, and refuses a bad one', () => {
    // fitted: one A-rich row of class 0, three W-rich rows of class 1. Held out: an A-rich row of class 1
    // (memorizing, small λ, calls it 0; the strong penalty leaves the bias, the prior of class 1) or a
    // copy of fitted rows (both are right; memorizing is surer, and the log-likelihood breaks the tie)
    const seqs = ['AAAAAA', 'WWWWWW', 'WWWWWW', 'WWWWWW', 'AAAAAA', 'AAAAAA'];
    const labels = [0, 1, 1, 1, 1, 0];
    const fit = (holdout: number[]) =>
      KmerLogisticRegression.fit(seqs, labels, 2, { l2Grid: [10, 1e-5], iterations: 100, holdout });
    expect(fit([4]).l2).toBe(10);
    expect(fit([1]).l2).toBe(1e-5);
    expectError(() => fit([8]), /holdout index 8 is outside the 6 sequences/);
    expectError(() => fit([]), /holdout has 0 of 6 sequences/);
  });

  it('refuses mismatched labels, bad k and labels outside the classes', () => {
    expectError(() => KmerLogisticRegression.fit(['AAA'], [0, 1], 2), /1 sequences for 2 labels/);
    expectError(() => KmerLogisticRegression.fit(['AAA'], [0], 2, { k: 9 }), /k must be 1 to 5/);
    expectError(() => KmerLogisticRegression.fit(['AAA'], [2], 2), /labels\[0\] = 2 is outside \[0, 2\)/);
  });
});

describe('labelPropagation (harmonic solution)', () => {
  it('interpolates linearly along a path between two clamped ends', () => {
    const path = parseEdgeList('0 1\n1 2\n2 3\n3 4');
    const scores = labelPropagation(path, [0, -1, -1, -1, 1], { classes: 2 });
    // the harmonic function on a path is linear: P(class 0) = 1, .75, .5, .25, 0
    [1, 0.75, 0.5, 0.25, 0].forEach((p, i) => {
      expect(scores[i * 2]).toBeCloseTo(p, 8);
      expect(scores[i * 2 + 1]).toBeCloseTo(1 - p, 8);
    });
  });

  it('weights edges and leaves nodes with no labelled node in reach at zero', () => {
    // a star: centre 1 joined to 0 (weight 3) and 2 (weight 1); 3-4 apart
    const g = parseEdgeList('0 1 3\n1 2 1\n3 4');
    const scores = labelPropagation(g, [0, -1, 1, -1, -1], {
      classes: 2,
      weight: (e) => (e.attributes['weight'] as number | undefined) ?? 1,
    });
    expect(scores[2]).toBeCloseTo(0.75, 10);
    expect(Array.from(scores.subarray(6))).toEqual([0, 0, 0, 0]);
  });

  it('refuses labels of the wrong count or range', () => {
    const g = parseEdgeList('0 1');
    expectError(() => labelPropagation(g, [0], { classes: 2 }), /1 labels for 2 nodes/);
    expectError(() => labelPropagation(g, [0, 2], { classes: 2 }), /labels\[1\] = 2/);
  });
});

describe('RidgeRegression', () => {
  it('recovers an exact linear rule with a tiny penalty and matches the closed form with a large one', () => {
    const rows = [
      [1, 0],
      [0, 1],
      [2, 1],
      [3, 5],
      [1, 4],
    ];
    const y = rows.map(([a, b]) => 2 * a! - b! + 3);
    const exact = RidgeRegression.fit(rows, y, { lambda: 1e-9 });
    expect(exact.weights[0]).toBeCloseTo(2, 6);
    expect(exact.weights[1]).toBeCloseTo(-1, 6);
    expect(exact.intercept).toBeCloseTo(3, 6);
    // one feature, centred: w = Σ xc·yc / (Σ xc² + λ); x = 0, 1, 2; y = 0, 1, 5
    const one = RidgeRegression.fit([[0], [1], [2]], [0, 1, 5], { lambda: 2 });
    expect(one.weights[0]).toBeCloseTo((-1 * -2 + 0 + 1 * 3) / (2 + 2), 12);
    expect(one.intercept).toBeCloseTo(2 - one.weights[0]! * 1, 12);
  });

  it('picks λ from its grid and refuses ragged rows', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5]);
    const model = RidgeRegression.fit(
      rows,
      rows.map(([a]) => a! * 0.5),
      { grid: [0.01, 100] },
    );
    expect(model.lambda).toBe(0.01);
    expectError(() => RidgeRegression.fit([[1, 2], [3]], [1, 2]), /row 1 has 1 features; expected 2/);
  });
});

describe('FamilyUnigram', () => {
  it('is add-one smoothed per family', () => {
    const model = FamilyUnigram.fit([[[0, 0, 1]], [[2]]], 3);
    // family 0: counts 2+1, 1+1, 0+1 over 3 + 3
    expect(model.nll(0, [0, 2]).nll).toBeCloseTo(-Math.log(3 / 6) - Math.log(1 / 6), 12);
    expect(model.nll(1, [2]).nll).toBeCloseTo(-Math.log(2 / 4), 12);
    expectError(() => FamilyUnigram.fit([[[3]]], 3), /symbol 3 of family 0 is outside \[0, 3\)/);
  });
});
