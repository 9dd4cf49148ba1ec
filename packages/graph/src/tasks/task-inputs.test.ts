import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRejection } from '../../test/expect-error.js';
import { readGraphInput, readSequenceInput, readSmilesInput } from './task-inputs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graph-inputs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sequence inputs', () => {
  it('reads bare residues (whitespace ignored, upper-cased), FASTA and aligned FASTA', async () => {
    expect(await readSequenceInput('mkv\nLA g', 't')).toEqual({ name: 'input', residues: 'MKVLAG' });
    expect(await readSequenceInput('>sp|P1 a protein\nMKV\nLAG\n', 't')).toEqual({
      name: 'sp|P1',
      residues: 'MKVLAG',
    });
    const aligned = await readSequenceInput('>q\nMK-Va\n>r1\nMRIV.\n>r2\n-KIVa\n', 't');
    expect(aligned).toEqual({ name: 'q', residues: 'MKVA', alignment: ['MK-Va', 'MRIV.', '-KIVa'] });
  });

  it('reads files, gzip included', async () => {
    const plain = join(dir, 'q.fa');
    await writeFile(plain, '>q\nMKVLAG\n');
    expect((await readSequenceInput({ path: plain }, 't')).residues).toBe('MKVLAG');
    const bytes = gzipSync(Buffer.from('>q\nMKV\n'));
    expect((await readSequenceInput({ bytes: new Uint8Array(bytes), name: 'q.fa.gz' }, 't')).residues).toBe(
      'MKV',
    );
  });

  it('refuses nothing, empty text, odd characters and ragged alignments', async () => {
    await expectRejection(readSequenceInput(undefined, 'graph/x'), /graph\/x: expected a protein sequence/);
    await expectRejection(readSequenceInput('   ', 't'), /empty text/);
    await expectRejection(readSequenceInput('MKV1LA', 't'), /character "1" at position 3/);
    await expectRejection(
      readSequenceInput('>q\nMKV\n>r\nMK\n', 't'),
      /must have 3 columns; r \(line 3\) has 2/,
    );
    await expectRejection(readSequenceInput({ width: 1 } as never, 't'), /expected text/);
  });
});

describe('graph inputs', () => {
  it('tells GML from an edge list', async () => {
    const gml = await readGraphInput(
      '# a comment\ngraph [\n node [ id 0 ]\n node [ id 1 faction 1 ]\n edge [ source 0 target 1 ]\n]',
      't',
    );
    expect(gml.nodes.map((n) => n.key)).toEqual(['0', '1']);
    expect(gml.nodes[1]!.attributes['faction']).toBe(1);
    // top-level pairs before `graph [`, as in Newman's karate.gml, still make it GML
    const newman = await readGraphInput(
      'Creator "Mark Newman on Fri Jul 21 12:39:27 2006"\ngraph\n[\n  node\n  [\n    id 1\n  ]\n  node [ id 2 ]\n  edge [ source 2 target 1 ]\n]\n',
      't',
    );
    expect(newman.edges.map((e) => [e.source, e.target])).toEqual([['2', '1']]);
    const list = await readGraphInput('a b\nb c 2\n', 't');
    expect(list.edges.map((e) => [e.source, e.target])).toEqual([
      ['a', 'b'],
      ['b', 'c'],
    ]);
    await expectRejection(readGraphInput('', 't'), /empty text/);
    await expectRejection(
      readGraphInput({ nodes: [] } as never, 't'),
      /expected a graph as GML or an edge list/,
    );
    await expectRejection(readGraphInput('graph [ node [ id 0 ', 't'), /parseGml/);
  });

  it('reads the first SMILES of a text or a .smi line', async () => {
    expect(await readSmilesInput('\n# water\nO\tname\nCC', 't')).toBe('O');
    await expectRejection(readSmilesInput('# only a comment', 't'), /expected a SMILES string/);
  });
});
