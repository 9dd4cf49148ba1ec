/**
 * Seeded training augmentation for clips: on the waveform, a speed change through the package's resampler
 * (Ko et al. 2015: playing the clip faster or slower changes tempo and pitch together, as `sox speed`
 * does), a gain in dB with clipping at full scale, and white noise at a drawn signal-to-noise ratio; on the
 * log-mel features, SpecAugment's time and frequency masks (Park et al. 2019). Every draw comes from one
 * seeded generator in a fixed order, so the same seed gives the same clip on every machine.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../io/errors.js';
import { resample } from '../io/resample.js';

export interface Range {
  min: number;
  max: number;
}

export interface WaveAugmentation {
  /** Probability of a speed change, and the factor's range (1.1 = 10% faster and higher). */
  speed: { p: number } & Range;
  /** Probability of a gain, and its range in dB; samples are then clipped to [-1, 1]. */
  gainDb: { p: number } & Range;
  /** Probability of white noise, and the range of its SNR in dB against the clip's RMS. */
  noise: { p: number } & Range;
}

export interface SpecAugment {
  /** Masks of up to `timeWidth` consecutive frames. */
  timeMasks: number;
  timeWidth: number;
  /** Masks of up to `freqWidth` consecutive mel bins. */
  freqMasks: number;
  freqWidth: number;
}

function checkRange(name: string, r: { p: number } & Range, low: number, high: number): void {
  if (!(r.p >= 0 && r.p <= 1)) invalidArgument(`augmentClip: ${name}.p is ${r.p}; expected [0, 1]`);
  if (!(r.min >= low && r.min <= r.max && r.max <= high)) {
    invalidArgument(
      `augmentClip: ${name} is [${r.min}, ${r.max}]; expected low <= high within [${low}, ${high}]`,
    );
  }
}

/** Checks an augmentation's settings (called once per run rather than per clip). */
export function checkWaveAugmentation(aug: WaveAugmentation): void {
  checkRange('speed', aug.speed, 0.5, 2);
  checkRange('gainDb', aug.gainDb, -60, 40);
  checkRange('noise', aug.noise, -20, 100);
}

const between = (r: Range, random: () => number) => r.min + (r.max - r.min) * random();

/** A standard normal draw (Box-Muller). */
export function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Root mean square of the samples (0 for none). */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const x of samples) sum += x * x;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/**
 * The clip played `factor` times faster: read as if sampled at factor * sampleRate and resampled back to
 * sampleRate (wavefile's sinc resampler), so it lasts 1 / factor as long and sounds factor times higher.
 */
export function changeSpeed(samples: Float32Array, factor: number, sampleRate: number): Float32Array {
  if (!(factor >= 0.5 && factor <= 2)) invalidArgument(`changeSpeed: factor is ${factor}; expected [0.5, 2]`);
  const from = Math.round(sampleRate * factor);
  return from === sampleRate ? samples.slice() : resample(samples, from, sampleRate);
}

/** What one augmentation drew, for tests and logs. */
export interface AugmentDraw {
  speed: number;
  gainDb: number;
  /** null: no noise. */
  snrDb: number | null;
}

/**
 * A clip with speed and gain applied (a new array), and the noise to add once it sits in its window:
 * `noise(window)` adds white noise at the drawn SNR against the clip's RMS (the whole window gets it,
 * as a recording's background would). Draws, in order: speed?, factor, gain?, dB, noise?, SNR.
 */
export function augmentClip(
  samples: Float32Array,
  aug: WaveAugmentation,
  sampleRate: number,
  random: () => number,
): { samples: Float32Array; draw: AugmentDraw; noise: (window: Float32Array) => void } {
  const speed = random() < aug.speed.p ? between(aug.speed, random) : 1;
  const gainDb = random() < aug.gainDb.p ? between(aug.gainDb, random) : 0;
  const snrDb = random() < aug.noise.p ? between(aug.noise, random) : null;
  const out = speed === 1 ? samples.slice() : changeSpeed(samples, speed, sampleRate);
  if (gainDb !== 0) {
    const gain = 10 ** (gainDb / 20);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]! * gain));
  }
  const level = snrDb === null ? 0 : rms(out) / 10 ** (snrDb / 20);
  const noiseSeed = Math.floor(random() * 2 ** 32);
  return {
    samples: out,
    draw: { speed, gainDb, snrDb },
    noise: (window) => {
      if (level === 0) return;
      const draw = seededUniform(noiseSeed);
      for (let i = 0; i < window.length; i++) window[i]! += level * gaussian(draw);
    },
  };
}

/**
 * SpecAugment's masks for one example `[frames, bins]` row-major: 1 keeps a value, 0 masks it. Each mask
 * has a width drawn from [0, width] and a start drawn uniformly where it fits (Park et al. 2019, §2).
 */
export function specAugmentMask(
  frames: number,
  bins: number,
  opts: SpecAugment,
  random: () => number,
): Float32Array {
  const mask = new Float32Array(frames * bins).fill(1);
  for (let m = 0; m < opts.timeMasks; m++) {
    const width = Math.min(frames, Math.floor(random() * (opts.timeWidth + 1)));
    const start = Math.floor(random() * (frames - width + 1));
    mask.fill(0, start * bins, (start + width) * bins);
  }
  for (let m = 0; m < opts.freqMasks; m++) {
    const width = Math.min(bins, Math.floor(random() * (opts.freqWidth + 1)));
    const start = Math.floor(random() * (bins - width + 1));
    for (let t = 0; t < frames; t++) mask.fill(0, t * bins + start, t * bins + start + width);
  }
  return mask;
}
