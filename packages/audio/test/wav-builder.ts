/**
 * Builds WAV files byte by byte for the tests (independent of wavefile and of src/io/riff.ts), so headers
 * can say anything: wrong sizes, compressed formats, odd chunks.
 */

export interface WavSpec {
  container?: 'RIFF' | 'RIFX' | 'RF64';
  formatTag?: number;
  channels?: number;
  sampleRate?: number;
  bitsPerSample?: number;
  /** Overrides channels * bits / 8. */
  blockAlign?: number;
  /** Write a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk whose SubFormat is formatTag. */
  extensible?: boolean;
  /** The sample bytes. */
  data: Uint8Array;
  /** Overrides the data chunk's size field. */
  dataSize?: number;
  /** Overrides the RIFF size field. */
  riffSize?: number;
  /** Chunks written between fmt and data. */
  chunksBeforeData?: { id: string; body: Uint8Array }[];
  /** Omit the fmt chunk. */
  noFmt?: boolean;
}

const KSDATAFORMAT_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

class ByteWriter {
  readonly bytes: number[] = [];
  constructor(readonly littleEndian: boolean) {}
  ascii(text: string) {
    for (const c of text) this.bytes.push(c.charCodeAt(0));
  }
  u16(value: number) {
    const b = [value & 0xff, (value >>> 8) & 0xff];
    this.bytes.push(...(this.littleEndian ? b : b.reverse()));
  }
  u32(value: number) {
    const b = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
    this.bytes.push(...(this.littleEndian ? b : b.reverse()));
  }
  raw(data: ArrayLike<number>) {
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]!);
  }
  chunk(id: string, body: ArrayLike<number>) {
    this.ascii(id);
    this.u32(body.length);
    this.raw(body);
    if (body.length % 2 === 1) this.bytes.push(0);
  }
}

export function buildWav(spec: WavSpec): Uint8Array {
  const container = spec.container ?? 'RIFF';
  const formatTag = spec.formatTag ?? 1;
  const channels = spec.channels ?? 1;
  const sampleRate = spec.sampleRate ?? 8000;
  const bits = spec.bitsPerSample ?? 16;
  const blockAlign = spec.blockAlign ?? channels * Math.ceil(bits / 8);
  const le = container !== 'RIFX';
  const fmt = new ByteWriter(le);
  fmt.u16(spec.extensible ? 0xfffe : formatTag);
  fmt.u16(channels);
  fmt.u32(sampleRate);
  fmt.u32(sampleRate * blockAlign);
  fmt.u16(blockAlign);
  fmt.u16(bits);
  if (spec.extensible) {
    fmt.u16(22); // cbSize
    fmt.u16(bits); // valid bits
    fmt.u32(0); // channel mask
    fmt.u16(formatTag);
    fmt.raw(KSDATAFORMAT_TAIL);
  }
  const body = new ByteWriter(le);
  body.ascii('WAVE');
  if (container === 'RF64') {
    const ds64 = new ByteWriter(true);
    ds64.u32(0); // riff size low (unused by the reader)
    ds64.u32(0);
    ds64.u32(spec.dataSize ?? spec.data.length);
    ds64.u32(0);
    ds64.u32(0); // sample count
    ds64.u32(0);
    ds64.u32(0); // table length
    body.chunk('ds64', ds64.bytes);
  }
  if (!spec.noFmt) body.chunk('fmt ', fmt.bytes);
  for (const extra of spec.chunksBeforeData ?? []) body.chunk(extra.id, extra.body);
  body.ascii('data');
  body.u32(container === 'RF64' ? 0xffffffff : (spec.dataSize ?? spec.data.length));
  body.raw(spec.data);
  const out = new ByteWriter(le);
  out.ascii(container);
  out.u32(container === 'RF64' ? 0xffffffff : (spec.riffSize ?? body.bytes.length));
  out.raw(body.bytes);
  return new Uint8Array(out.bytes);
}

/** Little-endian bytes of integer samples of `bits` bits (two's complement, or unsigned for 8 bits). */
export function intBytes(samples: number[], bits: 8 | 16 | 24 | 32): Uint8Array {
  const size = bits / 8;
  const out = new Uint8Array(samples.length * size);
  samples.forEach((value, i) => {
    for (let b = 0; b < size; b++) out[i * size + b] = (value >> (8 * b)) & 0xff;
  });
  return out;
}

export function floatBytes(samples: number[], bits: 32 | 64): Uint8Array {
  const array = bits === 32 ? new Float32Array(samples) : new Float64Array(samples);
  return new Uint8Array(array.buffer);
}
