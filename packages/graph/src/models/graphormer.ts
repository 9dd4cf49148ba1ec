/**
 * Graphormer (Ying et al. 2021, "Do Transformers Really Perform Bad for Graph Representation?") in one
 * file: a Transformer over the nodes of a graph whose attention knows the structure.
 *
 *   node features [B, N, F] -> Σ_f embedding_f + degree embedding (centrality encoding, §3.1.1)   h [B, N, C]
 *   bias [B, H, N, N] = spatial[φ(i, j)] (one learned scalar per shortest-path-distance bucket per head,
 *       §3.1.2) + edge[type(i, j)] (one learned scalar per edge type per head for adjacent pairs: the
 *       edge encoding of §3.1.3 reduced to the one-edge paths)
 *   N x pre-LN layer: h = h + MHA(LN(h); bias, mask); h = h + FFN(LN(h))        (the bias is shared by layers)
 *   LN -> head: per-node outputs [B, N, out]; graph readout = Σ over real nodes (graphOutputs)
 *
 * The bias goes to core's fused `attention` as `bias` and the graph restriction as `mask` (true = attend:
 * real keys only and, with `neighboursOnly`, the node itself and its neighbours), so no N x N score matrix
 * is kept for backward. `attentionWeights` returns the probabilities for maps.
 */
import {
  add,
  attention,
  cast,
  type Device,
  embedding,
  le,
  mul,
  nn,
  sum,
  type Tensor,
  tidy,
  where,
} from '@multihead/core';
import { invalidArgument } from '../errors.js';
import type { GraphBatch } from './graph-batch.js';

export interface GraphormerConfig {
  /** Number of values of each categorical node feature (one embedding table each, summed). */
  featureSizes: number[];
  /** Continuous features per node added through a linear map (Laplacian eigenvectors); 0 = none. */
  positionalDims: number;
  /** Degrees above this share its embedding; 0 = no degree (centrality) encoding. */
  maxDegree: number;
  /** Distances above this share its bucket; one more bucket holds unreachable pairs. */
  maxDistance: number;
  /** Edge type ids are 1 .. edgeTypes - 1; 0 = no edge (no bias). 1 = no edge types. */
  edgeTypes: number;
  dModel: number;
  nHead: number;
  nLayer: number;
  dimFeedforward: number;
  dropout: number;
  /** Outputs per node (classes, or 1 for a regression readout). */
  outputs: number;
  /** Attend only to the node itself and its neighbours (distance <= 1). */
  neighboursOnly: boolean;
  seed: number;
}

function mix(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export class GraphormerLayer extends nn.Module {
  readonly nHead: number;
  readonly norm1: nn.LayerNorm;
  readonly qkv: nn.Linear;
  readonly out: nn.Linear;
  readonly norm2: nn.LayerNorm;
  readonly ff: nn.FeedForward;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, cfg: GraphormerConfig, index: number) {
    super(device);
    const { dModel: C } = cfg;
    this.nHead = cfg.nHead;
    const seed = mix(cfg.seed, `layer ${index}`);
    this.norm1 = this.registerModule('norm1', new nn.LayerNorm(device, C));
    this.qkv = this.registerModule('qkv', new nn.Linear(device, C, 3 * C, { seed: mix(seed, 'qkv') }));
    this.out = this.registerModule('out_proj', new nn.Linear(device, C, C, { seed: mix(seed, 'out') }));
    this.norm2 = this.registerModule('norm2', new nn.LayerNorm(device, C));
    this.ff = this.registerModule(
      'ff',
      new nn.FeedForward(device, C, cfg.dimFeedforward, {
        activation: 'gelu',
        dropout: cfg.dropout,
        seed: mix(seed, 'ff'),
      }),
    );
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: mix(seed, 'dropout') }),
    );
  }

  /** h [B, N, C], bias [B, H, N, N], mask [B, 1, N, N] (true = attend) -> { out [B, N, C], weights? } */
  forward(h: Tensor, bias: Tensor, mask: Tensor, weights = false): { out: Tensor; weights: Tensor | null } {
    const [B, N, C] = h.shape as [number, number, number];
    const H = this.nHead;
    return tidy(() => {
      const qkv = this.qkv
        .forward(this.norm1.forward(h))
        .reshape([B, N, 3, H, C / H])
        .permute([2, 0, 3, 1, 4]); // [3, B, H, N, D]
      const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0)) as [Tensor, Tensor, Tensor];
      const attended = attention.detailed(q, k, v, { bias, mask, weights }); // out [B, H, N, D]
      const merged = attended.out.transpose(1, 2).reshape([B, N, C]);
      const x = add(h, this.dropout.forward(this.out.forward(merged)));
      return {
        out: add(x, this.dropout.forward(this.ff.forward(this.norm2.forward(x)))),
        weights: attended.weights,
      };
    });
  }
}

export class Graphormer extends nn.Module {
  readonly config: GraphormerConfig;
  readonly featureEmbedding: nn.Embedding;
  readonly degreeEmbedding: nn.Embedding | null;
  readonly positionalProjection: nn.Linear | null;
  readonly spatialBias: nn.Embedding;
  readonly edgeBias: nn.Embedding | null;
  readonly layers: nn.ModuleList<GraphormerLayer>;
  readonly finalNorm: nn.LayerNorm;
  readonly head: nn.Linear;
  private readonly featureOffsets: Int32Array;

  constructor(device: Device, config: GraphormerConfig) {
    super(device);
    for (const key of ['maxDistance', 'edgeTypes', 'dModel', 'nHead', 'nLayer', 'outputs'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1)
        invalidArgument(`Graphormer: config.${key} must be a positive integer, got ${config[key]}`);
    }
    for (const key of ['maxDegree', 'positionalDims'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 0)
        invalidArgument(`Graphormer: config.${key} must be an integer >= 0, got ${config[key]}`);
    }
    if (config.dModel % config.nHead !== 0)
      invalidArgument(`Graphormer: dModel ${config.dModel} must be a multiple of nHead ${config.nHead}`);
    if (config.featureSizes.length === 0 || config.featureSizes.some((n) => !Number.isInteger(n) || n < 1))
      invalidArgument(`Graphormer: featureSizes must be positive integers, got [${config.featureSizes}]`);
    this.config = { ...config, featureSizes: [...config.featureSizes] };
    const { dModel: C, nHead: H, seed } = config;
    // one table for every feature (OGB's AtomEncoder sums one embedding per feature): offsets select rows
    this.featureOffsets = new Int32Array(config.featureSizes.length);
    let rows = 0;
    config.featureSizes.forEach((n, f) => {
      this.featureOffsets[f] = rows;
      rows += n;
    });
    this.featureEmbedding = this.registerModule(
      'feature_embedding',
      new nn.Embedding(device, rows, C, { seed: mix(seed, 'features') }),
    );
    this.degreeEmbedding =
      config.maxDegree > 0
        ? this.registerModule(
            'degree_embedding',
            new nn.Embedding(device, config.maxDegree + 1, C, { seed: mix(seed, 'degree') }),
          )
        : null;
    this.positionalProjection =
      config.positionalDims > 0
        ? this.registerModule(
            'positional_projection',
            new nn.Linear(device, config.positionalDims, C, { bias: false, seed: mix(seed, 'positional') }),
          )
        : null;
    this.spatialBias = this.registerModule(
      'spatial_bias',
      new nn.Embedding(device, config.maxDistance + 2, H, { seed: mix(seed, 'spatial') }),
    );
    this.edgeBias =
      config.edgeTypes > 1
        ? this.registerModule(
            'edge_bias',
            new nn.Embedding(device, config.edgeTypes, H, { paddingIdx: 0, seed: mix(seed, 'edge') }),
          )
        : null;
    this.layers = this.registerModule(
      'layers',
      new nn.ModuleList(
        device,
        Array.from({ length: config.nLayer }, (_, i) => new GraphormerLayer(device, this.config, i)),
      ),
    );
    this.finalNorm = this.registerModule('final_norm', new nn.LayerNorm(device, C));
    this.head = this.registerModule(
      'head',
      new nn.Linear(device, C, config.outputs, { seed: mix(seed, 'head') }),
    );
  }

  /** The attention bias [B, H, N, N] of a batch: spatial + edge encodings. */
  structuralBias(batch: GraphBatch): Tensor {
    const { graphs: B, nodes: N } = batch;
    return tidy(() => {
      const spatial = this.device.tensor(batch.spatial, [B, N, N], { dtype: 'i32' });
      let bias = embedding(this.spatialBias.weight, spatial); // [B, N, N, H]
      if (this.edgeBias) {
        const types = this.device.tensor(batch.edgeTypes, [B, N, N], { dtype: 'i32' });
        bias = add(bias, this.edgeBias.forward(types)); // row 0 (no edge) is zero and stays so
      }
      return bias.permute([0, 3, 1, 2]).contiguous(); // [B, H, N, N]
    });
  }

  /** Which keys each query may attend to: [B, 1, N, N] bool (real keys; with neighboursOnly, distance <= 1). */
  attentionMask(batch: GraphBatch): Tensor {
    const { graphs: B, nodes: N } = batch;
    return tidy(() => {
      const real = this.device.tensor(batch.nodeMask, [B, 1, 1, N], { dtype: 'bool' });
      if (!this.config.neighboursOnly) return real.expand([B, 1, N, N]).contiguous();
      const near = le(this.device.tensor(batch.spatial, [B, 1, N, N], { dtype: 'i32' }), 1);
      return where(real, near, 0);
    });
  }

  /** Node states [B, N, C] after the final norm, and the attention weights [B, H, N, N] of the layers asked for. */
  encode(
    batch: GraphBatch,
    attentionWeights: readonly number[] = [],
  ): { hidden: Tensor; attentions: (Tensor | null)[] } {
    const { graphs: B, nodes: N } = batch;
    const F = this.config.featureSizes.length;
    if (batch.features.length !== B * N * F)
      invalidArgument(
        `Graphormer.encode: ${batch.features.length} feature ids; expected [B, N, F] = ${B * N * F}`,
      );
    for (const layer of attentionWeights) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.nLayer)
        invalidArgument(
          `Graphormer.encode: attention layer ${layer}; expected an integer in [0, ${this.config.nLayer})`,
        );
    }
    const ids = new Int32Array(batch.features.length);
    for (let i = 0; i < ids.length; i++) {
      const f = i % F;
      const value = batch.features[i]!;
      if (!Number.isInteger(value) || value < 0 || value >= this.config.featureSizes[f]!)
        invalidArgument(
          `Graphormer.encode: feature ${f} = ${value} is outside [0, ${this.config.featureSizes[f]})`,
        );
      ids[i] = this.featureOffsets[f]! + value;
    }
    const degrees = Int32Array.from(batch.degrees, (d) => Math.min(d, this.config.maxDegree));
    return tidy(() => {
      const features = this.featureEmbedding.forward(this.device.tensor(ids, [B, N, F], { dtype: 'i32' })); // [B, N, F, C]
      let h = sum(features, 2); // [B, N, C]
      if (this.degreeEmbedding)
        h = add(h, this.degreeEmbedding.forward(this.device.tensor(degrees, [B, N], { dtype: 'i32' })));
      if (this.positionalProjection) {
        const K = this.config.positionalDims;
        if (batch.positional?.length !== B * N * K)
          invalidArgument(
            `Graphormer.encode: the model reads ${K} positional features per node; the batch has none or another count`,
          );
        h = add(h, this.positionalProjection.forward(this.device.tensor(batch.positional, [B, N, K])));
      }
      const bias = this.structuralBias(batch);
      const mask = this.attentionMask(batch);
      const wanted = new Set(attentionWeights);
      const attentions: (Tensor | null)[] = [];
      for (const layer of this.layers) {
        const r = layer.forward(h, bias, mask, wanted.has(attentions.length));
        h = r.out;
        attentions.push(r.weights);
      }
      return { hidden: this.finalNorm.forward(h), attentions };
    });
  }

  /** Per-node outputs [B, N, outputs]. */
  nodeOutputs(batch: GraphBatch): Tensor {
    return tidy(() => this.head.forward(this.encode(batch).hidden));
  }

  /** Graph outputs [B, outputs]: per-node outputs summed over the real nodes (an additive readout). */
  graphOutputs(batch: GraphBatch): Tensor {
    const { graphs: B, nodes: N } = batch;
    return tidy(() => {
      const real = cast(this.device.tensor(batch.nodeMask, [B, N, 1], { dtype: 'bool' }), 'f32');
      return sum(mul(this.nodeOutputs(batch), real), 1);
    });
  }
}
