/**
 * ViT: the Vision Transformer (Dosovitskiy et al. 2021) in one file, with torchvision's layout and state-dict
 * names (`torchvision.models.vision_transformer.VisionTransformer`, 0.14), so its checkpoints load as they are:
 *
 *   images [B, C, H, W] -> conv_proj (patchify, models/patch-embedding.ts,         [B, N, D], N = gh·gw
 *                          or a convolutional stem, models/conv-stem.ts)
 *     -> [class_token; tokens] + encoder.pos_embedding -> dropout                 [B, T, D], T = N + 1
 *     -> encoder.layers.encoder_layer_i (pre-norm, Xiong et al. 2020):
 *          x = x + dropout(self_attention(ln_1(x)));   x = x + mlp(ln_2(x))
 *          mlp = 0: Linear(D, mlpDim), 1: GELU (erf), 2: Dropout, 3: Linear(mlpDim, D), 4: Dropout
 *     -> encoder.ln -> the class token's row -> heads.head                        logits [B, numClasses]
 *
 *   class_token [1, 1, D]                  encoder.pos_embedding [1, T, D]
 *   conv_proj.weight [D, C, p, p], .bias   encoder.layers.encoder_layer_i.self_attention.in_proj_weight [3D, D],
 *   encoder.ln.*, heads.head.* [K, D]        .in_proj_bias [3D], .out_proj.*; .ln_1.*, .ln_2.*, .mlp.0.*, .mlp.3.*
 *
 * Beyond torchvision: `channels` other than 3, [h, w] images, `positions: 'sincos2d'` (MAE's fixed 2-D sin-cos
 * table, He et al. 2022, kept as a buffer under the same name so the file still loads in torchvision), and
 * `classToken: false`: no class token, the mean of the tokens after `encoder.ln` goes to the head (global
 * average pooling, big_vision's `pool_type='gap'`).
 */
import {
  add,
  concat,
  type Device,
  gelu,
  MultiheadError,
  mean,
  nn,
  noGrad,
  rand,
  randn,
  type Tensor,
  tidy,
} from '@multihead/core';
import { ConvStem } from './conv-stem.js';
import { PatchEmbedding } from './patch-embedding.js';
import { type AttentionMap, attentionRollout, type RolloutGrid } from './rollout.js';
import {
  invalid,
  overwrite,
  type ResolvedViTConfig,
  resolveViTConfig,
  seedFor,
  type ViTConfig,
} from './vit-config.js';

export interface ViTForwardDetailed {
  /** Return the per-head attention probabilities of every layer (true) or of the listed layers (default none). */
  attentionWeights?: boolean | readonly number[];
}

export interface ViTOutputs {
  /** [B, numClasses] */
  logits: Tensor;
  /**
   * One entry per layer: [B, H, T, T] probabilities (rows sum to 1; taken before attention dropout), or null
   * for a layer not asked for. Not differentiable.
   */
  attentions: (Tensor | null)[];
}

/** torchvision's MLPBlock: children `0` (Linear), `2` (Dropout), `3` (Linear), `4` (Dropout); GELU at `1`. */
class MLPBlock extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  private readonly drop1: nn.Dropout;
  private readonly drop2: nn.Dropout;

  constructor(device: Device, cfg: ResolvedViTConfig, seed: number) {
    super(device);
    const { hiddenDim: D, mlpDim: M } = cfg;
    const linear = (name: string, a: number, b: number) => {
      const layer = this.registerModule(name, new nn.Linear(device, a, b, { seed: seedFor(seed, name) }));
      // torchvision: xavier_uniform_ weights, biases N(0, 1e-6)
      const bound = Math.sqrt(6 / (a + b));
      overwrite(
        layer.weight,
        rand(device, [b, a], { seed: seedFor(seed, `${name}.w`), low: -bound, high: bound }),
      );
      overwrite(layer.bias!, randn(device, [b], { seed: seedFor(seed, `${name}.b`), std: 1e-6 }));
      return layer;
    };
    const dropout = (name: string) =>
      this.registerModule(name, new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, name) }));
    this.fc1 = linear('0', D, M);
    this.drop1 = dropout('2');
    this.fc2 = linear('3', M, D);
    this.drop2 = dropout('4');
  }

  /** [B, T, D] -> [B, T, D] */
  forward(x: Tensor): Tensor {
    return tidy(() => this.drop2.forward(this.fc2.forward(this.drop1.forward(gelu(this.fc1.forward(x))))));
  }
}

/** torchvision's EncoderBlock (pre-norm): ln_1, self_attention, dropout, ln_2, mlp. */
class EncoderBlock extends nn.Module {
  readonly ln_1: nn.LayerNorm;
  readonly self_attention: nn.MultiHeadAttention;
  readonly ln_2: nn.LayerNorm;
  readonly mlp: MLPBlock;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, cfg: ResolvedViTConfig, seed: number) {
    super(device);
    const norm = () => new nn.LayerNorm(device, cfg.hiddenDim, { eps: cfg.layerNormEps });
    this.ln_1 = this.registerModule('ln_1', norm());
    this.self_attention = this.registerModule(
      'self_attention',
      new nn.MultiHeadAttention(device, {
        embedDim: cfg.hiddenDim,
        numHeads: cfg.numHeads,
        batchFirst: true,
        dropout: cfg.attentionDropout,
        seed: seedFor(seed, 'self_attention'),
      }),
    );
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'dropout') }),
    );
    this.ln_2 = this.registerModule('ln_2', norm());
    this.mlp = this.registerModule('mlp', new MLPBlock(device, cfg, seedFor(seed, 'mlp')));
  }

  /** x [B, T, D] -> [B, T, D], and the per-head probabilities [B, H, T, T] when `weights` is set. */
  forward(x: Tensor, weights: boolean): { y: Tensor; weights: Tensor | null } {
    return tidy(() => {
      const h = this.ln_1.forward(x);
      // per-head maps come from the same fused pass (recomputed from its log-sum-exp), as GPT.forwardDetailed
      const [a, w] = this.self_attention.forward(h, h, h, {
        needWeights: weights,
        averageAttnWeights: false,
      });
      const r = add(x, this.dropout.forward(a));
      return { y: add(r, this.mlp.forward(this.ln_2.forward(r))), weights: w };
    });
  }
}

/** `encoder.layers`: a torchvision nn.Sequential whose children are named `encoder_layer_<i>`. */
class EncoderLayers extends nn.Module {
  readonly blocks: EncoderBlock[];

  constructor(device: Device, cfg: ResolvedViTConfig, seed: number) {
    super(device);
    this.blocks = Array.from({ length: cfg.numLayers }, (_, i) =>
      this.registerModule(`encoder_layer_${i}`, new EncoderBlock(device, cfg, seedFor(seed, `layer${i}`))),
    );
  }
}

/** torchvision's Encoder: pos_embedding, dropout, layers, ln. */
class Encoder extends nn.Module {
  readonly layers: EncoderLayers;
  readonly ln: nn.LayerNorm;
  /** [1, T, D]: a parameter ('learned') or a buffer ('sincos2d'). */
  readonly posEmbedding: Tensor;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, cfg: ResolvedViTConfig, grid: RolloutGrid, seed: number) {
    super(device);
    const [gh, gw] = grid;
    const D = cfg.hiddenDim;
    const tokens = gh * gw + (cfg.classToken ? 1 : 0);
    if (cfg.positions === 'learned') {
      // torchvision (after BERT): N(0, 0.02)
      this.posEmbedding = this.registerParameter(
        'pos_embedding',
        randn(device, [1, tokens, D], { seed: seedFor(seed, 'pos'), std: 0.02 }),
      );
    } else {
      // MAE: fixed, not trained; a persistent buffer, so the state dict still has torchvision's key
      const table = nn.sinCos2d(device, gh, gw, D, { clsToken: cfg.classToken }); // [T, D]
      this.posEmbedding = this.registerBuffer('pos_embedding', table.reshape([1, tokens, D]));
      table.dispose();
    }
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'dropout') }),
    );
    this.layers = this.registerModule('layers', new EncoderLayers(device, cfg, seedFor(seed, 'layers')));
    this.ln = this.registerModule('ln', new nn.LayerNorm(device, D, { eps: cfg.layerNormEps }));
  }

  /**
   * tokens [B, T, D] -> positions, dropout, the layers, ln -> [B, T, D], and the per-head attention
   * probabilities of the layers in `wanted`.
   */
  forward(tokens: Tensor, wanted: ReadonlySet<number>): { hidden: Tensor; attentions: (Tensor | null)[] } {
    return tidy(() => {
      let x = this.dropout.forward(add(tokens, this.posEmbedding)); // + [1, T, D]
      const attentions = this.layers.blocks.map((block, i) => {
        const r = block.forward(x, wanted.has(i));
        x = r.y;
        return r.weights;
      });
      return { hidden: this.ln.forward(x), attentions };
    });
  }
}

/** `heads`: a torchvision nn.Sequential holding `head`. */
class Heads extends nn.Module {
  readonly head: nn.Linear;

  constructor(device: Device, cfg: ResolvedViTConfig, seed: number) {
    super(device);
    this.head = this.registerModule('head', new nn.Linear(device, cfg.hiddenDim, cfg.numClasses, { seed }));
    // torchvision: zeros_ on the head's weight and bias
    overwrite(this.head.weight, device.zeros(this.head.weight.shape));
    overwrite(this.head.bias!, device.zeros([cfg.numClasses]));
  }
}

export class VisionTransformer extends nn.Module {
  readonly config: ResolvedViTConfig;
  /** The patch grid [gh, gw]. */
  readonly grid: RolloutGrid;
  /** The patchify stem, or a convolutional one (config.convStem). */
  readonly conv_proj: PatchEmbedding | ConvStem;
  readonly encoder: Encoder;
  readonly heads: Heads;

  constructor(device: Device, config: ViTConfig) {
    super(device);
    const cfg = resolveViTConfig(config);
    this.config = cfg;
    // torchvision: zeros
    if (cfg.classToken) this.registerParameter('class_token', device.zeros([1, 1, cfg.hiddenDim]));
    const stem = { channels: cfg.channels, hiddenDim: cfg.hiddenDim, seed: seedFor(cfg.seed, 'conv_proj') };
    this.conv_proj = this.registerModule(
      'conv_proj',
      cfg.convStem.length > 0
        ? new ConvStem(device, { ...stem, layers: cfg.convStem })
        : new PatchEmbedding(device, { ...stem, patchSize: cfg.patchSize }),
    );
    this.grid = this.conv_proj.grid(...cfg.imageSize);
    this.encoder = this.registerModule(
      'encoder',
      new Encoder(device, cfg, this.grid, seedFor(cfg.seed, 'encoder')),
    );
    this.heads = this.registerModule('heads', new Heads(device, cfg, seedFor(cfg.seed, 'heads')));
  }

  /** images [B, C, H, W] f32 -> logits [B, numClasses]. */
  forward(images: Tensor): Tensor {
    return tidy(() => this.forwardDetailed(images).logits);
  }

  /** As forward, and on request the per-head attention probabilities of each layer. */
  forwardDetailed(images: Tensor, opts: ViTForwardDetailed = {}): ViTOutputs {
    const wanted = this.attentionLayers(opts.attentionWeights);
    return tidy(() => {
      const { hidden, attentions } = this.run(images, wanted);
      return { logits: this.heads.head.forward(this.pool(hidden)), attentions };
    });
  }

  /** The encoder's output after `encoder.ln`: [B, T, D] (T = gh·gw, plus 1 first for the class token). */
  encode(images: Tensor): Tensor {
    return tidy(() => this.run(images, new Set()).hidden);
  }

  /**
   * Attention rollout (Abnar & Zuidema 2020, models/rollout.ts) of every image: [B, gh, gw], from one forward
   * pass with every layer's maps.
   */
  async attentionRollout(images: Tensor): Promise<{ data: Float32Array; shape: [number, number, number] }> {
    const { logits, attentions } = noGrad(() => this.forwardDetailed(images, { attentionWeights: true }));
    logits.dispose();
    const maps: AttentionMap[] = [];
    for (const t of attentions) {
      maps.push({ data: (await t!.read()) as Float32Array, shape: t!.shape });
      t!.dispose();
    }
    return attentionRollout(maps, this.grid);
  }

  /** The vector the head classifies: the class token's row, or the mean over tokens (global average pooling). */
  private pool(hidden: Tensor): Tensor {
    return this.config.classToken ? hidden.slice(1, 0, 1).squeeze(1) : mean(hidden, 1);
  }

  private run(
    images: Tensor,
    wanted: ReadonlySet<number>,
  ): { hidden: Tensor; attentions: (Tensor | null)[] } {
    const { channels, imageSize, hiddenDim: D } = this.config;
    const [H, W] = imageSize;
    if (images.rank !== 4 || images.shape[1] !== channels || images.shape[2] !== H || images.shape[3] !== W) {
      throw new MultiheadError(
        'SHAPE_MISMATCH',
        `VisionTransformer: images are [${images.shape.join(', ')}]; expected [B, ${channels}, ${H}, ${W}] (config.channels, config.imageSize)`,
      );
    }
    const B = images.shape[0]!;
    let x = this.conv_proj.forward(images); // [B, N, D]
    if (this.config.classToken) x = concat([this.param('class_token')!.expand([B, 1, D]), x], 1); // [B, T, D]
    return this.encoder.forward(x, wanted);
  }

  private attentionLayers(which: ViTForwardDetailed['attentionWeights']): Set<number> {
    const n = this.config.numLayers;
    if (which === undefined || which === false) return new Set();
    if (which === true) return new Set(Array.from({ length: n }, (_, i) => i));
    if (!Array.isArray(which) || which.some((l) => !Number.isInteger(l) || l < 0 || l >= n)) {
      invalid(
        `VisionTransformer.forwardDetailed: attentionWeights must be a boolean or layer indices in [0, ${n}), got ${JSON.stringify(which)}`,
      );
    }
    return new Set(which);
  }
}
