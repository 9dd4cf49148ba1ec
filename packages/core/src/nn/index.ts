export { manualSeed } from '../seeded.js';
export { Conv2d, type Conv2dArgs, type Conv2dOptions, conv2d, type Size2d } from './conv.js';
export { Dropout, type DropoutOptions, dropout } from './dropout.js';
export {
  ACTIVATIONS,
  type ActivationName,
  FeedForward,
  type FeedForwardActivation,
  type FeedForwardOptions,
} from './feed-forward.js';
export {
  Embedding,
  type EmbeddingOptions,
  embedding,
  LayerNorm,
  type LayerNormOptions,
  Linear,
  type LinearOptions,
  linear,
  RMSNorm,
  type RMSNormOptions,
} from './layers.js';
export {
  type BinaryCrossEntropyOptions,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  mseLoss,
  type Reduction,
} from './losses.js';
export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  ModuleList,
  type StateValue,
  tieWeights,
} from './module.js';
export {
  MultiHeadAttention,
  type MultiHeadAttentionForward,
  type MultiHeadAttentionOptions,
} from './multihead-attention.js';
export {
  alibiBias,
  alibiScoreMod,
  alibiSlopes,
  applyRope,
  LearnedPositionalEmbedding,
  RelativePositionBias,
  type RelativePositionBiasOptions,
  type RopeOptions,
  ropeTables,
  sinCos2d,
  sinusoidalPositions,
  type T5BucketOptions,
  t5RelativeBucket,
} from './positional.js';
export {
  type DecoderLayerForward,
  type EncoderLayerForward,
  type StackNorm,
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
  type TransformerLayerOptions,
} from './transformer.js';
