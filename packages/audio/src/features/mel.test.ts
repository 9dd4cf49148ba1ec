/**
 * Window and mel filter bank against published values: the periodic Hann window's closed form, and
 * librosa's Slaney mel scale and filters as Hugging Face transformers lists them in
 * tests/utils/test_audio_utils.py (test_hertz_to_mel, test_mel_filter_bank_slaney_norm). The fixtures
 * (fixtures.test.ts) cover Whisper's banks.
 */
import { MultiheadError } from '@multihead/core';
import { expectClose } from '@multihead/core/testing';
import { describe, expect, it } from 'vitest';
import { hzToMel, melFilterBank, melToHz } from './mel.js';
import { hannWindow, paddedWindow } from './window.js';

describe('hannWindow', () => {
  it('is periodic by default: the first n points of a symmetric window of n + 1', () => {
    const w = hannWindow(16);
    expect(w[0]).toBe(0);
    expect(w[8]).toBe(1);
    expectClose([w[1]!, w[4]!, w[15]!], [0.03806023, 0.5, 0.03806023], 1e-8);
    const symmetric17 = hannWindow(17, { periodic: false });
    expectClose(w, symmetric17.subarray(0, 16), 1e-15);
    expect(symmetric17[16]).toBeCloseTo(0, 15);
  });

  it('zero-pads a short window to nFft, centered as torch.stft does', () => {
    const w = paddedWindow('test', 10, 5); // left padding floor((10 - 5) / 2) = 2
    expect([...w.subarray(0, 2), ...w.subarray(7)]).toEqual([0, 0, 0, 0, 0]);
    expectClose(w.subarray(2, 7), hannWindow(5), 0);
  });

  it('refuses lengths that are not positive integers', () => {
    expect(() => hannWindow(0)).toThrow(MultiheadError);
    expect(() => hannWindow(2.5)).toThrow(/hannWindow: length is 2\.5; expected an integer >= 1/);
  });
});

describe('Slaney mel scale', () => {
  it('is linear below 1 kHz and logarithmic above (librosa htk=False)', () => {
    const hz = [0, 60, 100, 200, 1000, 1001, 2000];
    const mels = [0, 0.9, 1.5, 3.0, 15.0, 15.01453781, 25.08188016];
    expectClose(hz.map(hzToMel), mels, 1e-8);
    expectClose(mels.map(melToHz), hz, 1e-6);
  });
});

describe('melFilterBank', () => {
  it("matches librosa.filters.mel(sr=4000, n_fft=30, n_mels=4, fmax=2000, norm='slaney')", () => {
    const w = melFilterBank({ sampleRate: 4000, nFft: 30, nMels: 4, fMax: 2000 }); // [4, 16]
    // (mel, bin) -> librosa's value, from Hugging Face's test (which lists the bank transposed)
    const librosa: [number, number, number][] = [
      [0, 1, 1.19217795e-3],
      [0, 3, 2.40387905e-3],
      [0, 5, 1.95231437e-5],
      [1, 5, 2.97020305e-3],
      [1, 7, 6.26036972e-4],
      [2, 8, 2.26505954e-3],
      [2, 10, 5.38990521e-4],
      [3, 8, 3.07332945e-4],
      [3, 14, 4.58645462e-4],
    ];
    for (const [mel, bin, want] of librosa) expect(w[mel * 16 + bin]).toBeCloseTo(want, 11);
    for (let m = 0; m < 4; m++) expect([w[m * 16], w[m * 16 + 15]]).toEqual([0, 0]);
    expect(w[1 * 16 + 4]).toBeGreaterThan(0);
    expect(w[0 * 16 + 6]).toBe(0); // beyond filter 0's right edge
  });

  it('gives each filter unit area in Hz when the triangles span many bins', () => {
    const nFft = 8192;
    const sampleRate = 16000;
    const w = melFilterBank({ sampleRate, nFft, nMels: 10, fMin: 100, fMax: 7000 });
    const nFreq = nFft / 2 + 1;
    for (let m = 0; m < 10; m++) {
      let area = 0;
      for (let k = 0; k < nFreq; k++) area += w[m * nFreq + k]! * (sampleRate / nFft);
      expect(area).toBeCloseTo(1, 3);
    }
  });

  it('names the bad option', () => {
    const base = { sampleRate: 16000, nFft: 400, nMels: 80 };
    expect(() => melFilterBank({ ...base, nMels: 0 })).toThrow(
      /melFilterBank: nMels is 0; expected an integer >= 1/,
    );
    expect(() => melFilterBank({ ...base, fMax: 9000 })).toThrow(
      /fMax is 9000; expected a finite number in \[0, 8000\]/,
    );
    expect(() => melFilterBank({ ...base, fMin: 500, fMax: 400 })).toThrow(
      /fMax is 400 Hz; expected more than fMin = 500 Hz/,
    );
    expect(() => melFilterBank({ ...base, sampleRate: Number.NaN })).toThrow(/sampleRate is NaN/);
    expect(() => melFilterBank(null as unknown as typeof base)).toThrow(/options must be an object/);
  });
});
