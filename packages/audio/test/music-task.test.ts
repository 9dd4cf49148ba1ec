/**
 * audio/music through the task protocol on the committed tune (test/fixtures/midi/tune.mid, transposed to
 * make a few pieces) with a tiny decoder: training stores a checkpoint, evaluate reports NLL per event beside
 * the unigram and bigram, run streams readable events and returns a MIDI file that parses back with the
 * library and a WAV whose length is the music's plus the synth's release and which is not silent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tasks } from '@multihead/core';
import { taskTestContext } from '@multihead/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AUDIO_TASKS,
  createMusicTask,
  decodeWav,
  encodeMidi,
  eventsToNotes,
  midiNotes,
  readMidi,
  transposeEvents,
} from '../src/index.js';

const TUNE = encodeMidi(
  readMidi(new Uint8Array(readFileSync(new URL('./fixtures/midi/tune.mid', import.meta.url)))),
);
const data = async () => ({
  train: [-2, 0, 2, 4, 5].map((k) => transposeEvents(TUNE, k)!),
  test: [7, -5].map((k) => transposeEvents(TUNE, k)!),
});
const task = createMusicTask({
  data,
  committed: false,
  config: { blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, numBuckets: 8, maxDistance: 32 },
  training: { batchSize: 4, warmupSteps: 2, lr: 3e-3 },
  evalSample: 40,
});

const { ctx, dir } = await taskTestContext('music', 2, { afterAll, store: tasks.folderStore });

describe('audio/music', () => {
  it('is in AUDIO_TASKS: generate MIDI from nothing, streaming events', () => {
    const t = AUDIO_TASKS.find((x) => x.id === 'audio/music')!;
    expect(t).toMatchObject({
      kind: 'generate',
      input: { kind: 'none' },
      output: { kind: 'midi', stream: 'events' },
      positions: 'events',
    });
    expect(t.goal).toEqual({ metric: 'nll', op: '<=', beat: ['unigram', 'bigram'] });
  });

  it('trains, stores, and evaluates NLL per event beside the unigram and bigram', async () => {
    const report = await task.train(ctx, { steps: 15 });
    expect(report).toMatchObject({ task: 'audio/music', steps: 15, unit: 'events' });
    expect(report.checkpoint).toBe(join(dir, 'audio/music.safetensors'));
    const evaluation = await task.evaluate(ctx);
    const tokens = 2 * (TUNE.length + 1); // every event and the end token of both held-out pieces
    expect(evaluation).toMatchObject({
      task: 'audio/music',
      examples: tokens,
      checkpoint: { source: 'trained', step: 15 },
    });
    for (const m of [evaluation.metrics, evaluation.baselines['unigram']!, evaluation.baselines['bigram']!]) {
      expect(m['nll']).toBeGreaterThan(0);
      expect(m['bitsPerEvent']).toBeCloseTo(m['nll']! / Math.LN2, 3);
    }
    expect(evaluation.baselines['bigram']!['nll']).toBeLessThan(evaluation.baselines['unigram']!['nll']!);
    expect(evaluation.details['sample']).toMatchObject({ verbatim: { 8: expect.any(Number) } });
    expect((await task.evaluate(ctx, { limit: 1 })).examples).toBe(TUNE.length + 1);
  });

  it('run streams named events and returns a MIDI that parses back and a WAV that sounds', async () => {
    const { pieces, output } = await tasks.collectRun(
      task.run(ctx, undefined, { events: 30, temperature: 1 }),
    );
    if (output.kind !== 'midi') throw new Error('expected midi');
    const names = pieces.flatMap((p) => (p.kind === 'events' ? p.events : []));
    expect(names).toHaveLength(output.events);
    expect(names.length).toBeLessThanOrEqual(30);
    for (const name of names) expect(name).toMatch(/^(NOTE_ON|NOTE_OFF|TIME_SHIFT|VELOCITY)\(/);
    const midi = readMidi(output.midi);
    const notes = midiNotes(midi);
    expect(notes.length).toBeGreaterThan(0);
    expect(output.artifacts!.map((a) => [a.name, a.mime])).toEqual([
      ['music.mid', 'audio/midi'],
      ['music.wav', 'audio/wav'],
    ]);
    expect(output.artifacts![0]!.bytes).toEqual(output.midi);
    const wav = decodeWav(output.artifacts![1]!.bytes);
    const end = notes.reduce((m, n) => Math.max(m, n.end), 0);
    // the synth renders until the last note ends plus its 0.2 s release
    expect(wav.channels[0]!.length).toBe(Math.ceil((end + 0.2) * wav.sampleRate));
    const rms = Math.sqrt(wav.channels[0]!.reduce((s, v) => s + v * v, 0) / wav.channels[0]!.length);
    expect(rms).toBeGreaterThan(0.01);
    // the same seed gives the same music
    const again = await task.run(ctx, undefined, { events: 30, temperature: 1 }).result;
    expect(again).toEqual(output);
    expect(eventsToNotes([])).toEqual([]);
  });

  it('refuses unknown or out-of-range parameters', async () => {
    await expect(task.run(ctx, undefined, { length: 3 }).result).rejects.toThrow(
      /unknown parameter 'length'; expected events, temperature, topK, topP/,
    );
    await expect(task.run(ctx, undefined, { events: 0 }).result).rejects.toThrow(
      /parameter events: got 0; expected a value in \[1, 8192\]/,
    );
  });

  it('attention: causal maps over a sample of its own, labelled with event names', async () => {
    const report = await task.attention(ctx);
    expect(report).toMatchObject({ positions: 'events', numLayers: 2, causal: true });
    expect(report.labels[0]).toBe('BOS');
    const n = report.labels.length;
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(32);
    expect(report.layers.map((l) => [l.layer, l.heads, l.weights.length])).toEqual([
      [0, 2, 2 * n * n],
      [1, 2, 2 * n * n],
    ]);
  });
});
