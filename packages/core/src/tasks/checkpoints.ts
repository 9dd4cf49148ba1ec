/**
 * One checkpoint convention for every task: a multihead checkpoint (safetensors, io/checkpoint.ts) whose
 * metadata holds `task` (the id), `config` (the model's), `preprocessing` (tokenizer.json text, image
 * size and normalization, audio features...) and `training` (what the run was). The file alone is enough
 * to run inference, in Node and in a browser. Trained checkpoints live in a `CheckpointStore`; the one a
 * package ships is found by `packageFile`.
 */
import { fail, MultiheadError } from '../errors.js';
import { type Checkpoint, checkpointBytes, type LoadedCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { nodeFs, nodePath, writeFileAtomic } from '../io/files.js';
import type { Tensor } from '../tensor.js';
import type { CheckpointSource, CheckpointStore, Task, TaskContext } from './types.js';

export interface TaskCheckpointMetadata {
  task: string;
  config: Record<string, unknown>;
  preprocessing: Record<string, unknown>;
  training?: Record<string, unknown>;
}

export interface LoadedTaskCheckpoint<C = Record<string, unknown>, P = Record<string, unknown>> {
  checkpoint: LoadedCheckpoint;
  config: C;
  preprocessing: P;
  source: CheckpointSource;
  /** The path, `memory:<id>`, `given` or the committed file's URL. */
  location: string;
  step: number;
}

/** Checkpoints as files `<dir>/<task id>.safetensors` (Node), written atomically. */
export function folderStore(dir: string): CheckpointStore {
  if (typeof dir !== 'string' || dir === '') {
    fail('INVALID_ARGUMENT', `folderStore: dir must be a directory path, got ${JSON.stringify(dir)}`);
  }
  const locate = (id: string) => `${dir.replace(/[/\\]+$/, '')}/${id}.safetensors`;
  return {
    locate,
    async read(id) {
      const fs = await nodeFs();
      try {
        return new Uint8Array(await fs.readFile(locate(id)));
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return null;
        return fail('IO_ERROR', `cannot read ${locate(id)} (${(e as Error).message})`);
      }
    },
    async write(id, bytes) {
      const path = locate(id);
      await (await nodeFs()).mkdir((await nodePath()).dirname(path), { recursive: true });
      await writeFileAtomic(path, bytes, `saving ${id}`);
      return path;
    },
  };
}

/** Checkpoints kept in memory (a browser tab; tests). */
export function memoryStore(): CheckpointStore & { entries(): Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    locate: (id) => `memory:${id}`,
    read: async (id) => files.get(id) ?? null,
    async write(id, bytes) {
      files.set(id, bytes);
      return `memory:${id}`;
    },
    entries: () => files,
  };
}

/**
 * Serializes a task's model with the convention's metadata and stores it in `ctx.store` (when there is
 * one). Returns where it went (`memory` when the context has no store) and the bytes.
 */
export async function saveTaskCheckpoint(
  ctx: TaskContext,
  id: string,
  ckpt: { model: Record<string, Tensor>; step: number } & Omit<TaskCheckpointMetadata, 'task'>,
): Promise<{ location: string; bytes: Uint8Array }> {
  const metadata: TaskCheckpointMetadata = {
    task: id,
    config: ckpt.config,
    preprocessing: ckpt.preprocessing,
    ...(ckpt.training ? { training: ckpt.training } : {}),
  };
  const full: Checkpoint = { model: ckpt.model, step: ckpt.step, metadata: { ...metadata } };
  const bytes = await checkpointBytes(full);
  const location = ctx.store ? await ctx.store.write(id, bytes) : 'memory';
  return { location, bytes };
}

/** Parses checkpoint bytes and checks they belong to `id` and follow the convention. */
export function parseTaskCheckpoint<C, P>(
  id: string,
  bytes: Uint8Array,
  source: CheckpointSource,
  location: string,
): LoadedTaskCheckpoint<C, P> {
  let checkpoint: LoadedCheckpoint;
  try {
    checkpoint = loadCheckpoint(bytes);
  } catch (e) {
    // a corrupt file: say which one and how to make a good one
    if (!(e instanceof MultiheadError)) throw e;
    fail(
      e.code,
      `${id}: ${location} is not a readable checkpoint (${e.message}); multihead train ${id} makes one`,
    );
  }
  const meta = checkpoint.metadata;
  if (meta['task'] !== id) {
    fail(
      'INVALID_ARGUMENT',
      `${id}: ${location} is not a ${id} checkpoint (its metadata names task ${JSON.stringify(meta['task'] ?? null)}); multihead train ${id} makes one`,
    );
  }
  for (const key of ['config', 'preprocessing'] as const) {
    const value = meta[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(
        'INVALID_ARGUMENT',
        `${id}: ${location} has no '${key}' object in its metadata; expected a task checkpoint`,
      );
    }
  }
  return {
    checkpoint,
    config: meta['config'] as C,
    preprocessing: meta['preprocessing'] as P,
    source,
    location,
    step: checkpoint.step,
  };
}

/**
 * The checkpoint a task runs with: `ctx.checkpoint` (given), else the stored one (`ctx.store`), else the
 * one its package ships; else an error saying how to make one.
 */
export async function loadTaskCheckpoint<C = Record<string, unknown>, P = Record<string, unknown>>(
  ctx: TaskContext,
  task: Pick<Task, 'id' | 'committedCheckpoint'>,
): Promise<LoadedTaskCheckpoint<C, P>> {
  if (ctx.checkpoint !== undefined) {
    if (!(ctx.checkpoint instanceof Uint8Array)) {
      fail(
        'INVALID_ARGUMENT',
        `${task.id}: ctx.checkpoint must be the bytes of a safetensors file (Uint8Array)`,
      );
    }
    return parseTaskCheckpoint(task.id, ctx.checkpoint, 'given', 'given');
  }
  const stored = ctx.store ? await ctx.store.read(task.id) : null;
  if (stored) return parseTaskCheckpoint(task.id, stored, 'trained', ctx.store!.locate(task.id));
  const committed = task.committedCheckpoint ? await task.committedCheckpoint() : null;
  if (committed) return parseTaskCheckpoint(task.id, committed, 'committed', `committed ${task.id}`);
  const where = ctx.store ? `none at ${ctx.store.locate(task.id)}` : 'no checkpoint store';
  return fail(
    'INVALID_ARGUMENT',
    `${task.id}: no checkpoint (none given, ${where}, none shipped with the package); train one first: multihead train ${task.id}`,
  );
}

/**
 * The first of `urls` that can be read: `file:` URLs from disk (Node), others with `fetch` (a browser,
 * where bundlers turn `new URL('../x', import.meta.url)` into the asset's address). Null when none is
 * there. Packages list where a shipped file sits from their sources and from their built `dist/`.
 */
export async function packageFile(urls: readonly URL[]): Promise<Uint8Array | null> {
  for (const url of urls) {
    try {
      if (url.protocol === 'file:') {
        const fs = await nodeFs();
        const { fileURLToPath } = (await import(/* @vite-ignore */ NODE_URL)) as typeof import('node:url');
        return new Uint8Array(await fs.readFile(fileURLToPath(url)));
      }
      const response = await fetch(url);
      if (response.ok) return new Uint8Array(await response.arrayBuffer());
    } catch {
      // not there: try the next place
    }
  }
  return null;
}
const NODE_URL = 'node:url';
