/**
 * The task protocol (transformers.js's pipelines, as data): one interface for every task of every
 * modality, so the CLI and the web playground list, train, evaluate, run and look inside any task
 * with no per-modality code. A modality package exports a table (`TEXT_TASKS`, `VISION_TASKS`, ...);
 * an app gathers the tables it depends on in a `TaskRegistry`. docs/api.md, "Tasks", has an example.
 */
import type { Device } from '../device.js';

// ---- inputs --------------------------------------------------------------------------------------

/**
 * What a task reads. Each kind says which values an app may pass (`InputValue`):
 * - `text`: a string, or a file holding UTF-8 text;
 * - `image`: an encoded image file (PNG, JPEG, ...), raw pixels (`ImageData` is one), or an `ImageBitmap`;
 * - `audio`: an encoded audio file (WAV), samples (`{ sampleRate, channels }`), or an `AudioBuffer`;
 * - `sequence`: residues or a FASTA record, as a string or a file;
 * - `graph`: an edge list, GML or SMILES, as a string or a file;
 * - `none`: the task takes no input (unconditional generation).
 */
export type InputKind = 'text' | 'image' | 'audio' | 'sequence' | 'graph' | 'none';

/** A file: a path (Node: the CLI), bytes (any environment), or a browser `Blob` / `File`. */
export type FileInput =
  | { path: string }
  | { bytes: Uint8Array; name?: string; type?: string }
  | { arrayBuffer(): Promise<ArrayBuffer>; name?: string; type?: string };

/** Decoded pixels, row-major, `channels` interleaved (an `ImageData` is `{ width, height, data }` RGBA). */
export interface PixelsInput {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
  /** 1 (gray), 3 (RGB) or 4 (RGBA, the default: what `ImageData` holds). */
  channels?: 1 | 3 | 4;
}

/** Decoded audio: one Float32Array per channel, in [-1, 1] (what an `AudioBuffer` holds). */
export interface SamplesInput {
  sampleRate: number;
  channels: Float32Array[];
}

/** The value of a task's input; which forms a kind takes is listed at `InputKind`. */
export type InputValue = string | FileInput | PixelsInput | SamplesInput | object;

export interface InputSpec {
  kind: InputKind;
  /** What to give, for a form label or `--help`: 'an email (first line: subject)'. */
  description: string;
  /** False when the task runs without it (an empty prompt). Default true. */
  required?: boolean;
  /** File types a picker offers: extensions and MIME types ('.png', 'image/*'). */
  accept?: readonly string[];
  /** A value that works, for placeholders and examples: 'ma' for a name prompt. */
  example?: string;
}

// ---- parameters ----------------------------------------------------------------------------------

/** A run-time parameter (sampling temperature, top-k...): the CLI makes a flag of it, the app a control. */
export interface ParamSpec {
  name: string;
  type: 'number' | 'integer' | 'boolean' | 'choice';
  description: string;
  default?: number | boolean | string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export type TaskParams = Record<string, number | boolean | string>;

// ---- outputs -------------------------------------------------------------------------------------

/** Pixels as produced by a task: gray (1), RGB (3) or RGBA (4) bytes, row-major. */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** A file a run produced (PNG, WAV, MIDI...): the CLI writes it, the app offers a download. */
export interface Artifact {
  /** A suggested file name: 'samples.png'. */
  name: string;
  mime: string;
  bytes: Uint8Array;
}

export interface LabelScore {
  label: string;
  probability: number;
}

/** The final result of a run; `kind` matches the task's `output.kind`. */
export type TaskOutput = (
  | { kind: 'label'; label: string; scores: LabelScore[] }
  | { kind: 'text'; text: string }
  | { kind: 'image'; image: Pixels }
  | { kind: 'audio'; sampleRate: number; samples: Float32Array }
  | { kind: 'midi'; midi: Uint8Array; events: number }
  | { kind: 'values'; values: Record<string, number>; units?: Record<string, string> }
  | { kind: 'labels'; items: { position: string; label: string; scores?: LabelScore[] }[] }
) & { artifacts?: Artifact[] };

export type OutputKind = TaskOutput['kind'];

/** One piece of a streamed run: generated text, token ids, a row of pixels, music events. */
export type TaskPiece =
  | { kind: 'text'; text: string }
  | { kind: 'tokens'; ids: number[]; text?: string }
  | { kind: 'pixels'; row: number; width: number; channels: 1 | 3 | 4; data: Uint8Array }
  | { kind: 'events'; events: string[] };

export type PieceKind = TaskPiece['kind'];

export interface OutputSpec {
  kind: OutputKind;
  /** Present when a run streams pieces before its result. */
  stream?: PieceKind;
  /** The classes of a `label` / `labels` output, in the model's order. */
  labels?: readonly string[];
  description?: string;
}

/**
 * A run in progress: iterate it for the streamed pieces (generation), and/or await `result`. Awaiting
 * `result` alone drains the stream. Iterating twice is an error.
 */
export interface TaskRun extends AsyncIterable<TaskPiece> {
  readonly result: Promise<TaskOutput>;
}

// ---- attention -----------------------------------------------------------------------------------

/** What a map's rows and columns are. */
export type PositionKind = 'tokens' | 'patches' | 'frames' | 'events' | 'residues' | 'nodes';

export interface AttentionLayerMap {
  layer: number;
  heads: number;
  /** `[heads, queries, keys]` row-major: weights[h][i][j] = how much query i attends to key j. */
  weights: Float32Array;
}

/**
 * Per-layer, per-head attention weights for one input, with the labels of its positions: from the
 * fused kernel's weights-on-demand path (it recomputes the probabilities from its saved log-sum-exp).
 */
export interface AttentionReport {
  positions: PositionKind;
  /** Labels of the keys (columns); of the queries too unless `queryLabels` is given. */
  labels: string[];
  queryLabels?: string[];
  /** Layers in the model (maps may cover fewer). */
  numLayers: number;
  layers: AttentionLayerMap[];
  /** Causal models: keys after the query carry zero weight by construction. */
  causal: boolean;
  /** Patches and spectrogram patches: the positions' grid `[rows, cols]`, after `gridOffset` leading positions (a class token). */
  grid?: [number, number];
  gridOffset?: number;
  /**
   * Attention rollout (Abnar & Zuidema 2020) over the grid, `[rows * cols]`, and what it is drawn over
   * (the input image or spectrogram as pixels).
   */
  rollout?: Float32Array;
  background?: Pixels;
}

export interface AttentionOptions {
  /** Layers to return (default: all). */
  layers?: readonly number[];
  /** Passed to the task as for `run` (a prompt's sampling has no effect: maps read the input). */
  params?: TaskParams;
}

// ---- training and evaluation ---------------------------------------------------------------------

export interface TrainProgressEvent {
  step: number;
  steps: number;
  loss: number;
  /** Tokens (text), examples (images, clips), or residues per second. */
  itemsPerSecond: number;
  unit: string;
  seconds: number;
}

export interface TrainTaskOptions {
  /** Optimizer steps (each task has a default that reaches its goal). */
  steps?: number;
  /** Stop after this many seconds, saving what was trained. */
  maxSeconds?: number;
}

export interface TrainReport {
  task: string;
  steps: number;
  seconds: number;
  finalLoss: number;
  /** Loss reads by step (a curve). */
  losses: { step: number; loss: number }[];
  /** Where the checkpoint went (a path, or `memory:<id>`). */
  checkpoint: string;
  itemsPerSecond: number;
  unit: string;
}

/** Metric values by name; higher or lower is better as the task's `metrics` table says. */
export type Metrics = Record<string, number>;

/** The goal a task holds itself to, checked on every evaluation. */
export interface TaskGoal {
  metric: string;
  op: '>=' | '<=';
  /** The bound on `metric` (none: the goal is only to beat `beat`). */
  value?: number;
  /** The goal also asks to beat these baselines on `metric`. */
  beat?: readonly string[];
}

export interface EvalReport {
  task: string;
  metrics: Metrics;
  /** Baselines fitted in the same call, on the same split, by name. */
  baselines: Record<string, Metrics>;
  goal?: TaskGoal & { met: boolean };
  /** Which data: 'test' (the dataset's own), 'held-out' (ours, described). */
  split: { name: string; description: string };
  /** Examples (or tokens, for language models: see `split.description`) scored. */
  examples: number;
  /** Where the evaluated model came from. */
  checkpoint: { location: string; source: CheckpointSource; step: number };
  /** Anything else worth showing: samples, per-set figures, timings. */
  details: Record<string, unknown>;
}

export interface EvaluateOptions {
  /** Score at most this many examples (quick looks; the default is the task's whole split). */
  limit?: number;
}

export interface MetricSpec {
  name: string;
  description: string;
  better: 'higher' | 'lower';
}

// ---- checkpoints and context ---------------------------------------------------------------------

export type CheckpointSource = 'given' | 'trained' | 'committed';

/** Where trained checkpoints are kept: a folder (Node), memory (a browser tab), anything else. */
export interface CheckpointStore {
  /** Where `id`'s checkpoint is or would be, for messages: a path or `memory:<id>`. */
  locate(id: string): string;
  read(id: string): Promise<Uint8Array | null>;
  /** Stores the bytes (atomically where it can) and returns `locate(id)`. */
  write(id: string, bytes: Uint8Array): Promise<string>;
}

/** Where a task runs and reports. */
export interface TaskContext {
  device: Device;
  /** Trained checkpoints go here, and are looked up here first (default: none: train returns bytes only in memory). */
  store?: CheckpointStore;
  /** A checkpoint to use instead of the stored or committed one (a dropped file, `--checkpoint`). */
  checkpoint?: Uint8Array;
  /** Seed for data splits, initialization and sampling (default 0). */
  seed?: number;
  /** Human-readable progress lines (the CLI prints them). */
  log?: (line: string) => void;
  /** Training progress, for bars and curves. */
  onProgress?: (p: TrainProgressEvent) => void;
  /** Stops training (saving what was trained), evaluation and generation. */
  signal?: AbortSignal;
}

// ---- the task ------------------------------------------------------------------------------------

export type TaskKind = 'classify' | 'generate' | 'regress' | 'embed';

export interface Task {
  /** `<modality>/<name>`: 'text/names'. */
  id: string;
  kind: TaskKind;
  /** One line. */
  description: string;
  input: InputSpec;
  output: OutputSpec;
  params?: readonly ParamSpec[];
  /** The metrics `evaluate` reports, in order of importance. */
  metrics: readonly MetricSpec[];
  goal?: TaskGoal;
  /** What the attention maps' positions are. */
  positions: PositionKind;
  /** Trains from scratch and stores a checkpoint (`ctx.store`). */
  train(ctx: TaskContext, opts?: TrainTaskOptions): Promise<TrainReport>;
  /** Scores the checkpoint (given, stored or committed) on held-out data, baselines fitted beside it. */
  evaluate(ctx: TaskContext, opts?: EvaluateOptions): Promise<EvalReport>;
  /** Inference on one input; streams pieces when `output.stream` is set. */
  run(ctx: TaskContext, input?: InputValue, params?: TaskParams): TaskRun;
  /** Attention weights of the model reading one input. */
  attention(ctx: TaskContext, input?: InputValue, opts?: AttentionOptions): Promise<AttentionReport>;
  /** The checkpoint shipped with the package, when there is one (so `run` works before any training). */
  committedCheckpoint?(): Promise<Uint8Array | null>;
}
