/**
 * Many float32 clips in one binary file with a JSON index, for the dataset cache:
 *
 *   "MHCLIPS1" | u32 LE index length | index JSON (UTF-8) | zero padding to a multiple of 4 | float32 LE samples
 *
 * The index is `{ sampleRate, clips: [{ ...metadata, offset, length }] }` with offsets and lengths in
 * samples. Reading checks every offset against the bytes present and returns views into one buffer
 * (no copy on little-endian machines).
 */
import { invalidArgument } from '../io/errors.js';

const MAGIC = 'MHCLIPS1';

export interface StoredClip<M> {
  meta: M;
  samples: Float32Array;
}

export interface ClipStore<M> {
  sampleRate: number;
  clips: StoredClip<M>[];
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function packClips<M extends object>(store: ClipStore<M>): Uint8Array {
  let offset = 0;
  const index = {
    sampleRate: store.sampleRate,
    clips: store.clips.map(({ meta, samples }) => {
      const entry = { ...meta, offset, length: samples.length };
      offset += samples.length;
      return entry;
    }),
  };
  const json = new TextEncoder().encode(JSON.stringify(index));
  const dataStart = Math.ceil((12 + json.length) / 4) * 4;
  const out = new Uint8Array(dataStart + offset * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  const view = new DataView(out.buffer, dataStart);
  let at = 0;
  for (const { samples } of store.clips) {
    for (let i = 0; i < samples.length; i++, at += 4) view.setFloat32(at, samples[i]!, true);
  }
  return out;
}

export function unpackClips<M extends object>(bytes: Uint8Array): ClipStore<M> {
  const bad = (message: string): never => invalidArgument(`unpackClips: ${message}`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    bad(`not a clip store (expected "${MAGIC}" first)`);
  }
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(8, true);
  if (12 + jsonLength > bytes.length)
    bad(`index of ${jsonLength} bytes runs past the ${bytes.length}-byte file`);
  let index: { sampleRate?: unknown; clips?: unknown };
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (e) {
    return bad(`index is not JSON (${(e as Error).message})`);
  }
  if (typeof index.sampleRate !== 'number' || !Array.isArray(index.clips))
    bad('index lacks sampleRate or clips');
  const dataStart = Math.ceil((12 + jsonLength) / 4) * 4;
  const available = Math.max(0, Math.floor((bytes.length - dataStart) / 4));
  let data: Float32Array;
  if (littleEndian) {
    // a view when aligned, else one copy
    const aligned = (bytes.byteOffset + dataStart) % 4 === 0 ? bytes : bytes.slice();
    data = new Float32Array(aligned.buffer, aligned.byteOffset + dataStart, available);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, available * 4);
    data = Float32Array.from({ length: available }, (_, i) => view.getFloat32(4 * i, true));
  }
  const clips = (index.clips as { offset?: unknown; length?: unknown }[]).map((entry, i) => {
    const { offset, length, ...meta } = entry;
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      (offset as number) < 0 ||
      (length as number) < 0
    ) {
      bad(
        `clip ${i} has offset ${String(offset)} and length ${String(length)}; expected non-negative integers`,
      );
    }
    if ((offset as number) + (length as number) > available) {
      bad(`clip ${i} ends at sample ${(offset as number) + (length as number)}, the file holds ${available}`);
    }
    return {
      meta: meta as M,
      samples: data.subarray(offset as number, (offset as number) + (length as number)),
    };
  });
  return { sampleRate: index.sampleRate as number, clips };
}
