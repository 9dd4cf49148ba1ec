/**
 * Training augmentation: seeded (the same seed gives the same clip, another seed another), each
 * transformation measured on signals whose answer is known: a speed change scales a tone's frequency and
 * the clip's length by the factor, a gain clips at full scale, noise lands at the drawn SNR, and
 * SpecAugment's masks have the widths asked for.
 */
import { seededUniform } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import {
  augmentClip,
  changeSpeed,
  checkWaveAugmentation,
  equalizerGains,
  specAugmentMask,
  trainingBatch,
  type WaveAugmentation,
} from '../src/index.js';
import { rms } from '../src/preprocess/augment.js';

const RATE = 16000;
const tone = (hz: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from(
    { length: Math.round(seconds * RATE) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE),
  );
/** Upward zero crossings per second over the middle of the signal (edges of a resampled clip ring). */
const frequencyOf = (x: Float32Array) => {
  const [from, to] = [Math.floor(x.length * 0.1), Math.floor(x.length * 0.9)];
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return (crossings * RATE) / (to - from);
};

const ALL: WaveAugmentation = {
  speed: { p: 1, min: 0.9, max: 1.1 },
  gainDb: { p: 1, min: -6, max: 6 },
  noise: { p: 1, min: 10, max: 30 },
};
const NONE: WaveAugmentation = {
  speed: { p: 0, min: 1, max: 1 },
  gainDb: { p: 0, min: 0, max: 0 },
  noise: { p: 0, min: 20, max: 20 },
};

describe('waveform augmentation', () => {
  it('is seeded: the same seed gives the same samples and draws, another seed others', () => {
    const clip = tone(300, 0.25);
    const run = (seed: number) => {
      const a = augmentClip(clip, ALL, RATE, seededUniform(seed));
      const window = new Float32Array(a.samples.length + 100);
      window.set(a.samples, 50);
      a.noise(window);
      return { draw: a.draw, window };
    };
    expect(run(7)).toEqual(run(7));
    expect(run(8).window).not.toEqual(run(7).window);
    expect(run(7).draw.speed).toBeGreaterThanOrEqual(0.9);
    expect(run(7).draw.speed).toBeLessThanOrEqual(1.1);
  });

  it('with every probability 0 the clip comes back unchanged (a copy) and no noise is added', () => {
    const clip = tone(300, 0.1);
    const a = augmentClip(clip, NONE, RATE, seededUniform(1));
    expect(a.draw).toEqual({ speed: 1, gainDb: 0, snrDb: null });
    expect(a.samples).toEqual(clip);
    expect(a.samples).not.toBe(clip);
    const window = new Float32Array(10);
    a.noise(window);
    expect(window).toEqual(new Float32Array(10));
  });

  it('changeSpeed plays a tone faster and higher by the factor (through the resampler)', () => {
    const clip = tone(400, 0.5);
    for (const factor of [0.9, 1.12]) {
      const fast = changeSpeed(clip, factor, RATE);
      expect(fast.length).toBeCloseTo(clip.length / factor, -1); // within 5 samples
      expect(frequencyOf(fast) / (400 * factor)).toBeCloseTo(1, 2);
    }
    expect(() => changeSpeed(clip, 3, RATE)).toThrow(/changeSpeed: factor is 3; expected \[0.5, 2\]/);
  });

  it("changeSpeed's cubic (training's) matches the sinc under 4 kHz: length, pitch, level within 1 dB", () => {
    for (const hz of [400, 1500, 3500]) {
      const clip = tone(hz, 0.5);
      for (const factor of [0.85, 1.18]) {
        const cubic = changeSpeed(clip, factor, RATE, 'cubic');
        const sinc = changeSpeed(clip, factor, RATE, 'sinc');
        expect(Math.abs(cubic.length - sinc.length)).toBeLessThanOrEqual(1);
        expect(frequencyOf(cubic) / (hz * factor)).toBeCloseTo(1, 2);
        const middle = (x: Float32Array) => x.subarray(x.length >> 2, (3 * x.length) >> 2);
        const db = 20 * Math.log10(rms(middle(cubic)) / rms(middle(clip)));
        expect(Math.abs(db)).toBeLessThan(1); // Catmull-Rom's droop: ~0.6 dB at 3.5 kHz x 1.18
      }
    }
    expect(changeSpeed(tone(300, 0.1), 1, RATE, 'cubic')).toEqual(tone(300, 0.1));
  });

  it('a gain scales and clips at full scale; noise lands at the drawn SNR', () => {
    const loud = augmentClip(
      tone(300, 0.2, 0.5),
      { ...NONE, gainDb: { p: 1, min: 12, max: 12 } },
      RATE,
      seededUniform(2),
    );
    expect(Math.max(...loud.samples)).toBe(1); // 0.5 * 10^(12/20) = 1.99, clipped
    const clip = tone(300, 1, 0.5);
    const noisy = augmentClip(clip, { ...NONE, noise: { p: 1, min: 20, max: 20 } }, RATE, seededUniform(3));
    const window = new Float32Array(clip.length);
    noisy.noise(window); // noise alone
    expect(noisy.draw.snrDb).toBe(20);
    expect(20 * Math.log10(rms(clip) / rms(window))).toBeCloseTo(20, 0);
  });

  it('refuses settings out of range', () => {
    expect(() => checkWaveAugmentation({ ...ALL, speed: { p: 1.5, min: 0.9, max: 1.1 } })).toThrow(
      /speed.p is 1.5/,
    );
    expect(() => checkWaveAugmentation({ ...ALL, gainDb: { p: 1, min: 6, max: -6 } })).toThrow(
      /gainDb is \[6, -6\]/,
    );
  });
});

describe('SpecAugment', () => {
  it('masks whole frames and whole bins, at most the widths asked, seeded', () => {
    const opts = { timeMasks: 2, timeWidth: 5, freqMasks: 1, freqWidth: 3 };
    const mask = specAugmentMask(40, 10, opts, seededUniform(4));
    expect(specAugmentMask(40, 10, opts, seededUniform(4))).toEqual(mask);
    const frameMasked = (t: number) => mask.subarray(t * 10, (t + 1) * 10).every((v) => v === 0);
    const binMasked = (b: number) =>
      Array.from({ length: 40 }, (_, t) => mask[t * 10 + b]).every((v) => v === 0);
    const frames = Array.from({ length: 40 }, (_, t) => t).filter(frameMasked).length;
    const bins = Array.from({ length: 10 }, (_, b) => b).filter(binMasked).length;
    expect(frames).toBeLessThanOrEqual(10);
    expect(bins).toBeLessThanOrEqual(3);
    // every zero is in a masked frame or a masked bin
    for (let t = 0; t < 40; t++)
      for (let b = 0; b < 10; b++)
        if (mask[t * 10 + b] === 0) expect(frameMasked(t) || binMasked(b)).toBe(true);
    expect(
      specAugmentMask(8, 4, { timeMasks: 0, timeWidth: 0, freqMasks: 0, freqWidth: 0 }, Math.random),
    ).toEqual(new Float32Array(32).fill(1));
  });
});

describe('equalizer', () => {
  it('draws smooth seeded curves within +-maxDb, or none with probability 1 - p', () => {
    const eq = { p: 1, maxDb: 12 };
    const curves = Array.from({ length: 50 }, (_, seed) => equalizerGains(40, eq, seededUniform(seed)));
    expect(equalizerGains(40, eq, seededUniform(3))).toEqual(curves[3]);
    let largest = 0;
    for (const curve of curves) {
      for (let m = 0; m < 40; m++) {
        largest = Math.max(largest, Math.abs(curve[m]!));
        // three cosines at most: neighbouring bins differ by at most 12 * (pi/40) * (1/2 + 2/4 + 3/8)
        if (m > 0) expect(Math.abs(curve[m]! - curve[m - 1]!)).toBeLessThan(1.3);
      }
    }
    expect(largest).toBeLessThanOrEqual(12);
    expect(largest).toBeGreaterThan(4); // not all flat
    expect(equalizerGains(40, { p: 0, maxDb: 12 }, seededUniform(1))).toEqual(new Float32Array(40));
  });
});

describe('training batches', () => {
  it('are a function of (seed, step): clips, placement, noise and masks', () => {
    const clips = Array.from({ length: 6 }, (_, i) => ({ samples: tone(200 + 50 * i, 0.2), label: i % 3 }));
    const cfg = {
      sampleRate: RATE,
      windowSamples: 4800,
      nFft: 400,
      hopLength: 160,
      nMels: 8,
      fMin: 20,
      fMax: 4000,
      floorBelowMax: 8,
      clipMeanNormalized: true,
    };
    const h = {
      steps: 1,
      batchSize: 4,
      lr: 1e-3,
      minLr: 0,
      warmupSteps: 1,
      weightDecay: 0,
      labelSmoothing: 0,
      clipGradNorm: 1,
      augmentation: ALL,
      specAugment: { timeMasks: 1, timeWidth: 3, freqMasks: 1, freqWidth: 2 },
      equalizer: { p: 1, maxDb: 10 },
    };
    const a = trainingBatch(clips, cfg, h, 5, 3);
    expect(a.binGainsDb).toHaveLength(4 * 8);
    expect(a.binGainsDb.some((g) => g !== 0)).toBe(true);
    expect(trainingBatch(clips, cfg, h, 5, 3)).toEqual(a);
    expect(trainingBatch(clips, cfg, h, 5, 4).windows).not.toEqual(a.windows);
    expect(a.windows).toHaveLength(4 * 4800);
    expect(a.masks).toHaveLength(4 * 30 * 16); // 30 frames of 2 x 8 values
    // both copies of a bin share the mask
    for (let r = 0; r < 4 * 30; r++)
      expect(a.masks.subarray(r * 16, r * 16 + 8)).toEqual(a.masks.subarray(r * 16 + 8, r * 16 + 16));
    for (const span of a.spans) expect(span.offset + span.length).toBeLessThanOrEqual(4800);
  });

  it('draw words evenly: a word with one clip comes as often as a word with nine', () => {
    const clips = [
      { samples: tone(200, 0.1), label: 0, word: 'oh' },
      ...Array.from({ length: 9 }, () => ({ samples: tone(300, 0.1), label: 1, word: 'one' })),
    ];
    const cfg = {
      sampleRate: RATE,
      windowSamples: 1600,
      nFft: 400,
      hopLength: 160,
      nMels: 4,
      fMin: 20,
      fMax: 4000,
      floorBelowMax: 8,
      clipMeanNormalized: false,
    };
    const h = {
      steps: 1,
      batchSize: 400,
      lr: 0,
      minLr: 0,
      warmupSteps: 1,
      weightDecay: 0,
      labelSmoothing: 0,
      clipGradNorm: 1,
      augmentation: NONE,
      specAugment: { timeMasks: 0, timeWidth: 0, freqMasks: 0, freqWidth: 0 },
    };
    const { labels } = trainingBatch(clips, cfg, h, 1, 0);
    expect(labels.filter((l) => l === 0).length / 400).toBeCloseTo(0.5, 1);
  });
});
