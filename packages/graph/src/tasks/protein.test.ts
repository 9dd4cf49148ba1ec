/**
 * graph/protein on committed samples with a one-layer GPT: the scoring windows cover every residue once,
 * training and evaluation beside the per-family unigram, streamed generation per family (and after a
 * start), attention over the family token and residues, bad inputs.
 */
import { seededUniform, tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRejection } from '../../test/expect-error.js';
import { SAMPLE_FAMILIES } from '../../test/samples.js';
import { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';
import { createProteinTask } from './protein.js';
import {
  familyTokens,
  type SequenceGroup,
  scoringRows,
  sequenceSampler,
  trainingRow,
} from './protein-gpt.js';

const families = ['globins4', 'Caudal_act', 'globins-sample'];
const task = createProteinTask({
  data: SAMPLE_FAMILIES,
  families,
  config: { blockSize: 40, nLayer: 1, nHead: 2, nEmbd: 16 },
  training: { batchSize: 4, warmupSteps: 2, validateEvery: 5, validationFraction: 0.3 },
});
const { ctx } = await taskTestContext('protein', 4, { afterAll, store: tasks.folderStore });

describe('protein GPT rows', () => {
  const tokenizer = new ProteinTokenizer();
  it('puts the family token first: [family, <cls>, residues, <eos>]', () => {
    expect(familyTokens(tokenizer, 2, 'MK')).toEqual([35, 0, 20, 15, 2]);
  });

  it('scores every residue exactly once, with the family first in every window', () => {
    for (const n of [3, 10, 37, 100]) {
      const tokens = familyTokens(tokenizer, 1, 'A'.repeat(n));
      const rows = scoringRows(tokens, 16);
      let scored = 0;
      for (const row of rows) {
        expect(row.ids[0]).toBe(34);
        expect(row.ids.length).toBeLessThanOrEqual(17);
        row.scored.forEach((s, t) => {
          if (!s) return;
          scored++;
          expect(row.ids[t + 1]).toBe(tokenizer.tokenToId('A'));
        });
      }
      expect(scored).toBe(n);
    }
  });

  it('cuts a random training window of long sequences after the family token', () => {
    const tokens = familyTokens(tokenizer, 0, 'ACDEFGHIKLMNPQRSTVWY'.repeat(3));
    const row = trainingRow(tokens, 16, () => 0.5);
    expect(row.ids).toHaveLength(17);
    expect(row.ids[0]).toBe(33);
    expect(row.scored[0]).toBe(false); // the first residue after a cut has no context
  });
});

describe('protein GPT sequence sampler', () => {
  // family 0: a cluster of 6 near-duplicates and a singleton; family 1: one cluster of 2; family 2:
  // three singletons (13 sequences, 6 clusters, 3 families)
  const sizes = [[6, 1], [2], [1, 1, 1]];
  const groups: SequenceGroup[] = sizes.flatMap((clusters, family) =>
    clusters.flatMap((n, c) => Array.from({ length: n }, () => ({ family, cluster: 10 * family + c }))),
  );
  const draws = 60_000;
  const frequencies = (sampling: 'sequence' | 'cluster' | 'family', seed: number) => {
    const draw = sequenceSampler(groups, sampling, seededUniform(seed));
    const counts = new Float64Array(groups.length);
    for (let i = 0; i < draws; i++) counts[draw()]! += 1;
    return Array.from(counts, (c) => c / draws);
  };
  // exact probability of each sequence, per sampling, from the sizes
  const expected = (sampling: 'sequence' | 'cluster' | 'family') =>
    sizes.flatMap((clusters) =>
      clusters.flatMap((n) =>
        Array.from({ length: n }, () =>
          sampling === 'sequence'
            ? 1 / groups.length
            : sampling === 'cluster'
              ? 1 / 6 / n
              : 1 / sizes.length / clusters.length / n,
        ),
      ),
    );
  // tolerance: 5 binomial standard deviations of a frequency over `draws` draws
  const within = (got: number[], want: number[]) =>
    got.forEach((f, i) => {
      const p = want[i]!;
      expect(Math.abs(f - p), `sequence ${i}: ${f} vs ${p}`).toBeLessThanOrEqual(
        5 * Math.sqrt((p * (1 - p)) / draws),
      );
    });

  for (const sampling of ['sequence', 'cluster', 'family'] as const)
    it(`draws by ${sampling} with the exact frequencies (seeds 1 and 2)`, () => {
      for (const seed of [1, 2]) within(frequencies(sampling, seed), expected(sampling));
    });

  it('gives a large cluster less weight the more balanced the draw', () => {
    const bigCluster = (f: number[]) => f.slice(0, 6).reduce((a, b) => a + b, 0);
    const [bySequence, byCluster, byFamily] = (['sequence', 'cluster', 'family'] as const).map((s) =>
      bigCluster(frequencies(s, 3)),
    );
    expect(bySequence).toBeGreaterThan(0.4); // 6 / 13
    expect(byCluster).toBeLessThan(0.2); // 1 / 6
    expect(byFamily).toBeCloseTo(1 / 6, 1); // 1 / 3 * 1 / 2
  });

  it('is deterministic under a seed', () => {
    const run = (seed: number) => {
      const draw = sequenceSampler(groups, 'family', seededUniform(seed));
      return Array.from({ length: 50 }, () => draw());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('names the argument on bad input', () => {
    expect(() => sequenceSampler([], 'cluster', Math.random)).toThrow(/groups is empty/);
    expect(() => sequenceSampler(groups, 'clusters' as 'cluster', Math.random)).toThrow(
      /sampling is "clusters"; expected 'sequence', 'cluster' or 'family'/,
    );
    expect(() => sequenceSampler([{ family: 0, cluster: 0.5 }], 'family', Math.random)).toThrow(
      /groups\[0\] is .*expected integer family and cluster/,
    );
  });
});

describe('graph/protein', () => {
  it('trains, stores, and evaluates held-out perplexity beside the family unigram', async () => {
    const report = await task.train(ctx, { steps: 10 });
    expect(report).toMatchObject({ task: 'graph/protein', steps: 10, unit: 'residues' });
    // early stopping: validated after steps 5 and 10, the better weights kept
    const saved = tasks.parseTaskCheckpoint(
      'graph/protein',
      (await ctx.store!.read('graph/protein'))!,
      'trained',
      'x',
    );
    const training = saved.checkpoint.metadata['training'] as {
      validation: { step: number; nll: number }[];
      keptStep: number;
    };
    expect(training.validation.map((v) => v.step)).toEqual([5, 10]);
    const bestNll = Math.min(...training.validation.map((v) => v.nll));
    expect(training.validation.find((v) => v.step === training.keptStep)!.nll).toBe(bestNll);
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'graph/protein',
      split: { name: 'identity' },
      checkpoint: { source: 'trained', step: 10 },
      goal: { metric: 'perplexity', op: '<=', beat: ['familyUnigram'] },
    });
    for (const m of [evaluation.metrics, evaluation.baselines['familyUnigram']!]) {
      expect(m['perplexity']).toBeGreaterThan(1);
      expect(m['perplexity']).toBeCloseTo(Math.exp(m['nll']!), 2);
    }
    // an untrained-ish model is near uniform over ~30 tokens; the unigram near 20 residues
    expect(evaluation.baselines['familyUnigram']!['perplexity']).toBeLessThan(25);
  });

  it('streams residues of the chosen family, after a start when given', async () => {
    const { pieces, output } = await tasks.collectRun(
      task.run(ctx, undefined, { family: 'Caudal_act', maxNewTokens: 12 }),
    );
    if (output.kind !== 'text') throw new Error('expected text');
    expect(output.text).toBe(pieces.map((p) => (p.kind === 'text' ? p.text : '')).join(''));
    expect(output.text).toMatch(/^[A-Z]{0,12}$/);
    const started = await task.run(ctx, 'MV', { family: 'globins4', maxNewTokens: 5, temperature: 0 }).result;
    if (started.kind !== 'text') throw new Error('expected text');
    expect(started.text.startsWith('MV')).toBe(true);
    expect(started.text.length).toBeLessThanOrEqual(7);
  });

  it('refuses an unknown family and a bad start', async () => {
    await expectRejection(
      task.run(ctx, undefined, { family: 'kinase' }).result,
      /expected one of globins4, Caudal_act, globins-sample/,
    );
    await expectRejection(task.run(ctx, 'MV9').result, /character "9"/);
  });

  it('gives causal attention over the family token, <cls> and the residues', async () => {
    const report = await task.attention(ctx, 'MKV', { params: { family: 'globins-sample' } });
    expect(report).toMatchObject({
      positions: 'residues',
      causal: true,
      labels: ['globins-sample', '<cls>', 'M1', 'K2', 'V3'],
    });
    const { weights } = report.layers[0]!;
    expect(weights[1]).toBe(0); // query 0 cannot see key 1
  });
});
