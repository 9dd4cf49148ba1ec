/**
 * resample (wavefile's sinc resampler with a Blackman window): pure tones keep their amplitude and
 * phase in the passband, tones above the new Nyquist frequency vanish, upsampling leaves no images.
 * The reference for a tone is the sine itself at wavefile's time mapping i * (n - 1) / m (resample.ts).
 */
import { describe, expect, it } from 'vitest';
import { resample } from '../src/index.js';

const tone = (frequency: number, rate: number, n: number, amplitude = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));

/** Largest error against the ideal sine, away from the edges (20 ms each side: filter start-up). */
function toneError(out: Float32Array, frequency: number, from: number, to: number, n: number): number {
  const step = (n - 1) / out.length; // input samples per output sample, as wavefile maps them
  const edge = Math.round(0.02 * to);
  let worst = 0;
  for (let i = edge; i < out.length - edge; i++) {
    const ideal = 0.5 * Math.sin((2 * Math.PI * frequency * i * step) / from);
    worst = Math.max(worst, Math.abs(out[i]! - ideal));
  }
  return worst;
}

/** Amplitude of `frequency` (Hz at the input rate) in `x` (single-bin DFT over the interior). */
function amplitudeAt(x: Float32Array, frequency: number, from: number, n: number): number {
  const step = (n - 1) / x.length; // wavefile's time mapping, as in toneError
  const edge = Math.round(0.05 * x.length);
  let re = 0;
  let im = 0;
  for (let i = edge; i < x.length - edge; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * frequency * i * step) / from);
    im += x[i]! * Math.sin((2 * Math.PI * frequency * i * step) / from);
  }
  return (2 * Math.hypot(re, im)) / (x.length - 2 * edge);
}

describe('resample', () => {
  // [from, to, tone Hz, tolerance]: measured 1e-5 to 4e-4; tolerances about twice that
  const passband: [number, number, number, number][] = [
    [48000, 16000, 1000, 5e-5],
    [44100, 16000, 440, 5e-5],
    [48000, 16000, 6000, 1e-3],
    [22050, 16000, 3000, 1e-3],
    [8000, 16000, 1000, 1e-3],
    [8000, 16000, 3000, 2e-3],
  ];
  for (const [from, to, frequency, tolerance] of passband) {
    it(`${from} -> ${to} Hz keeps a ${frequency} Hz tone (max error < ${tolerance})`, () => {
      const n = from / 2;
      const out = resample(tone(frequency, from, n), from, to);
      expect(out.length).toBe(Math.floor((n * to) / from));
      expect(toneError(out, frequency, from, to, n)).toBeLessThan(tolerance);
    });
  }

  it('removes tones above the new Nyquist frequency (no aliasing)', () => {
    for (const [frequency, limit] of [
      [9000, 2e-4],
      [10000, 1e-6],
      [15000, 1e-6],
    ] as const) {
      const out = resample(tone(frequency, 48000, 24000), 48000, 16000);
      let peak = 0;
      for (let i = 320; i < out.length - 320; i++) peak = Math.max(peak, Math.abs(out[i]!));
      expect(peak, `${frequency} Hz`).toBeLessThan(limit);
    }
  });

  it('upsampling 8 -> 16 kHz leaves no image of a 3 kHz tone at 5 kHz', () => {
    const out = resample(tone(3000, 8000, 8000), 8000, 16000);
    // zero-stuffing 8 kHz to 16 kHz mirrors 3 kHz to 8 - 3 = 5 kHz; the low-pass must remove it
    // (measured: 3 kHz amplitude 0.50006, 5 kHz 6.9e-5)
    expect(Math.abs(amplitudeAt(out, 3000, 8000, 8000) - 0.5)).toBeLessThan(1e-3);
    expect(amplitudeAt(out, 5000, 8000, 8000)).toBeLessThan(1.5e-4);
  });

  it('equal rates give a copy; tiny inputs give the right length', () => {
    const x = tone(100, 8000, 10);
    const copy = resample(x, 8000, 8000);
    expect(copy).toEqual(x);
    expect(copy).not.toBe(x);
    expect(resample(new Float32Array(0), 8000, 16000)).toHaveLength(0);
    expect(resample(new Float32Array(1), 8000, 16000)).toHaveLength(2);
  });

  it('refuses bad arguments, naming them', () => {
    expect(() => resample([1, 2] as unknown as Float32Array, 8000, 16000)).toThrow(
      /samples must be a Float32Array, got array/,
    );
    expect(() => resample(new Float32Array(4), 0, 16000)).toThrow(/fromRate must be a positive integer/);
    expect(() => resample(new Float32Array(4), 8000, 44100.5)).toThrow(/toRate must be a positive integer/);
  });
});
