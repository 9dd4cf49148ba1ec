import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { parseStockholm, readStockholm } from './stockholm.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

const twoBlocks = `# STOCKHOLM 1.0
#=GF ID   toy
#=GF CC   first line
#=GF CC   second  line
#=GS seqA AC P00001.1
#=GS seqA DE A protein
#=GS seqB OS Homo sapiens

seqA   MK.VL
#=GR seqA SS  HH.EE
seqB   mkAV-
#=GC SS_cons  HH.EE
#=GC RF       xx.xx
# a plain comment

seqA   --W
#=GR seqA SS  ..C
seqB   QRW
#=GC SS_cons  CCC
#=GC RF       xxx
//
`;

describe('parseStockholm', () => {
  it('joins interleaved blocks and keeps GF, GS, GR and GC markup', () => {
    const [alignment, ...rest] = parseStockholm(twoBlocks);
    expect(rest).toEqual([]);
    expect(alignment!.line).toBe(1);
    expect(alignment!.length).toBe(8);
    expect(alignment!.fileAnnotations).toEqual({ ID: ['toy'], CC: ['first line', 'second  line'] });
    expect(alignment!.columnAnnotations).toEqual({ SS_cons: 'HH.EECCC', RF: 'xx.xxxxx' });
    expect(alignment!.sequences).toEqual([
      {
        name: 'seqA',
        aligned: 'MK.VL--W',
        sequence: 'MKVLW',
        annotations: { AC: ['P00001.1'], DE: ['A protein'] },
        residueAnnotations: { SS: 'HH.EE..C' },
      },
      {
        name: 'seqB',
        aligned: 'mkAV-QRW',
        sequence: 'MKAVQRW',
        annotations: { OS: ['Homo sapiens'] },
        residueAnnotations: {},
      },
    ]);
    // lower case (insert columns) survives in `aligned`, and in `sequence` with case: 'keep'
    expect(parseStockholm(twoBlocks, { case: 'keep' })[0]!.sequences[1]!.sequence).toBe('mkAVQRW');
  });

  it('reads several alignments from one text, with Windows line endings', () => {
    const text = `${twoBlocks}\n\n# STOCKHOLM 1.0\nx AC\ny A~\n//\n`.replace(/\n/g, '\r\n');
    const alignments = parseStockholm(text);
    expect(alignments.map((a) => [a.line, a.length, a.sequences.map((s) => s.sequence)])).toEqual([
      [1, 8, ['MKVLW', 'MKAVQRW']],
      [24, 2, ['AC', 'A']],
    ]);
  });

  it('keeps a tag named like an Object.prototype member as plain data', () => {
    const [alignment] = parseStockholm('# STOCKHOLM 1.0\n#=GF __proto__ x\n#=GC constructor AB\ns AB\n//\n');
    expect(Object.getPrototypeOf(alignment!.fileAnnotations)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(alignment!.fileAnnotations, '__proto__')?.value).toEqual(['x']);
    expect(alignment!.columnAnnotations['constructor']).toBe('AB');
  });

  it('names the line and what was expected for bad input', () => {
    const cases: [string, RegExp[]][] = [
      ['', [/line 1/, /no alignment found/]],
      ['s AC\n//\n', [/line 1/, /expected the header '# STOCKHOLM 1.0'/]],
      ['# STOCKHOLM 1.0\ns AC\n', [/line 3/, /begun at line 1 has no '\/\/' end line/]],
      ['# STOCKHOLM 1.0\n//\n', [/line 2/, /no sequence lines/]],
      ['# STOCKHOLM 1.0\ns AC\nt A\n//\n', [/line 3/, /"t" has aligned length 1, expected 2/]],
      ['# STOCKHOLM 1.0\ns AC D\n//\n', [/line 2/, /two fields\), got 3 fields/]],
      ['# STOCKHOLM 1.0\ns A1\n//\n', [/line 2/, /unexpected character "1" in the row of "s"/]],
      ['# STOCKHOLM 1.0\n#=GX a b\ns A\n//\n', [/line 2/, /unknown markup "#=GX"/]],
      ['# STOCKHOLM 1.0\n#=GR s SS\ns A\n//\n', [/line 2/, /expected '#=GR name tag annotation'/]],
      ['# STOCKHOLM 1.0\n#=GS t AC X\ns A\n//\n', [/line 2/, /#=GS names sequence "t", which has no row/]],
      [
        '# STOCKHOLM 1.0\ns AB\n#=GC RF x\n//\n',
        [/line 4/, /#=GC RF has length 1, expected the alignment length 2/],
      ],
      ['# STOCKHOLM 1.0\ns AB\n//\nt A\n', [/line 4/, /header '# STOCKHOLM 1.0' of the next alignment/]],
    ];
    for (const [text, patterns] of cases)
      expectError(() => parseStockholm(text), /^parseStockholm: /, ...patterns);
    expectError(() => parseStockholm('', { case: 'x' as 'upper' }), /options.case must be 'upper' or 'keep'/);
  });

  it('reads the globins4 tutorial alignment (three interleaved blocks)', async () => {
    const [alignment] = await readStockholm({ path: new URL('globins4.sto', fixtures).pathname });
    expect(alignment!.sequences.map((s) => [s.name, s.sequence.length])).toEqual([
      ['HBB_HUMAN', 146],
      ['HBA_HUMAN', 141],
      ['MYG_PHYCA', 153],
      ['GLB5_PETMA', 149],
    ]);
    expect(alignment!.length).toBe(171);
    expect(alignment!.sequences[0]!.sequence.startsWith('VHLTPEEKSAVTALWGKV')).toBe(true);
  });

  it('reads the gzipped Pfam Caudal_act seed with its GF, GS and GC lines', async () => {
    const bytes = new Uint8Array(await readFile(new URL('Caudal_act.sto.gz', fixtures)));
    const [alignment] = await readStockholm(bytes);
    expect(alignment!.fileAnnotations['ID']).toEqual(['Caudal_act']);
    expect(alignment!.fileAnnotations['AC']).toEqual(['PF04731.3']);
    expect(alignment!.fileAnnotations['CC']).toHaveLength(9);
    expect(alignment!.sequences).toHaveLength(9);
    expect(alignment!.sequences[1]!.name).toBe('CDX2_HUMAN/13-180');
    expect(alignment!.sequences[1]!.annotations).toEqual({ AC: ['Q99626.2'] });
    // the name's range 13-180 is the residues the row holds
    expect(alignment!.sequences[1]!.sequence).toHaveLength(180 - 13 + 1);
    expect(alignment!.columnAnnotations['seq_cons']).toHaveLength(alignment!.length);
  });
});
