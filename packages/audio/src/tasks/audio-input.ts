/**
 * A task's audio input (the protocol's `audio` kind) as `{ sampleRate, channels }`, in any environment: a
 * file (a path in Node, bytes, a Blob) decoded by our WAV reader (wavefile behind our own header checks;
 * in a page any other format goes to the browser's `decodeAudioData`); decoded samples
 * `{ sampleRate, channels: Float32Array[] }`; an `AudioBuffer` (or anything with its four members).
 */
import { type InputValue, tasks } from '@multihead/core';
import { type AudioBufferLike, audioBufferToClip, decodeAudio } from '../io/browser.js';
import { type AudioClip, checkAudioClip } from '../io/clip.js';
import { invalidArgument, unsupported } from '../io/errors.js';
import { inspectWav } from '../io/riff.js';
import { decodeWav } from '../io/wav.js';

const inNode = () => typeof globalThis.process?.versions?.node === 'string';

const isWav = (bytes: Uint8Array) =>
  bytes.length >= 12 && /^(RIFF|RIFX|RF64)$/.test(String.fromCharCode(...bytes.subarray(0, 4)));

function isAudioBuffer(value: object): value is AudioBufferLike {
  const v = value as Partial<AudioBufferLike>;
  return typeof v.getChannelData === 'function' && typeof v.numberOfChannels === 'number';
}

function isSamples(value: object): value is AudioClip {
  const v = value as Partial<AudioClip>;
  return typeof v.sampleRate === 'number' && Array.isArray(v.channels);
}

const expected = 'audio (a WAV file, { sampleRate, channels: Float32Array[] } samples, or an AudioBuffer)';

function checkSeconds(seconds: number, who: string, maxSeconds: number): void {
  if (seconds > maxSeconds)
    invalidArgument(`${who}: the audio lasts ${seconds.toFixed(1)} s; expected at most ${maxSeconds} s`);
}

function checkDuration(clip: AudioClip, who: string, maxSeconds: number): AudioClip {
  checkSeconds((clip.channels[0]?.length ?? 0) / clip.sampleRate, who, maxSeconds);
  return clip;
}

/**
 * The clip of an audio input; `who` names the task in errors. Audio longer than `maxSeconds` (default
 * 60) is refused, a WAV file by its header before it is decoded.
 */
export async function inputAudio(
  value: InputValue | undefined,
  who: string,
  opts: { maxSeconds?: number } = {},
): Promise<AudioClip> {
  const maxSeconds = opts.maxSeconds ?? 60;
  if (value === undefined || value === null || typeof value !== 'object') {
    return invalidArgument(`${who}: expected ${expected}, got ${tasks.describeInput(value)}`);
  }
  if (tasks.isFileInput(value)) {
    const { bytes, name } = await tasks.inputBytes(value, who);
    if (isWav(bytes)) {
      const header = inspectWav(bytes, { allowTruncated: true });
      checkSeconds(header.frames / header.sampleRate, who, maxSeconds);
      const { sampleRate, channels } = decodeWav(bytes, { allowTruncated: true });
      return { sampleRate, channels };
    }
    if (!inNode()) return checkDuration(await decodeAudio(bytes), who, maxSeconds);
    return unsupported(
      `${who}: ${name} is not a WAV file (it does not start with RIFF); in Node only WAV is decoded`,
    );
  }
  if (isAudioBuffer(value)) return checkDuration(audioBufferToClip(value), who, maxSeconds);
  if (isSamples(value)) {
    checkAudioClip(value, who);
    return checkDuration({ sampleRate: value.sampleRate, channels: value.channels }, who, maxSeconds);
  }
  return invalidArgument(`${who}: expected ${expected}, got ${tasks.describeInput(value)}`);
}
