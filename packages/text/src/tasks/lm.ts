/**
 * What the GPT text tasks (text/names, text/moby) share: packing token rows into batches, training
 * with AdamW and a cosine schedule (optionally bounded by time), checkpoints that carry their config
 * and tokenizer, held-out NLL, and streaming decoded text from `models.stream`.
 */
import { type Device, io, models, nn, noGrad, optim, type Tensor, tidy, train } from '@multihead/core';
import { invalidArgument } from '../errors.js';
import { nodeFs, nodePath } from '../node.js';
import type { SpecialTokens } from '../tokenizers/special-tokens.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';
import type { GenerateTaskOptions, TaskContext, TrainTaskOptions } from './task.js';

/** A GPT's shape, as stored in a checkpoint (models.GPT's config without the seed). */
export type LmConfig = Omit<models.GPTConfig, 'seed'>;

/** Optimizer and batch settings of a task's training run. */
export interface LmTraining {
  /** Default optimizer steps. */
  steps: number;
  /** Rows per step. */
  batchSize: number;
  lr: number;
  /** Where the cosine ends. */
  minLr: number;
  warmupSteps: number;
  /** AdamW decay on matrices and embeddings only (nanoGPT's groups). */
  weightDecay: number;
  betas: [number, number];
  clipGradNorm: number;
}

/** One training or scoring row: next-token targets for `ids[1..]`, the first `from` of them not scored. */
export interface TokenRow {
  ids: readonly number[];
  /** Targets before this index are -100 (ignored); default 0. */
  from?: number;
}

/**
 * Rows padded to the longest (at most `length`): inputs ids[0..n-2], targets ids[1..n-1], with
 * -100 (crossEntropy's ignoreIndex) for padding and unscored positions; padded inputs are `padId`.
 */
export function packRows(
  device: Device,
  rows: readonly TokenRow[],
  padId: number,
): { inputs: Tensor; targets: Tensor; scored: number } {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.ids.length - 1));
  const inputs = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-100);
  let scored = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t < row.ids.length - 1; t++) {
      inputs[b * T + t] = row.ids[t]!;
      if (t >= (row.from ?? 0)) {
        targets[b * T + t] = row.ids[t + 1]!;
        scored++;
      }
    }
  });
  return {
    inputs: device.tensor(inputs, [B, T], { dtype: 'i32' }), // [B, T]
    targets: device.tensor(targets, [B, T], { dtype: 'i32' }),
    scored,
  };
}

/**
 * HF's cosine with warmup, except that with a time budget progress is the larger of steps done /
 * `steps` and seconds spent / `maxSeconds`: a run bounded by time still decays to `minLr` by the end
 * of its budget.
 */
function timeAwareCosine(
  h: LmTraining,
  steps: number,
  maxSeconds: number | undefined,
  started: number,
): optim.Schedule {
  if (maxSeconds === undefined) {
    return optim.cosineWithWarmup({
      warmupSteps: Math.min(h.warmupSteps, steps),
      totalSteps: steps,
      minLr: h.minLr,
    });
  }
  return (step, baseLr) => {
    const seconds = (performance.now() - started) / 1000;
    // warmup ends after warmupSteps or a tenth of the budget, whichever comes first
    const warm = Math.max(step / Math.max(1, h.warmupSteps), seconds / (0.1 * maxSeconds));
    if (warm < 1) return baseLr * warm;
    const progress = Math.min(1, Math.max(step / Math.max(1, steps), seconds / maxSeconds));
    return h.minLr + (baseLr - h.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Steps between loss reads (train's progressEvery). */
const REPORT_EVERY = 5;

export function checkTrainOptions(id: string, opts: TrainTaskOptions, defaults: LmTraining) {
  const steps = opts.steps ?? defaults.steps;
  if (!Number.isInteger(steps) || steps < 1) invalidArgument(`${id}: steps ${steps} must be an integer >= 1`);
  const maxSeconds = opts.maxSeconds;
  if (maxSeconds !== undefined && !(maxSeconds > 0))
    invalidArgument(`${id}: maxSeconds ${maxSeconds} must be > 0`);
  return { steps, maxSeconds };
}

/**
 * Trains `gpt` on rows from `batch(step)` with AdamW (decay on rank >= 2 tensors only), gradient
 * clipping and the cosine schedule; stops after `steps`, at `maxSeconds`, or at ctx.signal.
 */
export async function trainLm(
  ctx: TaskContext,
  gpt: models.GPT,
  h: LmTraining,
  opts: { steps: number; maxSeconds?: number | undefined; padId: number },
  batch: (step: number) => readonly TokenRow[],
) {
  const params = gpt.parameters();
  const optimizer = new optim.AdamW(
    [
      { params: params.filter((p) => p.rank >= 2), weightDecay: h.weightDecay },
      { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    { lr: h.lr, betas: h.betas },
  );
  const started = performance.now();
  const scheduler = new optim.LRScheduler(
    optimizer,
    timeAwareCosine(h, opts.steps, opts.maxSeconds, started),
  );
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal?.addEventListener('abort', onAbort);
  if (ctx.signal?.aborted) stop.abort();
  let tokens = 0;
  let steps = 0;
  gpt.train();
  try {
    const summary = await train({
      model: gpt,
      optimizer,
      scheduler,
      clipGradNorm: h.clipGradNorm,
      steps: opts.steps,
      // a read every few steps: short (time-bounded) runs still report, and the host stays near the device
      progressEvery: REPORT_EVERY,
      tokensPerStep: 1, // counted below: rows differ in length
      signal: stop.signal,
      batch: (step) => {
        // steps run back to back without yielding to timers: the time budget is checked here, after
        // the first report at the earliest (train() reads no loss for steps after its last report)
        const late = opts.maxSeconds !== undefined && (performance.now() - started) / 1000 >= opts.maxSeconds;
        if (late && step >= REPORT_EVERY && step % REPORT_EVERY === 0) stop.abort();
        const packed = packRows(gpt.device, batch(step), opts.padId);
        tokens += packed.scored;
        steps++;
        return packed;
      },
      loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets), // logits [B, T, V]
      onProgress: (p) => {
        const seconds = (performance.now() - started) / 1000;
        ctx.onProgress?.({
          step: p.step,
          steps: opts.steps,
          loss: p.loss,
          tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
        });
      },
    });
    return { ...summary, tokens, tokensPerSecond: tokens / Math.max(1e-9, summary.seconds), steps };
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    optimizer.dispose();
    gpt.eval();
  }
}

/** Summed next-token NLL (nats) of `rows` under `gpt`, in batches of `batchRows`. */
export async function rowsNll(
  gpt: models.GPT,
  rows: readonly TokenRow[],
  padId: number,
  batchRows = 64,
): Promise<{ nll: number; count: number }> {
  gpt.eval();
  let nll = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += batchRows) {
    const part = rows.slice(i, i + batchRows);
    const loss = noGrad(() =>
      tidy(() => {
        const { inputs, targets } = packRows(gpt.device, part, padId);
        return nn.crossEntropy(gpt.forward(inputs), targets, { reduction: 'sum' });
      }),
    );
    nll += (await loss.read())[0]!;
    loss.dispose();
    for (const r of part) count += Math.max(0, r.ids.length - 1 - (r.from ?? 0));
  }
  return { nll, count };
}

/**
 * Decoded text as it comes: token ids from `models.stream`, joined and decoded, yielding what each new
 * token adds (held back while the text ends in an incomplete character). Ends before a stop token.
 */
export async function* streamText(
  gpt: models.GPT,
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  opts: GenerateTaskOptions & { maxNewTokens: number; stopTokens?: readonly number[]; signal?: AbortSignal },
): AsyncGenerator<string, void, undefined> {
  const stop = new Set(opts.stopTokens ?? []);
  const ids: number[] = [];
  let shown = '';
  const tokens = models.stream(gpt, promptIds, {
    maxNewTokens: opts.maxNewTokens,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
    ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
    ...(opts.repetitionPenalty !== undefined ? { repetitionPenalty: opts.repetitionPenalty } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    stopTokens: [...stop],
  });
  for await (const token of tokens) {
    if (stop.has(token)) return;
    ids.push(token);
    const text = tokenizer.decode(ids);
    if (text.endsWith('\uFFFD')) continue; // a multi-byte character not yet complete
    yield text.slice(shown.length);
    shown = text;
  }
}

// ---- checkpoints -----------------------------------------------------------------------------------

/** What a task checkpoint's metadata holds besides the caller's fields. */
export interface LmMetadata {
  task: string;
  config: LmConfig;
  /** tokenizer.json text and the special-token roles. */
  tokenizer: string;
  specialTokens: SpecialTokens;
  [key: string]: unknown;
}

export interface LoadedLm {
  gpt: models.GPT;
  tokenizer: Tokenizer;
  metadata: LmMetadata;
  /** The file it came from, and whether it was trained here or shipped with the package. */
  path: string;
  source: 'trained' | 'committed';
  step: number;
}

/** `<checkpointDir>/<task id>.safetensors` (text/names -> `<dir>/text/names.safetensors`). */
export async function taskCheckpointPath(ctx: TaskContext, id: string): Promise<string> {
  if (typeof ctx.checkpointDir !== 'string' || ctx.checkpointDir === '')
    invalidArgument(
      `${id}: checkpointDir must be a directory path, got ${JSON.stringify(ctx.checkpointDir)}`,
    );
  const path = await nodePath();
  return path.join(ctx.checkpointDir, `${id}.safetensors`);
}

export async function saveLm(
  ctx: TaskContext,
  id: string,
  gpt: models.GPT,
  tokenizer: Tokenizer,
  step: number,
  metadata: Omit<LmMetadata, 'task' | 'config' | 'tokenizer' | 'specialTokens'>,
): Promise<string> {
  const file = await taskCheckpointPath(ctx, id);
  const fs = await nodeFs();
  const path = await nodePath();
  await fs.mkdir(path.dirname(file), { recursive: true });
  const full: LmMetadata = {
    task: id,
    config: gpt.config,
    tokenizer: tokenizer.toJSON(),
    specialTokens: { ...tokenizer.specialTokens },
    ...metadata,
  };
  // the weights only: tasks train from scratch, and the optimizer's state would triple the file
  await io.saveCheckpoint(file, { model: gpt.stateDict(), step, metadata: full });
  return file;
}

/**
 * Saves a task's trained GPT with what its run was (steps, time, loss, backend, seed, hyper-parameters and
 * whatever the task adds, under `training`), logs the path, and returns the task's train result.
 */
export async function saveTrainedLm(
  ctx: TaskContext,
  id: string,
  gpt: models.GPT,
  tokenizer: Tokenizer,
  summary: Awaited<ReturnType<typeof trainLm>>,
  run: { seed: number; hyper: LmTraining; maxSeconds: number | undefined } & Record<string, unknown>,
) {
  const { seed, hyper, maxSeconds, ...extra } = run;
  const checkpoint = await saveLm(ctx, id, gpt, tokenizer, summary.steps, {
    training: {
      steps: summary.steps,
      seconds: Math.round(summary.seconds * 10) / 10,
      finalLoss: summary.finalLoss,
      backend: ctx.device.backend,
      seed,
      ...extra,
      hyper,
      maxSeconds: maxSeconds ?? null,
      tokensPerSecond: Math.round(summary.tokensPerSecond),
    },
  });
  ctx.log?.(`${id}: saved ${checkpoint}`);
  return {
    steps: summary.steps,
    seconds: summary.seconds,
    finalLoss: summary.finalLoss,
    checkpoint,
    losses: summary.losses,
  };
}

/**
 * The package's own copy of a committed checkpoint (`packages/text/checkpoints/<file>`), found from the
 * sources, from dist/, or through the package's `exports` (when bundled into another program).
 */
export async function committedCheckpoint(file: string): Promise<string | null> {
  const fs = await nodeFs();
  const { fileURLToPath } = (await import(/* @vite-ignore */ NODE_URL)) as typeof import('node:url');
  const { createRequire } = (await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module');
  const candidates: (() => string)[] = [
    () => fileURLToPath(new URL(`../../checkpoints/${file}`, import.meta.url)), // from src/tasks/
    () => fileURLToPath(new URL(`../checkpoints/${file}`, import.meta.url)), // from dist/
    () => createRequire(import.meta.url).resolve(`@multihead/text/checkpoints/${file}`),
  ];
  for (const candidate of candidates) {
    try {
      const path = candidate();
      await fs.access(path);
      return path;
    } catch {
      // not there: try the next place
    }
  }
  return null;
}
// Node built-ins through variables, as in node.ts: browser bundlers leave them alone
const NODE_URL = 'node:url';
const NODE_MODULE = 'node:module';

/**
 * Loads a task's model: the checkpoint trained in ctx.checkpointDir if there is one, else the
 * committed one (when the task ships one), else a clear error saying how to train it.
 */
export async function loadLm(ctx: TaskContext, id: string, committedFile?: string): Promise<LoadedLm> {
  const fs = await nodeFs();
  const trained = await taskCheckpointPath(ctx, id);
  let path: string | null = null;
  let source: LoadedLm['source'] = 'trained';
  try {
    await fs.access(trained);
    path = trained;
  } catch {
    if (committedFile !== undefined) {
      path = await committedCheckpoint(committedFile);
      source = 'committed';
    }
  }
  if (path === null) {
    invalidArgument(
      `${id}: no checkpoint at ${trained}${committedFile ? ' and no committed one' : ''}; train one first (multihead train ${id})`,
    );
  }
  const ckpt = await io.readCheckpoint(path);
  const metadata = ckpt.metadata as LmMetadata;
  if (metadata.task !== id || typeof metadata.tokenizer !== 'string' || typeof metadata.config !== 'object') {
    invalidArgument(
      `${id}: ${path} is not a ${id} checkpoint (its metadata names task ${String(metadata.task)})`,
    );
  }
  const tokenizer = Tokenizer.fromJSON(metadata.tokenizer, { specialTokens: metadata.specialTokens });
  const gpt = new models.GPT(ctx.device, { ...metadata.config, seed: 0 });
  gpt.loadStateDict(ckpt.model);
  gpt.eval();
  return { gpt, tokenizer, metadata, path, source, step: ckpt.step };
}
