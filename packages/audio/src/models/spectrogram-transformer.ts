/**
 * A spectrogram transformer for clip classification, in one file: log-mel frames in, class logits out.
 * Tokens are short runs of whole frames (`frameStride` frames x all mel bins, as Whisper's stride-2 front
 * end), not AST's time x frequency patches (Gong et al. 2021): a spoken word is a sequence in time whose
 * every frequency belongs to one sound, and AST's patch grid needs far more data than a few thousand clips
 * (it starts from ImageNet weights). docs/decisions.md, "Audio tasks", has the comparison.
 *
 *   features [B, F, M] (time-first log-mel, M values a frame) -> [B, T, S·M], T = F / S tokens of S = frameStride frames
 *     -> frame_proj (Linear S·M -> D) + pos_embedding [1, maxTokens, D] -> dropout           [B, T, D]
 *     -> encoder: nn.TransformerEncoder (pre-norm, GELU, final norm; PyTorch names)         [B, T, D]
 *     -> mean over tokens -> head (Linear D -> K)                                          [B, K]
 *
 *   frame_proj.weight [D, S·M], .bias    pos_embedding [1, maxTokens, D]
 *   encoder.layers.N.{self_attn.in_proj_*, self_attn.out_proj.*, linear1.*, linear2.*, norm1.*, norm2.*}
 *   encoder.norm.*                       head.weight [K, D], .bias
 */
import { add, type Device, MultiheadError, mean, nn, randn, type Tensor, tidy } from '@multihead/core';

export interface SpectrogramTransformerConfig {
  /** Values per frame: mel bins (or twice that with a second, normalized copy of each bin). */
  frameFeatures: number;
  /** Frames of the longest input (a fixed window: 100 frames of 10 ms = 1 s). */
  maxFrames: number;
  /** Frames per token (maxFrames must be a multiple). */
  frameStride: number;
  dModel: number;
  nHead: number;
  nLayer: number;
  dimFeedforward: number;
  /** Dropout on the token embeddings, attention and residual branches (default 0.1). */
  dropout?: number;
  numClasses: number;
  /** Seed of the initial weights and dropout masks (default 0). */
  seed?: number;
}

export interface SpectrogramForwardDetailed {
  /** The per-head attention probabilities of every layer (true) or of the listed layers (default none). */
  attentionWeights?: boolean | readonly number[];
}

const invalid = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', `SpectrogramTransformer: ${message}`);
};

function checkConfig(cfg: SpectrogramTransformerConfig): void {
  for (const key of [
    'frameFeatures',
    'maxFrames',
    'frameStride',
    'dModel',
    'nHead',
    'nLayer',
    'dimFeedforward',
    'numClasses',
  ] as const) {
    const value = cfg[key];
    if (!Number.isInteger(value) || value < 1) invalid(`config.${key} is ${value}; expected an integer >= 1`);
  }
  if (cfg.maxFrames % cfg.frameStride !== 0) {
    invalid(`config.maxFrames ${cfg.maxFrames} is not a multiple of frameStride ${cfg.frameStride}`);
  }
  if (cfg.dModel % cfg.nHead !== 0)
    invalid(`config.dModel ${cfg.dModel} is not a multiple of nHead ${cfg.nHead}`);
}

/** Seeds of the submodules, from the model's seed and a name (FNV-1a, as the vision package's seedFor). */
function seedFor(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export class SpectrogramTransformer extends nn.Module {
  readonly config: Required<SpectrogramTransformerConfig>;
  readonly frame_proj: nn.Linear;
  readonly pos_embedding: Tensor;
  readonly encoder: nn.TransformerEncoder;
  readonly head: nn.Linear;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, config: SpectrogramTransformerConfig) {
    super(device);
    checkConfig(config);
    const seed = config.seed ?? 0;
    const cfg = { dropout: 0.1, ...config, seed };
    if (!(cfg.dropout >= 0 && cfg.dropout < 1)) invalid(`config.dropout is ${cfg.dropout}; expected [0, 1)`);
    this.config = cfg;
    const { dModel: D, frameFeatures, frameStride } = cfg;
    this.frame_proj = this.registerModule(
      'frame_proj',
      new nn.Linear(device, frameStride * frameFeatures, D, { seed: seedFor(seed, 'frame_proj') }),
    );
    // BERT / ViT: learned positions drawn from N(0, 0.02)
    this.pos_embedding = this.registerParameter(
      'pos_embedding',
      randn(device, [1, this.maxTokens, D], { seed: seedFor(seed, 'pos'), std: 0.02 }),
    );
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'dropout') }),
    );
    this.encoder = this.registerModule(
      'encoder',
      new nn.TransformerEncoder(
        device,
        {
          dModel: D,
          nHead: cfg.nHead,
          dimFeedforward: cfg.dimFeedforward,
          dropout: cfg.dropout,
          activation: 'gelu',
          batchFirst: true,
          normFirst: true,
          seed: seedFor(seed, 'encoder'),
        },
        cfg.nLayer,
        { norm: true },
      ),
    );
    this.head = this.registerModule(
      'head',
      new nn.Linear(device, D, cfg.numClasses, { seed: seedFor(seed, 'head') }),
    );
  }

  get maxTokens(): number {
    return this.config.maxFrames / this.config.frameStride;
  }

  /** features [B, F, frameFeatures] -> logits [B, numClasses]. */
  forward(features: Tensor): Tensor {
    return this.forwardDetailed(features).logits;
  }

  /** As forward, with the per-head attention probabilities [B, H, T, T] of the layers asked for. */
  forwardDetailed(
    features: Tensor,
    opts: SpectrogramForwardDetailed = {},
  ): { logits: Tensor; attentions: (Tensor | null)[] } {
    const { frameFeatures, frameStride, nLayer } = this.config;
    const [B, F, M] = features.shape as [number, number, number];
    if (
      features.rank !== 3 ||
      M !== frameFeatures ||
      F % frameStride !== 0 ||
      F < frameStride ||
      F > this.config.maxFrames
    ) {
      invalid(
        `features have shape [${features.shape.join(', ')}]; expected [batch, frames, ${frameFeatures}] with frames a multiple of ${frameStride} up to ${this.config.maxFrames}`,
      );
    }
    const which =
      opts.attentionWeights === true
        ? Array.from({ length: nLayer }, (_, i) => i)
        : opts.attentionWeights === false || opts.attentionWeights === undefined
          ? []
          : [...opts.attentionWeights];
    return tidy(() => {
      const T = F / frameStride;
      const tokens = features.contiguous().reshape([B, T, frameStride * M]); // [B, T, S·M]
      const positions = T === this.maxTokens ? this.pos_embedding : this.pos_embedding.slice(1, 0, T);
      const x = this.dropout.forward(add(this.frame_proj.forward(tokens), positions)); // [B, T, D]
      const { out, attentions } = this.encoder.forwardDetailed(x, { attentionWeights: which });
      return { logits: this.head.forward(mean(out, 1)), attentions }; // mean pooling: [B, D] -> [B, K]
    });
  }
}
