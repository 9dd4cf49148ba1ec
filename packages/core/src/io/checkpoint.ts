/**
 * Training checkpoints as ONE safetensors file: the model's tensors under their own (PyTorch) names,
 * the optimizer's state tensors under `optimizer.state.<param index>.<name>`, and everything else as
 * JSON strings in `__metadata__`:
 *   format "multihead-checkpoint", version "2", step, optimizer (step counts, param groups, state
 *   names), scheduler, metadata (the caller's), crc32 (of the header's content and the data, so damage
 *   anywhere shows at load; version 1 files, still read, covered the data section only).
 * A PyTorch user reads the model with `safetensors.torch.load_file` unchanged.
 *
 * `checkpointBytes` / `loadCheckpoint` are pure and run in the browser; `saveCheckpoint` /
 * `readCheckpoint` use Node's fs, imported only when called so the package still loads in a browser.
 */
import { toHalfBits } from '../dtype.js';
import { fail, MultiheadError } from '../errors.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import { nodeFs, writeFileAtomic } from './files.js';
import {
  decodeTensors,
  type HostTensor,
  readSafetensorsLayout,
  type SafetensorsDType,
  type SafetensorsLayout,
  type WritableTensor,
  writeSafetensors,
} from './safetensors.js';

const FORMAT = 'multihead-checkpoint';
const VERSION = '2';
/** Version 1 files (crc32 of the data section only) are still read. */
const READABLE = ['1', '2'];
const OPTIMIZER_PREFIX = 'optimizer.';

export interface Checkpoint {
  /** The model's tensors by name (a module's `stateDict()`). */
  model: Record<string, Tensor>;
  /** `optimizer.stateDict()`. */
  optimizer?: OptimizerStateDict;
  /** `scheduler.stateDict()`. */
  scheduler?: { lastStep: number };
  /** Training steps done. */
  step: number;
  /** Anything JSON-serializable (config, data position, git hash...). */
  metadata?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  /** Host tensors by name: pass to a module's `loadStateDict`. */
  model: Record<string, HostTensor>;
  /** Pass to `optimizer.loadStateDict`. */
  optimizer?: OptimizerStateDict<HostTensor>;
  scheduler?: { lastStep: number };
  step: number;
  metadata: Record<string, unknown>;
}

const STORED: Record<Tensor['dtype'], SafetensorsDType> = {
  f32: 'F32',
  f16: 'F16',
  i32: 'I32',
  u32: 'U32',
  bool: 'BOOL',
};

/** Reads every tensor now (GPU copies are queued before any await: a consistent snapshot). */
async function hostTensors(named: readonly [string, Tensor][]): Promise<Record<string, WritableTensor>> {
  const reads = named.map(([, t]) => t.read());
  const values = await Promise.all(reads);
  const out: Record<string, WritableTensor> = Object.create(null); // names are names, never __proto__
  named.forEach(([name, t], i) => {
    const v = values[i]!;
    const data = t.dtype === 'f16' ? Uint16Array.from(v as Float32Array, toHalfBits) : v;
    out[name] = { dtype: STORED[t.dtype], shape: t.shape, data };
  });
  return out;
}

/** Serializes a checkpoint (reads the tensors from their device). */
export async function checkpointBytes(ckpt: Checkpoint): Promise<Uint8Array> {
  if (!Number.isInteger(ckpt.step) || ckpt.step < 0) {
    fail('INVALID_ARGUMENT', `checkpoint: step ${ckpt.step} must be an integer >= 0`);
  }
  const named: [string, Tensor][] = Object.entries(ckpt.model);
  for (const [name] of named) {
    if (name.startsWith(OPTIMIZER_PREFIX) || name === '__metadata__') {
      fail(
        'INVALID_ARGUMENT',
        `checkpoint: model tensor "${name}" clashes with the optimizer's "${OPTIMIZER_PREFIX}" names`,
      );
    }
  }
  const meta: Record<string, string> = { format: FORMAT, version: VERSION, step: String(ckpt.step) };
  if (ckpt.optimizer) {
    const { step, paramGroups, state } = ckpt.optimizer;
    const names: Record<number, { step: number; tensors: string[] }> = {};
    for (const [index, s] of Object.entries(state)) {
      names[Number(index)] = { step: s.step, tensors: Object.keys(s.tensors) };
      for (const [n, t] of Object.entries(s.tensors))
        named.push([`${OPTIMIZER_PREFIX}state.${index}.${n}`, t]);
    }
    meta.optimizer = JSON.stringify({ step, paramGroups, state: names });
  }
  if (ckpt.scheduler) meta.scheduler = JSON.stringify(ckpt.scheduler);
  meta.metadata = JSON.stringify(ckpt.metadata ?? {});
  const tensors = await hostTensors(named);
  const names = Object.keys(tensors).sort();
  meta.crc32 = checksum(
    meta,
    names.map((name) => [name, tensors[name]!.dtype, tensors[name]!.shape]),
    names.map((name) => bytesOf(tensors[name]!.data)),
  );
  return writeSafetensors(tensors, meta);
}

/**
 * The checksum of version 2: crc32 of a canonical text of the header (every metadata entry but crc32
 * itself, sorted by key; every tensor's name, dtype and shape, sorted by name) followed by each
 * tensor's bytes in name order. A flipped bit in a step, a learning rate, a shape or the data changes it.
 */
function checksum(
  meta: Record<string, string>,
  tensors: readonly (readonly [string, string, readonly number[]])[],
  data: readonly Uint8Array[],
): string {
  const entries = Object.keys(meta)
    .filter((k) => k !== 'crc32')
    .sort()
    .map((k) => [k, meta[k]]);
  let crc = crc32Update(CRC_INIT, new TextEncoder().encode(JSON.stringify([entries, tensors])));
  for (const bytes of data) crc = crc32Update(crc, bytes);
  return crc32Final(crc).toString(16).padStart(8, '0');
}

/** The crc32 a file of this version should carry. */
function expectedCrc(bytes: Uint8Array, layout: SafetensorsLayout, version: string): string {
  if (version === '1') {
    const crc = crc32Final(crc32Update(CRC_INIT, bytes.subarray(layout.dataStart)));
    return crc.toString(16).padStart(8, '0');
  }
  const byName = [...layout.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return checksum(
    layout.metadata,
    byName.map((e) => [e.name, e.dtype, e.shape]),
    byName.map((e) => bytes.subarray(layout.dataStart + e.begin, layout.dataStart + e.end)),
  );
}

const bad = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', `checkpoint: ${message}`);
};

function parseJson(meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]!);
  } catch (e) {
    return bad(`__metadata__.${key} is not valid JSON (${(e as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses checkpoint bytes, checking the safetensors layout, the version, the crc32 (header and data)
 * and the shape of the JSON metadata before decoding any tensor; tensors stay on the host. Names
 * from the file (tensors, optimizer state) are keys of prototype-free records: `__proto__` is a name.
 */
export function loadCheckpoint(bytes: Uint8Array): LoadedCheckpoint {
  const layout = readSafetensorsLayout(bytes);
  const meta = layout.metadata;
  if (meta.format !== FORMAT) {
    bad(
      `__metadata__.format is ${JSON.stringify(meta.format)}, not "${FORMAT}": not a checkpoint (read plain weights with io.readSafetensors)`,
    );
  }
  const version = meta.version ?? '';
  if (!READABLE.includes(version))
    bad(`version ${JSON.stringify(meta.version)} is not supported (expected ${READABLE.join(' or ')})`);
  const crc = expectedCrc(bytes, layout, version);
  const what = version === '1' ? 'data crc32' : 'crc32 of the header and data';
  if (crc !== meta.crc32) bad(`${what} is ${crc} but the header says ${meta.crc32}: the file is damaged`);
  const step = Number(meta.step);
  if (!/^\d+$/.test(meta.step ?? '') || !Number.isSafeInteger(step))
    bad(`step ${JSON.stringify(meta.step)} is not an integer >= 0`);
  const metadata = meta.metadata ? parseJson(meta, 'metadata') : {};
  if (!isObject(metadata)) bad('__metadata__.metadata must be a JSON object');
  let scheduler: { lastStep: number } | undefined;
  if (meta.scheduler) {
    const sch = parseJson(meta, 'scheduler');
    if (!isObject(sch) || !Number.isInteger(sch.lastStep))
      bad('__metadata__.scheduler must be { "lastStep": integer }');
    scheduler = sch as { lastStep: number };
  }
  const optimizer = meta.optimizer ? optimizerLayout(parseJson(meta, 'optimizer'), layout) : undefined;
  const tensors = decodeTensors(bytes, layout);
  const model: Record<string, HostTensor> = Object.create(null);
  for (const name of Object.keys(tensors))
    if (!name.startsWith(OPTIMIZER_PREFIX)) model[name] = tensors[name]!;
  const out: LoadedCheckpoint = { model, step, metadata: metadata as Record<string, unknown> };
  if (scheduler) out.scheduler = scheduler;
  if (optimizer) {
    const state: OptimizerStateDict<HostTensor>['state'] = {};
    for (const [index, s] of optimizer.state) {
      const own: Record<string, HostTensor> = Object.create(null);
      for (const n of s.tensors) own[n] = tensors[`${OPTIMIZER_PREFIX}state.${index}.${n}`]!;
      state[index] = { step: s.step, tensors: own };
    }
    out.optimizer = { step: optimizer.step, paramGroups: optimizer.paramGroups, state };
  }
  return out;
}

/** The optimizer's JSON metadata, checked against the tensors the file holds. */
function optimizerLayout(
  o: unknown,
  layout: SafetensorsLayout,
): {
  step: number;
  paramGroups: OptimizerStateDict['paramGroups'];
  state: [number, { step: number; tensors: string[] }][];
} {
  if (!isObject(o) || !Array.isArray(o.paramGroups) || !isObject(o.state))
    return bad('__metadata__.optimizer lacks paramGroups or state');
  const stored = new Set(layout.entries.map((e) => e.name));
  const state: [number, { step: number; tensors: string[] }][] = [];
  for (const [index, s] of Object.entries(o.state)) {
    if (!/^\d+$/.test(index) || !isObject(s) || !Number.isInteger(s.step) || !Array.isArray(s.tensors))
      bad(`__metadata__.optimizer.state[${JSON.stringify(index)}] must be { step, tensors: [names] }`);
    const entry = s as { step: number; tensors: unknown[] };
    const names = entry.tensors;
    for (const n of names) {
      if (typeof n !== 'string') bad(`__metadata__.optimizer.state[${index}] lists a non-string name`);
      const key = `${OPTIMIZER_PREFIX}state.${index}.${n}`;
      if (!stored.has(key)) bad(`optimizer tensor "${key}" is listed in the metadata but missing`);
    }
    state.push([Number(index), { step: entry.step, tensors: names as string[] }]);
  }
  return { step: o.step as number, paramGroups: o.paramGroups as OptimizerStateDict['paramGroups'], state };
}

/**
 * Writes a checkpoint atomically (Node): the bytes go to a temporary file in the same directory,
 * are flushed to disk (fsync), and the file is renamed over `path`. A crash or error at any point
 * leaves the previous file at `path` whole; the temporary file is removed on error.
 */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path, await checkpointBytes(ckpt), 'saveCheckpoint');
}

/** Reads and parses a checkpoint file (Node). */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const fs = await nodeFs();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path));
  } catch (e) {
    throw new MultiheadError('IO_ERROR', `readCheckpoint: cannot read ${path} (${(e as Error).message})`);
  }
  return loadCheckpoint(bytes);
}

// ---- CRC-32 (IEEE 802.3, as zlib) ----------------------------------------------------------------------

const CRC_INIT = 0xffffffff;
let table: Uint32Array | null = null;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = crcTable();
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

const crc32Final = (crc: number) => (crc ^ 0xffffffff) >>> 0;

const bytesOf = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
