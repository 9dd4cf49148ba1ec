/**
 * Tasks as data (transformers.js style): each text task is one object with its preprocessing, model and
 * postprocessing behind a small interface, so the CLI and the web app list and run tasks from the table
 * in `tasks/index.ts` instead of hard-coding them.
 */
import type { Device } from '@multihead/core';

export type TaskKind = 'classify' | 'generate' | 'embed';

/** Where a task runs and reports. */
export interface TaskContext {
  device: Device;
  /** Folder for checkpoints (git-ignored); a task saves `<dir>/<task id>.safetensors`. */
  checkpointDir: string;
  /** Seed for data splits, initialization and sampling (default 0). */
  seed?: number;
  /** Human-readable progress lines (the CLI prints them; --json sends them to stderr). */
  log?: (line: string) => void;
  /** Training progress, for progress bars. */
  onProgress?: (p: { step: number; steps: number; loss: number; tokensPerSecond: number }) => void;
  signal?: AbortSignal;
}

export interface TrainTaskOptions {
  /** Optimizer steps (each task has a default that reaches its goal). */
  steps?: number;
  /** Stop after this many seconds, saving what was trained (the demo trains for a fixed time). */
  maxSeconds?: number;
}

export interface TrainTaskResult {
  steps: number;
  seconds: number;
  finalLoss: number;
  checkpoint: string;
}

/** Metrics of an evaluation: the model's and the baseline's, by name (e.g. accuracy, f1, nll). */
export type TaskMetrics = Record<string, number | string | Record<string, number>>;

export interface GenerateTaskOptions {
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
}

export interface TextTask {
  /** 'text/spam', 'text/names', 'text/moby'. */
  id: string;
  kind: TaskKind;
  description: string;
  /** Trains from scratch and saves a checkpoint. */
  train(ctx: TaskContext, opts?: TrainTaskOptions): Promise<TrainTaskResult>;
  /** Evaluates the saved (or committed) checkpoint on held-out data, with the task's baseline beside it. */
  evaluate(ctx: TaskContext): Promise<TaskMetrics>;
  /** generate tasks: text after `prompt`, streamed piece by piece. */
  generate?(ctx: TaskContext, prompt: string, opts?: GenerateTaskOptions): AsyncIterable<string>;
  /** classify tasks: label probabilities of one text. */
  classify?(
    ctx: TaskContext,
    text: string,
  ): Promise<{ label: string; probabilities: Record<string, number> }>;
  /** embed tasks: a vector for a text. */
  embed?(ctx: TaskContext, text: string): Promise<Float32Array>;
}
