/**
 * Reads the chunk headers of a WAV file (RIFF/RIFX/RF64) before any sample is touched, so a corrupt or
 * hostile header gets a clear error and never makes us allocate the size it claims. Only what decoding
 * needs is read: the `fmt ` chunk, RF64's `ds64` sizes and where the `data` chunk lies; other chunks
 * (LIST, cue, bext, ...) are skipped by their sizes.
 *
 * References: Microsoft "Multimedia Programming Interface and Data Specifications 1.0" (RIFF, WAVE, the
 * pad byte after odd-sized chunks), WAVE_FORMAT_EXTENSIBLE (KSDATAFORMAT_SUBTYPE GUIDs), EBU Tech 3306
 * (RF64 and its ds64 chunk).
 */
import { invalidArgument, unsupported } from './errors.js';

export type WavContainer = 'RIFF' | 'RIFX' | 'RF64';

/** The sample encodings we decode (A-law and mu-law through wavefile's G.711 decoders). */
export type WavEncoding = 'pcm' | 'float' | 'alaw' | 'mulaw';

export interface WavInfo {
  container: WavContainer;
  encoding: WavEncoding;
  /** The format tag of the samples (for WAVE_FORMAT_EXTENSIBLE, the one its SubFormat GUID names). */
  formatTag: number;
  /** True when the fmt chunk was WAVE_FORMAT_EXTENSIBLE (0xFFFE). */
  extensible: boolean;
  /** Bits of one sample as stored (the container size for extensible files). */
  bitsPerSample: number;
  channels: number;
  sampleRate: number;
  /** Bytes per frame (one sample of every channel). */
  blockAlign: number;
  /** Whole frames in the data chunk (a trailing partial frame is ignored, as libsndfile does). */
  frames: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /** True when the data chunk claimed more bytes than the file has and `allowTruncated` accepted it. */
  truncated: boolean;
}

export interface InspectWavOptions {
  /**
   * Accept a data chunk (or RIFF size) that claims more bytes than the file holds, and decode the frames
   * that are present. Streaming writers (sox or ffmpeg writing to a pipe) leave such sizes. Default false:
   * the mismatch is an error.
   */
  allowTruncated?: boolean;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Formats people meet in the wild that we do not decode, by name, so the error can say what came. */
const UNSUPPORTED_FORMATS: Record<number, string> = {
  2: 'Microsoft ADPCM',
  17: 'IMA ADPCM (wavefile 11 decodes it mono-only and drops the last block, so we refuse it; convert with `sox in.wav -e signed-integer out.wav`)',
  49: 'GSM 6.10',
  80: 'MPEG-1 audio (WAVE_FORMAT_MPEG)',
  85: 'MPEG-1 Layer III (WAVE_FORMAT_MPEGLAYER3)',
  146: 'Dolby AC-3 (SPDIF)',
  353: 'Windows Media Audio',
  5648: 'AAC (HEAAC)',
  61868: 'FLAC',
};

/** The 14 bytes after the format tag in every KSDATAFORMAT_SUBTYPE_* GUID (xxxxxxxx-0000-0010-8000-00aa00389b71). */
const KSDATAFORMAT_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

const MAX_UINT32 = 0xffffffff;

function fourCC(bytes: Uint8Array, at: number): string {
  let id = '';
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i]!;
    id += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return id;
}

/** Reads the headers of a WAV file; throws a MultiheadError naming the problem for anything we cannot decode. */
export function inspectWav(bytes: Uint8Array, options: InspectWavOptions = {}): WavInfo {
  if (!(bytes instanceof Uint8Array)) {
    invalidArgument(`decodeWav: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const bad = (message: string): never => invalidArgument(`decodeWav: ${message}`);
  const allowTruncated = options.allowTruncated ?? false;
  const length = bytes.byteLength;
  if (length < 12) bad(`file is ${length} bytes; a WAV file starts with a 12-byte RIFF header`);
  const container = fourCC(bytes, 0);
  if (container !== 'RIFF' && container !== 'RIFX' && container !== 'RF64') {
    bad(`not a WAV file: starts with "${container}", expected "RIFF", "RIFX" or "RF64"`);
  }
  if (fourCC(bytes, 8) !== 'WAVE') bad(`RIFF form type is "${fourCC(bytes, 8)}", expected "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const littleEndian = container !== 'RIFX';
  const u16 = (at: number) => view.getUint16(at, littleEndian);
  const u32 = (at: number) => view.getUint32(at, littleEndian);

  const riffSize = u32(4);
  // RF64 puts 0xFFFFFFFF here and the real size in ds64
  if (container !== 'RF64' && riffSize + 8 > length && !allowTruncated) {
    bad(
      `truncated: the RIFF header says ${riffSize + 8} bytes, the file has ${length} ` +
        '(pass allowTruncated: true to decode the frames that are present)',
    );
  }

  let fmt: Omit<WavInfo, 'container' | 'frames' | 'dataOffset' | 'truncated'> | undefined;
  let data: { offset: number; size: number; truncated: boolean } | undefined;
  let ds64DataSize: number | undefined;
  // every step moves on by at least 8 bytes, so this loop ends after at most length / 8 chunks
  for (let pos = 12; pos + 8 <= length && (fmt === undefined || data === undefined); ) {
    const id = fourCC(bytes, pos);
    let size = u32(pos + 4);
    const body = pos + 8;
    if (id === 'data') {
      if (container === 'RF64' && size === MAX_UINT32) {
        if (ds64DataSize === undefined) bad('RF64 file has no ds64 chunk before its data chunk');
        size = ds64DataSize!;
      }
      let truncated = false;
      if (body + size > length) {
        if (!allowTruncated) {
          bad(
            `truncated: the data chunk at byte ${pos} claims ${size} bytes, only ${length - body} follow it ` +
              '(pass allowTruncated: true to decode the frames that are present)',
          );
        }
        size = length - body;
        truncated = true;
      }
      data = { offset: body, size, truncated };
    } else {
      if (body + size > length) {
        bad(`chunk "${id}" at byte ${pos} claims ${size} bytes, only ${length - body} follow it`);
      }
      if (id === 'fmt ') fmt = parseFmt(view, body, size, u16, u32, bad);
      else if (id === 'ds64') {
        if (size < 24) bad(`ds64 chunk is ${size} bytes, expected at least 24`);
        // 64-bit sizes as (low, high) 32-bit halves; a number above 2^53 is already absurd for memory
        ds64DataSize = u32(body + 8) + u32(body + 12) * 2 ** 32;
      }
    }
    pos = body + size + (size % 2); // RIFF chunks are word-aligned: a pad byte follows odd sizes
  }
  if (fmt === undefined) bad('no "fmt " chunk found before the end of the file');
  if (data === undefined) bad('no "data" chunk found');
  const { blockAlign } = fmt!;
  return {
    container: container as WavContainer,
    ...fmt!,
    frames: Math.floor(data!.size / blockAlign),
    dataOffset: data!.offset,
    truncated: data!.truncated,
  };
}

function parseFmt(
  view: DataView,
  at: number,
  size: number,
  u16: (at: number) => number,
  u32: (at: number) => number,
  bad: (message: string) => never,
): Omit<WavInfo, 'container' | 'frames' | 'dataOffset' | 'truncated'> {
  if (size < 16) bad(`fmt chunk is ${size} bytes, expected at least 16`);
  let formatTag = u16(at);
  const channels = u16(at + 2);
  const sampleRate = u32(at + 4);
  const blockAlign = u16(at + 12);
  const bitsPerSample = u16(at + 14);
  const extensible = formatTag === WAVE_FORMAT_EXTENSIBLE;
  if (extensible) {
    if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, expected 40`);
    formatTag = u16(at + 24);
    const tail = KSDATAFORMAT_TAIL.every((b, i) => view.getUint8(at + 26 + i) === b);
    if (!tail)
      unsupported(
        'decodeWav: WAVE_FORMAT_EXTENSIBLE with a SubFormat GUID that is not a KSDATAFORMAT_SUBTYPE',
      );
  }
  const tag = `0x${formatTag.toString(16).padStart(4, '0')}`;
  if (UNSUPPORTED_FORMATS[formatTag] !== undefined) {
    unsupported(`decodeWav: compressed format ${tag} ${UNSUPPORTED_FORMATS[formatTag]} is not supported`);
  }
  const encoding: WavEncoding | undefined = (
    {
      [WAVE_FORMAT_PCM]: 'pcm',
      [WAVE_FORMAT_IEEE_FLOAT]: 'float',
      [WAVE_FORMAT_ALAW]: 'alaw',
      [WAVE_FORMAT_MULAW]: 'mulaw',
    } as Record<number, WavEncoding>
  )[formatTag];
  if (encoding === undefined) {
    unsupported(`decodeWav: format tag ${tag} is not supported; expected PCM, IEEE float, A-law or mu-law`);
  }
  const allowedBits = { pcm: [8, 16, 24, 32], float: [32, 64], alaw: [8], mulaw: [8] }[encoding!];
  if (!allowedBits.includes(bitsPerSample)) {
    unsupported(
      `decodeWav: ${bitsPerSample}-bit ${encoding} samples are not supported; expected ${allowedBits.join(', ')} bits`,
    );
  }
  if (channels < 1) bad('fmt chunk says 0 channels');
  if (sampleRate < 1) bad('fmt chunk says a sample rate of 0 Hz');
  if (blockAlign !== channels * (bitsPerSample / 8)) {
    bad(
      `fmt chunk block align is ${blockAlign} bytes, expected ${channels} channels x ${bitsPerSample / 8} bytes = ` +
        `${channels * (bitsPerSample / 8)}`,
    );
  }
  return { encoding: encoding!, formatTag, extensible, bitsPerSample, channels, sampleRate, blockAlign };
}
