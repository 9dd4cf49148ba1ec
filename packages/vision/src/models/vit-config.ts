/**
 * The configuration of models/vit.ts: torchvision's VisionTransformer arguments (image_size, patch_size,
 * num_layers, num_heads, hidden_dim, mlp_dim, num_classes, dropout, attention_dropout) in camelCase, plus the
 * choices torchvision hard-codes (channels, positions, class token, LayerNorm epsilon), checked in one place.
 */
import { copyInto, MultiheadError, noGrad, type Tensor } from '@multihead/core';
import { type ConvStemLayer, resolveStemLayers } from './conv-stem.js';

export interface ViTConfig {
  /** Input height and width (a number for square images); multiples of patchSize. */
  imageSize: number | readonly [number, number];
  patchSize: number;
  /** Input channels (default 3; 1 for grayscale). */
  channels?: number;
  numLayers: number;
  numHeads: number;
  /** Token width D (a multiple of numHeads; of 4 too with 'sincos2d' positions). */
  hiddenDim: number;
  /** Hidden width of each layer's MLP. */
  mlpDim: number;
  numClasses: number;
  /** Dropout after the positions, on residual branches and inside the MLP (default 0). */
  dropout?: number;
  /** Dropout on the attention probabilities (default 0). */
  attentionDropout?: number;
  /** 'learned' (ViT, default) or 'sincos2d' (fixed, MAE). */
  positions?: 'learned' | 'sincos2d';
  /** Prepend a class token and classify its row (default true), or classify the mean of the tokens. */
  classToken?: boolean;
  /** LayerNorm epsilon (torchvision: 1e-6). */
  layerNormEps?: number;
  /** Seed of the initial weights and the dropout masks (default 0). */
  seed?: number;
  /**
   * A convolutional stem instead of the patchify stem (models/conv-stem.ts; torchvision's conv_stem_configs,
   * without BatchNorm); its strides multiply to patchSize. Default none.
   */
  convStem?: readonly ConvStemLayer[];
}

export type ResolvedViTConfig = Required<Omit<ViTConfig, 'imageSize'>> & { imageSize: [number, number] };

/** Weights from `init` copied into `p` (initialization after construction; not recorded by autograd). */
export function overwrite(p: Tensor, init: Tensor): void {
  noGrad(() => copyInto(p, init));
  init.dispose();
}

export const invalid = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', message);
};

/** Independent seeds for submodules and initial values (FNV-1a over the salt). */
export function seedFor(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export function resolveViTConfig(config: ViTConfig): ResolvedViTConfig {
  const size = config.imageSize;
  const imageSize: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  const cfg: ResolvedViTConfig = {
    channels: 3,
    dropout: 0,
    attentionDropout: 0,
    positions: 'learned',
    classToken: true,
    layerNormEps: 1e-6,
    seed: 0,
    convStem: [],
    ...config,
    imageSize,
  };
  const ints = [
    'patchSize',
    'channels',
    'numLayers',
    'numHeads',
    'hiddenDim',
    'mlpDim',
    'numClasses',
  ] as const;
  for (const key of ints) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1)
      invalid(`VisionTransformer: config.${key} must be a positive integer, got ${cfg[key]}`);
  }
  const stem = resolveStemLayers(cfg.convStem);
  cfg.convStem = stem;
  const stride = stem.reduce((s, l) => s * l.stride, 1);
  if (stem.length > 0 && stride !== cfg.patchSize) {
    invalid(
      `VisionTransformer: config.convStem's strides multiply to ${stride}; they must make patchSize ${cfg.patchSize}`,
    );
  }
  // a stem pads each convolution, so it takes any size (28 -> 14 -> 7 -> 4); patchify needs multiples
  const fits = (s: number) => stem.length > 0 || s % cfg.patchSize === 0;
  if (!imageSize.every((s) => Number.isInteger(s) && s > 0 && fits(s))) {
    invalid(
      `VisionTransformer: config.imageSize ${JSON.stringify(size)} must be positive multiples of patchSize ${cfg.patchSize}`,
    );
  }
  if (cfg.hiddenDim % cfg.numHeads !== 0)
    invalid(
      `VisionTransformer: config.hiddenDim ${cfg.hiddenDim} must be a multiple of numHeads ${cfg.numHeads}`,
    );
  if (cfg.positions !== 'learned' && cfg.positions !== 'sincos2d')
    invalid(
      `VisionTransformer: config.positions must be 'learned' or 'sincos2d', got ${JSON.stringify(cfg.positions)}`,
    );
  if (cfg.positions === 'sincos2d' && cfg.hiddenDim % 4 !== 0)
    invalid(
      `VisionTransformer: config.hiddenDim ${cfg.hiddenDim} must be a multiple of 4 for 'sincos2d' positions`,
    );
  for (const key of ['dropout', 'attentionDropout'] as const) {
    if (!(cfg[key] >= 0 && cfg[key] < 1))
      invalid(`VisionTransformer: config.${key} must be in [0, 1), got ${cfg[key]}`);
  }
  return cfg;
}
