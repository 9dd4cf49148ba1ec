/**
 * The checkpoints that ship in packages/audio/checkpoints, through the default tasks with no store: the
 * digit model names the committed espeak-ng "seven" and flite's (kal, 8 kHz) "three", and the music model
 * writes a MIDI file that parses back and a WAV of it that sounds.
 */
import { readFileSync } from 'node:fs';
import { type Device, type TaskContext, tasks } from '@multihead/core';
import { getDevices } from '@multihead/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, digitsTask, midiNotes, musicTask, readMidi } from '../src/index.js';

const wav = (name: string) => ({
  bytes: new Uint8Array(readFileSync(new URL(`./fixtures/wav/${name}`, import.meta.url))),
  name,
});

let device: Device;
let ctx: TaskContext;
beforeAll(async () => {
  device = (await getDevices()).dev;
  ctx = { device, seed: 0 };
});

describe('committed checkpoints', () => {
  it('audio/digits ships a model that names spoken digits in WAV files', async () => {
    expect(await digitsTask.committedCheckpoint!()).toBeInstanceOf(Uint8Array);
    for (const [file, digit] of [
      ['seven-espeak-en-us.wav', 'seven'],
      ['three-flite-kal.wav', 'three'],
    ] as const) {
      const output = await digitsTask.run(ctx, wav(file)).result;
      if (output.kind !== 'label') throw new Error('expected a label');
      expect(output.label).toBe(digit);
    }
  });

  it('audio/music ships a model whose music parses back and sounds', async () => {
    const output = await musicTask.run(ctx, undefined, { events: 64 }).result;
    if (output.kind !== 'midi') throw new Error('expected midi');
    expect(midiNotes(readMidi(output.midi)).length).toBeGreaterThan(0);
    const audio = decodeWav(output.artifacts!.find((a) => a.name === 'music.wav')!.bytes).channels[0]!;
    expect(audio.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.5); // the synth normalizes to 0.9
    const { output: again } = await tasks.collectRun(musicTask.run(ctx, undefined, { events: 64 }));
    expect(again).toEqual(output);
  });
});
