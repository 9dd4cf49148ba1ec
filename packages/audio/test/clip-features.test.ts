/**
 * What the digit classifier reads: any audio through the dataset's clip pipeline (the same samples as
 * prepareDigitClip on a committed espeak-ng WAV), placed in a window, and the device features: peak-relative
 * log-mel in [-1, 1] whatever the level, and the clip-mean-normalized copy (zero mean over the clip's
 * frames in every bin, -1 outside it), checked against the float64 log-mel reference.
 */
import { readFileSync } from 'node:fs';
import type { Device } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareDigitClip } from '../src/data/digit-clips.js';
import {
  type ClipFeatureConfig,
  clipFeatures,
  decodeWav,
  frameWidth,
  logMelSpectrogramReference,
  loudestStart,
  placeInWindow,
  prepareClip,
  spanFrames,
  tokenTimes,
  windowFrames,
} from '../src/index.js';

const SEVEN = new Uint8Array(readFileSync(new URL('./fixtures/wav/seven-espeak-en-us.wav', import.meta.url)));
const CFG: ClipFeatureConfig = {
  sampleRate: 16000,
  windowSamples: 8000,
  nFft: 400,
  hopLength: 160,
  nMels: 16,
  fMin: 20,
  fMax: 4000,
  floorBelowMax: 8,
  clipMeanNormalized: true,
};

let device: Device;
beforeAll(async () => {
  device = (await getDevices()).dev;
});

describe('clip pipeline', () => {
  it('prepareClip gives the dataset pipeline’s samples for decoded audio, stereo included', () => {
    const wav = decodeWav(SEVEN, { allowTruncated: true });
    const expected = prepareDigitClip(SEVEN);
    expect(prepareClip(wav, 16000, 'test')).toEqual(expected);
    const stereo = { sampleRate: wav.sampleRate, channels: [wav.channels[0]!, wav.channels[0]!] };
    expect(prepareClip(stereo, 16000, 'test')).toEqual(expected);
    expect(() =>
      prepareClip({ sampleRate: 8000, channels: [new Float32Array(100)] }, 16000, 'audio/digits'),
    ).toThrow(/audio\/digits: the audio is silent/);
    const bad = new Float32Array(100).fill(0.1);
    bad[3] = Number.NaN;
    expect(() => prepareClip({ sampleRate: 8000, channels: [bad] }, 16000, 'who')).toThrow(/holds NaN/);
  });

  it('places a clip in its window: centered, at a fraction of the room, or its loudest part when longer', () => {
    const clip = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    const centered = placeInWindow(clip, 300);
    expect(centered).toMatchObject({ offset: 100, length: 100 });
    expect(centered.window[100]).toBe(1);
    expect(centered.window[99]).toBe(0);
    expect(placeInWindow(clip, 300, 0).offset).toBe(0);
    expect(placeInWindow(clip, 300, 1).offset).toBe(200);
    const long = new Float32Array(1000);
    long.fill(0.9, 600, 650);
    expect(loudestStart(long, 100)).toBe(550); // the first window holding all of it
    const cropped = placeInWindow(long, 100);
    expect(cropped).toMatchObject({ offset: 0, length: 100 });
    expect(cropped.window.reduce((a, b) => a + b, 0)).toBeCloseTo(45, 4);
  });

  it('spans and token labels follow the frames (10 ms each, centered on t * hop)', () => {
    expect(windowFrames(CFG)).toBe(50);
    expect(frameWidth(CFG)).toBe(32);
    expect(spanFrames(CFG, { offset: 1600, length: 3200 })).toEqual({ first: 10, count: 20 });
    expect(spanFrames(CFG, { offset: 0, length: 8000 })).toEqual({ first: 0, count: 50 });
    expect(tokenTimes(CFG, 5).slice(0, 3)).toEqual(['0.00s', '0.05s', '0.10s']);
    expect(tokenTimes(CFG, 5)).toHaveLength(10);
  });
});

describe('clip features on the device', () => {
  const clip = () => prepareDigitClip(SEVEN).subarray(0, 6000);

  it('match the float64 log-mel, peak-scaled to [-1, 1]; level does not matter', async () => {
    const { window, offset, length } = placeInWindow(clip(), CFG.windowSamples);
    const plain = { ...CFG, clipMeanNormalized: false };
    const x = clipFeatures(device, window, 1, plain);
    expect(x.shape).toEqual([1, 50, 16]);
    const got = (await x.read()) as Float32Array;
    x.dispose();
    const top = window.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const ref = logMelSpectrogramReference(
      window.map((v) => v / top),
      { ...plain, floorBelowMax: 8 },
    ); // [bins, frames]
    let peak = Number.NEGATIVE_INFINITY;
    for (const v of ref.data) peak = Math.max(peak, v);
    let worst = 0;
    for (let t = 0; t < 50; t++)
      for (let b = 0; b < 16; b++) {
        const expected = ((ref.data[b * ref.frames + t]! - peak) * 2) / 8 + 1;
        worst = Math.max(worst, Math.abs(got[t * 16 + b]! - expected));
      }
    expect(worst).toBeLessThan(1e-4);
    expect(Math.max(...got)).toBeCloseTo(1, 5);
    expect(Math.min(...got)).toBeGreaterThanOrEqual(-1 - 1e-6);
    const quiet = window.map((v) => v * 0.001);
    const y = clipFeatures(device, quiet, 1, plain);
    const scaled = (await y.read()) as Float32Array;
    y.dispose();
    for (let i = 0; i < got.length; i++) expect(Math.abs(scaled[i]! - got[i]!)).toBeLessThan(2e-4);
    expect(offset + length).toBeLessThanOrEqual(CFG.windowSamples);
  });

  it('equalizer gains shift their bins by gain / 10 log10 units, clamped at the floor', async () => {
    const { window } = placeInWindow(clip(), CFG.windowSamples);
    const plain = { ...CFG, clipMeanNormalized: false };
    const read = async (gains?: Float32Array) => {
      const x = clipFeatures(device, window, 1, plain, undefined, gains);
      const values = (await x.read()) as Float32Array;
      x.dispose();
      return values;
    };
    const base = await read();
    const flat = await read(new Float32Array(16).fill(6)); // a level change: peak-relative, no change
    for (let i = 0; i < base.length; i++) expect(Math.abs(flat[i]! - base[i]!)).toBeLessThan(1e-5);
    const peakBin = base.indexOf(Math.max(...base)) % 16;
    const bin = (peakBin + 8) % 16;
    const gains = new Float32Array(16);
    gains[bin] = -20; // -2 log10 units = -0.5 on the [-1, 1] scale of 8 units
    const cut = await read(gains);
    for (let t = 0; t < 50; t++) {
      for (let b = 0; b < 16; b++) {
        const expected = b === bin ? Math.max(-1, base[t * 16 + b]! - 0.5) : base[t * 16 + b]!;
        expect(Math.abs(cut[t * 16 + b]! - expected)).toBeLessThan(1e-5);
      }
    }
    expect(() => clipFeatures(device, window, 1, plain, undefined, new Float32Array(3))).toThrow(
      /binGainsDb has 3 values; expected 1 x 16 mel bins/,
    );
  });

  it('the clip-mean-normalized copy has zero mean per bin over the clip and -1 outside', async () => {
    const placed = placeInWindow(clip(), CFG.windowSamples);
    const x = clipFeatures(device, placed.window, 1, CFG, [placed]);
    expect(x.shape).toEqual([1, 50, 32]);
    const v = (await x.read()) as Float32Array;
    x.dispose();
    const { first, count } = spanFrames(CFG, placed);
    for (let b = 0; b < 16; b++) {
      let sum = 0;
      for (let t = first; t < first + count; t++) sum += v[t * 32 + 16 + b]!;
      expect(Math.abs(sum / count)).toBeLessThan(1e-5);
      for (let t = 0; t < first; t++) expect(v[t * 32 + 16 + b]).toBe(-1);
    }
    expect(() => clipFeatures(device, placed.window, 1, CFG)).toThrow(/no clip spans; expected 1/);
    expect(() => clipFeatures(device, placed.window, 2, CFG, [placed, placed])).toThrow(
      /expected 2 windows of 8000/,
    );
  });
});
