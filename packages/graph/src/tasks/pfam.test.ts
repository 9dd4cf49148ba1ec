/**
 * graph/pfam on committed samples (globins4, Caudal_act, six globins of globins630) with a one-layer
 * encoder: masked-LM pretraining with co-variation bias, training, evaluation beside the 3-mer baseline,
 * run with its contact-map PNG, attention with and without an alignment, bad inputs.
 */
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRejection } from '../../test/expect-error.js';
import { SAMPLE_FAMILIES } from '../../test/samples.js';
import { alignedIdentity, globalAlignmentIdentity } from '../data/sequence-identity.js';
import { GRAPH_TASKS } from './index.js';
import { createPfamTask } from './pfam.js';
import { identityHoldout, loadPfamData, windowStarts } from './pfam-data.js';

const task = createPfamTask({
  data: SAMPLE_FAMILIES,
  config: {
    dModel: 16,
    nHead: 2,
    nLayer: 1,
    dimFeedforward: 32,
    relativeBuckets: 8,
    relativeMaxDistance: 16,
  },
  training: { batchSize: 4, window: 24, pretrainSteps: 3, warmupSteps: 2 },
  baselineIterations: 20,
});
const globin =
  'VLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR';

const { ctx } = await taskTestContext('pfam', 1, { afterAll, store: tasks.folderStore });

describe('graph/pfam data', () => {
  it('keeps families as classes and drops one whose sequences all sit in another', async () => {
    const data = await loadPfamData(SAMPLE_FAMILIES);
    expect(data.families).toEqual(['globins4', 'Caudal_act', 'globins-sample']);
    expect(data.train.length + data.test.length).toBe(19);
    const doubled = await loadPfamData(async () => {
      const splits = await SAMPLE_FAMILIES();
      return [...splits, { ...splits[0]!, id: 'globins4-copy' }];
    });
    expect(doubled.dropped).toEqual([
      { family: 'globins4-copy', reason: 'every sequence is also in globins4: the same family twice' },
    ]);
  });

  it('covers a sequence with windows overlapping by half', () => {
    expect(windowStarts(10, 16)).toEqual([0]);
    expect(windowStarts(40, 16)).toEqual([0, 8, 16, 24]);
  });

  it('holds out validation sequences by identity, as the test split, within each family', async () => {
    const { train } = await loadPfamData(SAMPLE_FAMILIES);
    const { fit, valid } = identityHoldout(train, { fraction: 0.3, seed: 2 });
    expect([...fit, ...valid].map((s) => s.name).sort()).toEqual(train.map((s) => s.name).sort());
    expect(valid.length).toBeGreaterThan(0);
    for (const v of valid)
      for (const f of fit.filter((s) => s.label === v.label)) {
        const identity =
          v.aligned !== undefined && f.aligned !== undefined
            ? alignedIdentity(v.aligned, f.aligned)
            : globalAlignmentIdentity(v.sequence, f.sequence);
        expect(identity).toBeLessThanOrEqual(0.5);
      }
    // a near-duplicate of a kept sequence cannot be held out: it would be ~100% identical to it
    const twin = { ...train[0]!, name: 'twin' };
    const withTwin = identityHoldout([...train, twin], { fraction: 0.3, seed: 2 });
    const side = (name: string) => (withTwin.valid.some((s) => s.name === name) ? 'valid' : 'fit');
    expect(side('twin')).toBe(side(train[0]!.name));
    // fitClusters: each fit sequence's single-linkage cluster; sequences above 50% identical share one
    for (const held of [identityHoldout(train, { fraction: 0.3, seed: 2 }), withTwin]) {
      expect(held.fitClusters).toHaveLength(held.fit.length);
      let linked = 0;
      for (let i = 0; i < held.fit.length; i++)
        for (let j = i + 1; j < held.fit.length; j++) {
          const a = held.fit[i]!;
          const b = held.fit[j]!;
          if (a.label !== b.label) continue;
          const identity =
            a.aligned !== undefined && b.aligned !== undefined
              ? alignedIdentity(a.aligned, b.aligned)
              : globalAlignmentIdentity(a.sequence, b.sequence);
          if (identity <= 0.5) continue;
          linked++;
          expect(held.fitClusters[i]).toBe(held.fitClusters[j]);
        }
      expect(linked).toBeGreaterThan(0);
    }
  });
});

describe('graph/pfam', () => {
  it('is in GRAPH_TASKS: classify sequences, attention over residues', () => {
    expect(GRAPH_TASKS.find((t) => t.id === 'graph/pfam')).toMatchObject({
      kind: 'classify',
      input: { kind: 'sequence' },
      positions: 'residues',
      goal: { metric: 'accuracy', op: '>=', value: 0.97, beat: ['kmer3LogisticRegression'] },
    });
  });

  it('pretrains, trains, stores, and evaluates beside the 3-mer baseline with the split sizes', async () => {
    const report = await task.train(ctx, { steps: 8 });
    expect(report).toMatchObject({ task: 'graph/pfam', steps: 8, unit: 'residues' });
    expect(report.losses.every((l) => Number.isFinite(l.loss))).toBe(true);
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'graph/pfam',
      split: { name: 'identity' },
      checkpoint: { source: 'trained', step: 8 },
    });
    const data = await loadPfamData(SAMPLE_FAMILIES);
    expect(evaluation.examples).toBe(data.test.length);
    expect(evaluation.details['sizes']).toEqual(data.sizes);
    const pair = evaluation.details['pairBias'] as {
      sequences: number;
      mlmLossWithCovariation: number;
      mlmLossWithout: number;
    };
    expect(pair.sequences).toBeGreaterThan(0);
    expect(Number.isFinite(pair.mlmLossWithCovariation) && Number.isFinite(pair.mlmLossWithout)).toBe(true);
    for (const m of [evaluation.metrics, evaluation.baselines['kmer3LogisticRegression']!]) {
      expect(m['accuracy']).toBeGreaterThanOrEqual(0);
      expect(m['balancedAccuracy']).toBeLessThanOrEqual(1);
    }
  });

  it('classifies residues and FASTA alike, with a contact-map PNG unless asked not to', async () => {
    const fromResidues = await task.run(ctx, globin).result;
    const fromFasta = await task.run(ctx, `>HBA\n${globin.slice(0, 60)}\n${globin.slice(60)}\n`).result;
    if (fromResidues.kind !== 'label' || fromFasta.kind !== 'label') throw new Error('expected labels');
    expect(fromResidues.scores.map((s) => s.label)).toEqual(['globins4', 'Caudal_act', 'globins-sample']);
    expect(fromResidues.scores.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 5);
    expect(fromFasta.scores).toEqual(fromResidues.scores);
    const png = fromResidues.artifacts![0]!;
    expect(png).toMatchObject({ name: 'contact-map.png', mime: 'image/png' });
    expect(Array.from(png.bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    const plain = await task.run(ctx, globin, { contactMap: false }).result;
    expect(plain.artifacts).toBeUndefined();
  });

  it('maps attention over the first window of residues, with an alignment biasing it by co-variation', async () => {
    const plain = await task.attention(ctx, 'MKVLAG');
    expect(plain).toMatchObject({ positions: 'residues', numLayers: 1, causal: false });
    expect(plain.labels).toEqual(['<cls>', 'M1', 'K2', 'V3', 'L4', 'A5', 'G6', '<eos>']);
    const long = await task.attention(ctx, globin);
    expect(long.labels).toHaveLength(24 + 2);
    const aligned = await task.attention(ctx, '>q\nMKV-LAG\n>a\nMRVALAG\n>b\nMKIALSG\n>c\nLKV-LSA\n');
    expect(aligned.labels).toEqual(plain.labels);
    expect(aligned.layers[0]!.weights).toHaveLength(2 * 8 * 8);
  });

  it('refuses empty, non-protein and ragged input', async () => {
    await expectRejection(task.run(ctx, '').result, /empty text/);
    await expectRejection(task.run(ctx, 'MKV*LA').result, /character "\*" at position 3/);
    await expectRejection(task.attention(ctx, '>q\nMKV\n>r\nMK\n'), /must have 3 columns/);
  });
});
