import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { alignedIdentity, globalAlignment, globalAlignmentIdentity } from './sequence-identity.js';

const oracle = JSON.parse(
  await readFile(new URL('../../test/fixtures/needleman-wunsch.json', import.meta.url), 'utf8'),
) as {
  cases: {
    a: string;
    b: string;
    score: number;
    minIdentity: number;
    maxIdentity: number;
    complete: boolean;
  }[];
};

describe('alignedIdentity', () => {
  it('counts identical pairs over columns where both rows have a residue, ignoring case', () => {
    expect(alignedIdentity('AC-DE', 'AC-DE')).toBe(1);
    expect(alignedIdentity('ACdEF', 'A.DQF')).toBe(3 / 4);
    expect(alignedIdentity('AC--', '--DE')).toBe(0);
    expect(alignedIdentity('', '')).toBe(0);
    expectError(() => alignedIdentity('AC', 'A'), /same length, got 2 and 1/);
  });
});

describe('globalAlignment (Needleman-Wunsch)', () => {
  it("gives Biopython's optimal score, and an identity within its optimal alignments' range", () => {
    expect(oracle.cases).toHaveLength(40);
    let ranged = 0;
    for (const { a, b, score, minIdentity, maxIdentity, complete } of oracle.cases) {
      const ours = globalAlignment(a, b);
      expect(ours.score, `${a} / ${b}`).toBe(score);
      if (!complete) continue;
      ranged++;
      const identity = ours.pairs === 0 ? 0 : ours.identical / ours.pairs;
      expect(identity).toBeGreaterThanOrEqual(minIdentity - 1e-12);
      expect(identity).toBeLessThanOrEqual(maxIdentity + 1e-12);
    }
    expect(ranged).toBeGreaterThanOrEqual(20);
  });

  it('handles identical, shifted and empty sequences', () => {
    expect(globalAlignmentIdentity('MKVLA', 'mkvla')).toBe(1);
    expect(globalAlignment('ACDEF', 'ACEF')).toEqual({ score: 6, identical: 4, pairs: 4 });
    expect(globalAlignment('', 'ACE')).toEqual({ score: -6, identical: 0, pairs: 0 });
    expect(globalAlignmentIdentity('', '')).toBe(0);
    expectError(
      () => globalAlignment('A', 'A', { match: 1.5, mismatch: -1, gap: -2 }),
      /scores.match must be an integer/,
    );
  });
});
