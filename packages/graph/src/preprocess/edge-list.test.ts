import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { parseEdgeList, readEdgeList } from './edge-list.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

describe('parseEdgeList', () => {
  it('reads whitespace and comma separated lines, weights, comments and isolated nodes', () => {
    const text =
      '# comment\nalice bob 2.5\n\nbob\tcarol  # trailing comment\ndave\nNew York, alice, -1e-3\r\n';
    expect(parseEdgeList(text)).toEqual({
      directed: false,
      multi: false,
      attributes: {},
      nodes: ['alice', 'bob', 'carol', 'dave', 'New York'].map((key) => ({ key, attributes: {} })),
      edges: [
        { source: 'alice', target: 'bob', attributes: { weight: 2.5 } },
        { source: 'bob', target: 'carol', attributes: {} },
        { source: 'New York', target: 'alice', attributes: { weight: -0.001 } },
      ],
    });
  });

  it('skips a header line and names the weight attribute on request', () => {
    const graph = parseEdgeList('source,target,w\na,b,3\n', { header: true, weightAttribute: 'w' });
    expect(graph.edges).toEqual([{ source: 'a', target: 'b', attributes: { w: 3 } }]);
    expectError(
      () => parseEdgeList('source,target,w\na,b,3\n'),
      /line 1/,
      /"w" is not a finite decimal number \(a header line\? pass header: true\)/,
    );
  });

  it('treats a reversed pair as a repeat only when undirected, and keeps repeats in a multigraph', () => {
    expectError(() => parseEdgeList('a b\nb a\n'), /line 2/, /the edge "b" - "a" repeats line 1/);
    expect(parseEdgeList('a b\nb a\n', { directed: true }).edges).toHaveLength(2);
    expect(parseEdgeList('a b\na b\n', { multi: true }).edges).toHaveLength(2);
  });

  it('names the line and what was expected for bad input', () => {
    expectError(
      () => parseEdgeList('a b\na b c d\n'),
      /^parseEdgeList: line 2: expected 'source target \[weight\]'/,
    );
    expectError(() => parseEdgeList('a,,b\n'), /line 1/, /no empty fields/);
    expectError(() => parseEdgeList('a b 1\nc d 0x10\n'), /line 2/, /"0x10" is not a finite decimal number$/);
    expectError(() => parseEdgeList('a b Infinity\n'), /not a finite decimal number/);
    expectError(
      () => parseEdgeList('a b\n', { directed: 1 as unknown as boolean }),
      /options.directed must be a boolean/,
    );
  });

  it('reads the networkx random digraph fixture, self loop and isolated nodes included', async () => {
    const graph = await readEdgeList(
      { path: new URL('random-directed.edgelist', fixtures).pathname },
      { directed: true },
    );
    expect(graph.nodes).toHaveLength(30);
    expect(graph.edges.find((e) => e.source === '3' && e.target === '3')).toBeDefined();
    expect(graph.edges.every((e) => typeof e.attributes['weight'] === 'number')).toBe(true);
  });
});
