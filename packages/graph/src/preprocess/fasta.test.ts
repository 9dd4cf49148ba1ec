import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { parseFasta, readFasta } from './fasta.js';

const fixture = new URL('../../test/fixtures/globins-sample.fa', import.meta.url);

describe('parseFasta', () => {
  it('reads multi-line records, ids and descriptions, blank lines and ; comments', () => {
    const text = ';a comment\n>sp|P1|A  first protein  \nMKV\nLL\n\n>B\n;inner comment\nacd\n';
    expect(parseFasta(text)).toEqual([
      { id: 'sp|P1|A', description: 'first protein', sequence: 'MKVLL', line: 2 },
      { id: 'B', description: '', sequence: 'ACD', line: 6 },
    ]);
  });

  it('keeps lower case and gaps, or upper-cases and removes them, by option', () => {
    const text = '>x\nac-D.e\n';
    expect(parseFasta(text)[0]!.sequence).toBe('AC-D.E');
    expect(parseFasta(text, { case: 'keep' })[0]!.sequence).toBe('ac-D.e');
    expect(parseFasta(text, { gaps: 'remove' })[0]!.sequence).toBe('ACDE');
    expect(parseFasta(text, { gaps: 'remove', case: 'keep' })[0]!.sequence).toBe('acDe');
  });

  it('drops a terminal * unless asked to keep it, and rejects an inner one', () => {
    expect(parseFasta('>x\nMK\nV*\n')[0]!.sequence).toBe('MKV');
    expect(parseFasta('>x\nMKV*\n', { stop: 'keep' })[0]!.sequence).toBe('MKV*');
    expectError(() => parseFasta('>x\nMK*V\n'), /line 2/, /'\*' at column 3/);
    expectError(() => parseFasta('>x\nMK*\nV\n'), /line 3/, /after the terminal '\*' of line 2/);
  });

  it('accepts Windows and classic Mac line endings, a byte order mark and bytes', () => {
    const expected = [
      { id: 'a', description: 'd', sequence: 'MKV', line: 1 },
      { id: 'b', description: '', sequence: 'LL', line: 3 },
    ];
    expect(parseFasta('>a d\r\nMKV\r\n>b\r\nLL\r\n')).toEqual(expected);
    expect(parseFasta('>a d\rMKV\r>b\rLL\r')).toEqual(expected);
    expect(parseFasta(new TextEncoder().encode('\uFEFF>a d\nMKV\n>b\nLL'))).toEqual(expected);
  });

  it('treats empty records as an error by default, or keeps or skips them', () => {
    const text = '>a\n>b\nMK\n>c\n--\n';
    expectError(() => parseFasta(text), /line 1/, /record "a" has no residues/);
    expect(parseFasta(text, { emptyRecords: 'keep', gaps: 'remove' }).map((r) => r.sequence)).toEqual([
      '',
      'MK',
      '',
    ]);
    expect(parseFasta(text, { emptyRecords: 'skip', gaps: 'remove' }).map((r) => r.id)).toEqual(['b']);
    // with gaps kept, an all-gap row is an aligned row, not an empty record
    expect(parseFasta('>c\n--\n')[0]!.sequence).toBe('--');
  });

  it('names the line and what was expected for bad input', () => {
    expectError(
      () => parseFasta('MKV\n>a\nMK'),
      /^parseFasta: line 1: expected a header line starting with '>'/,
    );
    expectError(() => parseFasta('>a\nMK1V\n'), /line 2/, /unexpected character "1" at column 3/);
    expectError(() => parseFasta('>a\nMK\n>\nLL'), /line 3/, /expected an identifier after '>'/);
    expectError(() => parseFasta('>a\nMK', { case: 'lower' as 'upper' }), /options.case must be one of/);
    expectError(() => parseFasta(42 as unknown as string), /got number/);
    expectError(() => parseFasta(new Uint8Array([0x3e, 0x61, 0x0a, 0xff])), /not valid UTF-8/);
  });

  it('returns no records for an empty or comment-only text', () => {
    expect(parseFasta('')).toEqual([]);
    expect(parseFasta('\n;only a comment\n\n')).toEqual([]);
  });

  it('reads the committed globin sample from a path, bytes and gzip bytes alike', async () => {
    const fromPath = await readFasta({ path: fixture.pathname });
    expect(fromPath.map((r) => r.id)).toEqual([
      'BAHG_VITSP',
      'GLB1_ANABR',
      'GLB1_ARTSX',
      'GLB1_CALSO',
      'GLB1_CHITH',
      'GLB1_GLYDI',
    ]);
    expect(fromPath[0]!.sequence).toHaveLength(146);
    expect(fromPath[0]!.sequence).toMatch(/^[A-Z]+$/);
    const bytes = new Uint8Array(await readFile(fixture));
    expect(await readFasta(bytes)).toEqual(fromPath);
    expect(await readFasta(gzipSync(bytes))).toEqual(fromPath);
    expectError(() => parseFasta(gzipSync(bytes)), /gzip-compressed/);
  });
});
