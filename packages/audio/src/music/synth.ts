/**
 * A small additive synthesizer, to listen to MIDI files and to what a model generates: each note is a
 * sum of sine partials (harmonics k * f0 with amplitudes 1/k by default, none above the Nyquist
 * frequency) under a linear ADSR envelope, scaled by velocity / 127; the mix is normalized to a fixed
 * peak so chords never clip. Equal temperament, A4 (note 69) = 440 Hz. Drums, when kept, sound as
 * pitched tones.
 */
import type { MonoAudio } from '../io/clip.js';
import { checkSampleRate, invalidArgument } from '../io/errors.js';
import { encodeWav } from '../io/wav.js';
import { eventsToNotes } from './events.js';
import { type Midi, type MidiNotesOptions, midiNotes, type Note } from './midi.js';

export interface SynthOptions {
  /** Default 16000 Hz. */
  sampleRate?: number;
  /** Amplitudes of harmonics 1, 2, 3, ... Default [1, 1/2, 1/3, 1/4]. */
  partials?: readonly number[];
  /** Envelope in seconds (attack, decay, release) and the sustain level in [0, 1]. */
  attack?: number;
  decay?: number;
  sustain?: number;
  release?: number;
  /** Peak of the normalized mix. Default 0.9. */
  peak?: number;
}

const DEFAULTS = { sampleRate: 16000, attack: 0.01, decay: 0.1, sustain: 0.6, release: 0.2, peak: 0.9 };

export const midiToFrequency = (pitch: number): number => 440 * 2 ** ((pitch - 69) / 12);

/** Envelope level t seconds after the note starts, for a note held `held` seconds (then released). */
function envelope(t: number, held: number, o: typeof DEFAULTS): number {
  const level = (time: number) => {
    if (time < o.attack) return time / o.attack;
    if (time < o.attack + o.decay) return 1 - ((1 - o.sustain) * (time - o.attack)) / o.decay;
    return o.sustain;
  };
  if (t < held) return level(t);
  const releasing = t - held;
  return releasing >= o.release ? 0 : level(held) * (1 - releasing / o.release);
}

/**
 * Renders notes to mono float32 audio. The output lasts until the last note's end plus the release
 * time: ceil((max end + release) * sampleRate) samples.
 */
export function renderNotes(notes: readonly Note[], options: SynthOptions = {}): MonoAudio {
  const o = { ...DEFAULTS, ...options };
  const sampleRate = checkSampleRate(o.sampleRate, 'renderNotes', 'options.sampleRate');
  const partials = options.partials ?? [1, 1 / 2, 1 / 3, 1 / 4];
  for (const [name, value] of Object.entries({ attack: o.attack, decay: o.decay, release: o.release })) {
    if (!(value > 0 && value < 60))
      invalidArgument(`renderNotes: options.${name} must be in (0, 60) seconds, got ${value}`);
  }
  if (!(o.sustain >= 0 && o.sustain <= 1))
    invalidArgument(`renderNotes: options.sustain must be in [0, 1], got ${o.sustain}`);
  if (!(o.peak > 0 && o.peak <= 1))
    invalidArgument(`renderNotes: options.peak must be in (0, 1], got ${o.peak}`);
  const end = notes.reduce((m, note) => Math.max(m, note.end), 0);
  if (!Number.isFinite(end) || end > 3600)
    invalidArgument(`renderNotes: notes must end within an hour, got ${end} s`);
  const mix = new Float64Array(notes.length === 0 ? 0 : Math.ceil((end + o.release) * sampleRate));
  notes.forEach((note, i) => {
    if (!(note.start >= 0 && note.end >= note.start && note.pitch >= 0 && note.pitch < 128)) {
      invalidArgument(
        `renderNotes: notes[${i}] is not a note (pitch ${note.pitch}, ${note.start}..${note.end} s)`,
      );
    }
    const f0 = midiToFrequency(note.pitch);
    const gain = Math.min(127, Math.max(0, note.velocity)) / 127;
    const first = Math.round(note.start * sampleRate);
    const held = note.end - note.start;
    const last = Math.min(mix.length, Math.ceil((note.end + o.release) * sampleRate));
    partials.forEach((amplitude, k) => {
      const frequency = f0 * (k + 1);
      if (frequency >= sampleRate / 2 || amplitude === 0) return;
      const step = (2 * Math.PI * frequency) / sampleRate;
      for (let n = first; n < last; n++) {
        const t = (n - first) / sampleRate;
        mix[n]! += gain * amplitude * envelope(t, held, o) * Math.sin(step * (n - first));
      }
    });
  });
  const loudest = mix.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const scale = loudest > 0 ? o.peak / loudest : 0;
  return { sampleRate, samples: Float32Array.from(mix, (x) => x * scale) };
}

/** Renders a Midi (tracks merged as midiNotes does: drums dropped unless kept, sustain applied). */
export function renderMidi(midi: Midi, options: SynthOptions & MidiNotesOptions = {}): MonoAudio {
  return renderNotes(midiNotes(midi, options), options);
}

/** Renders an event sequence (see eventsToNotes). */
export function renderEvents(events: ArrayLike<number>, options: SynthOptions = {}): MonoAudio {
  return renderNotes(eventsToNotes(events), options);
}

/** A 16-bit WAV file of a rendered Midi. */
export function renderMidiToWav(midi: Midi, options: SynthOptions & MidiNotesOptions = {}): Uint8Array {
  const { sampleRate, samples } = renderMidi(midi, options);
  return encodeWav({ sampleRate, channels: [samples] });
}
