export { AdamW, type AdamWOptions } from './adamw.js';
export { type ClipGradNormOptions, clipGradNorm, clipGradNormValue } from './clip.js';
export { ExponentialMovingAverage, type ExponentialMovingAverageOptions } from './ema.js';
export {
  type HostArray,
  type HyperValue,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';
export {
  constant,
  cosineWithWarmup,
  LRScheduler,
  linearWarmup,
  type Schedule,
  type WarmupOptions,
} from './schedules.js';
export { SGD, type SGDOptions } from './sgd.js';
export type { AdamWHyper, SgdHyper } from './updates.js';
