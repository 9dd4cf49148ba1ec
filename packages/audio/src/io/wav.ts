/**
 * WAV decoding and encoding through wavefile, with our own header check first (riff.ts): wavefile gets a
 * canonical file rebuilt from the checked fields (a plain 16-byte fmt chunk and the whole frames of the
 * data chunk), so its parsers never see a size we have not checked against the bytes present.
 *
 * Scaling to float (the conventions of libsndfile, soundfile and torchaudio): 8-bit PCM is unsigned,
 * (x - 128) / 128; 16-bit x / 32768; 24-bit x / 8388608; 32-bit x / 2147483648; A-law and mu-law are
 * expanded to 16-bit by wavefile (G.711) and divided by 32768; float files are kept as they are.
 */
import { type AudioClip, checkAudioClip } from './clip.js';
import { invalidArgument, unsupported } from './errors.js';
import { nodeFs } from './node.js';
import { type InspectWavOptions, inspectWav, type WavInfo } from './riff.js';
import { WaveFile } from './wavefile.js';

export interface DecodedWav extends AudioClip {
  /** What the header said (container, encoding, bits, channels, frames, ...). */
  format: WavInfo;
}

export interface DecodeWavOptions extends InspectWavOptions {}

/** Divisor that maps a stored integer sample to [-1, 1]: 2^(bits - 1). */
const INTEGER_SCALE: Record<number, number> = { 8: 128, 16: 32768, 24: 8388608, 32: 2147483648 };

/** The canonical WAV wavefile reads: the checked fmt fields and only the whole frames of the data chunk. */
function canonicalWav(bytes: Uint8Array, info: WavInfo): Uint8Array {
  const dataBytes = info.frames * info.blockAlign;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const bigEndian = info.container === 'RIFX'; // RF64 data is little-endian like RIFF
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, bigEndian ? 'RIFX' : 'RIFF');
  view.setUint32(4, 36 + dataBytes, !bigEndian);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, !bigEndian);
  view.setUint16(20, info.formatTag, !bigEndian);
  view.setUint16(22, info.channels, !bigEndian);
  view.setUint32(24, info.sampleRate, !bigEndian);
  view.setUint32(28, info.sampleRate * info.blockAlign, !bigEndian);
  view.setUint16(32, info.blockAlign, !bigEndian);
  view.setUint16(34, info.bitsPerSample, !bigEndian);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, !bigEndian);
  out.set(bytes.subarray(info.dataOffset, info.dataOffset + dataBytes), 44);
  return out;
}

/**
 * Decodes a WAV file to float32 channels. Corrupt, truncated and absurd headers throw INVALID_ARGUMENT,
 * compressed formats other than A-law/mu-law throw UNSUPPORTED (see riff.ts), before anything of the
 * claimed size is allocated. Float samples that are NaN or infinite are refused.
 */
export function decodeWav(bytes: Uint8Array, options: DecodeWavOptions = {}): DecodedWav {
  const format = inspectWav(bytes, options);
  if (format.frames * format.blockAlign > 0xffffffff - 36) {
    unsupported(
      'decodeWav: more than 4 GiB of samples (an RF64 file) does not fit the RIFF file wavefile reads',
    );
  }
  const wav = new WaveFile();
  try {
    wav.fromBuffer(canonicalWav(bytes, format));
    if (format.encoding === 'alaw') wav.fromALaw('16');
    if (format.encoding === 'mulaw') wav.fromMuLaw('16');
  } catch (e) {
    // not expected after our checks; kept as a typed error all the same
    invalidArgument(`decodeWav: wavefile could not read the file (${(e as Error).message})`);
  }
  // interleaved, straight into float32: every integer scale is a power of two, so scaling after the
  // rounding to float32 gives the same value as scaling first
  const interleaved = wav.getSamples(true, Float32Array) as unknown as Float32Array;
  const { channels: count, frames } = format;
  const isFloat = format.encoding === 'float';
  const bits = format.encoding === 'pcm' ? format.bitsPerSample : 16;
  const scale = isFloat ? 1 : 1 / INTEGER_SCALE[bits]!;
  const offset = bits === 8 && !isFloat ? 128 : 0; // 8-bit PCM is unsigned
  const channels = Array.from({ length: count }, () => new Float32Array(frames));
  for (let c = 0; c < count; c++) {
    const channel = channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += count) channel[i] = (interleaved[j]! - offset) * scale;
  }
  if (isFloat) {
    channels.forEach((channel, c) => {
      const i = channel.findIndex((x) => !Number.isFinite(x));
      if (i >= 0)
        invalidArgument(`decodeWav: sample ${i} of channel ${c} is ${channel[i]}; expected finite floats`);
    });
  }
  return { sampleRate: format.sampleRate, channels, format };
}

export interface EncodeWavOptions {
  /** '16' (PCM, the default) or '32f' (IEEE float). */
  bitDepth?: '16' | '32f';
}

/**
 * Encodes float32 channels as a WAV file (wavefile writes the header). 16-bit: round(x * 32768), clamped
 * to [-32768, 32767], so decoding a 16-bit file and encoding it again gives the same samples; 32f: the
 * values as they are. NaN or infinite samples are refused.
 */
export function encodeWav(clip: AudioClip, options: EncodeWavOptions = {}): Uint8Array {
  checkAudioClip(clip, 'encodeWav');
  const bitDepth = options.bitDepth ?? '16';
  if (bitDepth !== '16' && bitDepth !== '32f') {
    invalidArgument(`encodeWav: options.bitDepth must be '16' or '32f', got ${JSON.stringify(bitDepth)}`);
  }
  const channels = clip.channels.map((channel, c) => {
    const i = channel.findIndex((x) => !Number.isFinite(x));
    if (i >= 0)
      invalidArgument(`encodeWav: sample ${i} of channel ${c} is ${channel[i]}; expected finite numbers`);
    if (bitDepth === '32f') return channel;
    return Int16Array.from(channel, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32768))));
  });
  const wav = new WaveFile();
  wav.fromScratch(
    channels.length,
    clip.sampleRate,
    bitDepth,
    channels.length === 1 ? channels[0]! : channels,
  );
  return wav.toBuffer();
}

/** Node: reads and decodes a WAV file. */
export async function readWavFile(path: string, options: DecodeWavOptions = {}): Promise<DecodedWav> {
  if (typeof path !== 'string') invalidArgument(`readWavFile: path must be a string, got ${typeof path}`);
  const fs = await nodeFs();
  return decodeWav(new Uint8Array(await fs.readFile(path)), options);
}
