/**
 * Train/test splits of a protein family by sequence identity, so no test sequence is more than
 * `threshold` identical to any training sequence of its family (the usual guard against homology
 * leakage in protein benchmarks, e.g. TAPE's remote-homology and ProteinNet's splits).
 *
 * Clusters are single-linkage: two sequences above the threshold share a cluster, transitively
 * (connected components of the "identity > threshold" graph), built with union-find while pairs are
 * visited in a seeded order; pairs already in one cluster are not aligned again. Whole clusters go to
 * test, in seeded order, while they fit in `round(n * testFraction)`, so the guarantee holds exactly.
 * Greedy representative clustering (CD-HIT style) would not give it: a member can be close to a member
 * of another cluster. The price: a family of near-relatives may form one big cluster, leaving few
 * sequences that can be held out (the split reports the clusters so this shows).
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../errors.js';
import { alignedIdentity, globalAlignmentIdentity } from './sequence-identity.js';

export interface IdentitySplitOptions {
  /** Largest identity allowed between a test and a training sequence. Default 0.5. */
  threshold?: number;
  /** Target share of test sequences, in [0, 1). Default 0.2. */
  testFraction?: number;
  /** Default 0. */
  seed?: number;
  /**
   * 'aligned' (rows of one alignment: identity over its columns) or 'global' (unaligned sequences:
   * Needleman-Wunsch). Default 'aligned'.
   */
  identity?: 'aligned' | 'global';
}

export interface IdentitySplit {
  /** Indices into the input, ascending. */
  train: number[];
  test: number[];
  /** Cluster of each input sequence (0-based, in order of first member). */
  clusterOf: Int32Array;
  clusters: number;
  /** Pairs that were aligned (the others were already in one cluster). */
  alignedPairs: number;
}

/** Splits sequences (aligned rows or raw sequences) by single-linkage identity clusters. */
export function identitySplit(
  sequences: readonly string[],
  options: IdentitySplitOptions = {},
): IdentitySplit {
  const where = 'identitySplit';
  const threshold = options.threshold ?? 0.5;
  const testFraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 0;
  const identity = options.identity ?? 'aligned';
  if (!Array.isArray(sequences) || sequences.some((s) => typeof s !== 'string')) {
    invalidArgument(`${where}: expected an array of sequence strings`);
  }
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    invalidArgument(`${where}: threshold must be a number in [0, 1], got ${String(threshold)}`);
  }
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction < 1)) {
    invalidArgument(`${where}: testFraction must be a number in [0, 1), got ${String(testFraction)}`);
  }
  if (!Number.isInteger(seed)) invalidArgument(`${where}: seed must be an integer, got ${String(seed)}`);
  if (identity !== 'aligned' && identity !== 'global') {
    invalidArgument(`${where}: identity must be 'aligned' or 'global', got ${JSON.stringify(identity)}`);
  }
  const measure = identity === 'aligned' ? alignedIdentity : globalAlignmentIdentity;
  const n = sequences.length;
  const random = seededUniform(seed);
  const order = shuffle(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[i] !== root) {
      const next = parent[i]!;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  let alignedPairs = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const i = order[a]!;
      const j = order[b]!;
      const rootI = find(i);
      const rootJ = find(j);
      if (rootI === rootJ) continue;
      alignedPairs++;
      if (measure(sequences[i]!, sequences[j]!) > threshold) parent[rootI] = rootJ;
    }
  }
  // clusters numbered by first member in input order
  const clusterOf = new Int32Array(n);
  const labelOfRoot = new Map<number, number>();
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let label = labelOfRoot.get(root);
    if (label === undefined) {
      label = members.length;
      labelOfRoot.set(root, label);
      members.push([]);
    }
    clusterOf[i] = label;
    members[label]!.push(i);
  }
  const target = Math.round(n * testFraction);
  const test: number[] = [];
  const train: number[] = [];
  for (const label of shuffle(
    members.map((_, label) => label),
    random,
  )) {
    const cluster = members[label]!;
    if (test.length + cluster.length <= target) test.push(...cluster);
    else train.push(...cluster);
  }
  const ascending = (x: number, y: number) => x - y;
  return {
    train: train.sort(ascending),
    test: test.sort(ascending),
    clusterOf,
    clusters: members.length,
    alignedPairs,
  };
}

/** Fisher-Yates with the given stream. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
