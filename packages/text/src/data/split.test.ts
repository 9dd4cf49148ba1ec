import { describe, expect, it } from 'vitest';
import { seededShuffle, splitTrainTest } from './split.js';

const items = Array.from({ length: 100 }, (_, i) => i);

describe('seeded splits', () => {
  it('shuffles the same way for the same seed, differently for another', () => {
    expect(seededShuffle(items, 7)).toEqual(seededShuffle(items, 7));
    expect(seededShuffle(items, 7)).not.toEqual(seededShuffle(items, 8));
    expect([...seededShuffle(items, 7)].sort((a, b) => a - b)).toEqual(items);
    // pinned: a change to the generator would silently change every dataset split
    expect(seededShuffle(items, 0).slice(0, 5)).toEqual([96, 37, 59, 99, 30]);
  });

  it('holds out round(n * testFraction) items, disjoint from train', () => {
    const { train, test } = splitTrainTest(items, { testFraction: 0.25, seed: 3 });
    expect(test).toHaveLength(25);
    expect(train).toHaveLength(75);
    expect(new Set([...train, ...test]).size).toBe(100);
  });

  it('keeps class balance when stratified', () => {
    const labelled = items.map((i) => ({ i, label: i < 30 ? 'spam' : 'ham' }));
    const { train, test } = splitTrainTest(labelled, { testFraction: 0.2, stratify: (x) => x.label });
    expect(test.filter((x) => x.label === 'spam')).toHaveLength(6);
    expect(train.filter((x) => x.label === 'spam')).toHaveLength(24);
    // classes are interleaved again, not one block after the other
    expect(train.slice(0, 24).every((x) => x.label === 'spam')).toBe(false);
  });

  it('refuses a bad fraction or seed', () => {
    expect(() => splitTrainTest(items, { testFraction: 1 })).toThrow(
      /testFraction must be a number in \[0, 1\), got 1/,
    );
    expect(() => splitTrainTest(items, { seed: 0.5 })).toThrow(/seed must be an integer/);
  });
});
