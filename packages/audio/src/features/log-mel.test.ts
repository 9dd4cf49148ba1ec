/**
 * Log-mel and Whisper's preset on a device beyond the fixtures: options the fixtures do not reach (power 1,
 * the max floor, mel counts not divisible by 4, odd nFft), batches with a max per example, Whisper's
 * padding, layouts, silence, and argument errors. Device vs the float64 reference: 1e-4 absolute, as in
 * fixtures.test.ts.
 */
import { type Device, MultiheadError, type Tensor } from '@multihead/core';
import { expectClose, getDevices, randomData } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { logMelSpectrogram, whisperLogMel } from './log-mel.js';
import { logMelSpectrogramReference, whisperLogMelReference } from './reference.js';

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.read()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** A tone with harmonics, noise and a silent tail: values span the clamp and the floor. */
function tone(length: number, seed: number, hz: number, sampleRate = 16000): Float32Array {
  const noise = randomData(length, seed, 0.01);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const t = i / sampleRate;
    const voiced = Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(2 * Math.PI * 3 * hz * t);
    out[i] = i < length * 0.8 ? 0.5 * voiced + noise[i]! : 0;
  }
  return out;
}

describe('logMelSpectrogram on a device', () => {
  const cases = {
    'power 1, floor 3, 30 mels': {
      sampleRate: 16000,
      nFft: 256,
      hopLength: 100,
      nMels: 30,
      fMin: 50,
      fMax: 7000,
      power: 1 as const,
      floorBelowMax: 3,
    },
    'odd nFft, short window, clampMin 1e-6': {
      sampleRate: 8000,
      nFft: 255,
      winLength: 200,
      hopLength: 64,
      nMels: 21,
      clampMin: 1e-6,
    },
    'uncentered, 22.05 kHz': { sampleRate: 22050, nFft: 512, hopLength: 128, nMels: 64, center: false },
  };
  for (const [name, opts] of Object.entries(cases)) {
    it(`matches the reference: ${name}`, async () => {
      const raw = tone(3000, 5, 440, opts.sampleRate);
      const signal = dev.tensor(raw);
      const got = logMelSpectrogram(signal, opts);
      signal.dispose();
      const want = logMelSpectrogramReference(raw, opts);
      expect(got.shape).toEqual([want.bins, want.frames]);
      expectClose(await read(got), want.data, 1e-4, 0, name);
    });
  }

  it("floors each example at its own max and gives [B, frames, nMels] with layout 'time-first'", async () => {
    const opts = { sampleRate: 16000, nFft: 128, hopLength: 64, nMels: 16, floorBelowMax: 2 };
    const loud = tone(1000, 1, 300);
    const quiet = loud.map((v) => v * 1e-3);
    const batch = dev.tensor(Float32Array.from([...loud, ...quiet]), [2, 1000]);
    const got = logMelSpectrogram(batch, { ...opts, layout: 'time-first' });
    batch.dispose();
    const frames = 1 + Math.floor(1000 / 64);
    expect(got.shape).toEqual([2, frames, 16]);
    const values = await read(got);
    [loud, quiet].forEach((raw, b) => {
      const want = logMelSpectrogramReference(raw, opts); // [16, frames]
      const wantTimeFirst = new Float64Array(want.data.length);
      for (let m = 0; m < 16; m++)
        for (let t = 0; t < frames; t++) wantTimeFirst[t * 16 + m] = want.data[m * frames + t]!;
      expectClose(
        values.subarray(b * frames * 16, (b + 1) * frames * 16),
        wantTimeFirst,
        1e-4,
        0,
        `row ${b}`,
      );
    });
  });
});

describe('whisperLogMel', () => {
  it('takes one max per example in a batch, as Whisper on each clip alone', async () => {
    const clips = [tone(4000, 2, 220), tone(4000, 3, 1000).map((v) => v * 0.001)];
    const batch = dev.tensor(Float32Array.from(clips.flatMap((c) => [...c])), [2, 4000]);
    const got = whisperLogMel(batch, { nMels: 128 });
    batch.dispose();
    expect(got.shape).toEqual([2, 128, 25]);
    const values = await read(got);
    clips.forEach((clip, b) => {
      const want = whisperLogMelReference(clip, { nMels: 128 });
      expectClose(values.subarray(b * 128 * 25, (b + 1) * 128 * 25), want.data, 1e-4, 0, `clip ${b}`);
    });
  });

  it("appends Whisper's zero padding and gives [frames, nMels] with layout 'time-first'", async () => {
    const raw = tone(1000, 4, 500);
    const signal = dev.tensor(raw);
    const got = whisperLogMel(signal, { padding: 600, layout: 'time-first' });
    signal.dispose();
    expect(got.shape).toEqual([10, 80]); // (1000 + 600) / 160 frames
    const padded = new Float32Array(1600);
    padded.set(raw);
    const want = whisperLogMelReference(padded); // [80, 10]
    expect(whisperLogMelReference(raw, { padding: 600 }).data).toEqual(want.data);
    const values = await read(got);
    const transposed = new Float64Array(800);
    for (let m = 0; m < 80; m++) for (let t = 0; t < 10; t++) transposed[t * 80 + m] = want.data[m * 10 + t]!;
    expectClose(values, transposed, 1e-4, 0, 'padded');
  });

  it('gives -1.5 everywhere for silence: log10(1e-10) = -10, (-10 + 4) / 4', async () => {
    const signal = dev.tensor(new Float32Array(2000));
    const values = await read(whisperLogMel(signal));
    signal.dispose();
    expect(values.length).toBe(80 * 12);
    expect(values.every((v) => v === -1.5)).toBe(true);
    expect(whisperLogMelReference(new Float32Array(2000)).data.every((v) => v === -1.5)).toBe(true);
  });

  it('names the bad argument', () => {
    const signal = dev.tensor(new Float32Array(150));
    const refuse = (run: () => unknown, message: RegExp) => {
      expect(run).toThrow(MultiheadError);
      expect(run).toThrow(message);
    };
    refuse(
      () => whisperLogMel(signal),
      /whisperLogMel: signal has 150 samples \+ padding 0 = 150; center reflect/,
    );
    refuse(
      () => whisperLogMel(signal, { padding: 50 }),
      /whisperLogMel: signal has 150 samples \+ padding 50 = 200; center reflect padding of nFft \/ 2 = 200 needs more than 200/,
    );
    whisperLogMel(signal, { padding: 51 }).dispose(); // 201 samples: one frame once the last is dropped
    refuse(
      () => whisperLogMel(signal, { nMels: 64 as 80 }),
      /whisperLogMel: nMels is 64; expected 80 or 128/,
    );
    refuse(() => whisperLogMel(signal, { padding: -1 }), /padding is -1; expected an integer >= 0/);
    refuse(
      () => logMelSpectrogram(signal, { sampleRate: 16000, nFft: 64, nMels: 8, clampMin: 0 }),
      /logMelSpectrogram: clampMin is 0; expected a finite number > 0/,
    );
    refuse(
      () => logMelSpectrogram(signal, { sampleRate: 16000, nFft: 64, nMels: 8, floorBelowMax: -1 }),
      /floorBelowMax is -1; expected a finite number >= 0/,
    );
    refuse(
      () => whisperLogMelReference(new Float32Array(150), { nMels: 128 }),
      /whisperLogMelReference: signal has 150 samples \+ padding 0 = 150/,
    );
    signal.dispose();
  });
});
