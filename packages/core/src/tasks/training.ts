/**
 * The training plumbing every task shares (style.md: written once, not per task): a time budget and the
 * caller's AbortSignal both stop training between steps (what was trained is kept), and progress reaches
 * `ctx.onProgress` with items per second in the task's unit (tokens, images, clips).
 */
import { fail } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { cosineWithWarmup, LRScheduler, type Schedule } from '../optim/schedules.js';
import type { Tensor } from '../tensor.js';
import { type TrainOptions, type TrainSummary, train } from '../train/train.js';
import { saveTaskCheckpoint } from './checkpoints.js';
import type { TaskContext, TrainReport } from './types.js';

export interface TaskTrainOptions<B>
  extends Omit<TrainOptions<B>, 'signal' | 'onProgress' | 'tokensPerStep'> {
  /** Stop after this many seconds (checked before each step: a step is never cut in half). */
  maxSeconds?: number | undefined;
  /** What `items` counts: 'tokens', 'images', 'clips'. */
  unit: string;
  /** Items in a batch (default: 1 per step). */
  items?: (batch: B) => number;
  /** Also called on every progress report (a task's own log lines). */
  onReport?: (p: { step: number; loss: number; lr: number; msPerStep: number }) => void;
}

export interface TaskTrainSummary extends TrainSummary {
  items: number;
  itemsPerSecond: number;
  unit: string;
  /** Stopped by the time budget (rather than by steps or the caller's signal). */
  outOfTime: boolean;
}

/** Checks `steps` / `maxSeconds` options the same way for every task. */
export function checkTrainOptions(
  id: string,
  opts: { steps?: number; maxSeconds?: number },
  defaultSteps: number,
) {
  const steps = opts.steps ?? defaultSteps;
  if (!Number.isInteger(steps) || steps < 1)
    fail('INVALID_ARGUMENT', `${id}: steps ${steps} must be an integer >= 1`);
  const maxSeconds = opts.maxSeconds;
  if (maxSeconds !== undefined && !(maxSeconds > 0 && Number.isFinite(maxSeconds))) {
    fail('INVALID_ARGUMENT', `${id}: maxSeconds ${maxSeconds} must be a finite number > 0`);
  }
  return { steps, maxSeconds };
}

/** One training run of a built-in task: its optimizer steps, time budget in seconds (none: steps alone) and seed. */
export interface TaskTrainingRun {
  steps: number;
  maxSeconds: number | undefined;
  seed: number;
}

/** What `trainingPlan` decides for a `train` call: the hyper-parameters `h`, the seed and the run. */
export interface TaskTrainingPlan<H> {
  h: H;
  seed: number;
  run: TaskTrainingRun;
}

/**
 * The start of a built-in task's `train`: its hyper-parameters (the task's `defaults`, then the `overrides`
 * its options give), the seed (`ctx.seed`, default 0) and the run: this call's steps and time budget
 * (checked by `checkTrainOptions`; a call that asks for neither steps nor seconds runs for
 * `defaults.maxSeconds`) with that seed.
 */
export function trainingPlan<H extends { steps: number; maxSeconds?: number | undefined }>(
  ctx: TaskContext,
  id: string,
  opts: { steps?: number; maxSeconds?: number },
  defaults: H,
  overrides: Partial<H> | undefined,
): TaskTrainingPlan<H> {
  const h = { ...defaults, ...overrides };
  const { steps, maxSeconds } = checkTrainOptions(id, opts, h.steps);
  const budget = maxSeconds ?? (opts.steps === undefined ? defaults.maxSeconds : undefined);
  const seed = ctx.seed ?? 0;
  return { h, seed, run: { steps, maxSeconds: budget, seed } };
}

/** `train()` bounded by `ctx.signal` and `maxSeconds`, reporting to `ctx.onProgress`. */
export async function trainForTask<B>(
  ctx: TaskContext,
  opts: TaskTrainOptions<B>,
): Promise<TaskTrainSummary> {
  const { maxSeconds, unit, items, onReport, ...rest } = opts;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal?.addEventListener('abort', onAbort);
  if (ctx.signal?.aborted) stop.abort();
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let count = 0;
  let outOfTime = false;
  try {
    const summary = await train({
      ...rest,
      signal: stop.signal,
      batch: (step) => {
        // steps run back to back without yielding to timers, so the budget is checked here
        if (maxSeconds !== undefined && step > (rest.startStep ?? 0) && elapsed() >= maxSeconds) {
          outOfTime = true;
          stop.abort();
        }
        const batch = rest.batch(step);
        count += items ? items(batch) : 1;
        return batch;
      },
      onProgress: (p) => {
        onReport?.(p);
        const seconds = elapsed();
        ctx.onProgress?.({
          step: p.step,
          steps: rest.steps,
          loss: p.loss,
          itemsPerSecond: seconds > 0 ? count / seconds : 0,
          unit,
          seconds,
        });
      },
    });
    return {
      ...summary,
      items: count,
      itemsPerSecond: count / Math.max(1e-9, summary.seconds),
      unit,
      outOfTime,
    };
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Hugging Face's cosine with warmup, except that with a time budget progress is the larger of steps done /
 * `steps` and seconds spent / `maxSeconds`: a run bounded by time still decays to `minLr` by the end of its
 * budget. Warmup then ends after `warmupSteps` or a tenth of the budget, whichever comes first. The clock
 * starts when the schedule is made.
 */
export function budgetCosine(opts: {
  warmupSteps: number;
  steps: number;
  minLr: number;
  maxSeconds?: number | undefined;
}): Schedule {
  const { warmupSteps, steps, minLr, maxSeconds } = opts;
  if (maxSeconds === undefined) {
    return cosineWithWarmup({ warmupSteps: Math.min(warmupSteps, steps), totalSteps: steps, minLr });
  }
  const started = performance.now();
  return (step, baseLr) => {
    const seconds = (performance.now() - started) / 1000;
    const warm = Math.max(step / Math.max(1, warmupSteps), seconds / (0.1 * maxSeconds));
    if (warm < 1) return baseLr * warm;
    const progress = Math.min(1, Math.max(step / Math.max(1, steps), seconds / maxSeconds));
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** The optimizer settings `taskOptimizer` reads from a task's training hyper-parameters. */
export interface TaskOptimizerHyper {
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  betas?: readonly [number, number] | undefined;
}

/**
 * What a built-in task's training run reads (`trainTaskModel`): `taskOptimizer`'s settings, the steps, the
 * batch size and the gradient clipping.
 */
export interface TaskTrainingHyper extends TaskOptimizerHyper {
  /** Default optimizer steps. */
  steps: number;
  /** Examples (rows, clips, images, graphs) per step. */
  batchSize: number;
  clipGradNorm: number;
}

/**
 * The optimizer the built-in tasks train with: AdamW with weight decay on matrices only (parameters of
 * rank >= 2; biases, norms and other vectors decay-free, as in GPT-2 and ViT training) and `budgetCosine`
 * over the run's steps or time budget.
 */
export function taskOptimizer(
  params: readonly Tensor[],
  h: TaskOptimizerHyper,
  run: { steps: number; maxSeconds?: number | undefined },
): { optimizer: AdamW; scheduler: LRScheduler } {
  const optimizer = new AdamW(
    [
      { params: params.filter((p) => p.rank >= 2), weightDecay: h.weightDecay },
      { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    { lr: h.lr, ...(h.betas ? { betas: h.betas } : {}) },
  );
  const scheduler = new LRScheduler(
    optimizer,
    budgetCosine({
      warmupSteps: h.warmupSteps,
      steps: run.steps,
      minLr: h.minLr,
      maxSeconds: run.maxSeconds,
    }),
  );
  return { optimizer, scheduler };
}

/**
 * A built-in task's training run: `taskOptimizer` over the model's parameters (or the `optimizer` given, for
 * a task with parameter groups of its own), the model in training mode for the run and in eval mode after
 * it, `trainForTask` with the hyper-parameters' gradient clipping and a progress read every 10 steps (unless
 * `loop` says otherwise); the optimizer's state is freed at the end.
 */
export async function trainTaskModel<B>(
  ctx: TaskContext,
  model: { parameters(): Tensor[]; train(): unknown; eval(): unknown },
  h: Omit<TaskTrainingHyper, 'steps'>,
  run: { steps: number; maxSeconds?: number | undefined },
  loop: Pick<TaskTrainOptions<B>, 'unit' | 'items' | 'batch' | 'loss' | 'progressEvery'>,
  { optimizer, scheduler }: { optimizer: AdamW; scheduler: LRScheduler } = taskOptimizer(
    model.parameters(),
    h,
    run,
  ),
): Promise<TaskTrainSummary> {
  model.train();
  try {
    return await trainForTask(ctx, {
      model,
      optimizer,
      scheduler,
      steps: run.steps,
      maxSeconds: run.maxSeconds,
      clipGradNorm: h.clipGradNorm,
      progressEvery: 10,
      ...loop,
    });
  } finally {
    optimizer.dispose();
    model.eval();
  }
}

/** The `training` record a task checkpoint keeps: seed, steps, seconds, final loss, backend, hyper-parameters. */
export function trainingRecord(
  ctx: TaskContext,
  summary: { steps: number; seconds: number; finalLoss: number },
  seed: number,
  hyper: object,
) {
  return {
    seed,
    steps: summary.steps,
    seconds: Math.round(summary.seconds),
    finalLoss: summary.finalLoss,
    backend: ctx.device.backend,
    hyper,
  };
}

/**
 * The end of a task's `train`: the model saved (`saveTaskCheckpoint`) with its config, preprocessing and
 * `trainingRecord`, a log line saying where, and the `TrainReport` (the summary's fields, the task id and
 * the checkpoint's location).
 */
export async function saveTrainedModel<S extends { steps: number; seconds: number; finalLoss: number }>(
  ctx: TaskContext,
  id: string,
  trained: {
    model: Record<string, Tensor>;
    config: object;
    preprocessing: object;
    summary: S;
    seed: number;
    hyper: object;
  },
): Promise<S & Pick<TrainReport, 'task' | 'checkpoint'>> {
  const { summary } = trained;
  const { location } = await saveTaskCheckpoint(ctx, id, {
    model: trained.model,
    step: summary.steps,
    config: { ...trained.config },
    preprocessing: { ...trained.preprocessing },
    training: trainingRecord(ctx, summary, trained.seed, trained.hyper),
  });
  ctx.log?.(`${id}: saved ${location}`);
  return { task: id, ...summary, checkpoint: location };
}

/** What `trainAndSave` builds, trains, saves and frees: a model with weights, a config and a size. */
export interface TrainableTaskModel {
  config: object;
  numParameters(): number;
  stateDict(): Record<string, Tensor>;
  dispose(): void;
}

/**
 * A built-in task's `train` after its `trainingPlan`: the model built, the task's log line about it, the
 * task's training run, then `saveTrainedModel` with the model's weights and config (or the `config` given),
 * the preprocessing and the plan's seed and hyper-parameters. The model is freed whether training succeeded
 * or not.
 */
export async function trainAndSave<
  M extends TrainableTaskModel,
  S extends { steps: number; seconds: number; finalLoss: number },
>(
  ctx: TaskContext,
  id: string,
  plan: { h: object; seed: number },
  parts: {
    build: () => M;
    describe: (model: M) => string;
    train: (model: M) => Promise<S>;
    preprocessing: object;
    /** The config the checkpoint keeps (default: the model's own). */
    config?: object;
  },
): Promise<S & Pick<TrainReport, 'task' | 'checkpoint'>> {
  const model = parts.build();
  try {
    ctx.log?.(parts.describe(model));
    const summary = await parts.train(model);
    return await saveTrainedModel(ctx, id, {
      model: model.stateDict(),
      config: parts.config ?? model.config,
      preprocessing: parts.preprocessing,
      summary,
      seed: plan.seed,
      hyper: plan.h,
    });
  } finally {
    model.dispose();
  }
}
