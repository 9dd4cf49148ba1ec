/**
 * One shape for audio wherever it comes from: `{ sampleRate, channels }` with one Float32Array per
 * channel, samples in [-1, 1] (float files may exceed it; they are kept as they are, as soundfile and
 * torchaudio do). A decoded WAV file, a Web Audio `AudioBuffer` and microphone chunks all become this, and
 * `prepareAudio` turns it into the mono clip at the rate a model wants.
 */
import { checkSampleRate, describeType, invalidArgument } from './errors.js';
import { resample } from './resample.js';

export interface AudioClip {
  /** Samples per second of every channel (Hz). */
  sampleRate: number;
  /** One array per channel, all of the same length. */
  channels: Float32Array[];
}

/** Mono audio at a known rate: what models and features take. */
export interface MonoAudio {
  sampleRate: number;
  samples: Float32Array;
}

/** Checks the shape of an AudioClip (not the values: that is O(n) and done where samples are produced). */
export function checkAudioClip(clip: AudioClip, where: string): void {
  if (typeof clip !== 'object' || clip === null) {
    invalidArgument(`${where}: clip must be { sampleRate, channels }, got ${describeType(clip)}`);
  }
  checkSampleRate(clip.sampleRate, where, 'clip.sampleRate');
  const { channels } = clip;
  if (!Array.isArray(channels) || channels.length === 0) {
    invalidArgument(
      `${where}: clip.channels must be a non-empty array of Float32Array, got ${describeType(channels)}`,
    );
  }
  const length = channels[0]?.length;
  channels.forEach((channel, i) => {
    if (!(channel instanceof Float32Array)) {
      invalidArgument(`${where}: clip.channels[${i}] must be a Float32Array, got ${describeType(channel)}`);
    }
    if (channel.length !== length) {
      invalidArgument(
        `${where}: every channel must have the same length; channel 0 has ${length} samples, channel ${i} has ${channel.length}`,
      );
    }
  });
}

/** The mean of the channels (a copy, also for mono), as torchaudio's `mean(dim=0)` downmix. */
export function toMono(clip: AudioClip): Float32Array {
  checkAudioClip(clip, 'toMono');
  const [first, ...rest] = clip.channels as [Float32Array, ...Float32Array[]];
  if (rest.length === 0) return first.slice();
  const out = new Float64Array(first);
  for (const channel of rest) for (let i = 0; i < out.length; i++) out[i]! += channel[i]!;
  const scale = 1 / clip.channels.length;
  return Float32Array.from(out, (sum) => sum * scale);
}

export interface PrepareAudioOptions {
  /** The rate to resample to (wavefile's sinc resampler); default: keep the clip's rate. */
  sampleRate?: number;
}

/**
 * The one pipeline from any audio source to what features and models take: check the clip, average the
 * channels to mono, resample. Node (`decodeWav`), the browser (`audioBufferToClip`, microphone chunks)
 * all go through here.
 */
export function prepareAudio(clip: AudioClip, options: PrepareAudioOptions = {}): MonoAudio {
  const mono = toMono(clip);
  const sampleRate =
    options.sampleRate === undefined
      ? clip.sampleRate
      : checkSampleRate(options.sampleRate, 'prepareAudio', 'options.sampleRate');
  return { sampleRate, samples: resample(mono, clip.sampleRate, sampleRate) };
}

export interface TrimSilenceOptions {
  /** Samples whose magnitude stays below this are silence. Default 10^(-50/20), -50 dBFS. */
  threshold?: number;
  /** Samples of silence kept on each side of the sound. Default 0. */
  margin?: number;
}

/**
 * Cuts leading and trailing silence (a view, not a copy). A clip with no sample above the threshold
 * becomes empty. Synthesizers pad words with up to a quarter second of zeros; datasets trim them so the
 * clips' lengths follow the words.
 */
export function trimSilence(samples: Float32Array, options: TrimSilenceOptions = {}): Float32Array {
  if (!(samples instanceof Float32Array)) {
    invalidArgument(`trimSilence: samples must be a Float32Array, got ${describeType(samples)}`);
  }
  const threshold = options.threshold ?? 10 ** (-50 / 20);
  const margin = options.margin ?? 0;
  if (!(threshold >= 0)) invalidArgument(`trimSilence: threshold must be >= 0, got ${String(threshold)}`);
  if (!Number.isInteger(margin) || margin < 0) {
    invalidArgument(`trimSilence: margin must be a non-negative integer (samples), got ${String(margin)}`);
  }
  let start = 0;
  while (start < samples.length && !(Math.abs(samples[start]!) > threshold)) start++;
  if (start === samples.length) return samples.subarray(0, 0);
  let end = samples.length;
  while (end > start && !(Math.abs(samples[end - 1]!) > threshold)) end--;
  return samples.subarray(Math.max(0, start - margin), Math.min(samples.length, end + margin));
}
