/** @multihead/core: tensors and kernels on WebGPU with a CPU reference backend. */
export { MultiheadError, type ErrorCode } from './errors.js';
export type { DType, ReadArray } from './dtype.js';
export { Device, type Backend, type MemoryInfo, type TensorOptions } from './device.js';
export { createDevice, type CreateDeviceOptions } from './create-device.js';
export type { AdapterDescription } from './backend/webgpu.js';
export { Tensor } from './tensor.js';
export { tidy, keep } from './scope.js';
export {
  UNARY, BINARY, unary, binary, where, cast, copy, copyInto,
  neg, abs, exp, log, sqrt, rsqrt, tanh, erfOp as erf, relu, sigmoid, silu, gelu,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge,
  type UnaryName, type BinaryName,
} from './ops/elementwise.js';
export { sum, mean, max, min, argmax, argmin, logsumexp, type ReduceOptions } from './ops/reduce.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { layerNorm, rmsNorm, type NormOptions } from './ops/norm.js';
export { matmul } from './ops/matmul.js';
export { indexSelect, embedding } from './ops/gather.js';
export { concat, pad } from './ops/layout.js';
export { rand, randn, arange, type RandomOptions } from './ops/random.js';
export * as io from './io/index.js';
