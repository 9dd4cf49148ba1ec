import { expectClose } from '@multihead/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resizePlanes } from '../src/index.js';
import { oracle, RESIZE_CASES } from './oracle.js';

describe('resizePlanes', () => {
  it('has oracle cases of both modes', () => {
    expect(RESIZE_CASES.filter((c) => c.resample === 'bilinear').length).toBeGreaterThanOrEqual(4);
    expect(RESIZE_CASES.filter((c) => c.resample === 'area').length).toBeGreaterThanOrEqual(3);
  });

  for (const c of RESIZE_CASES)
    it(`${c.name}: ${c.resample} ${c.H}x${c.W} -> ${c.h}x${c.w} equals PyTorch / the float64 reference`, () => {
      const x = oracle(`resize.${c.name}.x`).data as Float32Array;
      const out = resizePlanes(x, c.C, c.H, c.W, c.h, c.w, c.resample);
      // float32 output of float64 sums of at most ~40 terms in [0, 1]
      expectClose(out, oracle(`resize.${c.name}.out`).data as Float32Array, 2e-6, 0, c.name);
    });

  it('keeps a constant image constant, in both modes and any sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 17 }),
        fc.constantFrom('bilinear' as const, 'area' as const),
        fc.float({ min: -3, max: 3, noNaN: true }),
        (h, w, oh, ow, resample, value) => {
          const out = resizePlanes(new Float32Array(h * w).fill(value), 1, h, w, oh, ow, resample);
          for (const v of out) expect(Math.abs(v - value)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(value)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("'area' keeps the mean of the image (each input pixel is shared out exactly)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 1000 }),
        (h, w, oh, ow, seed) => {
          const x = Float32Array.from({ length: h * w }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
          const out = resizePlanes(x, 1, h, w, oh, ow, 'area');
          const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
          expect(Math.abs(mean(out) - mean(x))).toBeLessThanOrEqual(1e-5);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('upscaling by an integer factor with bilinear reproduces a linear ramp inside the image', () => {
    // plain bilinear with half-pixel centers: output x maps to input (x + 0.5) / 4 - 0.5
    const ramp = Float32Array.from({ length: 6 }, (_, i) => i);
    const out = resizePlanes(ramp, 1, 1, 6, 1, 24, 'bilinear');
    for (let x = 2; x < 22; x++) expect(out[x]).toBeCloseTo((x + 0.5) / 4 - 0.5, 6);
    expect(out[0]).toBe(0); // edges clamp
    expect(out[23]).toBe(5);
  });

  it('returns a copy at equal size and keeps channels apart', () => {
    const x = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]);
    const same = resizePlanes(x, 2, 2, 2, 2, 2);
    expect(Array.from(same)).toEqual(Array.from(x));
    expect(same).not.toBe(x);
    expect(Array.from(resizePlanes(x, 2, 2, 2, 1, 1, 'area'))).toEqual([2.5, 25]);
  });

  it('refuses bad arguments with a message naming them', () => {
    const x = new Float32Array(4);
    expect(() => resizePlanes(x, 1, 2, 2, 0, 2)).toThrow(/outHeight must be a positive integer, got 0/);
    expect(() => resizePlanes(x, 1, 2, 3, 1, 1)).toThrow(/planes has 4 values, expected .* = 6/);
    // biome-ignore lint/suspicious/noExplicitAny: a bad mode on purpose
    expect(() => resizePlanes(x, 1, 2, 2, 1, 1, 'nearest' as any)).toThrow(
      /resample must be 'bilinear' or 'area'/,
    );
  });
});
