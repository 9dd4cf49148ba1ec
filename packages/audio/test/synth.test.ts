/**
 * The additive synth: output length follows the MIDI's duration (plus the release), notes sound at their
 * pitch with the harmonic amplitudes asked for, velocity scales loudness, the mix peaks at 0.9, and the
 * WAV bytes hold the same samples.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeWav,
  encodeMidi,
  Midi,
  midiToFrequency,
  readMidi,
  renderEvents,
  renderMidi,
  renderMidiToWav,
  renderNotes,
} from '../src/index.js';

const tune = readMidi(new Uint8Array(readFileSync(new URL('./fixtures/midi/tune.mid', import.meta.url))));
const RATE = 16000;

const rms = (x: Float32Array, from = 0, to = x.length) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
};

/** Amplitude of `frequency` over x[from, to) (single-bin DFT; whole periods keep leakage small). */
function amplitudeAt(x: Float32Array, frequency: number, from: number, to: number): number {
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * frequency * i) / RATE);
    im += x[i]! * Math.sin((2 * Math.PI * frequency * i) / RATE);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('synth', () => {
  it('renders the tune for its MIDI duration plus the release, not silent, peaking at 0.9', () => {
    const { sampleRate, samples } = renderMidi(tune);
    expect(sampleRate).toBe(RATE);
    expect(tune.duration).toBeCloseTo(9.6, 6);
    expect(samples.length).toBe(Math.ceil((tune.duration + 0.2) * RATE));
    expect(rms(samples)).toBeGreaterThan(0.05);
    expect(samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0)).toBeCloseTo(0.9, 6);
    // sound all the way through (the tune has no rests): every 100 ms window carries signal
    for (let t = 0; t + 0.1 <= tune.duration; t += 0.1) {
      expect(
        rms(samples, Math.round(t * RATE), Math.round((t + 0.1) * RATE)),
        `at ${t.toFixed(1)} s`,
      ).toBeGreaterThan(1e-3);
    }
    // events render to the same length (times quantized to 10 ms)
    expect(renderEvents(encodeMidi(tune)).samples.length).toBe(samples.length);
  });

  it('a pure tone at A4 crosses zero 880 times a second; harmonics have the asked amplitudes', () => {
    const a4 = [{ pitch: 69, velocity: 100, start: 0, end: 1 }];
    const sine = renderNotes(a4, { partials: [1] }).samples;
    let crossings = 0;
    for (let i = RATE * 0.2 + 1; i < RATE * 0.9; i++) if (sine[i - 1]! < 0 !== sine[i]! < 0) crossings++;
    expect(crossings / 0.7).toBeGreaterThan(878);
    expect(crossings / 0.7).toBeLessThan(882);
    expect(midiToFrequency(69)).toBe(440);
    // default partials 1, 1/2, 1/3, 1/4 measured in the sustained part (0.2 s to 0.9 s: whole periods)
    const rich = renderNotes(a4).samples;
    const [from, to] = [0.2 * RATE, 0.9 * RATE];
    const fundamental = amplitudeAt(rich, 440, from, to);
    for (const k of [2, 3, 4]) {
      expect(amplitudeAt(rich, 440 * k, from, to) / fundamental, `harmonic ${k}`).toBeCloseTo(1 / k, 3);
    }
    // no partial above the Nyquist frequency: C8 (4186 Hz) keeps only its fundamental at 16 kHz, which
    // alone reaches the 0.9 peak at the end of the attack, then holds the 0.6 sustain level
    const c8 = renderNotes([{ pitch: 108, velocity: 100, start: 0, end: 1 }]).samples;
    const f0 = midiToFrequency(108);
    expect(amplitudeAt(c8, f0, from, to)).toBeCloseTo(0.9 * 0.6, 2);
    expect(amplitudeAt(c8, 16000 - 2 * f0, from, to)).toBeLessThan(1e-3); // where harmonic 2 would alias
  });

  it('velocity scales loudness linearly; silence before the first note and after the release', () => {
    const notes = [
      { pitch: 60, velocity: 100, start: 0.5, end: 1 },
      { pitch: 60, velocity: 50, start: 1.5, end: 2 },
    ];
    const { samples } = renderNotes(notes);
    expect(rms(samples, 0, 0.5 * RATE)).toBe(0);
    const loud = rms(samples, 0.6 * RATE, 0.95 * RATE);
    const soft = rms(samples, 1.6 * RATE, 1.95 * RATE);
    expect(loud / soft).toBeCloseTo(2, 2);
    expect(rms(samples, 1.2 * RATE, 1.5 * RATE)).toBe(0); // the first note's release ended at 1.2 s
    expect(samples.length).toBe(2.2 * RATE);
  });

  it('writes 16-bit WAV bytes of the same samples (to 1/32768)', () => {
    const midi = new Midi();
    midi.addTrack().addNote({ midi: 64, time: 0.1, duration: 0.3, velocity: 0.8 });
    const wav = decodeWav(renderMidiToWav(midi));
    const { samples } = renderMidi(midi);
    expect(wav.sampleRate).toBe(RATE);
    expect(wav.channels[0]!.length).toBe(samples.length);
    const worst = samples.reduce((m, x, i) => Math.max(m, Math.abs(x - wav.channels[0]![i]!)), 0);
    expect(worst).toBeLessThanOrEqual(0.5 / 32768 + 1e-9);
  });

  it('refuses bad options and notes', () => {
    expect(() => renderNotes([], { sampleRate: 0 })).toThrow(/options.sampleRate must be a positive integer/);
    expect(() => renderNotes([], { release: 0 })).toThrow(/options.release must be in \(0, 60\) seconds/);
    expect(() => renderNotes([{ pitch: 60, velocity: 1, start: 2, end: 1 }])).toThrow(
      /notes\[0\] is not a note/,
    );
    expect(() => renderNotes([{ pitch: 60, velocity: 1, start: 0, end: 1e9 }])).toThrow(/within an hour/);
    expect(renderNotes([]).samples).toHaveLength(0);
  });
});
