/** @multihead/core: tensors and kernels on WebGPU with a CPU reference backend. */

export type { AdapterDescription } from './backend/webgpu.js';
export { type CreateDeviceOptions, createDevice } from './create-device.js';
export { type Backend, Device, type MemoryInfo, type TensorOptions } from './device.js';
export type { DType, ReadArray } from './dtype.js';
export { type ErrorCode, MultiheadError } from './errors.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export {
  type BlockLayout,
  type BlockSparseOptions,
  type BlockSparseOutputs,
  blockLayouts,
  blockSparseAttention,
} from './ops/attention/blocksparse.js';
export {
  type AttentionDetailedOptions,
  type AttentionGrads,
  type AttentionOptions,
  type AttentionOutputs,
  attention,
  attentionBackward,
  type CausalAlignment,
  type MaskMod,
  type ScoreMod,
} from './ops/attention/index.js';
export { KVCache, type KVCacheOptions } from './ops/attention/kv-cache.js';
export {
  type LinearAttentionGrads,
  type LinearAttentionOptions,
  type LinearFeatureMap,
  linearAttention,
  linearAttentionBackward,
} from './ops/attention/linear.js';
export {
  abs,
  add,
  BINARY,
  type BinaryName,
  binary,
  cast,
  copy,
  copyInto,
  div,
  eq,
  erfOp as erf,
  exp,
  ge,
  gelu,
  gt,
  le,
  log,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  pow,
  relu,
  rsqrt,
  sigmoid,
  silu,
  sqrt,
  sub,
  tanh,
  UNARY,
  type UnaryName,
  unary,
  where,
} from './ops/elementwise.js';
export { embedding, indexSelect } from './ops/gather.js';
export { concat, pad } from './ops/layout.js';
export { matmul } from './ops/matmul.js';
export { layerNorm, type NormOptions, rmsNorm } from './ops/norm.js';
export { arange, type RandomOptions, rand, randn } from './ops/random.js';
export { argmax, argmin, logsumexp, max, mean, min, type ReduceOptions, sum } from './ops/reduce.js';
export { logSoftmax, softmax } from './ops/softmax.js';
export { keep, tidy } from './scope.js';
export { Tensor } from './tensor.js';
