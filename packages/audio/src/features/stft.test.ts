/**
 * The device STFT and power spectrogram beyond the fixtures: batches, layouts, frame chunking, no leaked
 * tensors, and argument errors (shared with the reference twins). Device results are compared with the
 * float64 reference within 2e-6 of the spectrum's peak (4e-6 for power), as in fixtures.test.ts.
 */
import { type Device, MultiheadError, type Tensor } from '@multihead/core';
import { expectClose, getDevices, randomData } from '@multihead/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { powerSpectrogramReference, stftReference } from './reference.js';
import { powerSpectrogram, SPECTRUM_CHUNK, stft } from './stft.js';

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const chunkDefault = SPECTRUM_CHUNK.elements;
afterEach(() => {
  SPECTRUM_CHUNK.elements = chunkDefault;
});

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.read()) as Float32Array;
  } finally {
    t.dispose();
  }
}

function peak(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** `[rows, cols]` row-major to `[cols, rows]`. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
  return out;
}

function expectInvalid(run: () => unknown, message: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MultiheadError);
    expect((error as MultiheadError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected INVALID_ARGUMENT matching ${message}`);
}

describe('stft on a device', () => {
  const opts = { nFft: 64, hopLength: 20, winLength: 50 };

  it('runs a batch row by row as the reference does, [B, nFreq, frames]', async () => {
    const length = 301;
    const signals = [randomData(length, 3), randomData(length, 4, 0.01), randomData(length, 5, 30)];
    const batch = dev.tensor(Float32Array.from(signals.flatMap((s) => [...s])), [3, length]);
    const { real, imag } = stft(batch, opts);
    expect(real.shape).toEqual([3, 33, 1 + Math.floor(length / 20)]);
    const [re, im] = [await read(real), await read(imag)];
    batch.dispose();
    const size = 33 * (1 + Math.floor(length / 20));
    signals.forEach((signal, b) => {
      const want = stftReference(signal, opts);
      const scale = Math.max(peak(want.real), peak(want.imag));
      expectClose(re.subarray(b * size, (b + 1) * size), want.real, 2e-6 * scale, 0, `row ${b} real`);
      expectClose(im.subarray(b * size, (b + 1) * size), want.imag, 2e-6 * scale, 0, `row ${b} imag`);
    });
  });

  it("gives [frames, nFreq] with layout 'time-first'", async () => {
    const signal = dev.tensor(randomData(200, 7));
    const freqFirst = await read(powerSpectrogram(signal, opts));
    const timeFirst = powerSpectrogram(signal, { ...opts, layout: 'time-first' });
    const frames = 1 + Math.floor(200 / 20);
    expect(timeFirst.shape).toEqual([frames, 33]);
    expect(await read(timeFirst)).toEqual(transpose(freqFirst, 33, frames));
    signal.dispose();
  });

  it('processes long signals in chunks of frames with the same result', async () => {
    const batch = dev.tensor(randomData(2 * 500, 11), [2, 500]);
    const whole = await read(powerSpectrogram(batch, opts));
    SPECTRUM_CHUNK.elements = 2 * 52 * 3; // 3 frames per chunk: 9 chunks, the last one short
    const chunked = await read(powerSpectrogram(batch, opts));
    const { real } = stft(batch, opts);
    const chunkedReal = await read(real);
    SPECTRUM_CHUNK.elements = chunkDefault;
    expectClose(chunked, whole, 1e-6 * peak(whole), 0, 'power');
    const { real: wholeReal } = stft(batch, opts);
    expectClose(chunkedReal, await read(wholeReal), 1e-6 * Math.sqrt(peak(whole)), 0, 'real');
    batch.dispose();
  });

  it('gives magnitudes with power 1 and matches the reference', async () => {
    const raw = randomData(333, 13);
    const signal = dev.tensor(raw);
    const magnitude = await read(powerSpectrogram(signal, { nFft: 128, hopLength: 32, power: 1 }));
    signal.dispose();
    const want = powerSpectrogramReference(raw, { nFft: 128, hopLength: 32, power: 1 }).data;
    expectClose(magnitude, want, 2e-6 * peak(want), 0, 'magnitude');
  });

  it('frees every temporary tensor, also when it throws', async () => {
    const signal = dev.tensor(randomData(400, 17), [2, 200]);
    const before = dev.memory().liveTensors;
    const { real, imag } = stft(signal, opts);
    const power = powerSpectrogram(signal, { ...opts, layout: 'time-first' });
    expect(dev.memory().liveTensors).toBe(before + 3);
    for (const t of [real, imag, power]) t.dispose();
    expectInvalid(() => stft(signal, { nFft: 512 }), /signal has 200 samples/);
    expect(dev.memory().liveTensors).toBe(before);
    signal.dispose();
  });
});

describe('argument errors (device functions and reference twins)', () => {
  it('refuses a signal no longer than the reflect padding, as torch.stft does', () => {
    const signal = dev.tensor(new Float32Array(200));
    const message = /signal has 200 samples; center reflect padding of nFft \/ 2 = 200 needs more than 200/;
    expectInvalid(() => stft(signal, { nFft: 400 }), new RegExp(`^stft: ${message.source}`));
    expectInvalid(
      () => stftReference(new Float32Array(200), { nFft: 400 }),
      new RegExp(`^stftReference: ${message.source}`),
    );
    expectInvalid(() => powerSpectrogram(signal, { nFft: 400 }), /torch\.stft refuses the same/);
    signal.dispose();
    expect(stftReference(new Float32Array(201), { nFft: 400, hopLength: 160 }).frames).toBe(2);
  });

  it('refuses a signal shorter than nFft without center', () => {
    expectInvalid(
      () => stftReference(new Float32Array(399), { nFft: 400, center: false }),
      /signal has 399 samples; expected at least nFft = 400 with center: false/,
    );
  });

  it('names the bad option, what came and what was expected', () => {
    const signal = dev.tensor(randomData(300, 1));
    expectInvalid(() => stft(signal, { nFft: 1.5 }), /stft: nFft is 1\.5; expected an integer >= 2/);
    expectInvalid(() => stft(signal, { nFft: 64, hopLength: 0 }), /hopLength is 0; expected an integer >= 1/);
    expectInvalid(
      () => stft(signal, { nFft: 64, winLength: 65 }),
      /winLength is 65; expected at most nFft = 64/,
    );
    expectInvalid(
      () => stft(signal, { nFft: 64, layout: 'rows' as 'time-first' }),
      /layout is "rows"; expected one of "frequency-first", "time-first"/,
    );
    expectInvalid(
      () => powerSpectrogram(signal, { nFft: 64, power: 3 as 2 }),
      /powerSpectrogram: power is 3; expected 1 or 2/,
    );
    expectInvalid(
      () => stft(signal, { nFft: 64, center: 'yes' as unknown as boolean }),
      /center is "yes"; expected a boolean/,
    );
    signal.dispose();
  });

  it('refuses signals of the wrong kind, dtype or rank', () => {
    expectInvalid(
      () => stft(new Float32Array(300) as unknown as Tensor, { nFft: 64 }),
      /expected a core Tensor/,
    );
    const ints = dev.tensor(new Int32Array(300));
    expectInvalid(() => stft(ints, { nFft: 64 }), /stft: signal has dtype i32; expected f32/);
    ints.dispose();
    const cube = dev.tensor(new Float32Array(300), [3, 10, 10]);
    expectInvalid(
      () => stft(cube, { nFft: 8 }),
      /signal has shape \[3, 10, 10\]; expected \[samples\] or \[batch, samples\]/,
    );
    cube.dispose();
    expectInvalid(
      () => stftReference([1, 2, 3] as unknown as Float32Array, { nFft: 2 }),
      /stftReference: signal is an array; expected a Float32Array/,
    );
  });
});
