/**
 * Fuzz tests of the four text parsers (fast-check, fixed seeds, 10 000 cases each): random text over
 * each format's own characters, random bytes, and real samples mutated byte- and line-wise (insert,
 * delete, flip a bit, truncate, duplicate or drop a line). Every case must return or throw our
 * MultiheadError, within a time bound; what parses must hold the format's invariants.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { MultiheadError } from '@multihead/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEdgeList } from '../src/preprocess/edge-list.js';
import { parseFasta } from '../src/preprocess/fasta.js';
import { parseGml } from '../src/preprocess/gml.js';
import type { GraphData } from '../src/preprocess/graph-data.js';
import { parseStockholm } from '../src/preprocess/stockholm.js';

const CASES = 10_000;
/**
 * A parse that takes longer than this is a failure (a hang or a super-linear blow-up). Inputs are at
 * most ~8 KB and parse in well under a millisecond; the bound is loose because this 2-core machine is
 * shared and a single case has been seen to take ~400 ms in a GC pause under load.
 */
const TIME_BOUND_MS = 2000;

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));
const encode = (text: string) => new TextEncoder().encode(text);

type Mutation =
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate-line' | 'drop-line'; line: number };

/** Inserted bytes come half from the format's own characters (so more mutants stay parseable). */
function mutation(alphabet: string[]): fc.Arbitrary<Mutation> {
  const formatBytes = [...new Set(alphabet.flatMap((piece) => [...encode(piece)]))];
  const byte = fc.oneof(fc.constantFrom(...formatBytes), fc.integer({ min: 0, max: 255 }));
  return fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 40 }),
    }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constantFrom('duplicate-line' as const, 'drop-line' as const), line: fc.nat() }),
  );
}

/** The byte offsets where lines start. */
function lineStarts(bytes: Uint8Array): number[] {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) starts.push(i + 1);
  return starts;
}

function mutate(sample: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = sample;
  const join = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  };
  for (const m of mutations) {
    const at = 'at' in m ? m.at % (bytes.length + 1) : 0;
    if (m.kind === 'insert') bytes = join(bytes.subarray(0, at), Uint8Array.of(m.byte), bytes.subarray(at));
    else if (m.kind === 'delete') bytes = join(bytes.subarray(0, at), bytes.subarray(at + m.length));
    else if (m.kind === 'flip' && at < bytes.length) {
      bytes = bytes.slice();
      bytes[at]! ^= 1 << m.bit;
    } else if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
    else if (m.kind === 'duplicate-line' || m.kind === 'drop-line') {
      const starts = lineStarts(bytes);
      const index = m.line % starts.length;
      const start = starts[index]!;
      const end = starts[index + 1] ?? bytes.length;
      bytes =
        m.kind === 'duplicate-line'
          ? join(bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end))
          : join(bytes.subarray(0, start), bytes.subarray(end));
    }
  }
  return bytes;
}

/** Input as bytes (exercises decoding) or as leniently decoded text (reaches deeper into the grammar). */
type Input = { source: 'random text' | 'random bytes' | 'mutated sample'; value: string | Uint8Array };

function inputs(samples: Uint8Array[], alphabet: string[]): fc.Arbitrary<Input> {
  const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 300 });
  return fc.oneof(
    { weight: 3, arbitrary: text.map((value): Input => ({ source: 'random text', value })) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 300 }).map((value): Input => ({ source: 'random bytes', value })),
    },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...samples),
          fc.array(mutation(alphabet), { minLength: 1, maxLength: 6 }),
          fc.boolean(),
        )
        .map(([sample, mutations, asBytes]): Input => {
          const bytes = mutate(sample, mutations);
          return { source: 'mutated sample', value: asBytes ? bytes : new TextDecoder().decode(bytes) };
        }),
    },
  );
}

/** Runs the parser on every case; counts outcomes; fails on foreign errors, slow cases or bad results. */
function fuzz<T>(
  name: string,
  seed: number,
  arbitrary: fc.Arbitrary<Input>,
  parse: (input: string | Uint8Array) => T,
  check: (result: T) => void,
) {
  const counts = new Map<string, number>();
  let parsed = 0;
  let rejected = 0;
  let slowest = 0;
  fc.assert(
    fc.property(arbitrary, ({ source, value }) => {
      counts.set(source, (counts.get(source) ?? 0) + 1);
      const started = performance.now();
      let result: T | undefined;
      try {
        result = parse(value);
      } catch (error) {
        if (!(error instanceof MultiheadError)) throw error;
        if (error.code !== 'INVALID_ARGUMENT' || !error.message.startsWith(`${name}: `)) {
          throw new Error(`unexpected error ${error.code}: ${error.message}`);
        }
        rejected++;
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      if (elapsed > TIME_BOUND_MS) throw new Error(`${name} took ${elapsed.toFixed(0)} ms on one case`);
      if (result !== undefined) {
        parsed++;
        check(result);
      }
    }),
    { seed, numRuns: CASES },
  );
  const sources = [...counts].map(([source, count]) => `${source} ${count}`).join(', ');
  console.log(
    `${name}: ${CASES} cases (${sources}); ${parsed} parsed, ${rejected} MultiheadError; slowest ${slowest.toFixed(1)} ms`,
  );
  expect(parsed + rejected).toBe(CASES);
  // both outcomes must occur, or the generators test nothing (few Stockholm and GML mutants parse: an
  // insert or delete in one row makes an alignment ragged, a dropped ']' a GML file unbalanced)
  expect(parsed).toBeGreaterThan(CASES / 100);
  expect(rejected).toBeGreaterThan(CASES / 100);
}

/** Plain throws, not expect(): these run on every parsed case. */
function ensure(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function checkGraph(graph: GraphData) {
  const keys = new Set(graph.nodes.map((node) => node.key));
  ensure(keys.size === graph.nodes.length, 'node keys repeat');
  for (const edge of graph.edges)
    ensure(keys.has(edge.source) && keys.has(edge.target), 'edge to an unknown node');
}

describe('parser fuzzing', () => {
  it('parseFasta', () => {
    const samples = [fixture('globins-sample.fa'), encode(';c\n>a desc\r\nmk-v.\n\n>b\nAC*\n')];
    const alphabet = [...'>; \n\r\t*-.ACGTMKVLxyz019|_', '>id ', '\n>'];
    fuzz(
      'parseFasta',
      1,
      inputs(samples, alphabet),
      (input) => parseFasta(input),
      (records) => {
        for (const record of records) {
          expect(record.id).toMatch(/^\S+$/);
          expect(record.sequence).toMatch(/^[A-Z.-]+$/);
        }
      },
    );
  });

  it('parseStockholm', () => {
    const small =
      '# STOCKHOLM 1.0\n#=GF ID x\n#=GS a AC P1\na AC-D\n#=GR a SS HHEE\nb ac.d\n#=GC RF xxxx\n\na EF\n#=GR a SS CC\nb E-\n#=GC RF xx\n//\n';
    const samples = [
      fixture('globins4.sto'),
      gunzipSync(fixture('Caudal_act.sto.gz')),
      encode(small),
      encode(small),
    ];
    const alphabet = [
      ...'#=GFSRC \n\r\t/-.~_ACDmkv12',
      '# STOCKHOLM 1.0\n',
      '//\n',
      '#=GF ',
      '#=GS ',
      '#=GR ',
      '#=GC ',
      's1 ',
      's2 ',
    ];
    fuzz(
      'parseStockholm',
      2,
      inputs(samples, alphabet),
      (input) => parseStockholm(input),
      (alignments) => {
        for (const alignment of alignments) {
          expect(alignment.sequences.length).toBeGreaterThan(0);
          for (const s of alignment.sequences) expect(s.aligned).toHaveLength(alignment.length);
          for (const line of Object.values(alignment.columnAnnotations))
            expect(line).toHaveLength(alignment.length);
        }
      },
    );
  });

  it('parseGml', () => {
    const samples = [
      fixture('karate.gml'),
      encode(
        'graph [ directed 1 node [ id 1 label "a&quot;" ] node [ id 2 ] edge [ source 1 target 2 w 1.5 ] ]',
      ),
    ];
    const alphabet = [
      ...'[] \n\r\t"#&;-.e0123',
      'graph ',
      'node ',
      'edge ',
      'id ',
      'source ',
      'target ',
      'label ',
      'directed ',
    ];
    fuzz('parseGml', 3, inputs(samples, alphabet), (input) => parseGml(input), checkGraph);
  });

  it('parseEdgeList', () => {
    const samples = [fixture('random-directed.edgelist'), encode('# c\na b 1.5\nb,c,2\r\nd\n')];
    const alphabet = [...'ab c,\t\n\r#.-+e0123x'];
    fuzz('parseEdgeList', 4, inputs(samples, alphabet), (input) => parseEdgeList(input), checkGraph);
  });
});
