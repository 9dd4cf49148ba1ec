/**
 * The engine: a module Web Worker that owns the device and the task objects, so inference, attention
 * maps, training and evaluation never block the page. It knows no task and no modality: it loads a
 * modality's table (src/modalities.ts) when one of its tasks is opened and drives any task through the
 * protocol of @multihead/core (docs/api.md, "Tasks"), as apps/cli does.
 *
 * Requests run one at a time (they share one device); `cancel` and the training control words act at
 * once. Pause is a wait between training steps on a shared Int32Array (this worker may block in
 * Atomics.wait; the page may not), so a paused run keeps its weights and optimizer state and resumes
 * where it stopped; stop aborts `ctx.signal`, and the task saves what it trained.
 */

import taskModules from 'virtual:multihead/task-modules';
import manifest from 'virtual:multihead/tasks';
import {
  createDevice,
  type Device,
  MultiheadError,
  type Task,
  type TaskContext,
  tasks,
} from '@multihead/core';
import { type LoadedModality, MODALITIES } from '../modalities.js';
import {
  type CheckpointChoice,
  type CheckpointInfo,
  CONTROL,
  type EngineInfo,
  type Envelope,
  type Event,
  type Request,
  type Results,
} from './protocol.js';

interface WorkerScope {
  postMessage(message: Event, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<Envelope>) => void) | null;
  crossOriginIsolated?: boolean;
}
const scope = globalThis as unknown as WorkerScope;

let device: Device | null = null;
let control: Int32Array | null = null;
let datasetBase = '';
const store: tasks.CheckpointStore = tasks.memoryStore();
const given = new Map<string, { bytes: Uint8Array; name: string }>();
const tables = new Map<string, Promise<LoadedModality>>();
const aborts = new Map<number, AbortController>();
let queue: Promise<unknown> = Promise.resolve();

const post = (event: Event, transfer: Transferable[] = []) => scope.postMessage(event, transfer);

function fail(message: string): never {
  throw new MultiheadError('INVALID_ARGUMENT', message);
}

function needDevice(): Device {
  return device ?? fail('the engine has no device yet (init first)');
}

/** Every table's loader: the modality packages', then the task modules given at build time. */
const LOADERS: Record<string, () => Promise<LoadedModality>> = { ...MODALITIES, ...taskModules };

async function findTask(id: string): Promise<Task> {
  const source = manifest.find((t) => t.id === id)?.source;
  const load = source === undefined ? undefined : LOADERS[source];
  if (!source || !load) fail(`unknown task '${id}'; this build has ${manifest.map((t) => t.id).join(', ')}`);
  let loaded = tables.get(source);
  if (!loaded) {
    loaded = load().then((m) => {
      if (!Array.isArray(m.tasks)) fail(`${source} exports no TASKS array`);
      m.setDatasetBaseUrl?.(datasetBase);
      return m;
    });
    loaded.catch(() => tables.delete(source));
    tables.set(source, loaded);
  }
  const task = (await loaded).tasks.find((t) => t.id === id);
  return task ?? fail(`task '${id}' is not in ${source} any more (rebuild the app)`);
}

/** The context of a request: which checkpoint it sees follows the choice, in the protocol's terms. */
async function context(task: Task, choice: CheckpointChoice, id: number, seed: number): Promise<TaskContext> {
  const ctx: TaskContext = { device: needDevice(), seed, log: (line) => post({ type: 'log', id, line }) };
  const dropped = given.get(task.id);
  switch (choice) {
    case 'auto': // the protocol's order: given, then trained, then committed
      ctx.store = store;
      if (dropped) ctx.checkpoint = dropped.bytes;
      break;
    case 'given':
      ctx.checkpoint = dropped?.bytes ?? fail(`${task.id}: no checkpoint file was given`);
      break;
    case 'trained':
      if (!(await store.read(task.id))) fail(`${task.id}: nothing trained in this tab yet`);
      ctx.store = store;
      break;
    case 'committed': // no store and no file: loadTaskCheckpoint falls through to the package's own
      break;
  }
  return ctx;
}

function checkpointInfo(loaded: tasks.LoadedTaskCheckpoint): CheckpointInfo {
  const training = loaded.checkpoint.metadata['training'];
  return {
    source: loaded.source,
    location: loaded.location,
    step: loaded.step,
    training:
      typeof training === 'object' && training !== null ? (training as Record<string, unknown>) : null,
  };
}

async function init(req: Extract<Request, { type: 'init' }>): Promise<EngineInfo> {
  control = req.control ? new Int32Array(req.control) : null;
  datasetBase = req.datasetBase;
  device?.destroy();
  device = null;
  let webgpuError: string | undefined;
  if (req.backend !== 'cpu') {
    try {
      device = await createDevice({ backend: 'webgpu' });
    } catch (e) {
      if (req.backend === 'webgpu') throw e;
      webgpuError = (e as Error).message;
    }
  }
  // threads: core's default, the machine's cores (1 unless this context is cross-origin isolated)
  device ??= await createDevice({ backend: 'cpu' });
  return {
    backend: device.backend,
    reason: device.reason,
    adapter: device.adapter,
    threads: device.cpu?.threads ?? null,
    isolated: scope.crossOriginIsolated === true,
    ...(webgpuError !== undefined ? { webgpuError } : {}),
  };
}

/** Blocks between training steps while the page says pause; true when it says stop. */
function holdWhilePaused(id: number, progress: tasks.TrainProgressEvent): boolean {
  if (!control) return false;
  if (Atomics.load(control, 0) === CONTROL.pause) {
    post({ type: 'progress', id, progress, paused: true });
    while (Atomics.load(control, 0) === CONTROL.pause) Atomics.wait(control, 0, CONTROL.pause, 1000);
  }
  return Atomics.load(control, 0) === CONTROL.stop;
}

type Handler<K extends Request['type']> = (
  req: Extract<Request, { type: K }>,
  id: number,
  signal: AbortSignal,
) => Promise<Results[K]>;

const handlers: { [K in Request['type']]: Handler<K> } = {
  init: (req) => init(req),
  open: async (req) => {
    await findTask(req.task);
    return { tasks: 1 };
  },
  checkpoint: async (req, id) => {
    const task = await findTask(req.task);
    const ctx = await context(task, req.choice, id, 0);
    return checkpointInfo(await tasks.loadTaskCheckpoint(ctx, task));
  },
  give: async (req) => {
    if (req.bytes === null) {
      given.delete(req.task);
      return null;
    }
    const loaded = tasks.parseTaskCheckpoint<Record<string, unknown>, Record<string, unknown>>(
      req.task,
      req.bytes,
      'given',
      req.name,
    );
    given.set(req.task, { bytes: req.bytes, name: req.name });
    return checkpointInfo(loaded);
  },
  download: async (req) => {
    const bytes = await store.read(req.task);
    if (!bytes) fail(`${req.task}: nothing trained in this tab yet`);
    return { bytes: bytes.slice(), name: `${req.task.replace('/', '-')}.safetensors` };
  },
  run: async (req, id, signal) => {
    const task = await findTask(req.task);
    const ctx = { ...(await context(task, req.choice, id, req.seed)), signal };
    const run = task.run(ctx, req.input, req.params);
    for await (const piece of run) post({ type: 'piece', id, piece });
    return await run.result;
  },
  attention: async (req, id) => {
    const task = await findTask(req.task);
    const ctx = await context(task, req.choice, id, req.seed);
    return task.attention(ctx, req.input, { params: req.params });
  },
  train: async (req, id, signal) => {
    const task = await findTask(req.task);
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort());
    const ctx: TaskContext = {
      device: needDevice(),
      store,
      seed: req.seed,
      signal: stop.signal,
      log: (line) => post({ type: 'log', id, line }),
      onProgress: (progress) => {
        post({ type: 'progress', id, progress, paused: false });
        if (holdWhilePaused(id, progress)) stop.abort();
      },
    };
    const report = await task.train(ctx, { steps: req.steps });
    return { ...report, aborted: stop.signal.aborted };
  },
  evaluate: async (req, id) => {
    const task = await findTask(req.task);
    return task.evaluate(await context(task, req.choice, id, req.seed), { limit: req.limit });
  },
  cancel: async (req) => {
    const abort = aborts.get(req.target);
    abort?.abort();
    return { cancelled: abort !== undefined };
  },
};

/** Results are copied, not transferred (a task may keep what it returned), except downloads' own copies. */
async function handle(message: Envelope, abort: AbortController): Promise<void> {
  const { id } = message;
  try {
    const handler = handlers[message.type] as Handler<Request['type']>;
    const value = await handler(message as never, id, abort.signal);
    const transfer =
      message.type === 'download' ? [(value as Results['download']).bytes.buffer as ArrayBuffer] : [];
    post({ type: 'result', id, value }, transfer);
  } catch (e) {
    const error = e as Error;
    post({
      type: 'error',
      id,
      message: error.message ?? String(e),
      code: e instanceof MultiheadError ? e.code : null,
    });
  } finally {
    aborts.delete(id);
  }
}

scope.onmessage = (e) => {
  const message = e.data;
  const abort = new AbortController();
  aborts.set(message.id, abort); // a request can be cancelled while it waits its turn
  // cancel acts now; everything else waits its turn on the one device
  if (message.type === 'cancel') void handle(message, abort);
  else queue = queue.then(() => handle(message, abort));
};
