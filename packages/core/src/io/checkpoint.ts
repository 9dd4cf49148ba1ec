/**
 * Training checkpoints as ONE safetensors file: the model's tensors under their own (PyTorch) names,
 * the optimizer's state tensors under `optimizer.state.<param index>.<name>`, and everything else as
 * JSON strings in `__metadata__`:
 *   format "multihead-checkpoint", version "1", step, optimizer (step counts, param groups, state
 *   names), scheduler, metadata (the caller's), crc32 (of the data section, so damage shows at load).
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
  type HostTensor,
  parseSafetensors,
  type SafetensorsDType,
  type WritableTensor,
  writeSafetensors,
} from './safetensors.js';

const FORMAT = 'multihead-checkpoint';
const VERSION = '1';
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
  const out: Record<string, WritableTensor> = {};
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
  // the data section is the tensors' bytes in name order (writeSafetensors sorts them)
  let crc = CRC_INIT;
  for (const name of Object.keys(tensors).sort()) crc = crc32Update(crc, bytesOf(tensors[name]!.data));
  meta.crc32 = crc32Final(crc).toString(16).padStart(8, '0');
  return writeSafetensors(tensors, meta);
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

/** Parses checkpoint bytes, checking the layout and the data's crc32; tensors stay on the host. */
export function loadCheckpoint(bytes: Uint8Array): LoadedCheckpoint {
  const { tensors, metadata: meta } = parseSafetensors(bytes);
  if (meta.format !== FORMAT) {
    bad(
      `__metadata__.format is ${JSON.stringify(meta.format)}, not "${FORMAT}": not a checkpoint (read plain weights with io.readSafetensors)`,
    );
  }
  if (meta.version !== VERSION)
    bad(`version ${JSON.stringify(meta.version)} is not supported (expected ${VERSION})`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const crc = crc32Final(crc32Update(CRC_INIT, bytes.subarray(8 + headerLen)))
    .toString(16)
    .padStart(8, '0');
  if (crc !== meta.crc32) bad(`data crc32 is ${crc} but the header says ${meta.crc32}: the file is damaged`);
  const step = Number(meta.step);
  if (!Number.isInteger(step) || step < 0) bad(`step ${JSON.stringify(meta.step)} is not an integer >= 0`);
  const model: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (!name.startsWith(OPTIMIZER_PREFIX)) model[name] = t;
  const out: LoadedCheckpoint = {
    model,
    step,
    metadata: (meta.metadata ? parseJson(meta, 'metadata') : {}) as Record<string, unknown>,
  };
  if (meta.scheduler) out.scheduler = parseJson(meta, 'scheduler') as { lastStep: number };
  if (meta.optimizer) {
    const o = parseJson(meta, 'optimizer') as {
      step: number;
      paramGroups: OptimizerStateDict['paramGroups'];
      state: Record<string, { step: number; tensors: string[] }>;
    };
    if (typeof o !== 'object' || o === null || !Array.isArray(o.paramGroups) || typeof o.state !== 'object') {
      bad('__metadata__.optimizer lacks paramGroups or state');
    }
    const state: OptimizerStateDict<HostTensor>['state'] = {};
    for (const [index, s] of Object.entries(o.state)) {
      const own: Record<string, HostTensor> = {};
      for (const n of s.tensors) {
        const key = `${OPTIMIZER_PREFIX}state.${index}.${n}`;
        own[n] = tensors[key] ?? bad(`optimizer tensor "${key}" is listed in the metadata but missing`);
      }
      state[Number(index)] = { step: s.step, tensors: own };
    }
    out.optimizer = { step: o.step, paramGroups: o.paramGroups, state };
  }
  return out;
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
