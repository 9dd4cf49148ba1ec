/**
 * The music language model's plumbing on hand-made sequences: transposition, training windows (padding
 * and targets), held-out scoring that counts every target once (also past a window), and the description
 * of generated music (notes per second, pitch range, verbatim n-grams).
 */
import { type Device, nn, noGrad, seededUniform, tidy } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BOS,
  EOS,
  generationStats,
  MusicTransformer,
  musicBatch,
  musicNll,
  NOTE_OFF,
  NOTE_ON,
  ngramIndex,
  PAD,
  pieceTokens,
  TIME_SHIFT,
  transposeEvents,
  VELOCITY,
  verbatimShare,
} from '../src/index.js';

let device: Device;
beforeAll(async () => {
  device = (await getDevices()).dev;
});

describe('training windows', () => {
  it('transposes notes only, and refuses to leave 0..127', () => {
    const events = [VELOCITY + 3, NOTE_ON + 60, TIME_SHIFT + 9, NOTE_OFF + 60, BOS];
    expect(transposeEvents(events, 2)).toEqual([
      VELOCITY + 3,
      NOTE_ON + 62,
      TIME_SHIFT + 9,
      NOTE_OFF + 62,
      BOS,
    ]);
    expect(transposeEvents([NOTE_ON + 126], 2)).toBeNull();
    expect(transposeEvents([NOTE_OFF + 1], -2)).toBeNull();
  });

  it('pads short pieces and targets the next token, ignoring padding', () => {
    const piece = pieceTokens([NOTE_ON + 60, TIME_SHIFT, NOTE_OFF + 60]); // 5 tokens
    const { inputs, targets } = musicBatch([piece], 8, { batchSize: 2, transpose: 0 }, seededUniform(1));
    expect(Array.from(inputs.subarray(0, 8))).toEqual([
      BOS,
      NOTE_ON + 60,
      TIME_SHIFT,
      NOTE_OFF + 60,
      PAD,
      PAD,
      PAD,
      PAD,
    ]);
    expect(Array.from(targets.subarray(0, 8))).toEqual([
      NOTE_ON + 60,
      TIME_SHIFT,
      NOTE_OFF + 60,
      EOS,
      -100,
      -100,
      -100,
      -100,
    ]);
    const long = pieceTokens(Array.from({ length: 40 }, (_, i) => TIME_SHIFT + (i % 50)));
    const batch = musicBatch([long], 8, { batchSize: 3, transpose: 0 }, seededUniform(2));
    for (let b = 0; b < 3; b++) {
      const start = long.indexOf(batch.inputs[b * 8]!);
      expect(Array.from(batch.inputs.subarray(b * 8, b * 8 + 8))).toEqual(long.slice(start, start + 8));
      expect(Array.from(batch.targets.subarray(b * 8, b * 8 + 8))).toEqual(long.slice(start + 1, start + 9));
    }
  });
});

describe('held-out NLL', () => {
  it('scores every token after BOS once: one window equals the direct loss; longer pieces slide', async () => {
    const model = new MusicTransformer(device, {
      vocabSize: 391,
      blockSize: 8,
      nLayer: 1,
      nHead: 2,
      nEmbd: 8,
      dropout: 0,
      seed: 1,
    });
    const short = pieceTokens([NOTE_ON + 60, TIME_SHIFT + 4, NOTE_OFF + 60, NOTE_ON + 62]); // 6 tokens
    const direct = noGrad(() =>
      tidy(() => {
        const ids = device.tensor(Int32Array.from(short.slice(0, -1)), [1, 5], { dtype: 'i32' });
        const y = device.tensor(Int32Array.from(short.slice(1)), [1, 5], { dtype: 'i32' });
        return nn.crossEntropy(model.forward(ids), y, { reduction: 'sum' });
      }),
    );
    const scored = await musicNll(model, [short]);
    expect(scored.count).toBe(5);
    expect(scored.nll).toBeCloseTo((await direct.read())[0]!, 4);
    direct.dispose();
    const long = pieceTokens(Array.from({ length: 30 }, (_, i) => NOTE_ON + 40 + (i % 12)));
    const both = await musicNll(model, [long, short], 3);
    expect(both.count).toBe(31 + 5);
    expect(Number.isFinite(both.nll)).toBe(true);
    model.dispose();
  });
});

describe('generated music, described', () => {
  it('counts notes per second and the pitch range, and finds verbatim n-grams', () => {
    const events = [
      NOTE_ON + 60,
      TIME_SHIFT + 49,
      NOTE_OFF + 60,
      NOTE_ON + 64,
      TIME_SHIFT + 49,
      NOTE_OFF + 64,
      EOS,
      NOTE_ON + 90,
    ];
    const stats = generationStats(events, [[1, 2, 3]]);
    expect(stats).toMatchObject({ events: 6, notes: 2, seconds: 1, notesPerSecond: 2, pitchRange: [60, 64] });
    expect(stats.verbatim).toEqual({ 8: null, 16: null, 32: null }); // shorter than every n
    const index = ngramIndex([[5, 1, 2, 3, 4]], 3);
    expect(verbatimShare([1, 2, 3, 9, 2, 3, 4], index, 3)).toBeCloseTo(2 / 5, 12);
    expect(verbatimShare([1, 2], index, 3)).toBeNull();
  });
});
