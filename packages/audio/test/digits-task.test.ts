/**
 * audio/digits through the task protocol on synthetic "words" (each digit a tone of its own pitch, of
 * varied length and level) with a tiny model and short windows: training stores a checkpoint, evaluate
 * reports the three held-out sets apart beside both baselines, run reads WAV bytes, a file path, samples
 * and an AudioBuffer-like object alike, bad inputs are refused by name, and the attention report covers
 * every layer over time-labelled tokens with a rollout and the spectrogram under it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededUniform, tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AUDIO_TASKS,
  createDigitsTask,
  DIGIT_LABELS,
  type DigitSets,
  encodeWav,
  type LabelledClip,
} from '../src/index.js';

const RATE = 16000;
/** Digit d: a tone at 300 + 120 d Hz with a second harmonic, 0.15-0.3 s, peak 0.2-0.8. */
function word(label: number, random: () => number): LabelledClip {
  const n = Math.round((0.15 + 0.15 * random()) * RATE);
  const f = 300 + 120 * label;
  const level = 0.2 + 0.6 * random();
  const samples = Float32Array.from({ length: n }, (_, i) => {
    const fade = Math.min(1, i / 200, (n - i) / 200);
    return (
      level *
      fade *
      (0.7 * Math.sin((2 * Math.PI * f * i) / RATE) + 0.3 * Math.sin((4 * Math.PI * f * i) / RATE))
    );
  });
  return { samples, label };
}
const set = (count: number, seed: number) => {
  const random = seededUniform(seed);
  return Array.from({ length: count }, (_, i) => word(i % 10, random));
};
const data = async (): Promise<DigitSets> => ({
  train: set(60, 1),
  heldOut: { espeak: set(20, 2), flite: set(15, 3), asterisk: set(11, 4) },
});

const task = createDigitsTask({
  data,
  committed: false,
  features: { windowSamples: 4800, nMels: 16 },
  config: { dModel: 16, nHead: 2, nLayer: 2, dimFeedforward: 32, frameStride: 3 },
  training: { batchSize: 8, warmupSteps: 2, lr: 3e-3 },
});

const { ctx, dir } = await taskTestContext('digits', 1, { afterAll, store: tasks.folderStore });

describe('audio/digits', () => {
  it('is in AUDIO_TASKS: classify over audio, the ten digits, frames as positions', () => {
    const t = AUDIO_TASKS.find((x) => x.id === 'audio/digits')!;
    expect(t).toMatchObject({
      kind: 'classify',
      input: { kind: 'audio' },
      output: { kind: 'label' },
      positions: 'frames',
    });
    expect(t.output.labels).toEqual([
      'zero',
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
      'seven',
      'eight',
      'nine',
    ]);
    expect(t.goal).toEqual({ metric: 'accuracyUnseen', op: '>=', value: 0.9 });
  });

  it('trains and stores a checkpoint, then evaluates the held-out sets apart beside both baselines', async () => {
    const report = await task.train(ctx, { steps: 12 });
    expect(report).toMatchObject({ task: 'audio/digits', steps: 12, unit: 'clips' });
    expect(report.checkpoint).toBe(join(dir, 'audio/digits.safetensors'));
    expect(Number.isFinite(report.finalLoss)).toBe(true);
    const evaluation = await task.evaluate(ctx);
    expect(evaluation).toMatchObject({
      task: 'audio/digits',
      examples: 46,
      split: { name: 'held-out' },
      checkpoint: { source: 'trained', step: 12 },
      goal: { metric: 'accuracyUnseen', op: '>=', value: 0.9 },
      details: { clips: { espeak: 20, flite: 15, asterisk: 11 } },
    });
    for (const m of [
      evaluation.metrics,
      evaluation.baselines['logisticRegression']!,
      evaluation.baselines['nearestCentroid']!,
    ]) {
      expect(Object.keys(m).sort()).toEqual([
        'accuracyAsterisk',
        'accuracyEspeak',
        'accuracyFlite',
        'accuracyUnseen',
      ]);
      for (const v of Object.values(m)) expect(v).toBeGreaterThanOrEqual(0);
      expect(m['accuracyUnseen']).toBe(Math.min(m['accuracyFlite']!, m['accuracyAsterisk']!));
    }
    // tones of distinct pitches: the pooled log-mel separates them
    expect(evaluation.baselines['nearestCentroid']!['accuracyEspeak']).toBeGreaterThanOrEqual(0.9);
    expect((await task.evaluate(ctx, { limit: 4 })).examples).toBe(12);
  });

  it('classifies WAV bytes, a WAV file, samples and an AudioBuffer-like object alike', async () => {
    const clip = word(7, seededUniform(9)).samples;
    const wav = encodeWav({ sampleRate: RATE, channels: [clip] }, { bitDepth: '32f' });
    const path = join(dir, 'seven.wav');
    await writeFile(path, wav);
    const buffer = { sampleRate: RATE, numberOfChannels: 1, length: clip.length, getChannelData: () => clip };
    const outputs = await Promise.all(
      [{ bytes: wav, name: 'seven.wav' }, { path }, { sampleRate: RATE, channels: [clip] }, buffer].map(
        (input) => task.run(ctx, input).result,
      ),
    );
    for (const output of outputs) {
      if (output.kind !== 'label') throw new Error('expected a label');
      expect(output.scores.map((s) => s.label)).toEqual(DIGIT_LABELS);
      expect(output.scores.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 5);
      expect(output).toEqual(outputs[0]);
    }
    // an 8 kHz stereo file is resampled and downmixed on the way in
    const eight = Float32Array.from({ length: clip.length / 2 }, (_, i) => clip[2 * i]!);
    const stereo = encodeWav({ sampleRate: 8000, channels: [eight, eight] });
    expect((await task.run(ctx, { bytes: stereo }).result).kind).toBe('label');
  });

  it('refuses what is not one spoken word of audio, naming the task and what it takes', async () => {
    const run = (input: unknown) => task.run(ctx, input as object).result;
    await expect(run('seven')).rejects.toThrow(
      /audio\/digits: expected audio \(a WAV file, \{ sampleRate, channels: Float32Array\[\] \} samples, or an AudioBuffer\), got a string/,
    );
    await expect(run({ bytes: new TextEncoder().encode('OggS not a wav file') })).rejects.toThrow(
      /audio\/digits: bytes is not a WAV file/,
    );
    await expect(
      run({ bytes: new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4, 87, 65, 86, 69, 0]) }),
    ).rejects.toThrow(/WAV|RIFF|chunk/);
    await expect(run({ sampleRate: RATE, channels: [new Float32Array(800)] })).rejects.toThrow(
      /the audio is silent/,
    );
    await expect(run({ sampleRate: 8000, channels: [new Float32Array(8000 * 31)] })).rejects.toThrow(
      /lasts 31.0 s; expected at most 30 s/,
    );
    await expect(
      run({ sampleRate: RATE, channels: [new Float32Array(10), new Float32Array(11)] }),
    ).rejects.toThrow(/same length/);
  });

  it('attention: every layer over time-labelled tokens, a rollout over them and the spectrogram under it', async () => {
    const report = await task.attention(ctx, {
      sampleRate: RATE,
      channels: [word(3, seededUniform(5)).samples],
    });
    // 4800 samples = 30 frames of 10 ms, tokens of 3 frames
    expect(report).toMatchObject({
      positions: 'frames',
      numLayers: 2,
      causal: false,
      grid: [1, 10],
      gridOffset: 0,
    });
    expect(report.labels).toEqual(Array.from({ length: 10 }, (_, t) => `${(t * 0.03).toFixed(2)}s`));
    expect(report.layers.map((l) => [l.layer, l.heads, l.weights.length])).toEqual([
      [0, 2, 2 * 10 * 10],
      [1, 2, 2 * 10 * 10],
    ]);
    expect(report.rollout).toHaveLength(10);
    expect(report.background).toMatchObject({ width: 30, height: 16, channels: 1 });
    expect(
      (
        await task.attention(
          ctx,
          { sampleRate: RATE, channels: [word(3, seededUniform(5)).samples] },
          { layers: [1] },
        )
      ).layers,
    ).toHaveLength(1);
    await expect(
      task.attention(
        ctx,
        { sampleRate: RATE, channels: [word(3, seededUniform(5)).samples] },
        { layers: [2] },
      ),
    ).rejects.toThrow(/attention layer 2; expected integers in \[0, 2\)/);
  });
});
