import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection } from '../../test/expect-error.js';
import { gunzipWithStreams, gunzipWithZlib, readTextSource, splitLines, textOf } from './text-source.js';

const text = '>a\nMKV\n'.repeat(1000);
const bytes = new TextEncoder().encode(text);

describe('text sources', () => {
  it('inflates gzip through zlib and through DecompressionStream (the browser path) alike', async () => {
    const packed = gzipSync(bytes);
    expect(new TextDecoder().decode(await gunzipWithZlib(packed, 'test', 1 << 20))).toBe(text);
    expect(new TextDecoder().decode(await gunzipWithStreams(packed, 'test', 1 << 20))).toBe(text);
    // two gzip members one after the other (what `cat a.gz b.gz` makes) inflate to both texts
    const twice = new Uint8Array([...packed, ...packed]);
    expect(await readTextSource(twice, 'test')).toBe(text + text);
  });

  it('stops inflating past maxBytes on both paths', async () => {
    const packed = gzipSync(new Uint8Array(1 << 20));
    await expectRejection(gunzipWithZlib(packed, 'test', 1000), /inflates to more than maxBytes 1000/);
    await expectRejection(gunzipWithStreams(packed, 'test', 1000), /inflates to more than maxBytes 1000/);
    await expectRejection(readTextSource(packed, 'test', { maxBytes: 1000 }), /maxBytes 1000/);
  });

  it('reports corrupt gzip, missing files and wrong source types', async () => {
    const corrupt = gzipSync(bytes).slice(0, 30);
    await expectRejection(
      readTextSource(corrupt, 'readX'),
      /^readX: the input starts like gzip but does not inflate/,
    );
    await expectRejection(gunzipWithStreams(corrupt, 'readX', 1 << 20), /does not inflate/);
    await expectRejection(
      readTextSource({ path: '/nonexistent/file.fa' }, 'readX'),
      /cannot read \/nonexistent/,
    );
    await expectRejection(readTextSource(5 as unknown as string, 'readX'), /got number/);
    await expectRejection(
      readTextSource('x', 'readX', { maxBytes: 0 }),
      /maxBytes must be a positive integer/,
    );
    expectError(
      () => textOf({}, 'parseX'),
      /^parseX: expected the file's text as a string or Uint8Array, got object/,
    );
  });

  it('splits LF, CRLF and CR line endings', () => {
    expect(splitLines('a\r\nb\nc\rd')).toEqual(['a', 'b', 'c', 'd']);
  });
});
