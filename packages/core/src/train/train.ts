/**
 * A small training loop: batch -> loss -> backward -> (clip) -> optimizer step -> schedule, each step
 * in its own `tidy` scope so nothing leaks. Steps queue GPU work without waiting; the loss is read back
 * (asynchronously) only every `progressEvery` steps, because a read per step would drain the GPU queue
 * and stall the pipeline. Those reads also bound how far the host runs ahead of the device.
 */
import { fail } from '../errors.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedules.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';

export interface TrainProgress {
  /** Steps done so far (counting from `startStep`). */
  step: number;
  /** The loss of this step. */
  loss: number;
  /** The learning rate this step used (first parameter group). */
  lr: number;
  /** Over the steps since the last report; 0 without `tokensPerStep`. */
  tokensPerSecond: number;
  msPerStep: number;
}

export interface TrainOptions<B> {
  /** Where parameters come from when `parameters` is not given (else the optimizer's). */
  model?: { parameters(): Tensor[] };
  /** The parameters whose gradients `clipGradNorm` clips. */
  parameters?: readonly Tensor[];
  optimizer: Optimizer<{ lr: number }>;
  /** Stepped after every optimizer step. */
  scheduler?: LRScheduler;
  /** Called after every optimizer step with the step's index (e.g. `ema.update()`). */
  afterStep?: (step: number) => void;
  /** Steps to run. */
  steps: number;
  /** Index of the first step (when resuming), passed to `batch`; default 0. */
  startStep?: number;
  /** The inputs of a step; tensors it creates are disposed when the step ends. */
  batch: (step: number) => B;
  /** A scalar loss from the inputs. */
  loss: (inputs: B) => Tensor;
  /** Clip the gradients' global 2-norm to this before each optimizer step. */
  clipGradNorm?: number;
  /** Called every `progressEvery` steps and after the last one. */
  onProgress?: (p: TrainProgress) => void;
  /** How often the loss is read back (default 10). */
  progressEvery?: number;
  /** Tokens (or examples) per step, for the throughput figure. */
  tokensPerStep?: number;
  /** Stops before the next step; checked between steps (aborting takes effect at the next loss read at the latest). */
  signal?: AbortSignal;
}

export interface TrainSummary {
  /** Steps run by this call. */
  steps: number;
  /** The loss of the last step run, also when aborted (NaN when no step ran). */
  finalLoss: number;
  /** Every loss read, by step. */
  losses: { step: number; loss: number }[];
  seconds: number;
  aborted: boolean;
}

/** Runs `steps` training steps and returns a summary; see `TrainOptions`. */
export async function train<B>(opts: TrainOptions<B>): Promise<TrainSummary> {
  const { optimizer, scheduler, steps } = opts;
  const every = opts.progressEvery ?? 10;
  const start = opts.startStep ?? 0;
  if (!Number.isInteger(steps) || steps < 0)
    fail('INVALID_ARGUMENT', `train: steps ${steps} must be an integer >= 0`);
  if (!Number.isInteger(every) || every < 1) {
    fail('INVALID_ARGUMENT', `train: progressEvery ${every} must be an integer >= 1`);
  }
  const params = opts.parameters ?? opts.model?.parameters() ?? optimizer.params;
  const losses: { step: number; loss: number }[] = [];
  const t0 = performance.now();
  let windowStart = t0;
  let windowSteps = 0;
  let done = 0;
  let aborted = false;
  /** Reads a step's loss and reports it with the throughput since the last report. */
  const record = async (step: number, loss: Tensor, lr: number) => {
    const value = (await loss.read())[0]!;
    loss.dispose();
    losses.push({ step: step + 1, loss: value });
    const now = performance.now();
    const ms = now - windowStart;
    opts.onProgress?.({
      step: step + 1,
      loss: value,
      lr,
      tokensPerSecond: ms > 0 ? ((opts.tokensPerStep ?? 0) * windowSteps * 1000) / ms : 0,
      msPerStep: ms / windowSteps,
    });
    windowStart = now;
    windowSteps = 0;
  };
  // the loss of the latest unreported step, so that an abort still reports where training stopped
  let unread: { step: number; loss: Tensor; lr: number } | null = null;
  optimizer.zeroGrad();
  for (let i = 0; i < steps; i++) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const step = start + i;
    const report = (i + 1) % every === 0 || i === steps - 1;
    const lr = optimizer.paramGroups[0]?.lr ?? Number.NaN;
    const loss = tidy(() => {
      const loss = opts.loss(opts.batch(step));
      loss.backward();
      if (opts.clipGradNorm !== undefined) clipGradNorm(params, opts.clipGradNorm).dispose();
      optimizer.step();
      optimizer.zeroGrad();
      scheduler?.step();
      opts.afterStep?.(step);
      return loss;
    });
    done++;
    windowSteps++;
    unread?.loss.dispose();
    unread = null;
    if (report) {
      await record(step, loss, lr);
      // a macrotask turn: on the CPU backend reads resolve at once, and without this a timer or a
      // worker message that aborts (a stop button, a time limit) would never run until training ends
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    } else unread = { step, loss, lr };
  }
  if (unread) await record(unread.step, unread.loss, unread.lr);
  return {
    steps: done,
    finalLoss: losses.at(-1)?.loss ?? Number.NaN,
    losses,
    seconds: (performance.now() - t0) / 1000,
    aborted,
  };
}
