/**
 * A decoder over performance events with relative-position attention, in one file (config, block,
 * forward, caches). Music Transformer (Huang et al. 2018) showed that music wants attention that knows
 * how far back a key is rather than where it is; here every layer adds a learned per-head bias of the
 * query-key distance to the scores: T5's bucketed relative bias (Raffel et al. 2020; core's
 * `nn.RelativePositionBias`, unidirectional: exact distances up to numBuckets / 2, log-spaced buckets up
 * to maxDistance), passed to the fused kernel as `bias` (its backward gives the bias's gradient). There
 * are no absolute positions, so a window may slide past blockSize with the same meaning.
 * docs/decisions.md, "Audio tasks", says why this rather than ALiBi or models.GPT.
 *
 * Layout and names follow nanoGPT where they can (GPT-2 pre-norm blocks, tied head):
 *   wte.weight [V, C]                         token embedding = lm_head.weight (tied)
 *   h.N.ln_1, h.N.ln_2, ln_f                  LayerNorms
 *   h.N.attn.c_attn [3C, C], h.N.attn.c_proj  packed q, k, v; output projection
 *   h.N.attn.relative_position.relative_attention_bias.weight [numBuckets, H]
 *   h.N.mlp.c_fc [4C, C], h.N.mlp.c_proj      GELU (tanh) MLP
 */
import {
  add,
  attention,
  copyInto,
  type Device,
  gelu,
  KVCache,
  MultiheadError,
  mul,
  nn,
  noGrad,
  type Tensor,
  tidy,
} from '@multihead/core';

export interface MusicTransformerConfig {
  vocabSize: number;
  /** Positions a forward pass (and a cache) holds; generation slides a window past it. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Width C (a multiple of nHead). */
  nEmbd: number;
  /** Dropout on embeddings, attention probabilities and residual branches (default 0.1). */
  dropout?: number;
  /** Relative-distance buckets per layer (default 32). */
  numBuckets?: number;
  /** Distances at or past this share the last bucket (default blockSize). */
  maxDistance?: number;
  /** Seed of the initial weights and dropout masks (default 0). */
  seed?: number;
}

export type ResolvedMusicConfig = Required<MusicTransformerConfig>;

const invalid = (message: string): never => {
  throw new MultiheadError('INVALID_ARGUMENT', `MusicTransformer: ${message}`);
};

function resolve(config: MusicTransformerConfig): ResolvedMusicConfig {
  const cfg = { dropout: 0.1, numBuckets: 32, maxDistance: config.blockSize, seed: 0, ...config };
  for (const key of [
    'vocabSize',
    'blockSize',
    'nLayer',
    'nHead',
    'nEmbd',
    'numBuckets',
    'maxDistance',
  ] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1)
      invalid(`config.${key} is ${cfg[key]}; expected an integer >= 1`);
  }
  if (cfg.nEmbd % cfg.nHead !== 0)
    invalid(`config.nEmbd ${cfg.nEmbd} is not a multiple of nHead ${cfg.nHead}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) invalid(`config.dropout is ${cfg.dropout}; expected [0, 1)`);
  return cfg;
}

function seedFor(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

class RelativeSelfAttention extends nn.Module {
  readonly c_attn: nn.Linear;
  readonly c_proj: nn.Linear;
  readonly relative_position: nn.RelativePositionBias;
  private readonly residDropout: nn.Dropout;
  private calls = 0;

  constructor(
    device: Device,
    private readonly cfg: ResolvedMusicConfig,
    private readonly seed: number,
  ) {
    super(device);
    const C = cfg.nEmbd;
    this.c_attn = this.registerModule(
      'c_attn',
      new nn.Linear(device, C, 3 * C, { seed: seedFor(seed, 'c_attn') }),
    );
    this.c_proj = this.registerModule(
      'c_proj',
      new nn.Linear(device, C, C, { seed: seedFor(seed, 'c_proj') }),
    );
    this.relative_position = this.registerModule(
      'relative_position',
      new nn.RelativePositionBias(device, {
        numHeads: cfg.nHead,
        numBuckets: cfg.numBuckets,
        maxDistance: cfg.maxDistance,
        bidirectional: false,
        seed: seedFor(seed, 'relative'),
      }),
    );
    // start from plain attention: the bias is learned from zero rather than from N(0, 1) noise
    const table = this.relative_position.relativeAttentionBias.weight;
    noGrad(() => copyInto(table, device.zeros(table.shape)));
    this.residDropout = this.registerModule(
      'resid_dropout',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'drop') }),
    );
  }

  /** x [B, T, C] -> [B, T, C] (and [B, H, T, Tk] probabilities when asked); a cache holds earlier keys. */
  forward(x: Tensor, cache: KVCache | undefined, weights: boolean): { y: Tensor; weights: Tensor | null } {
    const [B, T, C] = x.shape as [number, number, number];
    const H = this.cfg.nHead;
    const qkv = this.c_attn
      .forward(x)
      .reshape([B, T, 3, H, C / H])
      .permute([2, 0, 3, 1, 4]); // [3, B, H, T, hd]
    const q = qkv.slice(0, 0, 1).squeeze(0);
    let k = qkv.slice(0, 1, 2).squeeze(0);
    let v = qkv.slice(0, 2, 3).squeeze(0);
    if (cache) {
      noGrad(() => cache.append(k, v));
      ({ k, v } = cache.view()); // [B, H, cached + T, hd]
    }
    const Tk = k.shape[2]!;
    // query i sits at key position i + Tk - T: bottom-right causal alignment and the bias's offset agree
    const bias = this.relative_position.forward(T, Tk, { offset: Tk - T }); // [1, H, T, Tk]
    const p = this.training ? this.cfg.dropout : 0;
    const opts = {
      causal: 'bottom-right' as const,
      bias,
      ...(p > 0 ? { dropout: { p, seed: seedFor(this.seed, `call${this.calls++}`) } } : {}),
    };
    let y: Tensor;
    let probs: Tensor | null = null;
    if (weights) {
      const r = attention.detailed(q, k, v, { ...opts, weights: true });
      r.lse.dispose();
      [y, probs] = [r.out, r.weights];
    } else {
      y = attention(q, k, v, opts);
    }
    const merged = y.transpose(1, 2).reshape([B, T, C]); // [B, H, T, hd] -> [B, T, C]
    return { y: this.residDropout.forward(this.c_proj.forward(merged)), weights: probs };
  }
}

class MLP extends nn.Module {
  readonly c_fc: nn.Linear;
  readonly c_proj: nn.Linear;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, cfg: ResolvedMusicConfig, seed: number) {
    super(device);
    const C = cfg.nEmbd;
    this.c_fc = this.registerModule('c_fc', new nn.Linear(device, C, 4 * C, { seed: seedFor(seed, 'c_fc') }));
    this.c_proj = this.registerModule(
      'c_proj',
      new nn.Linear(device, 4 * C, C, { seed: seedFor(seed, 'c_proj') }),
    );
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'drop') }),
    );
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(gelu(this.c_fc.forward(x), { approximate: 'tanh' })));
  }
}

class Block extends nn.Module {
  readonly ln_1: nn.LayerNorm;
  readonly attn: RelativeSelfAttention;
  readonly ln_2: nn.LayerNorm;
  readonly mlp: MLP;

  constructor(device: Device, cfg: ResolvedMusicConfig, seed: number) {
    super(device);
    this.ln_1 = this.registerModule('ln_1', new nn.LayerNorm(device, cfg.nEmbd));
    this.attn = this.registerModule('attn', new RelativeSelfAttention(device, cfg, seedFor(seed, 'attn')));
    this.ln_2 = this.registerModule('ln_2', new nn.LayerNorm(device, cfg.nEmbd));
    this.mlp = this.registerModule('mlp', new MLP(device, cfg, seedFor(seed, 'mlp')));
  }

  /** Pre-norm (GPT-2): x + attn(ln_1(x)), then + mlp(ln_2(x)). */
  forward(x: Tensor, cache: KVCache | undefined, weights: boolean): { y: Tensor; weights: Tensor | null } {
    const a = this.attn.forward(this.ln_1.forward(x), cache, weights);
    const r = add(x, a.y);
    return { y: add(r, this.mlp.forward(this.ln_2.forward(r))), weights: a.weights };
  }
}

export class MusicTransformer extends nn.Module {
  readonly config: ResolvedMusicConfig;
  readonly wte: nn.Embedding;
  readonly h: nn.ModuleList<Block>;
  readonly ln_f: nn.LayerNorm;
  readonly lm_head: nn.Linear;
  private readonly drop: nn.Dropout;

  constructor(device: Device, config: MusicTransformerConfig) {
    super(device);
    const cfg = resolve(config);
    this.config = cfg;
    const { seed } = cfg;
    this.wte = this.registerModule(
      'wte',
      new nn.Embedding(device, cfg.vocabSize, cfg.nEmbd, { seed: seedFor(seed, 'wte') }),
    );
    // GPT-2: embeddings N(0, 0.02) rather than N(0, 1)
    noGrad(() => {
      const scaled = mul(this.wte.weight, 0.02);
      copyInto(this.wte.weight, scaled);
      scaled.dispose();
    });
    this.drop = this.registerModule(
      'drop',
      new nn.Dropout(device, cfg.dropout, { seed: seedFor(seed, 'drop') }),
    );
    const blocks = Array.from(
      { length: cfg.nLayer },
      (_, i) => new Block(device, cfg, seedFor(seed, `h${i}`)),
    );
    this.h = this.registerModule('h', new nn.ModuleList(device, blocks));
    this.ln_f = this.registerModule('ln_f', new nn.LayerNorm(device, cfg.nEmbd));
    this.lm_head = this.registerModule(
      'lm_head',
      new nn.Linear(device, cfg.nEmbd, cfg.vocabSize, { bias: false, seed: seedFor(seed, 'lm_head') }),
    );
    nn.tieWeights(this.lm_head, this.wte); // Press & Wolf 2017
  }

  /** One KV cache per layer for incremental decoding (`models.stream` calls it). */
  createCaches(batch: number, maxLength = this.config.blockSize): KVCache[] {
    const { nLayer, nHead, nEmbd } = this.config;
    return Array.from(
      { length: nLayer },
      () => new KVCache(this.device, { batch, kvHeads: nHead, headDim: nEmbd / nHead, maxLength }),
    );
  }

  /** ids [B, T] (i32) -> logits [B, T, vocabSize]; with caches, T new tokens after the cached ones. */
  forward(ids: Tensor, opts: { caches?: readonly KVCache[] } = {}): Tensor {
    return this.forwardDetailed(ids, opts).logits;
  }

  /** As forward, and the [B, H, T, Tk] attention probabilities of the layers asked for (null for others). */
  forwardDetailed(
    ids: Tensor,
    opts: { caches?: readonly KVCache[]; attentionWeights?: boolean | readonly number[] } = {},
  ): { logits: Tensor; attentions: (Tensor | null)[] } {
    const { nLayer, blockSize } = this.config;
    if (ids.rank !== 2 || ids.dtype !== 'i32') {
      invalid(`ids have shape [${ids.shape.join(', ')}] and dtype ${ids.dtype}; expected [batch, T] i32`);
    }
    const T = ids.shape[1]!;
    const cached = opts.caches?.[0]?.length ?? 0;
    if (T + cached > blockSize)
      invalid(`${cached} cached + ${T} new positions exceed blockSize ${blockSize}`);
    if (opts.caches && opts.caches.length !== nLayer)
      invalid(`got ${opts.caches.length} caches; expected ${nLayer}`);
    const wanted = opts.attentionWeights;
    const asked = (i: number) => wanted === true || (Array.isArray(wanted) && wanted.includes(i));
    return tidy(() => {
      let x = this.drop.forward(nn.embedding(this.wte.weight, ids)); // [B, T, C]
      const attentions: (Tensor | null)[] = [];
      [...this.h].forEach((block, i) => {
        const r = block.forward(x, opts.caches?.[i], asked(i));
        attentions.push(r.weights);
        x = r.y;
      });
      return { logits: this.lm_head.forward(this.ln_f.forward(x)), attentions }; // [B, T, V]
    });
  }
}
