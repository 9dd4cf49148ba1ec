/**
 * Graphormer's structural bias checked against a by-hand attention computation in float64 on a tiny
 * graph (node embeddings, LayerNorm, q/k projections, scaled scores + spatial + edge bias, softmax), with
 * and without the neighbour mask, under padding, and with gradients reaching the bias tables.
 */
import { type Device, noGrad, sum } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import type { GraphData } from '../preprocess/graph-data.js';
import { graphBatch, graphFeatures } from './graph-batch.js';
import { Graphormer, type GraphormerConfig } from './graphormer.js';

let device: Device;
beforeAll(async () => {
  device = (await getDevices()).dev;
});

const config: GraphormerConfig = {
  featureSizes: [3, 2],
  positionalDims: 0,
  maxDegree: 3,
  maxDistance: 2,
  edgeTypes: 3,
  dModel: 8,
  nHead: 2,
  nLayer: 1,
  dimFeedforward: 16,
  dropout: 0,
  outputs: 1,
  neighboursOnly: false,
  seed: 7,
};

// a - b - c - e (edge types 1, 2, 1) and d on its own: distances 0-3 and unreachable (bucket 3 = maxDistance + 1)
const graph: GraphData = {
  directed: false,
  multi: false,
  nodes: ['a', 'b', 'c', 'd', 'e'].map((key, i) => ({ key, attributes: { kind: i % 3, flag: i % 2 } })),
  edges: [
    { source: 'a', target: 'b', attributes: { type: 1 } },
    { source: 'b', target: 'c', attributes: { type: 2 } },
    { source: 'c', target: 'e', attributes: { type: 1 } },
  ],
  attributes: {},
};
const features = graphFeatures(
  graph,
  (node) => [node.attributes['kind'] as number, node.attributes['flag'] as number],
  (edge) => edge.attributes['type'] as number,
);

/** Attention probabilities [H, N, N] of layer 0 computed by hand from the model's weights. */
async function byHand(model: Graphormer, neighboursOnly: boolean): Promise<Float64Array> {
  const state = model.stateDict();
  const read = async (name: string) => Float64Array.from(await state[name]!.read());
  const [emb, deg, spatial, edge, lnW, lnB, qkvW, qkvB] = await Promise.all(
    [
      'feature_embedding.weight',
      'degree_embedding.weight',
      'spatial_bias.weight',
      'edge_bias.weight',
      'layers.0.norm1.weight',
      'layers.0.norm1.bias',
      'layers.0.qkv.weight',
      'layers.0.qkv.bias',
    ].map(read),
  );
  const N = features.nodes;
  const { dModel: C, nHead: H } = config;
  const D = C / H;
  const x = Array.from({ length: N }, (_, i) => {
    const h = Array.from(
      { length: C },
      (_, c) =>
        emb![features.features[i * 2]! * C + c]! +
        emb![(3 + features.features[i * 2 + 1]!) * C + c]! +
        deg![Math.min(3, features.degrees[i]!) * C + c]!,
    );
    const mean = h.reduce((a, b) => a + b, 0) / C;
    const variance = h.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
    return h.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * lnW![c]! + lnB![c]!);
  });
  const project = (row: number[], out: number) =>
    row.reduce((s, v, c) => s + v * qkvW![out * C + c]!, qkvB![out]!);
  const probs = new Float64Array(H * N * N);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < N; i++) {
      const scores = Array.from({ length: N }, (_, j) => {
        const d = features.distances[i * N + j]!;
        if (neighboursOnly && !(d >= 0 && d <= 1)) return Number.NEGATIVE_INFINITY;
        let s = 0;
        for (let k = 0; k < D; k++) s += project(x[i]!, h * D + k) * project(x[j]!, C + h * D + k);
        const bucket = d < 0 ? 3 : Math.min(d, 2);
        return s / Math.sqrt(D) + spatial![bucket * H + h]! + edge![features.edgeTypes[i * N + j]! * H + h]!;
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      exps.forEach((e, j) => {
        probs[(h * N + i) * N + j] = e / total;
      });
    }
  }
  return probs;
}

async function modelWeights(model: Graphormer, batch = graphBatch([features], config.maxDistance)) {
  const { hidden, attentions } = noGrad(() => model.encode(batch, [0]));
  hidden.dispose();
  const values = await attentions[0]!.read();
  attentions[0]!.dispose();
  return values;
}

describe('Graphormer structural attention bias', () => {
  it('featurizes distances, unreachable pairs, degrees and edge types', () => {
    expect(Array.from(features.distances.subarray(0, 5))).toEqual([0, 1, 2, -1, 3]);
    expect(Array.from(features.degrees)).toEqual([1, 2, 2, 0, 1]);
    expect(features.edgeTypes[1 * 5 + 2]).toBe(2);
    const batch = graphBatch([features], 2);
    expect(Array.from(batch.spatial.subarray(0, 5))).toEqual([0, 1, 2, 3, 2]); // 3 clipped to maxDistance 2
  });

  for (const neighboursOnly of [false, true]) {
    it(`matches a by-hand attention computation (spatial + edge bias${neighboursOnly ? ', neighbours only' : ''})`, async () => {
      const model = new Graphormer(device, { ...config, neighboursOnly });
      const got = await modelWeights(model);
      const expected = await byHand(model, neighboursOnly);
      expect(got.length).toBe(expected.length);
      for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k]!, 5);
      model.dispose();
    });
  }

  it('gives a graph the same attention alone and padded in a batch with a larger one', async () => {
    const small = graphFeatures(
      { ...graph, nodes: graph.nodes.slice(0, 3), edges: graph.edges.slice(0, 2) },
      (node) => [node.attributes['kind'] as number, node.attributes['flag'] as number],
      (edge) => edge.attributes['type'] as number,
    );
    const model = new Graphormer(device, config);
    const alone = await modelWeights(model, graphBatch([small], 2));
    const padded = await modelWeights(model, graphBatch([features, small], 2)); // [2, H, 5, 5]
    const N = 5;
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++)
          expect(padded[((2 + h) * N + i) * N + j]).toBeCloseTo(alone[(h * 3 + i) * 3 + j]!, 5);
        for (let j = 3; j < N; j++) expect(padded[((2 + h) * N + i) * N + j]).toBe(0); // padding keys get nothing
      }
    model.dispose();
  });

  it('sends gradients into the spatial and edge bias tables (none into the no-edge row)', async () => {
    const model = new Graphormer(device, config);
    const loss = sum(model.graphOutputs(graphBatch([features], 2)));
    loss.backward();
    const spatial = await model.spatialBias.weight.grad!.read();
    const edge = await model.edgeBias!.weight.grad!.read();
    expect(Array.from(spatial).some((g) => Math.abs(g) > 1e-6)).toBe(true);
    expect(Array.from(edge.subarray(0, 2))).toEqual([0, 0]);
    expect(Math.abs(edge[2]!) + Math.abs(edge[4]!)).toBeGreaterThan(1e-6);
    loss.dispose();
    model.dispose();
  });

  it('refuses bad configs, feature ids and layers', () => {
    expectError(() => new Graphormer(device, { ...config, dModel: 9 }), /multiple of nHead/);
    expectError(() => new Graphormer(device, { ...config, featureSizes: [] }), /featureSizes/);
    const model = new Graphormer(device, config);
    const batch = graphBatch([features], 2);
    expectError(
      () => model.encode({ ...batch, features: batch.features.map(() => 5) }),
      /feature 0 = 5 is outside \[0, 3\)/,
    );
    expectError(() => model.encode(batch, [1]), /attention layer 1/);
    model.dispose();
  });
});
