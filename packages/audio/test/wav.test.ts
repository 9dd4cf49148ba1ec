/**
 * decodeWav against sox (the fixtures' .f32 files are sox's own float32 decoding, made by
 * scripts/make-fixtures.sh) and against the scaling conventions on hand-built files; encodeWav round trips.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, prepareAudio, readWavFile, toMono } from '../src/index.js';
import { buildWav, floatBytes, intBytes } from './wav-builder.js';

const FIXTURES = new URL('./fixtures/wav/', import.meta.url).pathname;
const fixture = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));

describe('decodeWav against sox', () => {
  const names = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.f32'))
    .map((f) => f.slice(0, -4));

  it('has the ten format fixtures', () => {
    expect(names).toHaveLength(10);
  });

  for (const name of names) {
    it(`${name}: equal to sox's float32 decoding`, () => {
      const decoded = decodeWav(fixture(`${name}.wav`));
      const reference = new Float32Array(fixture(`${name}.f32`).slice().buffer);
      const { channels } = decoded;
      expect(decoded.format.frames * channels.length).toBe(reference.length);
      // sox turns 32-bit ints and 64-bit floats into its own 32-bit integer format first, which rounds
      // them once more: one float32 step near full scale (2^-24); every other format matches bit for bit
      const tolerance = /pcm32|float64/.test(name) ? 2 ** -24 : 0;
      let worst = 0;
      for (let i = 0; i < decoded.format.frames; i++) {
        for (let c = 0; c < channels.length; c++) {
          worst = Math.max(worst, Math.abs(channels[c]![i]! - reference[i * channels.length + c]!));
        }
      }
      expect(worst).toBeLessThanOrEqual(tolerance);
      const [, encoding, channelWord, rate] = /^(?:rifx-)?([a-z]+\d*)-(mono|stereo|3ch)-(\d+)$/.exec(name)!;
      expect(decoded.sampleRate).toBe(Number(rate));
      expect(channels).toHaveLength({ mono: 1, stereo: 2, '3ch': 3 }[channelWord!]!);
      expect(decoded.format.encoding).toBe(encoding!.replace(/\d+$/, ''));
    });
  }

  it('reads the container variants: RIFX (big-endian), WAVE_FORMAT_EXTENSIBLE', () => {
    expect(decodeWav(fixture('rifx-pcm16-mono-8000.wav')).format.container).toBe('RIFX');
    const extensible = decodeWav(fixture('pcm24-stereo-44100.wav')).format;
    expect(extensible).toMatchObject({ extensible: true, formatTag: 1, bitsPerSample: 24, channels: 2 });
  });
});

describe('decodeWav scaling conventions (hand-built files)', () => {
  const decodeInts = (samples: number[], bits: 8 | 16 | 24 | 32) =>
    Array.from(decodeWav(buildWav({ bitsPerSample: bits, data: intBytes(samples, bits) })).channels[0]!);

  it('8-bit is unsigned: (x - 128) / 128', () => {
    expect(decodeInts([0, 1, 128, 255], 8)).toEqual([-1, -127 / 128, 0, 127 / 128]);
  });
  it('16-bit: x / 32768', () => {
    expect(decodeInts([-32768, -1, 0, 1, 32767], 16)).toEqual([-1, -1 / 32768, 0, 1 / 32768, 32767 / 32768]);
  });
  it('24-bit: x / 8388608', () => {
    expect(decodeInts([-8388608, -1, 0, 8388607], 24)).toEqual([-1, -1 / 8388608, 0, 8388607 / 8388608]);
  });
  it('32-bit: x / 2147483648 (rounded to float32)', () => {
    expect(decodeInts([-2147483648, -256, 0, 256, 2147483647], 32)).toEqual([
      -1,
      -256 / 2147483648,
      0,
      256 / 2147483648,
      Math.fround(2147483647 / 2147483648),
    ]);
  });
  it('float files are kept as they are, also beyond [-1, 1]; 64-bit rounded to float32', () => {
    const values = [-1.5, -1, 0.25, 1, 3];
    const f32 = decodeWav(buildWav({ formatTag: 3, bitsPerSample: 32, data: floatBytes(values, 32) }));
    expect(Array.from(f32.channels[0]!)).toEqual(values);
    const f64 = decodeWav(buildWav({ formatTag: 3, bitsPerSample: 64, data: floatBytes([0.1, -0.7], 64) }));
    expect(Array.from(f64.channels[0]!)).toEqual([Math.fround(0.1), Math.fround(-0.7)]);
  });
  it('de-interleaves channels and downmixes to the mean', () => {
    // frames (L, R, C): (1000, -1000, 4000), (2000, 0, -4000)
    const data = intBytes([1000, -1000, 4000, 2000, 0, -4000], 16);
    const clip = decodeWav(buildWav({ channels: 3, data }));
    expect(clip.channels.map((c) => Array.from(c))).toEqual([
      [1000 / 32768, 2000 / 32768],
      [-1000 / 32768, 0],
      [4000 / 32768, -4000 / 32768],
    ]);
    expect(Array.from(toMono(clip))).toEqual([Math.fround(4000 / 3 / 32768), Math.fround(-2000 / 3 / 32768)]);
  });
  it('skips other chunks, with the pad byte after an odd size, and ignores a trailing partial frame', () => {
    const wav = buildWav({
      channels: 2,
      data: intBytes([1, 2, 3, 4, 5], 16), // two whole stereo frames and half of a third
      chunksBeforeData: [
        { id: 'LIST', body: new Uint8Array(7) },
        { id: 'junk', body: new Uint8Array(3) },
      ],
    });
    const clip = decodeWav(wav);
    expect(clip.format.frames).toBe(2);
    expect(clip.channels.map((c) => Array.from(c, (x) => x * 32768))).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });
  it('RF64: the data size comes from the ds64 chunk', () => {
    const clip = decodeWav(buildWav({ container: 'RF64', data: intBytes([100, -100], 16) }));
    expect(clip.format.container).toBe('RF64');
    expect(Array.from(clip.channels[0]!, (x) => x * 32768)).toEqual([100, -100]);
  });
});

describe('encodeWav', () => {
  it('16-bit: decode -> encode -> decode gives the same samples (the speech fixture)', () => {
    const clip = decodeWav(fixture('seven-espeak-en-us.wav'));
    const again = decodeWav(encodeWav(clip));
    expect(again.sampleRate).toBe(22050);
    expect(again.channels[0]).toEqual(clip.channels[0]);
    expect(again.format).toMatchObject({ encoding: 'pcm', bitsPerSample: 16, channels: 1 });
  });
  it('16-bit rounds x * 32768 and clamps to [-32768, 32767]', () => {
    const clip = { sampleRate: 16000, channels: [new Float32Array([-2, -1, -0.5, 0.3, 1, 2])] };
    const back = decodeWav(encodeWav(clip)).channels[0]!;
    expect(Array.from(back, (x) => x * 32768)).toEqual([
      -32768,
      -32768,
      -16384,
      Math.round(0.3 * 32768),
      32767,
      32767,
    ]);
  });
  it('32-bit float keeps stereo samples exactly', () => {
    const left = new Float32Array([0.1, -0.2, 1.5]);
    const right = new Float32Array([0, 0.75, -3]);
    const back = decodeWav(encodeWav({ sampleRate: 44100, channels: [left, right] }, { bitDepth: '32f' }));
    expect(back.format).toMatchObject({
      encoding: 'float',
      bitsPerSample: 32,
      channels: 2,
      sampleRate: 44100,
    });
    expect(back.channels).toEqual([left, right]);
  });
  it('refuses bad clips with the argument named', () => {
    expect(() => encodeWav({ sampleRate: 16000, channels: [new Float32Array([Number.NaN])] })).toThrow(
      /sample 0 of channel 0 is NaN/,
    );
    expect(() => encodeWav({ sampleRate: 0, channels: [new Float32Array(1)] })).toThrow(/clip.sampleRate/);
    expect(() =>
      encodeWav({ sampleRate: 8000, channels: [new Float32Array(2), new Float32Array(3)] }),
    ).toThrow(/channel 0 has 2 samples, channel 1 has 3/);
    expect(() =>
      encodeWav({ sampleRate: 8000, channels: [new Float32Array(2)] }, { bitDepth: '24' as '16' }),
    ).toThrow(/bitDepth must be '16' or '32f'/);
    expect(() => encodeWav({ sampleRate: 8000, channels: [[0, 1] as unknown as Float32Array] })).toThrow(
      /channels\[0\] must be a Float32Array, got array/,
    );
  });
});

describe('readWavFile and prepareAudio', () => {
  it('reads a file, downmixes and resamples to 16 kHz', async () => {
    const clip = await readWavFile(`${FIXTURES}pcm16-stereo-22050.wav`);
    const mono = prepareAudio(clip, { sampleRate: 16000 });
    expect(mono.sampleRate).toBe(16000);
    expect(mono.samples.length).toBe(Math.floor((441 * 16000) / 22050));
    const same = prepareAudio(clip);
    expect(same).toEqual({ sampleRate: 22050, samples: toMono(clip) });
  });
});
