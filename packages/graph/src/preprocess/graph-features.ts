/**
 * Structural node and pair features for graph transformers, computed by graphology (not by hand):
 * all-pairs shortest-path lengths (Graphormer's spatial encoding, Ying et al. 2021, §3.1.2), in- and
 * out-degrees (its centrality encoding, §3.1.1) and connected components. Rows and columns follow the
 * graph's node order (GraphData's `nodes`, or graphology's insertion order).
 */
import { connectedComponents, stronglyConnectedComponents } from 'graphology-components';
import { singleSourceLength, undirectedSingleSourceLength } from 'graphology-shortest-path';
import { describeType, invalidArgument } from '../errors.js';
import { asGraphology, type GraphInput } from './graph-data.js';

export interface DistanceOptions {
  /** Longer distances are stored as maxDistance (Graphormer clips its spatial positions). Default: no cap. */
  maxDistance?: number;
  /** Stored for pairs with no path. Default -1 (Graphormer's data pipeline uses 510, a bucket of its own). */
  unreachable?: number;
  /** 'follow' (default) walks directed edges forward only; 'ignore' walks every edge both ways. */
  direction?: 'follow' | 'ignore';
  /** Largest graph accepted: the matrix holds nodes^2 int32 values. Default 4096 (64 MiB). */
  maxNodes?: number;
}

export interface DistanceMatrix {
  nodes: string[];
  /** Row-major [n, n]: distances[i * n + j] is the number of edges on a shortest path from node i to j. */
  distances: Int32Array;
}

export interface NodeDegrees {
  nodes: string[];
  /** Directed: edges into the node; undirected: its degree (a self loop counts twice, as in networkx). */
  inDegree: Int32Array;
  /** Directed: edges out of the node; undirected: its degree. */
  outDegree: Int32Array;
  /** Directed: in + out; undirected: the degree. */
  degree: Int32Array;
}

export interface ComponentLabels {
  nodes: string[];
  count: number;
  /** labels[i]: the component of node i, numbered in order of each component's first node. */
  labels: Int32Array;
  /** Node keys of each component. */
  components: string[][];
}

const INT32_MAX = 2 ** 31 - 1;

/** Unweighted (BFS) shortest-path lengths between every pair of nodes, as a dense int32 matrix. */
export function shortestPathDistances(input: GraphInput, options: DistanceOptions = {}): DistanceMatrix {
  const where = 'shortestPathDistances';
  const graph = asGraphology(input, where);
  const maxDistance = integerOption(options.maxDistance, 'maxDistance', 0, INT32_MAX, INT32_MAX, where);
  const unreachable = integerOption(options.unreachable, 'unreachable', -(2 ** 31), INT32_MAX, -1, where);
  const maxNodes = integerOption(options.maxNodes, 'maxNodes', 1, 46340, 4096, where);
  const direction = options.direction ?? 'follow';
  if (direction !== 'follow' && direction !== 'ignore') {
    invalidArgument(`${where}: direction must be 'follow' or 'ignore', got ${JSON.stringify(direction)}`);
  }
  const n = graph.order;
  if (n > maxNodes) {
    invalidArgument(
      `${where}: the graph has ${n} nodes, more than maxNodes ${maxNodes} (the matrix is n^2 int32)`,
    );
  }
  const nodes = graph.nodes();
  const indexOf = new Map(nodes.map((node, i) => [node, i]));
  const distances = new Int32Array(n * n).fill(unreachable);
  const lengths = direction === 'ignore' ? undirectedSingleSourceLength : singleSourceLength;
  for (const [i, source] of nodes.entries()) {
    for (const [target, length] of Object.entries(lengths(graph, source))) {
      distances[i * n + indexOf.get(target)!] = Math.min(length, maxDistance);
    }
  }
  return { nodes, distances };
}

/** In-, out- and total degrees of every node. */
export function nodeDegrees(input: GraphInput): NodeDegrees {
  const graph = asGraphology(input, 'nodeDegrees');
  const nodes = graph.nodes();
  const n = nodes.length;
  const inDegree = new Int32Array(n);
  const outDegree = new Int32Array(n);
  const degree = new Int32Array(n);
  const directed = graph.type === 'directed';
  for (const [i, node] of nodes.entries()) {
    degree[i] = graph.degree(node);
    inDegree[i] = directed ? graph.inDegree(node) : degree[i]!;
    outDegree[i] = directed ? graph.outDegree(node) : degree[i]!;
  }
  return { nodes, inDegree, outDegree, degree };
}

/**
 * Connected components: weakly connected for directed graphs unless `strong: true` (then strongly
 * connected ones, graphology's Tarjan).
 */
export function connectedComponentLabels(
  input: GraphInput,
  options: { strong?: boolean } = {},
): ComponentLabels {
  const graph = asGraphology(input, 'connectedComponentLabels');
  if (options.strong !== undefined && typeof options.strong !== 'boolean') {
    invalidArgument(
      `connectedComponentLabels: strong must be a boolean, got ${describeType(options.strong)}`,
    );
  }
  const nodes = graph.nodes();
  const indexOf = new Map(nodes.map((node, i) => [node, i]));
  const found = options.strong ? stronglyConnectedComponents(graph) : connectedComponents(graph);
  // number components by their first node in graph order, whatever order the library returned them in
  const components = found
    .map((component) => [...component].sort((a, b) => indexOf.get(a)! - indexOf.get(b)!))
    .sort((a, b) => indexOf.get(a[0]!)! - indexOf.get(b[0]!)!);
  const labels = new Int32Array(nodes.length);
  for (const [label, component] of components.entries()) {
    for (const node of component) labels[indexOf.get(node)!] = label;
  }
  return { nodes, count: components.length, labels, components };
}

function integerOption(
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
  where: string,
): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && (value as number) >= min && (value as number) <= max)) {
    invalidArgument(`${where}: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value as number;
}
