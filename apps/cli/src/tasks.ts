/**
 * `multihead tasks | train | eval | generate | classify`: the commands over the task tables. Tasks are
 * data (TEXT_TASKS in @multihead/text): this file knows how to run a kind of task, not which tasks exist.
 */
import { resolve } from 'node:path';
import { io } from '@multihead/core';
import { type TaskContext, TEXT_TASKS, type TextTask, textTask } from '@multihead/text';
import { type CommonOptions, emitJson, openDevice, say, trainingProgress } from './common.js';

export interface TaskOptions extends CommonOptions {
  checkpoints?: string;
}

/** `--checkpoints`, else `<cache>/checkpoints`; a task saves `<dir>/<task id>.safetensors` there. */
export async function checkpointDir(opts: { checkpoints?: string }): Promise<string> {
  return opts.checkpoints ? resolve(opts.checkpoints) : io.cacheDir('checkpoints');
}

/** The device and folders a task runs with; `infoToStderr` keeps stdout for the task's own output. */
async function context(opts: TaskOptions, infoToStderr = false): Promise<TaskContext> {
  const info = infoToStderr ? { ...opts, json: true } : opts; // say() writes to stderr under json
  const device = await openDevice(info);
  return {
    device,
    checkpointDir: await checkpointDir(opts),
    seed: opts.seed,
    log: (line) => say(info, line),
  };
}

export function listTasks(opts: CommonOptions): void {
  const rows = TEXT_TASKS.map((t) => ({ id: t.id, kind: t.kind, description: t.description }));
  const width = Math.max(...rows.map((r) => r.id.length));
  for (const r of rows) say(opts, `${r.id.padEnd(width)}  ${r.kind.padEnd(8)}  ${r.description}`);
  if (opts.json) emitJson({ tasks: rows });
}

export async function trainTask(
  id: string,
  opts: TaskOptions & { steps?: number; maxSeconds?: number },
): Promise<void> {
  const task = textTask(id);
  const ctx = await context(opts);
  const progress = trainingProgress(opts, `train ${id}`);
  ctx.onProgress = progress.onProgress;
  try {
    const result = await task.train(ctx, {
      ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
      ...(opts.maxSeconds !== undefined ? { maxSeconds: opts.maxSeconds } : {}),
    });
    progress.stop(); // before the lines below, so they do not land on the bar
    say(
      opts,
      `trained ${result.steps} steps in ${result.seconds.toFixed(1)} s, final loss ${result.finalLoss.toFixed(4)}`,
    );
    say(opts, `checkpoint: ${result.checkpoint}`);
    if (opts.json) emitJson({ task: id, backend: ctx.device.backend, ...result });
  } finally {
    progress.stop();
    ctx.device.destroy();
  }
}

export async function evalTask(id: string, opts: TaskOptions): Promise<void> {
  const task = textTask(id);
  const ctx = await context(opts);
  try {
    const metrics = await task.evaluate(ctx);
    for (const [key, value] of Object.entries(metrics)) {
      say(opts, `${key.padEnd(18)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
    }
    if (opts.json) emitJson({ task: id, backend: ctx.device.backend, metrics });
  } finally {
    ctx.device.destroy();
  }
}

function needs<K extends 'generate' | 'classify'>(task: TextTask, method: K): NonNullable<TextTask[K]> {
  const fn = task[method];
  if (!fn) {
    const can = TEXT_TASKS.filter((t) => t[method]).map((t) => t.id);
    throw new Error(
      `${task.id} is a ${task.kind} task and cannot ${method}; tasks that can: ${can.join(', ') || '(none)'}`,
    );
  }
  return fn.bind(task) as NonNullable<TextTask[K]>;
}

export async function generateTask(
  id: string,
  opts: TaskOptions & {
    prompt: string;
    maxTokens?: number;
    temperature?: number;
    topK?: number;
    topP?: number;
  },
): Promise<void> {
  const task = textTask(id);
  const generate = needs(task, 'generate');
  const ctx = await context(opts, true); // stdout carries the generated text only
  // the text goes to stdout as it comes (stderr under --json, which ends with one JSON line)
  const out = opts.json ? process.stderr : process.stdout;
  try {
    out.write(opts.prompt);
    let text = '';
    const t0 = performance.now();
    let pieces = 0;
    for await (const piece of generate(ctx, opts.prompt, {
      seed: opts.seed,
      ...(opts.maxTokens !== undefined ? { maxNewTokens: opts.maxTokens } : {}),
      ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
      ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
      ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
    })) {
      out.write(piece);
      text += piece;
      pieces++;
    }
    out.write('\n');
    const seconds = (performance.now() - t0) / 1000;
    if (opts.json) emitJson({ task: id, prompt: opts.prompt, text, pieces, seconds });
  } finally {
    ctx.device.destroy();
  }
}

export async function classifyTask(id: string, opts: TaskOptions & { text: string }): Promise<void> {
  const task = textTask(id);
  const classify = needs(task, 'classify');
  const ctx = await context(opts);
  try {
    const { label, probabilities } = await classify(ctx, opts.text);
    say(opts, `label: ${label}`);
    for (const [name, p] of Object.entries(probabilities)) say(opts, `  ${name.padEnd(12)} ${p.toFixed(4)}`);
    if (opts.json) emitJson({ task: id, label, probabilities });
  } finally {
    ctx.device.destroy();
  }
}
