/** @multihead/core: tensors and kernels on WebGPU with a CPU reference backend. */

export { enableGrad, isGradEnabled, noGrad } from './autograd/engine.js';
export {
  abs,
  add,
  attention,
  binary,
  blockSparseAttention,
  cast,
  concat,
  copy,
  cos,
  div,
  embedding,
  erf,
  exp,
  gelu,
  indexSelect,
  layerNorm,
  linearAttention,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  pad,
  pow,
  relu,
  rmsNorm,
  rsqrt,
  sigmoid,
  silu,
  sin,
  softmax,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  unary,
  where,
} from './autograd/functions.js';
export type { AdapterDescription } from './backend/webgpu/adapter.js';
export { defaultAttentionKernel } from './backend/webgpu/heuristics.js';
export { type CreateDeviceOptions, createDevice } from './create-device.js';
export { type Backend, Device, type MemoryInfo, type TensorOptions } from './device.js';
export type { DType, ReadArray } from './dtype.js';
export {
  describeType,
  type ErrorCode,
  invalidArgument,
  ioError,
  MultiheadError,
  unsupported,
} from './errors.js';
export * as io from './io/index.js';
export type { AttentionShape, ResolvedAttention, ScoreModFn } from './kernels/attention.js';
export type { ResolvedBlockSparse } from './kernels/block-sparse.js';
export type { LinearGrads, ResolvedLinear } from './kernels/linear-attention.js';
export { COPY, copyOf, type MapArgs, type MapOp, mapInto } from './kernels/map.js';
export type { MatmulGeometry } from './kernels/matmul.js';
export type { ResolvedNeighborhood } from './kernels/neighborhood.js';
export {
  backendStorage,
  getKernel,
  type KernelArgs,
  type KernelBackendConfig,
  type KernelImpl,
  type KernelName,
  type KernelResult,
  type KernelSignatures,
  type KernelStorage,
  type KernelTimingHook,
  kernelLog,
  kernelTiming,
  registerBackend,
  registeredKernels,
  registerKernel,
  resolveKernel,
  runKernel,
  unregisterKernel,
} from './kernels/registry.js';
export type { RowLayout } from './kernels/rows.js';
export type {
  AdamWConstants,
  CrossEntropyRowOptions,
  NormKind,
  RandomStream,
  ReduceKind,
  SgdHyper,
} from './kernels/signatures.js';
export * as models from './models/index.js';
export * as nn from './nn/index.js';
export {
  type BlockLayout,
  type BlockSparseOptions,
  type BlockSparseOutputs,
  blockLayouts,
  blockSparseAttentionBackward,
} from './ops/attention/blocksparse.js';
export {
  type AttentionDetailedOptions,
  type AttentionGrads,
  type AttentionKernel,
  type AttentionOptions,
  type AttentionOutputs,
  attentionBackward,
  type CausalAlignment,
  type MaskMod,
  type NeighborhoodOptions,
  type ScoreMod,
} from './ops/attention/index.js';
export { KVCache, type KVCacheOptions } from './ops/attention/kv-cache.js';
export {
  type LinearAttentionGrads,
  type LinearAttentionOptions,
  type LinearFeatureMap,
  linearAttentionBackward,
} from './ops/attention/linear.js';
export {
  BINARY,
  type BinaryName,
  copyInto,
  eq,
  ge,
  gt,
  le,
  lt,
  ne,
  UNARY,
  type UnaryName,
} from './ops/elementwise.js';
export { indexAdd } from './ops/gather.js';
export type { NormOptions } from './ops/norm.js';
export { arange, dropoutMask, type RandomOptions, rand, randn } from './ops/random.js';
export { argmax, argmin, type ReduceOptions } from './ops/reduce.js';
export * as optim from './optim/index.js';
export { keep, tidy } from './scope.js';
export { manualSeed, mixSeed, nextSeed, seededUniform } from './seeded.js';
export * as tasks from './tasks/index.js';
export type {
  AttentionReport,
  EvalReport,
  InputKind,
  InputValue,
  Task,
  TaskContext,
  TaskOutput,
  TaskPiece,
  TaskRun,
} from './tasks/types.js';
export { type BackwardOptions, Tensor } from './tensor.js';
export { reversalTask, type SequenceTask } from './train/synthetic.js';
export { type TrainOptions, type TrainProgress, type TrainSummary, train } from './train/train.js';
