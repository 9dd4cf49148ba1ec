/**
 * The spectrogram features against PyTorch: test/fixtures/features.safetensors holds signals and float64
 * references rounded to f32, written by tools/fixtures/gen_audio.py (torch.stft, the Slaney mel filter bank
 * checked there against hand-worked and librosa values, log-mel, Whisper's log_mel_spectrogram). Each case
 * runs the plain-TypeScript reference and the device path of the current vitest project (cpu or gpu).
 *
 * Tolerances, with the peak of the reference (max |X| for the STFT, max power for power) as the scale:
 * - reference (float64) vs the f32-rounded fixture: 1e-7 relative per element plus 1e-10 of the peak
 *   (f32 rounding is 6e-8 relative);
 * - device path (f32 sums over nFft taps) vs the fixture: 2e-6 of the peak for STFT and magnitude, 4e-6 of
 *   the peak for power; log-mel and Whisper 1e-4 absolute (the issue asks 2e-3); filters 1e-8 absolute.
 */
import { readFileSync } from 'node:fs';
import { type Device, io, type Tensor } from '@multihead/core';
import { expectClose, getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { logMelSpectrogram, whisperLogMel } from './log-mel.js';
import { melFilterBank } from './mel.js';
import {
  logMelSpectrogramReference,
  powerSpectrogramReference,
  stftReference,
  whisperLogMelReference,
} from './reference.js';
import { powerSpectrogram, stft } from './stft.js';

interface Case {
  name: string;
  kind: 'stft' | 'mel' | 'logmel' | 'whisper';
  params: Record<string, number | boolean>;
}

const file = io.parseSafetensors(
  new Uint8Array(readFileSync(new URL('../../test/fixtures/features.safetensors', import.meta.url))),
);
const cases = JSON.parse(file.metadata.cases!) as Case[];

function tensor(name: string): Float32Array {
  const t = file.tensors[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`fixture has no f32 tensor ${name}`);
  return t.data;
}

function peak(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.read()) as Float32Array;
  } finally {
    t.dispose();
  }
}

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const ofKind = (kind: Case['kind']) => cases.filter((c) => c.kind === kind);

describe('fixtures: torch.stft', () => {
  it('holds the cases the generator writes', () => {
    const count = (kind: Case['kind']) => cases.filter((c) => c.kind === kind).length;
    expect([count('stft'), count('mel'), count('logmel'), count('whisper')]).toEqual([7, 3, 1, 2]);
  });

  for (const c of ofKind('stft')) {
    const opts = {
      nFft: c.params.nFft as number,
      hopLength: c.params.hopLength as number,
      winLength: c.params.winLength as number,
      center: c.params.center as boolean,
    };
    it(`${c.name}: reference`, () => {
      const signal = tensor(`${c.name}.signal`);
      const want = { real: tensor(`${c.name}.real`), imag: tensor(`${c.name}.imag`) };
      const scale = Math.max(peak(want.real), peak(want.imag));
      const got = stftReference(signal, opts);
      expectClose(got.real, want.real, 1e-10 * scale, 1e-7, `${c.name} real`);
      expectClose(got.imag, want.imag, 1e-10 * scale, 1e-7, `${c.name} imag`);
      const power = tensor(`${c.name}.power`);
      expectClose(powerSpectrogramReference(signal, opts).data, power, 1e-10 * peak(power), 1e-7, 'power');
      const magnitude = tensor(`${c.name}.magnitude`);
      const got1 = powerSpectrogramReference(signal, { ...opts, power: 1 }).data;
      expectClose(got1, magnitude, 1e-10 * peak(magnitude), 1e-7, 'magnitude');
    });

    it(`${c.name}: device`, async () => {
      const signal = dev.tensor(tensor(`${c.name}.signal`));
      try {
        const want = { real: tensor(`${c.name}.real`), imag: tensor(`${c.name}.imag`) };
        const scale = Math.max(peak(want.real), peak(want.imag));
        const { real, imag } = stft(signal, opts);
        expectClose(await read(real), want.real, 2e-6 * scale, 0, `${c.name} real`);
        expectClose(await read(imag), want.imag, 2e-6 * scale, 0, `${c.name} imag`);
        const power = tensor(`${c.name}.power`);
        const gotPower = await read(powerSpectrogram(signal, opts));
        expectClose(gotPower, power, 4e-6 * peak(power), 0, `${c.name} power`);
        const magnitude = tensor(`${c.name}.magnitude`);
        const gotMagnitude = await read(powerSpectrogram(signal, { ...opts, power: 1 }));
        expectClose(gotMagnitude, magnitude, 2e-6 * peak(magnitude), 0, `${c.name} magnitude`);
      } finally {
        signal.dispose();
      }
    });
  }
});

describe('fixtures: Slaney mel filter bank', () => {
  for (const c of ofKind('mel')) {
    it(c.name, () => {
      const { sampleRate, nFft, nMels, fMin, fMax } = c.params as Record<string, number>;
      const got = melFilterBank({
        sampleRate: sampleRate!,
        nFft: nFft!,
        nMels: nMels!,
        fMin: fMin!,
        fMax: fMax!,
      });
      expectClose(got, tensor(`${c.name}.filters`), 1e-8, 0, c.name);
    });
  }
});

describe('fixtures: log-mel', () => {
  for (const c of ofKind('logmel')) {
    const { sampleRate, nFft, hopLength, nMels, fMin, fMax } = c.params as Record<string, number>;
    const opts = {
      sampleRate: sampleRate!,
      nFft: nFft!,
      hopLength: hopLength!,
      nMels: nMels!,
      fMin: fMin!,
      fMax: fMax!,
    };
    it(`${c.name}: reference`, () => {
      const got = logMelSpectrogramReference(tensor(`${c.name}.signal`), opts);
      expectClose(got.data, tensor(`${c.name}.out`), 1e-6, 0, c.name);
    });
    it(`${c.name}: device`, async () => {
      const signal = dev.tensor(tensor(`${c.name}.signal`));
      try {
        expectClose(await read(logMelSpectrogram(signal, opts)), tensor(`${c.name}.out`), 1e-4, 0, c.name);
      } finally {
        signal.dispose();
      }
    });
  }
});

describe('fixtures: Whisper log_mel_spectrogram', () => {
  for (const c of ofKind('whisper')) {
    const nMels = c.params.nMels as 80 | 128;
    it(`${c.name}: reference`, () => {
      const got = whisperLogMelReference(tensor(`${c.name}.signal`), { nMels });
      expect([got.bins, got.frames]).toEqual([nMels, tensor(`${c.name}.signal`).length / 160]);
      expectClose(got.data, tensor(`${c.name}.out`), 1e-6, 0, c.name);
    });
    it(`${c.name}: device`, async () => {
      const signal = dev.tensor(tensor(`${c.name}.signal`));
      try {
        const out = whisperLogMel(signal, { nMels });
        expect(out.shape).toEqual([nMels, tensor(`${c.name}.signal`).length / 160]);
        expectClose(await read(out), tensor(`${c.name}.out`), 1e-4, 0, c.name);
      } finally {
        signal.dispose();
      }
    });
  }
});
