/**
 * Messages between the page and the engine worker (src/engine/worker.ts). The worker owns the device and
 * every task object; the page only renders. Requests carry an `id`; the worker answers each with events
 * (`piece`, `progress`, `log`) and then one `result` or `error` for that id.
 */
import type {
  AdapterDescription,
  AttentionReport,
  EvalReport,
  InputValue,
  TaskOutput,
  TaskPiece,
  tasks,
} from '@multihead/core';

/** A task's declaration: everything the page builds its form from (the manifest holds these). */
export interface TaskInfo {
  id: string;
  modality: string;
  /** Which table it comes from: a key of src/modalities.ts, or `module:<path>` (PLAYGROUND_TASK_MODULES). */
  source: string;
  kind: tasks.TaskKind;
  description: string;
  input: tasks.InputSpec;
  output: tasks.OutputSpec;
  params: tasks.ParamSpec[];
  metrics: tasks.MetricSpec[];
  goal?: tasks.TaskGoal;
  positions: tasks.PositionKind;
  /** The task declares a committed checkpoint (whether its package ships the file shows when opened). */
  committed: boolean;
}

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

export interface EngineInfo {
  backend: 'webgpu' | 'cpu';
  /** Why this backend (core's `device.reason`), and why WebGPU was not used when it was not. */
  reason: string;
  adapter: AdapterDescription | null;
  /** Threads of the CPU backend's wasm kernels (null on WebGPU: the kernels run on the GPU). */
  threads: number | null;
  /** The worker runs in a cross-origin isolated context (SharedArrayBuffer, wasm threads). */
  isolated: boolean;
  /** Why the WebGPU attempt failed, when `backend` is 'cpu' although WebGPU was asked for or tried. */
  webgpuError?: string;
}

/** Which checkpoint a request runs with; the protocol's own order when 'auto'. */
export type CheckpointChoice = 'auto' | tasks.CheckpointSource;

export interface CheckpointInfo {
  source: tasks.CheckpointSource;
  location: string;
  step: number;
  /** What the checkpoint's run was (its metadata's `training`), when recorded. */
  training: Record<string, unknown> | null;
}

/** Training control words in the shared Int32Array (index 0): the worker reads them between steps. */
export const CONTROL = { run: 0, pause: 1, stop: 2 } as const;

/** What a run or an attention map reads: the task's input and parameters, the checkpoint, the seed. */
export interface TaskInput {
  task: string;
  choice: CheckpointChoice;
  input: InputValue | undefined;
  params: tasks.TaskParams;
  /** The context's seed (sampling). */
  seed: number;
}

export type Request =
  | { type: 'init'; backend: BackendChoice; datasetBase: string; control: SharedArrayBuffer | null }
  | { type: 'open'; task: string }
  | { type: 'checkpoint'; task: string; choice: CheckpointChoice }
  | { type: 'give'; task: string; bytes: Uint8Array | null; name: string }
  | { type: 'download'; task: string }
  | ({ type: 'run' } & TaskInput)
  | ({ type: 'attention' } & TaskInput)
  | { type: 'train'; task: string; steps: number; seed: number }
  | { type: 'evaluate'; task: string; choice: CheckpointChoice; limit: number; seed: number }
  | { type: 'cancel'; target: number };

/** The value a request's `result` carries, by request type. */
export interface Results {
  init: EngineInfo;
  open: { tasks: number };
  checkpoint: CheckpointInfo;
  give: CheckpointInfo | null;
  download: { bytes: Uint8Array; name: string };
  run: TaskOutput;
  attention: AttentionReport;
  train: tasks.TrainReport & { aborted: boolean };
  evaluate: EvalReport;
  cancel: { cancelled: boolean };
}

export type Event =
  | { type: 'piece'; id: number; piece: TaskPiece }
  | { type: 'progress'; id: number; progress: tasks.TrainProgressEvent; paused: boolean }
  | { type: 'log'; id: number; line: string }
  | { type: 'result'; id: number; value: Results[keyof Results] }
  | { type: 'error'; id: number; message: string; code: string | null };

export type Envelope = Request & { id: number };
