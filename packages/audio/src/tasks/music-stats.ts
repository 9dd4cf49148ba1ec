/**
 * A listen-free description of generated music: notes per second, the pitch range, and how much of it
 * repeats the training pieces verbatim (the share of its n-event windows that occur in some training
 * piece, for a few n).
 */
import { EOS, eventsToNotes, NOTE_OFF } from '../music/events.js';

export interface GenerationStats {
  events: number;
  notes: number;
  seconds: number;
  notesPerSecond: number;
  /** Lowest and highest MIDI pitch (null without notes). */
  pitchRange: [number, number] | null;
  /** n -> share of the sample's n-event windows found in a training piece (null when it has none). */
  verbatim: Record<number, number | null>;
}

export const VERBATIM_ORDERS = [8, 16, 32] as const;

/** Every n-event window of the pieces, as keys (for `verbatimShare`). */
export function ngramIndex(pieces: readonly (readonly number[])[], n: number): Set<string> {
  const index = new Set<string>();
  for (const piece of pieces)
    for (let i = 0; i + n <= piece.length; i++) index.add(piece.slice(i, i + n).join(','));
  return index;
}

/** Share of the n-event windows of `events` that are in `index` (null when `events` is shorter than n). */
export function verbatimShare(
  events: readonly number[],
  index: ReadonlySet<string>,
  n: number,
): number | null {
  const windows = events.length - n + 1;
  if (windows < 1) return null;
  let found = 0;
  for (let i = 0; i < windows; i++) if (index.has(events.slice(i, i + n).join(','))) found++;
  return found / windows;
}

/** The figures of one generated event sequence (EOS and what follows are left out). */
export function generationStats(
  events: readonly number[],
  train: readonly (readonly number[])[],
): GenerationStats {
  const end = events.indexOf(EOS);
  const body = end < 0 ? events.slice() : events.slice(0, end);
  const notes = eventsToNotes(body);
  const seconds = notes.reduce((m, note) => Math.max(m, note.end), 0);
  const pitches = body.filter((e) => e < NOTE_OFF);
  const verbatim: Record<number, number | null> = {};
  for (const n of VERBATIM_ORDERS) verbatim[n] = verbatimShare(body, ngramIndex(train, n), n);
  return {
    events: body.length,
    notes: notes.length,
    seconds,
    notesPerSecond: seconds > 0 ? notes.length / seconds : 0,
    pitchRange: pitches.length > 0 ? [Math.min(...pitches), Math.max(...pitches)] : null,
    verbatim,
  };
}
