import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { karateClub } from '../data/karate-club.js';
import { parseGml, readGml } from './gml.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

describe('parseGml', () => {
  it('reads nodes, edges, nested and repeated attributes, strings with entities and comments', () => {
    const text = `# a comment
Creator "test"
graph [
  directed 1
  name "two &quot;nodes&quot; &amp; one edge"
  node [ id 1 label "a" graphics [ x 1.5 y -2e1 ] tag "p" tag "q" ]
  node [ id "n2" label "multi
line" ]
  edge [ source 1 target "n2" weight 0.25 ]
]`;
    expect(parseGml(text)).toEqual({
      directed: true,
      multi: false,
      attributes: { name: 'two "nodes" & one edge' },
      nodes: [
        { key: '1', attributes: { label: 'a', graphics: { x: 1.5, y: -20 }, tag: ['p', 'q'] } },
        { key: 'n2', attributes: { label: 'multi\nline' } },
      ],
      edges: [{ source: '1', target: 'n2', attributes: { weight: 0.25 } }],
    });
  });

  it('reads networkx GML of the karate club: the same graph as karateClub()', async () => {
    const parsed = await readGml({ path: new URL('karate.gml', fixtures).pathname });
    const expected = karateClub();
    expect(parsed.directed).toBe(false);
    expect(parsed.attributes).toEqual(expected.attributes);
    expect(parsed.nodes.map((n) => [n.key, n.attributes['club']])).toEqual(
      expected.nodes.map((n) => [n.key, n.attributes['club']]),
    );
    expect(parsed.edges.map((e) => [e.source, e.target, e.attributes['weight']])).toEqual(
      expected.edges.map((e) => [e.source, e.target, e.attributes['weight']]),
    );
    // the same from bytes with Windows line endings
    const crlf = (await readFile(new URL('karate.gml', fixtures), 'utf8')).replace(/\n/g, '\r\n');
    expect(parseGml(new TextEncoder().encode(crlf))).toEqual(parsed);
  });

  it('allows repeated pairs only in a multigraph', () => {
    const text = (multi: number) =>
      `graph [ multigraph ${multi} node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 ] edge [ source 1 target 0 ] ]`;
    expect(parseGml(text(1)).edges).toHaveLength(2);
    expectError(() => parseGml(text(0)), /line 1/, /the edge "1" - "0" repeats the edge of line 1/);
  });

  it('names the line and what was expected for bad input', () => {
    const cases: [string, RegExp[]][] = [
      ['', [/line 1/, /exactly one top-level 'graph/]],
      ['graph [ ]\ngraph [ ]', [/line 2/, /found 2/]],
      ['graph 3', [/expected 'graph' to be followed by '\['/]],
      ['graph [\n node [ id 1 ]\n', [/line 2/, /the list opened at line 1 has no closing '\]'/]],
      ['graph [ ] ]', [/unexpected '\]' with no open list/]],
      ['graph [\n node [ label "x" ]\n]', [/line 2/, /expected one 'id' in this node, found 0/]],
      ['graph [\n node [ id 1 ]\n node [ id 1 ]\n]', [/line 3/, /node id "1" repeats the node of line 2/]],
      [
        'graph [\n node [ id 1 ]\n edge [ source 1 target 2 ]\n]',
        [/line 3/, /edge target "2" is not the id of any node/],
      ],
      ['graph [ directed 2 ]', [/expected one 'directed 0' or 'directed 1', got 2/]],
      ['graph [ node 5 ]', [/expected 'node \[ \.\.\. \]', got node 5/]],
      ['graph [ 5 5 ]', [/expected a key .* got "5"/]],
      ['graph [ name ]', [/expected a value .* after the key "name", got '\]'/]],
      ['graph [\n name "open\n]', [/line 2/, /the string begun here has no closing/]],
      ['graph [ x 1e999 ]', [/the number "1e999" is not finite/]],
      ['graph [ x 12abc ]', [/unexpected "12abc"/]],
      ['graph [ x @ ]', [/unexpected "@"/]],
      [`graph [ ${'a [ '.repeat(70)}${']'.repeat(70)} ]`, [/nest deeper than 64 levels/]],
    ];
    for (const [text, patterns] of cases)
      expectError(() => parseGml(text), /^parseGml: line \d+: /, ...patterns);
  });
});
