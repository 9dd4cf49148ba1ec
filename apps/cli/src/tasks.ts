/**
 * `multihead tasks | train | eval | run` (and the `generate` / `classify` aliases): the commands over the
 * task protocol. Tasks are data (the modality packages' tables, see registry.ts): this file knows how to
 * run any task from what it declares, never which tasks exist.
 */
import { resolve } from 'node:path';
import { type EvalReport, io, type Task, type TaskContext, tasks } from '@multihead/core';
import { type CommonOptions, emitJson, openDevice, say, trainingProgress } from './common.js';
import { userPath } from './paths.js';
import { taskRegistry } from './registry.js';
import { checkParams, type ParamFlagValues, resolveInput, resolveParams } from './task-inputs.js';
import { writeAttention, writeOutput } from './task-outputs.js';

export interface TaskOptions extends CommonOptions {
  /** Folder of trained checkpoints (default `<cache>/checkpoints`). */
  checkpoints?: string;
  /** A checkpoint file to use instead of the trained or committed one. */
  checkpoint?: string;
  /** Task modules to add to the registry. */
  tasksFrom?: string[];
}

/** `--checkpoints`, else `<cache>/checkpoints`; a task saves `<dir>/<task id>.safetensors` there. */
export async function checkpointDir(opts: { checkpoints?: string }): Promise<string> {
  return opts.checkpoints ? resolve(userPath(opts.checkpoints)) : io.cacheDir('checkpoints');
}

async function findTask(id: string, opts: TaskOptions): Promise<Task> {
  return (await taskRegistry(opts.tasksFrom)).get(id);
}

/**
 * `--checkpoint FILE`: its bytes, checked to be a checkpoint of `task` before the device opens; errors name
 * the file and the command that makes one.
 */
async function givenCheckpoint(task: Task, file: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  const path = userPath(file);
  const make = `\`multihead train ${task.id}\` makes one`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const why = (e as { code?: string }).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new Error(`--checkpoint: cannot read ${path} (${why}); ${make}`);
  }
  try {
    tasks.parseTaskCheckpoint(task.id, bytes, 'given', path); // names the file and `multihead train`
  } catch (e) {
    throw new Error(`--checkpoint: ${(e as Error).message}`);
  }
  return bytes;
}

/** The device, the checkpoint store and the given checkpoint a task runs with. */
async function context(task: Task, opts: TaskOptions, infoToStderr = false): Promise<TaskContext> {
  const info = infoToStderr ? { ...opts, json: true } : opts; // say() writes to stderr under json
  const checkpoint = opts.checkpoint ? await givenCheckpoint(task, opts.checkpoint) : undefined;
  const device = await openDevice(info);
  return {
    device,
    store: tasks.folderStore(await checkpointDir(opts)),
    ...(checkpoint ? { checkpoint } : {}),
    seed: opts.seed,
    log: (line) => say(info, line),
  };
}

export async function listTasks(
  opts: CommonOptions & { modality?: string; tasksFrom?: string[] },
): Promise<void> {
  const registry = await taskRegistry(opts.tasksFrom);
  const rows = registry.list(opts.modality).map((t) => ({
    id: t.id,
    kind: t.kind,
    input: t.input.kind,
    output: t.output.kind + (t.output.stream ? ` (streams ${t.output.stream})` : ''),
    description: t.description,
    params: (t.params ?? []).map((p) => p.name),
    metrics: t.metrics.map((m) => m.name),
  }));
  const width = Math.max(2, ...rows.map((r) => r.id.length));
  for (const r of rows) {
    say(
      opts,
      `${r.id.padEnd(width)}  ${r.kind.padEnd(8)}  ${`${r.input} -> ${r.output}`.padEnd(26)}  ${r.description}`,
    );
  }
  if (opts.json) emitJson({ modalities: registry.modalities(), tasks: rows });
}

export async function trainTask(
  id: string,
  opts: TaskOptions & { steps?: number; maxSeconds?: number },
): Promise<void> {
  const task = await findTask(id, opts);
  const ctx = await context(task, opts);
  const progress = trainingProgress(opts, `train ${id}`, opts.maxSeconds ? { seconds: opts.maxSeconds } : {});
  ctx.onProgress = progress.onProgress;
  try {
    const report = await task.train(ctx, {
      ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
      ...(opts.maxSeconds !== undefined ? { maxSeconds: opts.maxSeconds } : {}),
    });
    progress.stop(); // before the lines below, so they do not land on the bar
    say(
      opts,
      `trained ${report.steps} steps in ${report.seconds.toFixed(1)} s (${Math.round(report.itemsPerSecond)} ${report.unit}/s), final loss ${report.finalLoss.toFixed(4)}`,
    );
    say(opts, `checkpoint: ${report.checkpoint}`);
    if (opts.json) emitJson({ backend: ctx.device.backend, ...report });
  } finally {
    progress.stop();
    ctx.device.destroy();
  }
}

const fmt = (v: number | undefined) =>
  v === undefined ? '-' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(4);

/** The report as a table: one row per metric, the model beside each baseline. */
function printReport(opts: CommonOptions, task: Task, report: EvalReport): void {
  say(opts, `${report.task} on ${report.split.name}: ${report.split.description}`);
  say(
    opts,
    `checkpoint: ${report.checkpoint.location} (${report.checkpoint.source}, step ${report.checkpoint.step})`,
  );
  const names = Object.keys(report.baselines);
  const metricNames = [...new Set([...task.metrics.map((m) => m.name), ...Object.keys(report.metrics)])];
  const cols = ['metric', 'model', ...names];
  const widths = cols.map((c) => Math.max(12, c.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  say(opts, line(cols));
  for (const m of metricNames) {
    if (report.metrics[m] === undefined) continue;
    say(opts, line([m, fmt(report.metrics[m]), ...names.map((n) => fmt(report.baselines[n]![m]))]));
  }
  if (report.goal) {
    const g = report.goal;
    const bound = g.value === undefined ? '' : `${g.metric} ${g.op} ${g.value}`;
    const beat = g.beat?.length ? `${bound ? ' and ' : `${g.metric} `}better than ${g.beat.join(', ')}` : '';
    say(opts, `goal: ${bound}${beat}: ${g.met ? 'met' : 'NOT met'}`);
  }
}

export async function evalTask(id: string, opts: TaskOptions & { limit?: number }): Promise<void> {
  const task = await findTask(id, opts);
  const ctx = await context(task, opts);
  try {
    const report = await task.evaluate(ctx, opts.limit !== undefined ? { limit: opts.limit } : {});
    printReport(opts, task, report);
    if (opts.json) emitJson({ backend: ctx.device.backend, ...report });
  } finally {
    ctx.device.destroy();
  }
}

export interface RunOptions extends TaskOptions, ParamFlagValues {
  input?: string;
  /** Where the output's file goes (image, audio, MIDI; default `<task name>.<ext>` here). */
  out?: string;
  /** Draw the attention maps of the input as a PNG here. */
  attention?: string;
  /** The layer the attention PNG shows (default: the last). */
  layer?: number;
}

/** `run`: one input through the task; streamed pieces as they come, then the output and its files. */
export async function runTask(id: string, opts: RunOptions): Promise<void> {
  const task = await findTask(id, opts);
  const input = resolveInput(task, opts.input); // flags are checked before the device opens
  const params = resolveParams(task, opts);
  checkParams(task, params, opts);
  const ctx = await context(task, opts, true); // stdout carries the streamed output
  const out = opts.json ? process.stderr : process.stdout;
  try {
    const t0 = performance.now();
    const run = task.run(ctx, input, params);
    let pieces = 0;
    if (task.output.stream === 'text' && typeof opts.input === 'string' && typeof input === 'string')
      out.write(opts.input);
    for await (const piece of run) {
      pieces++;
      if (piece.kind === 'text') out.write(piece.text);
      else if (piece.kind === 'tokens' && piece.text !== undefined) out.write(piece.text);
      else if (piece.kind === 'pixels') out.write(piece.row % 4 === 0 ? `[row ${piece.row}]` : '');
      else if (piece.kind === 'events') out.write(`${piece.events.join(' ')} `);
    }
    if (pieces > 0) out.write('\n');
    const output = await run.result;
    const files = await writeOutput(task, output, opts, (line) => say({ ...opts, json: true }, line));
    const seconds = (performance.now() - t0) / 1000;
    const attention = opts.attention
      ? await writeAttention(task, ctx, input, userPath(opts.attention), opts.layer)
      : null;
    if (attention) say({ ...opts, json: true }, `attention: ${attention.files.join(', ')}`);
    if (opts.json) emitJson({ task: id, output: jsonOutput(output), files, pieces, seconds, attention });
  } finally {
    ctx.device.destroy();
  }
}

/** The output without its byte arrays (they went to files). */
function jsonOutput(output: import('@multihead/core').TaskOutput): unknown {
  const { artifacts: _, ...rest } = output;
  if (rest.kind === 'image') return { kind: 'image', width: rest.image.width, height: rest.image.height };
  if (rest.kind === 'audio')
    return { kind: 'audio', sampleRate: rest.sampleRate, samples: rest.samples.length };
  if (rest.kind === 'midi') return { kind: 'midi', bytes: rest.midi.length, events: rest.events };
  return rest;
}

/** `generate <task> --prompt`: `run` with the prompt as input. */
export function generateTask(id: string, opts: RunOptions & { prompt?: string }): Promise<void> {
  return runAs('generate', id, { ...opts, ...(opts.prompt !== undefined ? { input: opts.prompt } : {}) });
}

/** `classify <task> --text|--input`: `run` for a classify task. */
export function classifyTask(id: string, opts: RunOptions & { text?: string }): Promise<void> {
  return runAs('classify', id, { ...opts, ...(opts.text !== undefined ? { input: opts.text } : {}) });
}

async function runAs(kind: 'generate' | 'classify', id: string, opts: RunOptions): Promise<void> {
  const registry = await taskRegistry(opts.tasksFrom);
  const task = registry.get(id);
  if (task.kind !== kind) {
    const can = registry
      .list()
      .filter((t) => t.kind === kind)
      .map((t) => t.id);
    throw new Error(
      `${id} is a ${task.kind} task and cannot ${kind}; tasks that can: ${can.join(', ') || '(none)'} (or: multihead run ${id})`,
    );
  }
  return runTask(id, opts);
}
