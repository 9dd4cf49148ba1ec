/**
 * Spoken digits as 16 kHz mono float32 clips, whatever made them (espeak-ng, flite, asterisk's
 * recordings): each WAV is decoded, downmixed, trimmed of leading and trailing silence and resampled
 * with wavefile's sinc resampler, then a whole set is stored as one clip file in the dataset cache.
 */
import { io } from '@multihead/core';
import { toMono, trimSilence } from '../io/clip.js';
import { invalidArgument } from '../io/errors.js';
import { resample } from '../io/resample.js';
import { decodeWav } from '../io/wav.js';
import { type ClipStore, packClips, unpackClips } from './clip-store.js';
import { mapLimit } from './tools.js';

/** The words spoken; "oh" is another name of 0 (as in phone numbers), so both have label 0. */
export const DIGIT_WORDS = [
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
  'oh',
] as const;
export type DigitWord = (typeof DIGIT_WORDS)[number];

export const digitLabel = (word: DigitWord): number => (word === 'oh' ? 0 : DIGIT_WORDS.indexOf(word));

export const SPOKEN_DIGITS_RATE = 16000;

export type DigitSource = 'espeak-ng' | 'flite' | 'asterisk';

export interface SpokenDigitMeta {
  word: DigitWord;
  /** 0..9. */
  label: number;
  source: DigitSource;
  /** The voice: espeak-ng `language+variant`, a flite voice, or asterisk's speaker. */
  voice: string;
  /** espeak-ng pitch (0-99) and speed (words per minute); flite duration stretch. */
  pitch?: number;
  speed?: number;
  stretch?: number;
}

export interface SpokenDigit extends SpokenDigitMeta {
  /** 16 kHz mono float32. */
  samples: Float32Array;
}

/** Silence below 1% of the clip's peak (-40 dB) is trimmed, keeping 20 ms on each side. */
const TRIM_RELATIVE = 0.01;
const TRIM_MARGIN_SECONDS = 0.02;

/** A WAV file of one word -> trimmed 16 kHz mono samples. */
export function prepareDigitClip(wav: Uint8Array): Float32Array {
  // synthesizers writing to a pipe leave streaming sizes in the header (espeak-ng --stdout)
  const clip = decodeWav(wav, { allowTruncated: true });
  const mono = toMono(clip);
  const peak = mono.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  if (peak === 0) invalidArgument('prepareDigitClip: the clip is silent');
  const trimmed = trimSilence(mono, {
    threshold: peak * TRIM_RELATIVE,
    margin: Math.round(TRIM_MARGIN_SECONDS * clip.sampleRate),
  });
  return resample(trimmed.slice(), clip.sampleRate, SPOKEN_DIGITS_RATE);
}

export interface SynthesisJob {
  meta: SpokenDigitMeta;
  /** Makes the WAV file of this clip. */
  wav: () => Promise<Uint8Array>;
}

export interface BuildOptions extends io.CacheOptions {
  /** Synthesizer processes at once (default 2). */
  concurrency?: number;
  /** Called after each clip with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Makes (or reads from the cache) the clip file `name` of `jobs()`; jobs are only listed when building. */
export async function cachedDigitClips(
  name: string,
  options: BuildOptions,
  jobs: () => Promise<SynthesisJob[]>,
): Promise<SpokenDigit[]> {
  const bytes = await io.cachedBytes(`${name}.clips`, options, async () => {
    const list = await jobs();
    let done = 0;
    const clips = await mapLimit(list, options.concurrency ?? 2, async (job) => {
      const samples = prepareDigitClip(await job.wav());
      options.onProgress?.(++done, list.length);
      return { meta: job.meta, samples };
    });
    return packClips({ sampleRate: SPOKEN_DIGITS_RATE, clips });
  });
  const store: ClipStore<SpokenDigitMeta> = unpackClips(bytes);
  return store.clips.map(({ meta, samples }) => ({ ...meta, samples }));
}
