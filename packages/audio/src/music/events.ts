/**
 * The performance-event vocabulary of Music Transformer (Huang et al. 2018) and "This time with feeling"
 * (Oore et al. 2018, section 3.2): 128 NOTE_ON, 128 NOTE_OFF, 100 TIME_SHIFT (10 ms to 1 s in 10 ms
 * steps) and 32 VELOCITY bins, 388 events in that order, then PAD, BOS and EOS; the same ids as the
 * widely used MusicTransformer-pytorch port (pad 388, sos 389, eos 390).
 *
 * Velocity bins follow Magenta's performance encoding: bin = floor((v - 1) / 4) for MIDI velocity
 * v in 1..127, and a bin decodes to 1 + 4 * bin. A VELOCITY event precedes a NOTE_ON only when the bin
 * changes. Times are quantized to 10 ms; a note that would last 0 steps lasts 1.
 */
import { invalidArgument } from '../io/errors.js';
import { type Midi, type MidiNotesOptions, midiNotes, type Note, notesToMidi } from './midi.js';

export const NOTE_ON = 0;
export const NOTE_OFF = 128;
export const TIME_SHIFT = 256;
export const VELOCITY = 356;
export const PAD = 388;
export const BOS = 389;
export const EOS = 390;
/** Number of ids: 388 events + 3 special tokens. */
export const EVENT_VOCAB_SIZE = 391;

export const STEP_SECONDS = 0.01;
export const MAX_SHIFT_STEPS = 100;
export const VELOCITY_BINS = 32;
const VELOCITY_BIN_SIZE = 4; // ceil(127 / 32), as Magenta

export const velocityToBin = (velocity: number): number =>
  Math.floor((Math.min(127, Math.max(1, Math.round(velocity))) - 1) / VELOCITY_BIN_SIZE);
export const binToVelocity = (bin: number): number => 1 + VELOCITY_BIN_SIZE * bin;

interface StepNote {
  pitch: number;
  bin: number;
  start: number;
  end: number;
}

/**
 * Notes on the 10 ms grid, one sounding note per pitch at a time: a note struck again while it still
 * sounds is cut where the new one starts; two of the same pitch starting on the same step merge.
 * Decoding events gives notes in exactly this form, so encode -> decode -> encode is the identity.
 */
function quantizeNotes(notes: readonly Note[]): StepNote[] {
  const steps = notes.map((note, i) => {
    if (!(Number.isInteger(note.pitch) && note.pitch >= 0 && note.pitch < 128)) {
      invalidArgument(`notesToEvents: notes[${i}].pitch must be an integer in 0..127, got ${note.pitch}`);
    }
    if (!(Number.isFinite(note.start) && note.start >= 0 && note.end >= note.start)) {
      invalidArgument(
        `notesToEvents: notes[${i}] must have 0 <= start <= end, got ${note.start}..${note.end}`,
      );
    }
    if (!Number.isFinite(note.velocity)) {
      invalidArgument(`notesToEvents: notes[${i}].velocity must be a number in 1..127, got ${note.velocity}`);
    }
    const start = Math.round(note.start / STEP_SECONDS);
    const end = Math.max(start + 1, Math.round(note.end / STEP_SECONDS));
    return { pitch: note.pitch, bin: velocityToBin(note.velocity), start, end };
  });
  steps.sort((a, b) => a.pitch - b.pitch || a.start - b.start || b.end - a.end);
  const out: StepNote[] = [];
  let previous: StepNote | undefined;
  for (const note of steps) {
    if (previous !== undefined && previous.pitch === note.pitch && note.start < previous.end) {
      if (note.start === previous.start) {
        previous.end = Math.max(previous.end, note.end);
        previous.bin = Math.max(previous.bin, note.bin);
        continue;
      }
      previous.end = note.start;
    }
    out.push(note);
    previous = note;
  }
  return out;
}

/** Events (ids) of a note list. */
export function notesToEvents(notes: readonly Note[]): number[] {
  const changes: { step: number; off: boolean; note: StepNote }[] = [];
  for (const note of quantizeNotes(notes)) {
    changes.push({ step: note.start, off: false, note }, { step: note.end, off: true, note });
  }
  // by time; at one step note-offs first (a re-struck pitch ends before it starts again), then by pitch
  changes.sort((a, b) => a.step - b.step || Number(b.off) - Number(a.off) || a.note.pitch - b.note.pitch);
  const events: number[] = [];
  let step = 0;
  let bin = -1;
  for (const change of changes) {
    for (let gap = change.step - step; gap > 0; gap -= MAX_SHIFT_STEPS) {
      events.push(TIME_SHIFT + Math.min(gap, MAX_SHIFT_STEPS) - 1);
    }
    step = change.step;
    if (change.off) {
      events.push(NOTE_OFF + change.note.pitch);
      continue;
    }
    if (change.note.bin !== bin) {
      bin = change.note.bin;
      events.push(VELOCITY + bin);
    }
    events.push(NOTE_ON + change.note.pitch);
  }
  return events;
}

/**
 * Notes of an event sequence, e.g. one a model generated. PAD and BOS are skipped, EOS ends it. A
 * NOTE_ON of a pitch that still sounds ends the older note there; NOTE_OFF of a silent pitch is ignored;
 * notes still sounding at the end stop at the last time; notes of zero length are dropped. A NOTE_ON
 * before any VELOCITY event plays at velocity 64's bin.
 */
export function eventsToNotes(events: ArrayLike<number>): Note[] {
  const notes: Note[] = [];
  const sounding = new Map<number, { start: number; bin: number }>();
  let step = 0;
  let bin = velocityToBin(64);
  const close = (pitch: number) => {
    const open = sounding.get(pitch);
    if (open === undefined) return;
    sounding.delete(pitch);
    if (step > open.start) {
      notes.push({
        pitch,
        velocity: binToVelocity(open.bin),
        start: open.start * STEP_SECONDS,
        end: step * STEP_SECONDS,
      });
    }
  };
  for (let i = 0; i < events.length; i++) {
    const id = events[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= EVENT_VOCAB_SIZE) {
      invalidArgument(
        `eventsToNotes: events[${i}] is ${id}; expected an integer id in 0..${EVENT_VOCAB_SIZE - 1}`,
      );
    }
    if (id === EOS) break;
    if (id >= PAD) continue;
    if (id < NOTE_OFF) {
      close(id);
      sounding.set(id, { start: step, bin });
    } else if (id < TIME_SHIFT) close(id - NOTE_OFF);
    else if (id < VELOCITY) step += id - TIME_SHIFT + 1;
    else bin = id - VELOCITY;
  }
  for (const pitch of [...sounding.keys()]) close(pitch);
  return notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

export interface EncodeMidiOptions extends MidiNotesOptions {
  /** Wrap the events in BOS ... EOS. Default false. */
  specialTokens?: boolean;
}

/** Events of a Midi: all tracks merged (drums dropped by default, sustain applied; see midiNotes). */
export function encodeMidi(midi: Midi, options: EncodeMidiOptions = {}): number[] {
  const events = notesToEvents(midiNotes(midi, options));
  return options.specialTokens ? [BOS, ...events, EOS] : events;
}

/** A one-track Midi of an event sequence (see eventsToNotes). */
export function decodeEvents(events: ArrayLike<number>): Midi {
  return notesToMidi(eventsToNotes(events));
}

/** A readable name of an event id: NOTE_ON(60), TIME_SHIFT(250ms), VELOCITY(bin 15 = 61), EOS, ... */
export function describeEvent(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id >= EVENT_VOCAB_SIZE) return `INVALID(${id})`;
  if (id < NOTE_OFF) return `NOTE_ON(${id})`;
  if (id < TIME_SHIFT) return `NOTE_OFF(${id - NOTE_OFF})`;
  if (id < VELOCITY) return `TIME_SHIFT(${(id - TIME_SHIFT + 1) * 10}ms)`;
  if (id < PAD) return `VELOCITY(bin ${id - VELOCITY} = ${binToVelocity(id - VELOCITY)})`;
  return (['PAD', 'BOS', 'EOS'] as const)[id - PAD]!;
}
