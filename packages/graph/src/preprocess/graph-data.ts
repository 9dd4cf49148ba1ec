/**
 * `GraphData`: a plain, JSON-safe graph (nodes in a fixed order, edges, attributes) that the parsers
 * return, datasets cache and featurizers index by position; `toGraphology` / `fromGraphology` convert
 * to and from graphology, which the graph algorithms run on.
 */
import Graph from 'graphology';
import type { AbstractGraph } from 'graphology-types';
import { describeType, invalidArgument } from '../errors.js';

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface GraphNode {
  key: string;
  attributes: Attributes;
}

export interface GraphEdge {
  source: string;
  target: string;
  attributes: Attributes;
}

export interface GraphData {
  /** Edges point from source to target; otherwise each edge joins both ways. */
  directed: boolean;
  /** Several edges may join the same pair of nodes. */
  multi: boolean;
  /** In a fixed order: feature rows and matrix indices follow it. */
  nodes: GraphNode[];
  edges: GraphEdge[];
  attributes: Attributes;
}

/** What the graph algorithms accept: our GraphData or any graphology graph. */
export type GraphInput = GraphData | AbstractGraph;

/** Sets an own property, so a key named like an Object.prototype member (`__proto__`) stays data. */
export function setAttribute<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A graphology Graph with the same nodes (in order), edges and attributes; self loops allowed. */
export function toGraphology(data: GraphData): AbstractGraph {
  checkGraphData(data, 'toGraphology');
  const graph = new Graph({
    type: data.directed ? 'directed' : 'undirected',
    multi: data.multi,
    allowSelfLoops: true,
  });
  graph.replaceAttributes({ ...data.attributes });
  for (const node of data.nodes) {
    if (graph.hasNode(node.key))
      invalidArgument(`toGraphology: node ${JSON.stringify(node.key)} appears twice`);
    graph.addNode(node.key, { ...node.attributes });
  }
  for (const [index, edge] of data.edges.entries()) {
    for (const end of [edge.source, edge.target]) {
      if (!graph.hasNode(end)) {
        invalidArgument(
          `toGraphology: edges[${index}] names node ${JSON.stringify(end)}, which is not in nodes`,
        );
      }
    }
    if (!data.multi && graph.hasEdge(edge.source, edge.target)) {
      invalidArgument(
        `toGraphology: edges[${index}] joins ${JSON.stringify(edge.source)} and ${JSON.stringify(edge.target)} ` +
          'again; set multi: true for a multigraph',
      );
    }
    graph.addEdge(edge.source, edge.target, { ...edge.attributes });
  }
  return graph;
}

/** GraphData of a directed or undirected graphology graph (mixed graphs have no GraphData form). */
export function fromGraphology(graph: AbstractGraph): GraphData {
  if (!isGraphology(graph)) {
    invalidArgument(`fromGraphology: expected a graphology graph, got ${describeType(graph)}`);
  }
  if (graph.type === 'mixed' && graph.directedSize > 0 && graph.undirectedSize > 0) {
    invalidArgument(
      'fromGraphology: the graph mixes directed and undirected edges; GraphData holds one kind',
    );
  }
  const directed = graph.type === 'directed' || (graph.type === 'mixed' && graph.directedSize > 0);
  return {
    directed,
    multi: graph.multi,
    nodes: graph.mapNodes((key, attributes) => ({ key, attributes: { ...(attributes as Attributes) } })),
    edges: graph.mapEdges((_edge, attributes, source, target) => ({
      source,
      target,
      attributes: { ...(attributes as Attributes) },
    })),
    attributes: { ...(graph.getAttributes() as Attributes) },
  };
}

/** The graphology form of a GraphInput (graphology graphs are used as they are). */
export function asGraphology(input: GraphInput, where: string): AbstractGraph {
  if (isGraphology(input)) return input;
  checkGraphData(input, where);
  return toGraphology(input);
}

export function isGraphology(value: unknown): value is AbstractGraph {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbstractGraph).forEachNode === 'function' &&
    typeof (value as AbstractGraph).order === 'number'
  );
}

function checkGraphData(data: unknown, where: string): asserts data is GraphData {
  const value = data as Partial<GraphData> | null;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof value.directed !== 'boolean' ||
    typeof value.multi !== 'boolean' ||
    !Array.isArray(value.nodes) ||
    !Array.isArray(value.edges)
  ) {
    invalidArgument(
      `${where}: expected a graphology graph or GraphData { directed, multi, nodes[], edges[], attributes }, ` +
        `got ${describeType(data)}`,
    );
  }
}
