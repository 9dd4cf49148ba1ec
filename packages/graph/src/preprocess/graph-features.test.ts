import { readFile } from 'node:fs/promises';
import Graph from 'graphology';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { karateClub } from '../data/karate-club.js';
import { readEdgeList } from './edge-list.js';
import { fromGraphology, type GraphData, toGraphology } from './graph-data.js';
import { connectedComponentLabels, nodeDegrees, shortestPathDistances } from './graph-features.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

interface NetworkxFeatures {
  nodes: string[];
  distances: number[][];
  degree: number[];
  inDegree: number[];
  outDegree: number[];
  components: string[][];
  strongComponents?: string[][];
}
const oracle = JSON.parse(await readFile(new URL('networkx-features.json', fixtures), 'utf8')) as {
  karate: NetworkxFeatures;
  randomDirected: NetworkxFeatures;
};

/** Our features, re-indexed by networkx's node order, against networkx's. */
function compareWithNetworkx(graph: GraphData, expected: NetworkxFeatures): void {
  const { nodes, distances } = shortestPathDistances(graph);
  const n = nodes.length;
  const at = expected.nodes.map((key) => nodes.indexOf(key));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect(n).toBe(expected.nodes.length);
  const ours = at.map((i) => at.map((j) => distances[i * n + j]));
  expect(ours).toEqual(expected.distances);
  const degrees = nodeDegrees(graph);
  expect(at.map((i) => degrees.degree[i])).toEqual(expected.degree);
  expect(at.map((i) => degrees.inDegree[i])).toEqual(expected.inDegree);
  expect(at.map((i) => degrees.outDegree[i])).toEqual(expected.outDegree);
  const sortComponents = (components: string[][]) => components.map((c) => [...c].sort()).sort();
  expect(sortComponents(connectedComponentLabels(graph).components)).toEqual(expected.components);
  if (expected.strongComponents !== undefined) {
    expect(sortComponents(connectedComponentLabels(graph, { strong: true }).components)).toEqual(
      expected.strongComponents,
    );
  }
}

describe('graph features against networkx', () => {
  it('karate club: all-pairs distances, degrees and one component', () => {
    compareWithNetworkx(karateClub(), oracle.karate);
    expect(connectedComponentLabels(karateClub()).count).toBe(1);
  });

  it('a random digraph with a self loop and isolated nodes: directed distances, in/out degrees, weak and strong components', async () => {
    const graph = await readEdgeList(
      { path: new URL('random-directed.edgelist', fixtures).pathname },
      { directed: true },
    );
    compareWithNetworkx(graph, oracle.randomDirected);
    // walking edges both ways equals the distances of the undirected graph
    const undirected = { ...graph, directed: false };
    expect(shortestPathDistances(graph, { direction: 'ignore' }).distances).toEqual(
      shortestPathDistances(undirected).distances,
    );
  });
});

describe('shortestPathDistances options', () => {
  const path: GraphData = {
    directed: false,
    multi: false,
    attributes: {},
    nodes: ['a', 'b', 'c', 'd', 'lone'].map((key) => ({ key, attributes: {} })),
    edges: [
      { source: 'a', target: 'b', attributes: {} },
      { source: 'b', target: 'c', attributes: {} },
      { source: 'c', target: 'd', attributes: {} },
    ],
  };

  it('caps long distances and fills unreachable pairs', () => {
    const { distances } = shortestPathDistances(path, { maxDistance: 2, unreachable: 99 });
    expect([...distances.slice(0, 5)]).toEqual([0, 1, 2, 2, 99]);
    expect([...distances.slice(20, 25)]).toEqual([99, 99, 99, 99, 0]);
    expect([...shortestPathDistances(path).distances.slice(0, 5)]).toEqual([0, 1, 2, 3, -1]);
  });

  it('accepts graphology graphs and refuses graphs over maxNodes or bad options', () => {
    const graph = toGraphology(path);
    expect(shortestPathDistances(graph).distances).toEqual(shortestPathDistances(path).distances);
    expectError(() => shortestPathDistances(path, { maxNodes: 4 }), /has 5 nodes, more than maxNodes 4/);
    expectError(() => shortestPathDistances(path, { maxDistance: -1 }), /maxDistance must be an integer/);
    expectError(() => shortestPathDistances(path, { direction: 'up' as 'follow' }), /direction must be/);
    expectError(() => shortestPathDistances({} as GraphData), /expected a graphology graph or GraphData/);
  });
});

describe('GraphData and graphology', () => {
  it('round-trips nodes, edges and attributes in order', () => {
    const karate = karateClub();
    expect(fromGraphology(toGraphology(karate))).toEqual(karate);
  });

  it('rejects unknown endpoints, repeated nodes and repeats in a simple graph', () => {
    const base: GraphData = {
      directed: true,
      multi: false,
      attributes: {},
      nodes: [{ key: 'a', attributes: {} }],
      edges: [],
    };
    expectError(
      () => toGraphology({ ...base, edges: [{ source: 'a', target: 'x', attributes: {} }] }),
      /edges\[0\] names node "x"/,
    );
    expectError(
      () => toGraphology({ ...base, nodes: [...base.nodes, ...base.nodes] }),
      /node "a" appears twice/,
    );
    const loop = { source: 'a', target: 'a', attributes: {} };
    expectError(() => toGraphology({ ...base, edges: [loop, loop] }), /edges\[1\] joins "a" and "a" again/);
    expect(toGraphology({ ...base, multi: true, edges: [loop, loop] }).size).toBe(2);
  });

  it('refuses a graph that mixes directed and undirected edges', () => {
    const mixed = new Graph({ type: 'mixed' });
    mixed.addNode('a');
    mixed.addNode('b');
    mixed.addDirectedEdge('a', 'b');
    mixed.addUndirectedEdge('a', 'b');
    expectError(() => fromGraphology(mixed), /mixes directed and undirected edges/);
  });
});
