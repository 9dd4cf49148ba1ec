/**
 * MIDI files through @tonejs/midi, and the note list the event vocabulary and the synth work on: every
 * track merged, drums (channel 9, General MIDI's percussion channel counted from 0) dropped or kept,
 * sustain pedal (CC 64) folded into note lengths as Oore et al. 2018 do for piano performances.
 * Chunk headers are checked before @tonejs/midi parses anything (SMF 1.0: MThd then MTrk chunks).
 */
import * as toneMidi from '@tonejs/midi';
import { invalidArgument, unsupported } from '../io/errors.js';

type MidiClass = typeof toneMidi.Midi;
const loaded = toneMidi as unknown as { Midi?: MidiClass; default?: { Midi?: MidiClass } };
/** @tonejs/midi's Midi class (Node sees its UMD build's `default`, bundlers its named export). */
export const Midi: MidiClass = (loaded.Midi ?? loaded.default?.Midi)!;
export type Midi = InstanceType<MidiClass>;

export interface Note {
  /** MIDI note number 0..127 (60 = middle C). */
  pitch: number;
  /** MIDI velocity 1..127. */
  velocity: number;
  /** Seconds. */
  start: number;
  /** Seconds, > start. */
  end: number;
}

export interface MidiNotesOptions {
  /** Channel 9 (General MIDI percussion): 'drop' (default) or 'keep'. */
  drums?: 'drop' | 'keep';
  /** Extend notes released while the sustain pedal (CC 64 >= 64) is down to the pedal's release. Default true. */
  sustain?: boolean;
}

export const DRUM_CHANNEL = 9;

/** Parses a Standard MIDI File; corrupt files get INVALID_ARGUMENT naming what is wrong. */
export function readMidi(bytes: Uint8Array): Midi {
  if (!(bytes instanceof Uint8Array)) {
    invalidArgument(`readMidi: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const bad = (message: string): never => invalidArgument(`readMidi: ${message}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 14 || id(0) !== 'MThd')
    bad(`not a MIDI file: expected "MThd" and a 6-byte header first`);
  const headerLength = view.getUint32(4);
  if (headerLength < 6 || 8 + headerLength > bytes.length) bad(`MThd length is ${headerLength}, expected 6`);
  const format = view.getUint16(8);
  const trackCount = view.getUint16(10);
  const division = view.getUint16(12);
  if (format > 2) bad(`format ${format}, expected 0, 1 or 2`);
  if (division & 0x8000)
    unsupported('readMidi: SMPTE time division is not supported (only ticks per quarter note)');
  if (division === 0) bad('0 ticks per quarter note');
  let tracks = 0;
  // each step moves on by at least 8 bytes
  for (let at = 8 + headerLength; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at + 4);
    if (at + 8 + length > bytes.length) {
      bad(`chunk "${id(at)}" at byte ${at} claims ${length} bytes, only ${bytes.length - at - 8} follow it`);
    }
    if (id(at) === 'MTrk') tracks++;
    at += 8 + length;
  }
  if (tracks !== trackCount) bad(`the header announces ${trackCount} tracks, the file has ${tracks}`);
  try {
    return new Midi(bytes);
  } catch (e) {
    return bad(`@tonejs/midi could not parse it (${(e as Error)?.message ?? String(e)})`);
  }
}

/** A Standard MIDI File of `midi` (@tonejs/midi's writer). */
export function writeMidi(midi: Midi): Uint8Array {
  return midi.toArray();
}

/** Times (seconds) at which the sustain pedal goes down and up on a track: [down, up) intervals. */
function pedalIntervals(track: Midi['tracks'][number], end: number): [number, number][] {
  const changes = [...(track.controlChanges[64] ?? [])].sort((a, b) => a.time - b.time);
  const intervals: [number, number][] = [];
  let downAt: number | undefined;
  for (const change of changes) {
    const down = change.value >= 64 / 127; // MIDI: 0-63 off, 64-127 on
    if (down && downAt === undefined) downAt = change.time;
    if (!down && downAt !== undefined) {
      intervals.push([downAt, change.time]);
      downAt = undefined;
    }
  }
  if (downAt !== undefined) intervals.push([downAt, end]);
  return intervals;
}

/**
 * Every note of every track, merged and sorted by (start, pitch). With `sustain`, a note released
 * while the pedal is down lasts until the pedal comes up (or the same pitch is struck again; that
 * overlap is resolved when events are made).
 */
export function midiNotes(midi: Midi, options: MidiNotesOptions = {}): Note[] {
  const drums = options.drums ?? 'drop';
  if (drums !== 'drop' && drums !== 'keep') {
    invalidArgument(`midiNotes: options.drums must be 'drop' or 'keep', got ${JSON.stringify(drums)}`);
  }
  const sustain = options.sustain ?? true;
  const notes: Note[] = [];
  for (const track of midi.tracks) {
    if (drums === 'drop' && track.channel === DRUM_CHANNEL) continue;
    const pedal = sustain ? pedalIntervals(track, midi.duration) : [];
    for (const note of track.notes) {
      let end = note.time + note.duration;
      const held = pedal.find(([down, up]) => down <= end && end < up);
      if (held !== undefined) end = held[1];
      const velocity = Math.min(127, Math.max(1, Math.round(note.velocity * 127)));
      if (end > note.time) notes.push({ pitch: note.midi, velocity, start: note.time, end });
    }
  }
  return notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch || a.end - b.end);
}

/** Ticks per second of the MIDI files we write: 480 PPQ at 125 BPM = 1000, so 10 ms is 10 ticks. */
export const WRITE_TICKS_PER_SECOND = 1000;

/** A one-track Midi (piano, channel 0) of `notes`, timed at 1000 ticks per second. */
export function notesToMidi(notes: readonly Note[]): Midi {
  const midi = new Midi();
  midi.header.setTempo((WRITE_TICKS_PER_SECOND * 60) / midi.header.ppq);
  const track = midi.addTrack();
  for (const note of notes) {
    const ticks = Math.round(note.start * WRITE_TICKS_PER_SECOND);
    const durationTicks = Math.max(1, Math.round(note.end * WRITE_TICKS_PER_SECOND) - ticks);
    track.addNote({ midi: note.pitch, ticks, durationTicks, velocity: note.velocity / 127 });
  }
  return midi;
}
