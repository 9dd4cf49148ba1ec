/**
 * Seeded training augmentation for clips: on the waveform, a speed change (Ko et al. 2015: playing the
 * clip faster or slower changes tempo, pitch and formants together, as `sox speed` does, which mimics a
 * longer or shorter vocal tract), a gain in dB with clipping at full scale, and white noise at a drawn
 * signal-to-noise ratio; on the log-mel features, SpecAugment's time and frequency masks (Park et al.
 * 2019) and a smooth random equalizer (a microphone's or a telephone line's response). Every draw comes
 * from one seeded generator in a fixed order, so the same seed gives the same clip on every machine.
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
 * sampleRate, so it lasts 1 / factor as long and sounds factor times higher. `'sinc'` goes through the
 * package's resampler (wavefile's band-limited sinc, io/resample.ts); `'cubic'` (what training uses)
 * interpolates with a Catmull-Rom cubic instead: wavefile's sinc costs ~35 ms per 0.6 s clip here, over a
 * second for a batch of 32, while the cubic costs ~0.1 ms. What it gives up is the anti-aliasing filter
 * (a factor f > 1 folds what lies above 8 kHz / f back to just under 8 kHz) and a droop of ~1 dB at a
 * quarter of the rate: the digit features stop at 4 kHz, below both (test/augment.test.ts measures them).
 */
export function changeSpeed(
  samples: Float32Array,
  factor: number,
  sampleRate: number,
  method: 'sinc' | 'cubic' = 'sinc',
): Float32Array {
  if (!(factor >= 0.5 && factor <= 2)) invalidArgument(`changeSpeed: factor is ${factor}; expected [0.5, 2]`);
  const from = Math.round(sampleRate * factor);
  if (from === sampleRate) return samples.slice();
  return method === 'sinc' ? resample(samples, from, sampleRate) : cubicSpeed(samples, from / sampleRate);
}

/** Output sample i read at input position i * step, Catmull-Rom between the 4 nearest (edges repeated). */
function cubicSpeed(samples: Float32Array, step: number): Float32Array {
  const n = samples.length;
  const out = new Float32Array(Math.floor(n / step));
  const at = (i: number) => samples[i < 0 ? 0 : i >= n ? n - 1 : i]!;
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const k = Math.floor(x);
    const t = x - k;
    const [p0, p1, p2, p3] = [at(k - 1), at(k), at(k + 1), at(k + 2)];
    out[i] = p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
  }
  return out;
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
  const out = speed === 1 ? samples.slice() : changeSpeed(samples, speed, sampleRate, 'cubic');
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

/** A random equalizer: with probability `p`, a smooth gain curve over the mel bins up to about `maxDb`. */
export interface Equalizer {
  p: number;
  maxDb: number;
}

/**
 * One example's equalizer gains in dB per mel bin `[bins]` (zeros when not drawn): a random tilt and two
 * broader bumps, sum over k = 1..3 of a_k cos(pi k (m + 0.5) / bins) with a_k uniform in +-maxDb / 2^k,
 * so the curve stays within +-maxDb. A fixed filter adds a constant to each log-mel bin, which is what a
 * microphone, a room's coloration or a telephone band does to a recording (the asterisk prompts are 8 kHz
 * telephone audio); the clip-mean-normalized copy removes it, the plain log-mel does not. Draws: p?, a_1..3.
 */
export function equalizerGains(bins: number, eq: Equalizer, random: () => number): Float32Array {
  const gains = new Float32Array(bins);
  if (!(random() < eq.p)) return gains;
  for (let k = 1; k <= 3; k++) {
    const a = ((2 * random() - 1) * eq.maxDb) / 2 ** k;
    for (let m = 0; m < bins; m++) gains[m]! += a * Math.cos((Math.PI * k * (m + 0.5)) / bins);
  }
  return gains;
}
