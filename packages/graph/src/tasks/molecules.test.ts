/**
 * graph/molecules on the committed NCI sample (20 valid SMILES) with a tiny Graphormer: scaffolds, the
 * scaffold split, train/evaluate beside both baselines, run on a SMILES string and a .smi file, atom
 * attention maps, bad inputs.
 */
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expectError, expectRejection } from '../../test/expect-error.js';
import { parseSmiles } from '../preprocess/molecule.js';
import {
  elementCounts,
  moleculeFeatures,
  scaffoldAtoms,
  scaffoldKeys,
  scaffoldSplit,
} from './molecule-data.js';
import { createMoleculesTask } from './molecules.js';

const sample = new URL('../../test/fixtures/molecules-sample.smi', import.meta.url).pathname;
const task = createMoleculesTask({
  molecules: { smilesFile: sample, cacheDir: false },
  config: { dModel: 16, nHead: 2, nLayer: 1, dimFeedforward: 32 },
  training: { batchSize: 8, warmupSteps: 2 },
});
const { ctx } = await taskTestContext('molecules', 1, { afterAll, store: tasks.folderStore });

describe('molecule data', () => {
  it('finds Bemis-Murcko scaffolds: rings and linkers stay, side chains and counter-ions go', async () => {
    expect(scaffoldAtoms(await parseSmiles('CCO'))).toEqual([]);
    expect(scaffoldAtoms(await parseSmiles('Cc1ccccc1'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(scaffoldAtoms(await parseSmiles('c1ccccc1CCc1ccccc1.Cl'))).toHaveLength(14);
    const smiles = ['Cc1ccccc1', 'OCc1ccccc1', 'CCC', 'C1CCCCC1'];
    const graphs = await Promise.all(smiles.map(parseSmiles));
    const keys = await scaffoldKeys(smiles.map((s, i) => ({ smiles: s, graph: graphs[i]! })));
    expect(keys[0]).toBe(keys[1]); // both benzene
    expect(keys[2]).toBe('');
    expect(keys[3]).not.toBe(keys[0]); // cyclohexane is another scaffold
  });

  it("splits by scaffold as DeepChem's ScaffoldSplitter: largest sets train, the rarest test", () => {
    // 6 molecules, train target 0.7 * 6 = 4.2: 'a' (3) trains, 'b' (2) would pass the target, 'c' (1) still fits
    expect(scaffoldSplit(['a', 'b', 'a', 'c', 'a', 'b'], 0.3)).toEqual({
      train: [0, 2, 3, 4],
      test: [1, 5],
      scaffolds: 3,
    });
    expectError(() => scaffoldSplit(['a'], 1), /testFraction must be in \(0, 1\)/);
  });

  it('featurizes atoms, bonds and element counts', async () => {
    const acetamide = await parseSmiles('CC(=O)N');
    const f = moleculeFeatures(acetamide);
    expect(f.nodes).toBe(4);
    expect(Array.from(f.features.subarray(0, 5))).toEqual([0, 3, 0, 2, 0]); // C, 3 H, not aromatic, charge 0, no ring
    expect(f.edgeTypes[1 * 4 + 2]).toBe(2); // C=O double
    expect(elementCounts(acetamide).slice(0, 3)).toEqual([2, 1, 1]); // C, N, O
  });
});

describe('graph/molecules', () => {
  it('trains, stores, and evaluates on the held-out scaffolds beside the mean and ridge', async () => {
    const report = await task.train(ctx, { steps: 12 });
    expect(report).toMatchObject({ task: 'graph/molecules', steps: 12, unit: 'molecules' });
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'graph/molecules',
      split: { name: 'scaffold' },
      checkpoint: { source: 'trained', step: 12 },
      goal: { metric: 'mae', op: '<=', beat: ['trainMean', 'ridgeElementCounts'] },
    });
    const details = evaluation.details as { train: number; test: number };
    expect(details.train + details.test).toBe(20);
    expect(evaluation.examples).toBe(details.test);
    for (const m of [evaluation.metrics, ...Object.values(evaluation.baselines)]) {
      expect(m['mae']).toBeGreaterThanOrEqual(0);
      expect(m['rmse']).toBeGreaterThanOrEqual(m['mae']!);
    }
  });

  it('predicts the TPSA of a SMILES string or a .smi file, beside openchemlib’s', async () => {
    const output = await task.run(ctx, 'CC(=O)Nc1ccc(O)cc1').result;
    if (output.kind !== 'values') throw new Error('expected values');
    expect(output.values['openchemlibTpsa']).toBeCloseTo(49.33, 2); // paracetamol (Ertl's method: 49.33)
    expect(Number.isFinite(output.values['tpsa'])).toBe(true);
    expect(output.units).toEqual({ tpsa: 'Å²', openchemlibTpsa: 'Å²' });
    const fromFile = await task.run(ctx, { path: sample }).result;
    expect(fromFile.kind).toBe('values');
  });

  it('refuses invalid SMILES and empty input', async () => {
    await expectRejection(task.run(ctx, 'C(C').result, /invalid SMILES/);
    await expectRejection(task.run(ctx, '').result, /expected a SMILES string/);
  });

  it('gives attention over atoms labelled by symbol and index', async () => {
    const report = await task.attention(ctx, 'CC(=O)N');
    expect(report).toMatchObject({
      positions: 'nodes',
      labels: ['C0', 'C1', 'O2', 'N3'],
      numLayers: 1,
      causal: false,
    });
    expect(report.layers[0]!.weights).toHaveLength(2 * 4 * 4);
  });
});
