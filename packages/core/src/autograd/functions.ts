/**
 * The public, differentiable ops: each wraps the op of `ops/` and records its backward on the tape
 * when an input requires grad (engine.ts). Backward formulas are PyTorch's
 * (tools/autograd/derivatives.yaml). One file per family; this one gathers them.
 */
export { attention, blockSparseAttention, linearAttention } from './attention.js';
export {
  abs,
  add,
  binary,
  cast,
  copy,
  cos,
  div,
  erf,
  exp,
  gelu,
  log,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  rsqrt,
  sigmoid,
  silu,
  sin,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
  unary,
  where,
} from './elementwise.js';
export { concat, embedding, indexSelect, matmul, pad } from './layout.js';
export {
  layerNorm,
  logSoftmax,
  logsumexp,
  max,
  mean,
  min,
  rmsNorm,
  softmax,
  sum,
} from './reductions.js';
