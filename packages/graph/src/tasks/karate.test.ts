/**
 * graph/karate with a few training steps: the protocol's shapes (train, evaluate over seeded draws
 * beside label propagation, run on the club and on other graphs, attention over nodes) and bad inputs.
 */
import { join } from 'node:path';
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRejection } from '../../test/expect-error.js';
import { GRAPH_TASKS } from './index.js';
import { createKarateTask } from './karate.js';
import { chooseLabelled } from './node-classifier.js';

const task = createKarateTask({ training: { steps: 15 }, evalSeeds: 2 });
const { ctx, device, dir } = await taskTestContext('karate', 3, { afterAll, store: tasks.folderStore });

describe('graph/karate', () => {
  it('is in GRAPH_TASKS: classify nodes of a graph, labels per node, positions nodes', () => {
    const t = GRAPH_TASKS.find((x) => x.id === 'graph/karate')!;
    expect(t).toMatchObject({
      kind: 'classify',
      input: { kind: 'graph', required: false },
      output: { kind: 'labels' },
      positions: 'nodes',
    });
  });

  it('draws 2 labelled members per faction, seeded', () => {
    const labels = Array.from({ length: 10 }, (_, i) => i % 2);
    const a = chooseLabelled(labels, 2, 2, 5);
    expect(Array.from(a).filter((y) => y === 0)).toHaveLength(2);
    expect(Array.from(a).filter((y) => y === 1)).toHaveLength(2);
    a.forEach((y, i) => {
      if (y >= 0) expect(y).toBe(labels[i]);
    });
    expect(Array.from(chooseLabelled(labels, 2, 2, 5))).toEqual(Array.from(a));
  });

  it('trains, stores, and evaluates over seeded draws beside label propagation', async () => {
    const report = await task.train(ctx, { steps: 15 });
    expect(report).toMatchObject({ task: 'graph/karate', steps: 15, unit: 'nodes' });
    expect(report.checkpoint).toBe(join(dir, 'graph/karate.safetensors'));
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'graph/karate',
      examples: 60,
      checkpoint: { source: 'trained', step: 15 },
      goal: { metric: 'accuracyMean', op: '>=', beat: ['labelPropagation'] },
    });
    for (const m of [evaluation.metrics, evaluation.baselines['labelPropagation']!]) {
      expect(m['accuracyMin']).toBeLessThanOrEqual(m['accuracyMean']!);
      expect(m['accuracyMean']).toBeGreaterThanOrEqual(0);
      expect(m['accuracyMean']).toBeLessThanOrEqual(1);
    }
    expect(evaluation.details['perSeed']).toHaveLength(2);
  });

  it('labels every member of the club, keeping the given labels', async () => {
    const { output } = await tasks.collectRun(task.run(ctx));
    if (output.kind !== 'labels') throw new Error('expected labels');
    expect(output.items).toHaveLength(34);
    for (const item of output.items) {
      expect(item.scores!.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 5);
      expect(['Mr. Hi', 'Officer']).toContain(item.label);
    }
  });

  it('fits a model to another graph whose labelled nodes carry a faction attribute', async () => {
    // two triangles joined by one edge; one labelled node in each
    const gml = `graph [
      node [ id 0 faction "A" ] node [ id 1 ] node [ id 2 ]
      node [ id 3 ] node [ id 4 ] node [ id 5 faction "B" ]
      edge [ source 0 target 1 ] edge [ source 1 target 2 ] edge [ source 0 target 2 ]
      edge [ source 3 target 4 ] edge [ source 4 target 5 ] edge [ source 3 target 5 ] edge [ source 2 target 3 ]
    ]`;
    const output = await task.run(ctx, gml).result;
    if (output.kind !== 'labels') throw new Error('expected labels');
    expect(output.items.map((i) => i.position)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect([output.items[0]!.label, output.items[5]!.label]).toEqual(['A', 'B']);
    expect(output.items[1]!.scores!.map((s) => s.label)).toEqual(['A', 'B']);
  });

  it('refuses a graph without two labelled classes and input that is no graph', async () => {
    await expectRejection(task.run(ctx, 'x y\ny z').result, /labelled nodes of at least 2 classes/);
    await expectRejection(task.run(ctx, { nodes: [] } as never).result, /expected a graph/);
  });

  it('gives attention maps over the nodes, rows summing to one', async () => {
    const report = await task.attention(ctx);
    expect(report).toMatchObject({ positions: 'nodes', numLayers: 2, causal: false });
    expect(report.labels).toHaveLength(34);
    const { heads, weights } = report.layers[0]!;
    expect(weights).toHaveLength(heads * 34 * 34);
    const row = weights.subarray(0, 34).reduce((a, b) => a + b, 0);
    expect(row).toBeCloseTo(1, 5);
    expect(device.memory().liveTensors).toBeLessThan(100);
  });
});
