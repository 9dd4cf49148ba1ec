/**
 * Corrupt, truncated, unsupported and absurd WAV files: each gets a MultiheadError that says what came,
 * before anything of a claimed size is allocated; random header mutations (fast-check) never give
 * anything but a decoded clip or a MultiheadError, in bounded time.
 */
import { readFileSync } from 'node:fs';
import { MultiheadError } from '@multihead/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWav, inspectWav } from '../src/index.js';
import { buildWav, floatBytes, intBytes } from './wav-builder.js';

const speech = new Uint8Array(
  readFileSync(new URL('./fixtures/wav/seven-espeak-en-us.wav', import.meta.url)),
);

function errorOf(run: () => unknown): MultiheadError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(MultiheadError);
    return e as MultiheadError;
  }
  throw new Error('expected a MultiheadError, got none');
}

const pcm = intBytes([1, 2, 3, 4], 16);

describe('decodeWav refuses bad files with a clear error', () => {
  const cases: [string, Uint8Array, 'INVALID_ARGUMENT' | 'UNSUPPORTED', RegExp][] = [
    ['empty', new Uint8Array(0), 'INVALID_ARGUMENT', /file is 0 bytes/],
    [
      'not RIFF',
      new TextEncoder().encode('ID3\u0004 an mp3 file, not a wav'),
      'INVALID_ARGUMENT',
      /starts with "ID3\\x04"/,
    ],
    [
      'not WAVE',
      new TextEncoder().encode('RIFF\u0004\u0000\u0000\u0000AVI '),
      'INVALID_ARGUMENT',
      /form type is "AVI "/,
    ],
    [
      'RIFF size beyond the file',
      buildWav({ data: pcm, riffSize: 1000 }),
      'INVALID_ARGUMENT',
      /RIFF header says 1008 bytes, the file has 52/,
    ],
    [
      'data chunk claims 2^32 - 1 bytes',
      buildWav({ data: pcm, dataSize: 0xffffffff, riffSize: 44 }),
      'INVALID_ARGUMENT',
      /data chunk at byte 36 claims 4294967295 bytes, only 8 follow/,
    ],
    [
      'a chunk before data runs past the end',
      (() => {
        const wav = buildWav({ data: pcm, chunksBeforeData: [{ id: 'LIST', body: new Uint8Array(4) }] });
        new DataView(wav.buffer).setUint32(40, 1 << 30, true); // the LIST chunk's size
        return wav;
      })(),
      'INVALID_ARGUMENT',
      /chunk "LIST" at byte 36 claims 1073741824 bytes/,
    ],
    ['no fmt chunk', buildWav({ data: pcm, noFmt: true }), 'INVALID_ARGUMENT', /no "fmt " chunk/],
    [
      'no data chunk',
      (() => {
        const wav = buildWav({ data: pcm }).slice(0, 36);
        new DataView(wav.buffer).setUint32(4, 28, true);
        return wav;
      })(),
      'INVALID_ARGUMENT',
      /no "data" chunk/,
    ],
    [
      'fmt too short',
      buildWav({ data: pcm }).fill(8, 16, 17),
      'INVALID_ARGUMENT',
      /fmt chunk is 8 bytes, expected at least 16/,
    ],
    ['zero channels', buildWav({ data: pcm, channels: 0, blockAlign: 2 }), 'INVALID_ARGUMENT', /0 channels/],
    ['zero sample rate', buildWav({ data: pcm, sampleRate: 0 }), 'INVALID_ARGUMENT', /sample rate of 0 Hz/],
    [
      'block align disagrees',
      buildWav({ data: pcm, channels: 2, blockAlign: 2 }),
      'INVALID_ARGUMENT',
      /block align is 2 bytes, expected 2 channels x 2 bytes = 4/,
    ],
    [
      'MPEG',
      buildWav({ data: pcm, formatTag: 0x50, bitsPerSample: 0 }),
      'UNSUPPORTED',
      /0x0050 MPEG-1 audio/,
    ],
    [
      'MP3',
      buildWav({ data: pcm, formatTag: 0x55, bitsPerSample: 0 }),
      'UNSUPPORTED',
      /0x0055 MPEG-1 Layer III/,
    ],
    [
      'MS ADPCM',
      buildWav({ data: pcm, formatTag: 2, bitsPerSample: 4 }),
      'UNSUPPORTED',
      /0x0002 Microsoft ADPCM/,
    ],
    [
      'IMA ADPCM',
      buildWav({ data: pcm, formatTag: 0x11, bitsPerSample: 4 }),
      'UNSUPPORTED',
      /IMA ADPCM.*drops the last block/,
    ],
    [
      'extensible MP3',
      buildWav({ data: pcm, formatTag: 0x55, extensible: true }),
      'UNSUPPORTED',
      /0x0055 MPEG-1 Layer III/,
    ],
    [
      'unknown format tag',
      buildWav({ data: pcm, formatTag: 0x1234 }),
      'UNSUPPORTED',
      /format tag 0x1234 is not supported/,
    ],
    [
      '12-bit PCM',
      buildWav({ data: pcm, bitsPerSample: 12, blockAlign: 2 }),
      'UNSUPPORTED',
      /12-bit pcm samples/,
    ],
    ['16-bit float', buildWav({ data: pcm, formatTag: 3, bitsPerSample: 16 }), 'UNSUPPORTED', /16-bit float/],
    [
      'NaN in a float file',
      buildWav({ data: floatBytes([0, Number.NaN], 32), formatTag: 3, bitsPerSample: 32 }),
      'INVALID_ARGUMENT',
      /sample 1 of channel 0 is NaN/,
    ],
    [
      'RF64 without ds64',
      (() => {
        const wav = buildWav({ container: 'RF64', data: pcm });
        wav.set(new TextEncoder().encode('JUNK'), 12); // rename the ds64 chunk
        return wav;
      })(),
      'INVALID_ARGUMENT',
      /no ds64 chunk/,
    ],
  ];
  for (const [name, bytes, code, message] of cases) {
    it(name, () => {
      const error = errorOf(() => decodeWav(bytes));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    });
  }

  it('refuses what is not a Uint8Array', () => {
    expect(errorOf(() => decodeWav([1, 2, 3] as unknown as Uint8Array)).message).toMatch(
      /bytes must be a Uint8Array, got object/,
    );
  });

  it('allowTruncated decodes the whole frames present and says so', () => {
    const truncated = buildWav({ data: intBytes([10, 20, 30], 16), dataSize: 1 << 30, riffSize: 0xffffffff });
    expect(errorOf(() => decodeWav(truncated)).message).toMatch(
      /RIFF header says .*pass allowTruncated: true/,
    );
    const riffFine = buildWav({ data: intBytes([10, 20, 30], 16), dataSize: 1 << 30, riffSize: 42 });
    expect(errorOf(() => decodeWav(riffFine)).message).toMatch(/data chunk .*\(pass allowTruncated: true/);
    const clip = decodeWav(truncated, { allowTruncated: true });
    expect(clip.format).toMatchObject({ truncated: true, frames: 3 });
    expect(Array.from(clip.channels[0]!, (x) => x * 32768)).toEqual([10, 20, 30]);
  });

  it('a header claiming 2^32 samples costs no memory: the error comes first', () => {
    const absurd = buildWav({
      channels: 8,
      bitsPerSample: 32,
      data: new Uint8Array(64),
      dataSize: 0xfffffff0,
    });
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    expect(errorOf(() => decodeWav(absurd)).message).toMatch(/claims 4294967280 bytes/);
    expect(performance.now() - started).toBeLessThan(250); // microseconds when idle; generous for a loaded machine
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});

describe('decodeWav under random header mutations (fast-check)', () => {
  const withinHeader = Math.min(speech.length, 64);
  const mutation = fc.record({
    writes: fc.array(fc.tuple(fc.nat(withinHeader - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
    sizeWrites: fc.array(fc.tuple(fc.constantFrom(4, 16, 40), fc.nat(0xffffffff)), { maxLength: 2 }),
    // most runs keep the whole file, so mutated headers reach the decoder; some cut it anywhere
    keep: fc.oneof(
      { arbitrary: fc.constant(speech.length), weight: 3 },
      { arbitrary: fc.nat(speech.length), weight: 1 },
    ),
    allowTruncated: fc.boolean(),
  });

  it('gives a clip or a MultiheadError, never anything else, within bounded time and memory', () => {
    const outcomes = { decoded: 0, refused: 0 };
    fc.assert(
      fc.property(mutation, ({ writes, sizeWrites, keep, allowTruncated }) => {
        const bytes = speech.slice(0, Math.max(keep, 12));
        const view = new DataView(bytes.buffer);
        for (const [at, value] of writes) if (at < bytes.length) bytes[at] = value;
        for (const [at, value] of sizeWrites) if (at + 4 <= bytes.length) view.setUint32(at, value, true);
        const started = performance.now();
        try {
          const clip = decodeWav(bytes, { allowTruncated });
          // whatever decoded cannot hold more samples than the bytes present
          const samples = clip.channels.reduce((n, c) => n + c.length, 0);
          expect(samples).toBeLessThanOrEqual(bytes.length);
          for (const channel of clip.channels) expect(channel.every(Number.isFinite)).toBe(true);
          expect(inspectWav(bytes, { allowTruncated }).frames).toBe(clip.format.frames);
          outcomes.decoded++;
        } catch (e) {
          expect(e).toBeInstanceOf(MultiheadError);
          outcomes.refused++;
        }
        // a file of 28 kB decodes in about a millisecond; the bound only has to catch runaway work
        expect(performance.now() - started).toBeLessThan(2000);
      }),
      { numRuns: 400, seed: 7 },
    );
    // both paths were exercised (fast-check may shrink, so counts include the replays)
    expect(outcomes.decoded).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(20);
    console.log(`[wav fuzz] ${JSON.stringify(outcomes)}`);
  });
});
