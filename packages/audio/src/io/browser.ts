/**
 * The browser's way in: an `AudioBuffer` from Web Audio's `decodeAudioData` becomes the same
 * `{ sampleRate, channels }` clip that `decodeWav` gives in Node, so both feed `prepareAudio`.
 */
import type { AudioClip } from './clip.js';
import { checkSampleRate, describeType, invalidArgument, unsupported } from './errors.js';
import { inspectWav } from './riff.js';

/** What we read of an AudioBuffer (so polyfills such as node-web-audio-api's work too). */
export interface AudioBufferLike {
  readonly sampleRate: number;
  readonly numberOfChannels: number;
  readonly length: number;
  getChannelData(channel: number): Float32Array;
}

/** Copies an AudioBuffer's channels into an AudioClip (copies: the buffer's storage may be reused). */
export function audioBufferToClip(buffer: AudioBufferLike): AudioClip {
  if (typeof buffer !== 'object' || buffer === null || typeof buffer.getChannelData !== 'function') {
    invalidArgument(`audioBufferToClip: buffer must be an AudioBuffer, got ${describeType(buffer)}`);
  }
  const channels: Float32Array[] = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c).slice());
  if (channels.length === 0) invalidArgument('audioBufferToClip: the AudioBuffer has no channels');
  return { sampleRate: buffer.sampleRate, channels };
}

export interface DecodeAudioOptions {
  /**
   * The rate to decode at. Web Audio resamples every decoded file to its context's rate, so by default
   * a WAV file is decoded at its own rate (read from its header) and anything else at 48000 Hz.
   */
  sampleRate?: number;
}

/** Chromium's OfflineAudioContext accepts 3000 to 768000 Hz (Web Audio: at least 8000 to 96000). */
const CONTEXT_RATES = [3000, 768000] as const;

/**
 * Decodes any audio file the browser can (WAV, MP3, Ogg, FLAC, ...) with an OfflineAudioContext's
 * `decodeAudioData`. Browser only: in Node use `decodeWav`.
 */
export async function decodeAudio(
  bytes: Uint8Array | ArrayBuffer,
  options: DecodeAudioOptions = {},
): Promise<AudioClip> {
  const Offline = (globalThis as { OfflineAudioContext?: typeof OfflineAudioContext }).OfflineAudioContext;
  if (Offline === undefined) {
    unsupported('decodeAudio: needs Web Audio (OfflineAudioContext, in a browser); in Node use decodeWav');
  }
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(view instanceof Uint8Array)) {
    invalidArgument(`decodeAudio: bytes must be a Uint8Array or ArrayBuffer, got ${describeType(bytes)}`);
  }
  let sampleRate = options.sampleRate;
  if (sampleRate === undefined) {
    const isWav = view.length >= 12 && /^(RIFF|RIFX|RF64)$/.test(String.fromCharCode(...view.subarray(0, 4)));
    sampleRate = isWav ? inspectWav(view, { allowTruncated: true }).sampleRate : 48000;
  }
  checkSampleRate(sampleRate, 'decodeAudio', 'sampleRate');
  if (sampleRate < CONTEXT_RATES[0] || sampleRate > CONTEXT_RATES[1]) {
    unsupported(
      `decodeAudio: Web Audio decodes at ${CONTEXT_RATES[0]} to ${CONTEXT_RATES[1]} Hz, got ${sampleRate}; ` +
        'decode WAV files with decodeWav instead',
    );
  }
  const context = new Offline!(1, 1, sampleRate);
  // decodeAudioData detaches the buffer it is given: hand it a copy
  const buffer = await context.decodeAudioData(view.slice().buffer).catch((e: unknown) => {
    return invalidArgument(
      `decodeAudio: the browser could not decode the bytes (${(e as Error)?.message ?? e})`,
    );
  });
  return audioBufferToClip(buffer);
}
