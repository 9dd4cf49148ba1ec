/**
 * Graphs as Graphormer reads them (Ying et al. 2021, §3.1): per node a few categorical features and its
 * degree (centrality encoding), per pair of nodes the shortest-path distance (spatial encoding, computed
 * by graphology through graph-features.ts) and the type of the edge joining them, if any (edge
 * encoding). Graphs of a batch are padded to the largest; `nodeMask` says which nodes are real.
 */
import { invalidArgument } from '../errors.js';
import type { GraphData } from '../preprocess/graph-data.js';
import { nodeDegrees, shortestPathDistances } from '../preprocess/graph-features.js';

/** One graph, featurized: what a batch is built from (and what datasets cache). */
export interface GraphFeatures {
  nodes: number;
  /** [nodes, F]: feature f of each node, an id below `featureSizes[f]`. */
  features: Int32Array;
  degrees: Int32Array;
  /** [nodes, nodes] shortest-path lengths, -1 where there is no path. */
  distances: Int32Array;
  /** [nodes, nodes] edge type ids, 0 where no edge joins the pair. */
  edgeTypes: Int32Array;
  /** [nodes, K] continuous positional features (Laplacian eigenvectors), when the model reads them. */
  positional?: Float32Array;
}

export interface GraphBatch {
  graphs: number;
  /** Nodes per graph after padding. */
  nodes: number;
  /** [B, N, F] */
  features: Int32Array;
  /** [B, N] */
  degrees: Int32Array;
  /** [B, N, N] spatial bucket: distance clipped to maxDistance, maxDistance + 1 = unreachable. */
  spatial: Int32Array;
  /** [B, N, N] */
  edgeTypes: Int32Array;
  /** [B, N]: 1 = a real node. */
  nodeMask: Uint8Array;
  /** [B, N, K], zero for padding nodes. */
  positional?: Float32Array;
}

/**
 * Features of a GraphData: `nodeFeatures(node, index)` gives each node's categorical ids,
 * `edgeType(edge)` each edge's type id (>= 1). Distances ignore edge direction.
 */
export function graphFeatures(
  graph: GraphData,
  nodeFeatures: (node: GraphData['nodes'][number], index: number) => readonly number[],
  edgeType: (edge: GraphData['edges'][number]) => number = () => 1,
  opts: { maxNodes?: number } = {},
): GraphFeatures {
  const n = graph.nodes.length;
  const maxNodes = opts.maxNodes ?? 512;
  if (n === 0) invalidArgument('graphFeatures: the graph has no nodes');
  if (n > maxNodes)
    invalidArgument(
      `graphFeatures: the graph has ${n} nodes, more than maxNodes ${maxNodes} (attention is n^2)`,
    );
  const rows = graph.nodes.map((node, i) => nodeFeatures(node, i));
  const F = rows[0]!.length;
  const features = new Int32Array(n * F);
  rows.forEach((row, i) => {
    if (row.length !== F)
      invalidArgument(`graphFeatures: node ${i} has ${row.length} features; expected ${F}`);
    features.set(row, i * F);
  });
  const index = new Map(graph.nodes.map((node, i) => [node.key, i]));
  const edgeTypes = new Int32Array(n * n);
  for (const edge of graph.edges) {
    const a = index.get(edge.source)!;
    const b = index.get(edge.target)!;
    const type = edgeType(edge);
    edgeTypes[a * n + b] = type;
    edgeTypes[b * n + a] = type;
  }
  return {
    nodes: n,
    features,
    degrees: nodeDegrees(graph).degree,
    distances: shortestPathDistances(graph, { direction: 'ignore', maxNodes }).distances,
    edgeTypes,
  };
}

/** A padded batch of featurized graphs; distances above `maxDistance` share its bucket. */
export function graphBatch(graphs: readonly GraphFeatures[], maxDistance: number): GraphBatch {
  if (graphs.length === 0) invalidArgument('graphBatch: no graphs');
  const B = graphs.length;
  const N = Math.max(...graphs.map((g) => g.nodes));
  const F = graphs[0]!.features.length / graphs[0]!.nodes;
  const features = new Int32Array(B * N * F);
  const degrees = new Int32Array(B * N);
  const spatial = new Int32Array(B * N * N);
  const edgeTypes = new Int32Array(B * N * N);
  const nodeMask = new Uint8Array(B * N);
  const K = graphs[0]!.positional ? graphs[0]!.positional.length / graphs[0]!.nodes : 0;
  const positional = K > 0 ? new Float32Array(B * N * K) : undefined;
  graphs.forEach((g, b) => {
    const n = g.nodes;
    if (positional) {
      if (g.positional?.length !== n * K)
        invalidArgument(`graphBatch: graph ${b} has no ${K} positional features per node as graph 0 has`);
      positional.set(g.positional, b * N * K);
    }
    features.set(g.features, b * N * F);
    degrees.set(g.degrees, b * N);
    nodeMask.fill(1, b * N, b * N + n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const d = g.distances[i * n + j]!;
        spatial[(b * N + i) * N + j] = d < 0 ? maxDistance + 1 : Math.min(d, maxDistance);
        edgeTypes[(b * N + i) * N + j] = g.edgeTypes[i * n + j]!;
      }
    }
  });
  return {
    graphs: B,
    nodes: N,
    features,
    degrees,
    spatial,
    edgeTypes,
    nodeMask,
    ...(positional ? { positional } : {}),
  };
}
