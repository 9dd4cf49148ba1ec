/**
 * graph/karate's baseline: label propagation (Zhu & Ghahramani 2002, "Learning from labeled and
 * unlabeled data with label propagation", CMU-CALD-02-107): class scores spread along the edges,
 * F ← D⁻¹ A F, with the labelled nodes clamped to their one-hot labels after every step, until nothing
 * moves; the fixed point is the harmonic solution of Zhu et al. 2003. Edges are unweighted unless
 * `weight` is given, so the baseline sees the structure the graph transformer sees.
 */
import { invalidArgument } from '../errors.js';
import type { GraphData } from '../preprocess/graph-data.js';

export interface LabelPropagationOptions {
  classes: number;
  /** Edge weight from its attributes (default 1 per edge). */
  weight?: (edge: GraphData['edges'][number]) => number;
  maxIterations?: number;
  tolerance?: number;
}

/**
 * Class scores [nodes, classes] (rows sum to 1 where a labelled node is reachable, 0 elsewhere) from the
 * labelled nodes: `labels[i]` is node i's class, or -1 when unknown.
 */
export function labelPropagation(
  graph: GraphData,
  labels: ArrayLike<number>,
  opts: LabelPropagationOptions,
): Float64Array {
  const n = graph.nodes.length;
  const C = opts.classes;
  if (labels.length !== n)
    invalidArgument(
      `labelPropagation: ${labels.length} labels for ${n} nodes; expected one per node (-1 = unknown)`,
    );
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= -1 && y < C))
      invalidArgument(`labelPropagation: labels[${i}] = ${y}; expected -1 or a class in [0, ${C})`);
  }
  const index = new Map(graph.nodes.map((node, i) => [node.key, i]));
  const neighbours: { node: number; weight: number }[][] = Array.from({ length: n }, () => []);
  for (const edge of graph.edges) {
    const a = index.get(edge.source)!;
    const b = index.get(edge.target)!;
    const w = opts.weight ? opts.weight(edge) : 1;
    if (!(w >= 0 && Number.isFinite(w)))
      invalidArgument(`labelPropagation: edge weight ${w} must be finite and >= 0`);
    neighbours[a]!.push({ node: b, weight: w });
    if (a !== b) neighbours[b]!.push({ node: a, weight: w });
  }
  let scores = new Float64Array(n * C);
  let next = new Float64Array(n * C);
  const clamp = (f: Float64Array) => {
    for (let i = 0; i < n; i++) {
      if (labels[i]! < 0) continue;
      f.fill(0, i * C, (i + 1) * C);
      f[i * C + labels[i]!] = 1;
    }
  };
  clamp(scores);
  const iterations = opts.maxIterations ?? 10_000;
  const tolerance = opts.tolerance ?? 1e-10;
  for (let it = 0; it < iterations; it++) {
    next.fill(0);
    let change = 0;
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (const { node, weight } of neighbours[i]!) {
        total += weight;
        for (let c = 0; c < C; c++) next[i * C + c]! += weight * scores[node * C + c]!;
      }
      if (total > 0) for (let c = 0; c < C; c++) next[i * C + c]! /= total;
    }
    clamp(next);
    for (let k = 0; k < next.length; k++) change = Math.max(change, Math.abs(next[k]! - scores[k]!));
    [scores, next] = [next, scores];
    if (change < tolerance) break;
  }
  return scores;
}
