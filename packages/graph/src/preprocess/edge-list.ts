/**
 * Edge lists: one edge per line, `source target [weight]`, the fields separated by whitespace or by
 * commas (a line with a comma splits on commas only, so names may hold spaces there). `#` starts a
 * comment (to the end of the line, so node names cannot hold `#`); blank lines are skipped. A line with
 * a single name adds an isolated node. Node names are strings, in order of first appearance. As in
 * networkx's `read_weighted_edgelist`, the third column is stored as the edge attribute `weight`.
 */
import { describeType, invalidArgument, parseError, quoteLine } from '../errors.js';
import type { GraphData, GraphEdge, GraphNode } from './graph-data.js';
import { type ReadOptions, readTextSource, splitLines, type TextSource, textOf } from './text-source.js';

export interface EdgeListOptions {
  /** Default false: each edge joins both ways. */
  directed?: boolean;
  /** Allow several edges between the same nodes (a multigraph). Default false: a repeat is an error. */
  multi?: boolean;
  /** Skip the first non-comment line (a `source,target,weight` header). Default false. */
  header?: boolean;
  /** Edge attribute that receives the third column. Default 'weight'. */
  weightAttribute?: string;
}

const WHERE = 'parseEdgeList';
// decimal numbers only: Number() would also take '0x1f', 'Infinity' and ''
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A GraphData from edge-list text (string or plain bytes; for gzip or a path use `readEdgeList`). */
export function parseEdgeList(input: string | Uint8Array, options: EdgeListOptions = {}): GraphData {
  const { directed, multi, header, weightAttribute } = checkOptions(options);
  const lines = splitLines(textOf(input, WHERE));
  const nodes: GraphNode[] = [];
  const known = new Set<string>();
  const edges: GraphEdge[] = [];
  const edgeLines = new Map<string, number>();
  let headerPending = header;
  let firstDataLine = true;
  const addNode = (key: string) => {
    if (!known.has(key)) {
      known.add(key);
      nodes.push({ key, attributes: {} });
    }
  };
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const hash = lines[index]!.indexOf('#');
    const text = (hash >= 0 ? lines[index]!.slice(0, hash) : lines[index]!).trim();
    if (text.length === 0) continue;
    if (headerPending) {
      headerPending = false;
      continue;
    }
    const fields = text.includes(',') ? text.split(',').map((field) => field.trim()) : text.split(/\s+/);
    if (fields.length > 3 || fields.some((field) => field.length === 0)) {
      parseError(
        WHERE,
        line,
        `expected 'source target [weight]' (whitespace or comma separated, no empty fields), got ${quoteLine(text)}`,
      );
    }
    const [source, target, weightText] = fields as [string, string | undefined, string | undefined];
    addNode(source);
    if (target === undefined) {
      firstDataLine = false;
      continue;
    }
    addNode(target);
    const attributes: GraphEdge['attributes'] = {};
    if (weightText !== undefined) {
      const weight = Number(weightText);
      if (!DECIMAL.test(weightText) || !Number.isFinite(weight)) {
        parseError(
          WHERE,
          line,
          `the weight ${quoteLine(weightText)} is not a finite decimal number` +
            (firstDataLine ? ' (a header line? pass header: true)' : ''),
        );
      }
      Object.defineProperty(attributes, weightAttribute, { value: weight, enumerable: true, writable: true });
    }
    if (!multi) {
      const pair = edgeKey(source, target, directed);
      const previous = edgeLines.get(pair);
      if (previous !== undefined) {
        parseError(
          WHERE,
          line,
          `the edge ${JSON.stringify(source)} - ${JSON.stringify(target)} repeats line ${previous}; ` +
            'expected each pair once (multi: true keeps repeats)',
        );
      }
      edgeLines.set(pair, line);
    }
    edges.push({ source, target, attributes });
    firstDataLine = false;
  }
  return { directed, multi, nodes, edges, attributes: {} };
}

/** An edge list from a string, bytes (plain or gzip) or `{ path }` (Node). */
export async function readEdgeList(
  source: TextSource,
  options: EdgeListOptions & ReadOptions = {},
): Promise<GraphData> {
  checkOptions(options);
  return parseEdgeList(await readTextSource(source, 'readEdgeList', options), options);
}

/** One key per node pair: ordered for directed graphs, sorted for undirected ones. */
function edgeKey(source: string, target: string, directed: boolean): string {
  const [a, b] = directed || source <= target ? [source, target] : [target, source];
  return JSON.stringify([a, b]);
}

function checkOptions(options: EdgeListOptions): Required<EdgeListOptions> {
  if (typeof options !== 'object' || options === null) {
    invalidArgument(`${WHERE}: options must be an object, got ${describeType(options)}`);
  }
  for (const name of ['directed', 'multi', 'header'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') {
      invalidArgument(`${WHERE}: options.${name} must be a boolean, got ${describeType(value)}`);
    }
  }
  const weightAttribute = options.weightAttribute ?? 'weight';
  if (typeof weightAttribute !== 'string' || weightAttribute.length === 0) {
    invalidArgument(
      `${WHERE}: options.weightAttribute must be a non-empty string, got ${describeType(weightAttribute)}`,
    );
  }
  return {
    directed: options.directed ?? false,
    multi: options.multi ?? false,
    header: options.header ?? false,
    weightAttribute,
  };
}
