/**
 * graph/pfam's data: the protein families of the data layer (loadProteinFamilySplits: Pfam seed
 * alignments from hmmer-examples and hmmer2's 630 globins, each family split by sequence identity so no
 * test sequence is above 50% identical to a training sequence of its family) as one labelled set.
 * A family whose every sequence also sits in another family is no class of its own (of two identical
 * families the first is kept): globins4's four
 * sequences are all among globins630's, so it would be a second label for the same sequences (listed in
 * `dropped`). Windows cut long sequences for the encoder; co-variation comes from each family's training
 * rows only, so nothing of a test sequence leaks into it.
 */
import { identitySplit } from '../data/identity-split.js';
import { type FamilySplit, loadProteinFamilySplits } from '../data/protein-families.js';
import { type ColumnCovariation, columnCovariation } from '../models/covariation.js';

export interface LabelledSequence {
  name: string;
  sequence: string;
  /** Alignment row (gaps and insert case kept), when the family is an alignment. */
  aligned?: string;
  label: number;
}

export interface PfamData {
  families: string[];
  train: LabelledSequence[];
  test: LabelledSequence[];
  /** Test sequences per family, and the clusters the identity split formed. */
  sizes: { family: string; train: number; test: number; clusters: number; identity: string }[];
  dropped: { family: string; reason: string }[];
}

export type PfamSource = () => Promise<FamilySplit[]>;

export const defaultPfamSource: PfamSource = () =>
  loadProteinFamilySplits({ threshold: 0.5, testFraction: 0.2, seed: 0 });

/** The families as classes (subset families dropped), with their identity splits. */
export async function loadPfamData(source: PfamSource = defaultPfamSource): Promise<PfamData> {
  const splits = await source();
  const membersOf = (s: FamilySplit) => new Set([...s.train, ...s.test].map((x) => x.sequence));
  const members = splits.map(membersOf);
  const dropped: PfamData['dropped'] = [];
  const kept = splits.filter((split, i) => {
    const mine = members[i]!;
    // contained in another family (of two identical ones, the first is kept)
    const container = splits.findIndex(
      (_other, j) =>
        j !== i && [...mine].every((s) => members[j]!.has(s)) && (mine.size < members[j]!.size || j < i),
    );
    if (container < 0) return true;
    dropped.push({
      family: split.id,
      reason: `every sequence is also in ${splits[container]!.id}: the same family twice`,
    });
    return false;
  });
  const labelled = (s: FamilySplit, label: number, part: 'train' | 'test') =>
    s[part].map((x) => ({
      name: x.name,
      sequence: x.sequence,
      ...(x.aligned !== undefined ? { aligned: x.aligned } : {}),
      label,
    }));
  return {
    families: kept.map((s) => s.id),
    train: kept.flatMap((s, label) => labelled(s, label, 'train')),
    test: kept.flatMap((s, label) => labelled(s, label, 'test')),
    sizes: kept.map((s) => ({
      family: s.id,
      train: s.train.length,
      test: s.test.length,
      clusters: s.clusters,
      identity: s.identity,
    })),
    dropped,
  };
}

/** Co-variation of each aligned family from its training rows (families with < 2 rows have none). */
export function familyCovariation(data: Pick<PfamData, 'families' | 'train'>): (ColumnCovariation | null)[] {
  return data.families.map((_, label) => {
    const rows = data.train
      .filter((s) => s.label === label && s.aligned !== undefined)
      .map((s) => s.aligned!);
    return rows.length >= 2 ? columnCovariation(rows) : null;
  });
}

/** Start offsets of windows of `window` residues covering a sequence of `length`, overlapping by half. */
export function windowStarts(length: number, window: number): number[] {
  if (length <= window) return [0];
  const stride = Math.max(1, Math.floor(window / 2));
  const starts: number[] = [];
  for (let s = 0; s + window < length; s += stride) starts.push(s);
  starts.push(length - window);
  return starts;
}

/**
 * A validation set carved out of training sequences the way the test set was (identitySplit per family:
 * no validation sequence above `threshold` identical to a remaining training one), for early stopping.
 * Aligned families compare alignment columns; the others are aligned pairwise (Needleman-Wunsch).
 * `fitClusters[i]` is the identity cluster of `fit[i]` within its family (the split's single-linkage
 * clusters), for drawing training sequences by cluster.
 */
export function identityHoldout(
  sequences: readonly LabelledSequence[],
  opts: { fraction: number; seed: number; threshold?: number },
): { fit: LabelledSequence[]; valid: LabelledSequence[]; fitClusters: number[] } {
  const fit: LabelledSequence[] = [];
  const valid: LabelledSequence[] = [];
  const fitClusters: number[] = [];
  const labels = [...new Set(sequences.map((s) => s.label))];
  for (const label of labels) {
    const members = sequences.filter((s) => s.label === label);
    const aligned = members.every((s) => s.aligned !== undefined);
    const split = identitySplit(
      members.map((s) => (aligned ? s.aligned! : s.sequence)),
      {
        threshold: opts.threshold ?? 0.5,
        testFraction: opts.fraction,
        seed: opts.seed,
        identity: aligned ? 'aligned' : 'global',
      },
    );
    fit.push(...split.train.map((i) => members[i]!));
    fitClusters.push(...split.train.map((i) => split.clusterOf[i]!));
    valid.push(...split.test.map((i) => members[i]!));
  }
  return { fit, valid, fitClusters };
}
