import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { readFasta } from '../preprocess/fasta.js';
import { readStockholm } from '../preprocess/stockholm.js';
import { identitySplit } from './identity-split.js';
import { alignedIdentity, globalAlignmentIdentity } from './sequence-identity.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

/** A synthetic aligned family: `groups` ancestors, each with `copies` rows mutated at `rate`. */
function syntheticFamily(groups: number, copies: number, rate: number, length = 60): string[] {
  let state = 99;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const residue = () => 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(next() * 20)]!;
  const rows: string[] = [];
  for (let g = 0; g < groups; g++) {
    const ancestor = Array.from({ length }, residue);
    for (let c = 0; c < copies; c++)
      rows.push(ancestor.map((r) => (next() < rate ? residue() : next() < 0.05 ? '-' : r)).join(''));
  }
  return rows;
}

function maxCrossIdentity(
  rows: string[],
  split: { train: number[]; test: number[] },
  measure: (a: string, b: string) => number,
) {
  let worst = 0;
  for (const i of split.test)
    for (const j of split.train) worst = Math.max(worst, measure(rows[i]!, rows[j]!));
  return worst;
}

describe('identitySplit', () => {
  it('keeps every test row at or below the threshold to every training row, whole clusters apart', () => {
    const rows = syntheticFamily(12, 5, 0.2);
    const split = identitySplit(rows, { threshold: 0.5, testFraction: 0.25, seed: 3 });
    expect(split.clusters).toBe(12);
    expect(split.test.length).toBe(15);
    expect(split.train.length + split.test.length).toBe(rows.length);
    expect(maxCrossIdentity(rows, split, alignedIdentity)).toBeLessThanOrEqual(0.5);
    // the members of one ancestor share a cluster, and a cluster is never split
    for (let g = 0; g < 12; g++) expect(new Set(split.clusterOf.subarray(g * 5, g * 5 + 5)).size).toBe(1);
    const testClusters = new Set(split.test.map((i) => split.clusterOf[i]));
    expect(split.train.some((i) => testClusters.has(split.clusterOf[i]!))).toBe(false);
  });

  it('is seeded: the same seed gives the same split, another seed another one', () => {
    const rows = syntheticFamily(20, 2, 0.1);
    const a = identitySplit(rows, { seed: 1 });
    expect(identitySplit(rows, { seed: 1 })).toEqual(a);
    expect(identitySplit(rows, { seed: 2 }).test).not.toEqual(a.test);
  });

  it('splits the Caudal_act seed over its columns and the globin sample by global alignment', async () => {
    const [caudal] = await readStockholm({ path: new URL('Caudal_act.sto.gz', fixtures).pathname });
    const rows = caudal!.sequences.map((s) => s.aligned);
    const aligned = identitySplit(rows, { threshold: 0.5, testFraction: 0.3 });
    expect(aligned.test.length).toBeGreaterThan(0);
    expect(maxCrossIdentity(rows, aligned, alignedIdentity)).toBeLessThanOrEqual(0.5);
    const globins = (await readFasta({ path: new URL('globins-sample.fa', fixtures).pathname })).map(
      (r) => r.sequence,
    );
    const global = identitySplit(globins, { threshold: 0.4, testFraction: 0.34, identity: 'global' });
    expect(global.test.length).toBeGreaterThan(0);
    expect(maxCrossIdentity(globins, global, globalAlignmentIdentity)).toBeLessThanOrEqual(0.4);
  });

  it('handles empty and one-sequence families and checks its options', () => {
    expect(identitySplit([])).toMatchObject({ train: [], test: [], clusters: 0 });
    expect(identitySplit(['MKV'], { testFraction: 0.9 })).toMatchObject({
      train: [],
      test: [0],
      clusters: 1,
    });
    expectError(() => identitySplit(['A'], { threshold: 2 }), /threshold must be a number in \[0, 1\]/);
    expectError(() => identitySplit(['A'], { testFraction: 1 }), /testFraction must be a number in \[0, 1\)/);
    expectError(
      () => identitySplit(['A'], { identity: 'local' as 'global' }),
      /identity must be 'aligned' or 'global'/,
    );
    expectError(() => identitySplit([1] as unknown as string[]), /expected an array of sequence strings/);
  });
});
