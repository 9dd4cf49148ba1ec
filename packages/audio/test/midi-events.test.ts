/**
 * The performance-event vocabulary: a hand-encoded example, the overlap rules, drums and sustain, and
 * round trips (events -> notes -> events, and events -> Midi -> bytes -> Midi -> events) on a committed
 * tune (abc2midi) and on random notes (fast-check).
 */
import { readFileSync } from 'node:fs';
import { MultiheadError } from '@multihead/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOS,
  decodeEvents,
  describeEvent,
  EOS,
  EVENT_VOCAB_SIZE,
  encodeMidi,
  eventsToNotes,
  Midi,
  midiNotes,
  NOTE_OFF,
  NOTE_ON,
  type Note,
  notesToEvents,
  PAD,
  readMidi,
  TIME_SHIFT,
  VELOCITY,
  writeMidi,
} from '../src/index.js';

const tune = new Uint8Array(readFileSync(new URL('./fixtures/midi/tune.mid', import.meta.url)));
const shift = (steps: number) => TIME_SHIFT + steps - 1;
const note = (pitch: number, start: number, end: number, velocity = 80): Note => ({
  pitch,
  velocity,
  start,
  end,
});

describe('event vocabulary', () => {
  it('has 388 events then PAD, BOS, EOS (Music Transformer ids)', () => {
    expect([NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY, PAD, BOS, EOS, EVENT_VOCAB_SIZE]).toEqual([
      0, 128, 256, 356, 388, 389, 390, 391,
    ]);
    expect([60, 188, 256, 355, 356 + 15, 388, 389, 390, 391].map(describeEvent)).toEqual([
      'NOTE_ON(60)',
      'NOTE_OFF(60)',
      'TIME_SHIFT(10ms)',
      'TIME_SHIFT(1000ms)',
      'VELOCITY(bin 15 = 61)',
      'PAD',
      'BOS',
      'EOS',
      'INVALID(391)',
    ]);
  });

  it('encodes a two-note example as written out by hand', () => {
    // C4 at velocity 80 for 0.5 s; E4 (velocity 77, same bin 19) from 0.25 s to 1.75 s
    const events = notesToEvents([note(60, 0, 0.5), note(64, 0.25, 1.75, 77)]);
    expect(events).toEqual([
      VELOCITY + 19, // floor((80 - 1) / 4)
      NOTE_ON + 60,
      shift(25),
      NOTE_ON + 64, // same velocity bin: no VELOCITY event
      shift(25),
      NOTE_OFF + 60,
      shift(100), // 1.25 s = 100 + 25 steps
      shift(25),
      NOTE_OFF + 64,
    ]);
    expect(eventsToNotes(events)).toEqual([note(60, 0, 0.5, 77), note(64, 0.25, 1.75, 77)]);
  });

  it('quantizes to 10 ms, gives 0-step notes one step, cuts re-struck pitches, merges equal starts', () => {
    expect(notesToEvents([note(60, 0.004, 0.006)])).toEqual([
      VELOCITY + 19,
      NOTE_ON + 60,
      shift(1),
      NOTE_OFF + 60,
    ]);
    // 60 struck again at 0.2 s while sounding: the first ends there (off before on at the same step)
    expect(notesToEvents([note(60, 0, 0.5), note(60, 0.2, 0.3, 120)])).toEqual([
      VELOCITY + 19,
      NOTE_ON + 60,
      shift(20),
      NOTE_OFF + 60,
      VELOCITY + 29,
      NOTE_ON + 60,
      shift(10),
      NOTE_OFF + 60,
    ]);
    // two notes of one pitch starting together: one note, the longer length, the louder velocity
    expect(eventsToNotes(notesToEvents([note(62, 0.1, 0.2, 40), note(62, 0.1, 0.4, 100)]))).toEqual([
      note(62, 0.1, 0.4, 97),
    ]);
  });

  it('decodes model output leniently: PAD/BOS skipped, EOS stops, stray NOTE_OFF ignored, dangling notes closed', () => {
    const events = [
      BOS,
      PAD,
      NOTE_OFF + 70,
      NOTE_ON + 60,
      shift(10),
      NOTE_ON + 60,
      NOTE_ON + 61,
      shift(5),
      EOS,
    ];
    expect(eventsToNotes([...events, NOTE_ON + 90, shift(50)])).toEqual([
      note(60, 0, 0.1, 61), // velocity 64's bin (15) before any VELOCITY event
      note(60, 0.1, 0.15, 61),
      note(61, 0.1, 0.15, 61),
    ]);
    expect(() => eventsToNotes([1, 391])).toThrow(/events\[1\] is 391; expected an integer id in 0..390/);
    expect(() => notesToEvents([note(128, 0, 1)])).toThrow(/notes\[0\].pitch must be an integer in 0..127/);
  });

  it('merges tracks, drops channel 9 unless kept, applies the sustain pedal', () => {
    const midi = new Midi();
    const piano = midi.addTrack();
    piano.channel = 0;
    piano.addNote({ midi: 60, time: 0, duration: 0.1, velocity: 0.5 });
    piano.addNote({ midi: 64, time: 1, duration: 0.1, velocity: 0.5 });
    piano.addCC({ number: 64, value: 1, time: 0.05 }); // pedal down while C4 sounds
    piano.addCC({ number: 64, value: 0, time: 0.5 }); // and up at 0.5 s
    const drums = midi.addTrack();
    drums.channel = 9;
    drums.addNote({ midi: 36, time: 0.25, duration: 0.1 });
    const pitches = (notes: Note[]) => notes.map((n) => n.pitch);
    expect(pitches(midiNotes(midi))).toEqual([60, 64]);
    expect(pitches(midiNotes(midi, { drums: 'keep' }))).toEqual([60, 36, 64]);
    expect(midiNotes(midi)[0]!.end).toBeCloseTo(0.5, 6);
    expect(midiNotes(midi, { sustain: false })[0]!.end).toBeCloseTo(0.1, 6);
    // the round trip through the file keeps what encodeMidi sees
    const again = readMidi(writeMidi(midi));
    expect(encodeMidi(again, { drums: 'keep' })).toEqual(encodeMidi(midi, { drums: 'keep' }));
  });
});

describe('round trips', () => {
  it('the abc2midi tune: encode -> decode -> bytes -> read -> encode gives the same events', () => {
    const midi = readMidi(tune);
    const events = encodeMidi(midi);
    expect(events.length).toBe(95);
    expect(events.filter((e) => e < NOTE_OFF)).toHaveLength(25); // 25 notes in tune.abc
    const back = encodeMidi(readMidi(writeMidi(decodeEvents(events))));
    expect(back).toEqual(events);
    // the events span the tune: 9.6 s (32 eighths at 100 quarter notes a minute)
    const steps = events
      .filter((e) => e >= TIME_SHIFT && e < VELOCITY)
      .reduce((t, e) => t + e - TIME_SHIFT + 1, 0);
    expect(steps * 0.01).toBeCloseTo(midi.duration, 2);
    expect(encodeMidi(midi, { specialTokens: true })).toEqual([BOS, ...events, EOS]);
  });

  const randomNote = fc.record({
    pitch: fc.integer({ min: 0, max: 127 }),
    velocity: fc.integer({ min: 1, max: 127 }),
    start: fc.double({ min: 0, max: 4, noNaN: true }),
    length: fc.double({ min: 0, max: 3, noNaN: true }),
  });

  it('random notes: events -> notes -> events and events -> Midi bytes -> events are the identity', () => {
    fc.assert(
      fc.property(fc.array(randomNote, { maxLength: 40 }), (raw) => {
        const notes = raw.map((n) => note(n.pitch, n.start, n.start + n.length, n.velocity));
        const events = notesToEvents(notes);
        expect(events.every((e) => Number.isInteger(e) && e >= 0 && e < PAD)).toBe(true);
        expect(notesToEvents(eventsToNotes(events))).toEqual(events);
        expect(encodeMidi(readMidi(writeMidi(decodeEvents(events))))).toEqual(events);
      }),
      { numRuns: 60, seed: 3 },
    );
  });
});

describe('readMidi', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['not MIDI', new TextEncoder().encode('RIFF....WAVEfmt '), /not a MIDI file/],
    ['chunk past the end', tune.slice(0, 40), /chunk "MTrk" at byte 14 claims \d+ bytes, only 18 follow/],
    [
      'track count',
      (() => {
        const bytes = tune.slice();
        bytes[11] = 3;
        return bytes;
      })(),
      /announces 3 tracks, the file has 1/,
    ],
    [
      'SMPTE division',
      (() => {
        const bytes = tune.slice();
        bytes[12] = 0xe7;
        return bytes;
      })(),
      /SMPTE time division/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    it(`refuses: ${name}`, () => {
      expect(() => readMidi(bytes)).toThrow(MultiheadError);
      expect(() => readMidi(bytes)).toThrow(message);
    });
  }

  it('random byte changes give a Midi or a MultiheadError, never anything else', () => {
    const outcomes = { parsed: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(tune.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        (writes) => {
          const bytes = tune.slice();
          for (const [at, value] of writes) bytes[at] = value;
          try {
            const midi = readMidi(bytes);
            encodeMidi(midi);
            outcomes.parsed++;
          } catch (e) {
            expect(e).toBeInstanceOf(MultiheadError);
            outcomes.refused++;
          }
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    expect(outcomes.parsed).toBeGreaterThan(20);
    expect(outcomes.refused).toBeGreaterThan(20);
  });
});
