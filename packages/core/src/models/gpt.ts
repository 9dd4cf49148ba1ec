/**
 * GPT: a decoder-only transformer (Radford et al. 2018, 2019) in one file, with nanoGPT's layout and
 * parameter names, so nanoGPT checkpoints (torch `state_dict`, saved as safetensors) load as they are:
 *
 *   transformer.wte.weight [V, C]          token embedding (tied to lm_head.weight, Press & Wolf 2017)
 *   transformer.wpe.weight [T, C]          learned positions (absent with positions: 'rope')
 *   transformer.h.N.ln_1 / ln_2            pre-norm LayerNorms (Xiong et al. 2020)
 *   transformer.h.N.attn.c_attn [3C, C]    packed q, k, v projection; attn.c_proj [C, C]
 *   transformer.h.N.mlp.c_fc [4C, C]       GELU MLP; mlp.c_proj [C, 4C]
 *   transformer.ln_f, lm_head.weight [V, C]
 *
 * Attention runs on the fused kernel (causal, no T x T buffer) and takes a KV cache per layer for
 * incremental decoding. Modality-agnostic: token ids in, logits out; tokenizers live in the modality
 * packages.
 */

import { noGrad } from '../autograd/engine.js';
import { add, attention, gelu } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { Module, ModuleList, tieWeights } from '../nn/module.js';
import { applyRope } from '../nn/positional.js';
import { KVCache } from '../ops/attention/kv-cache.js';
import { type NeighborhoodOptions, resolveNeighborhood } from '../ops/attention/neighborhood.js';
import { copyInto } from '../ops/elementwise.js';
import { randn } from '../ops/random.js';
import { mixSeed, nextSeed } from '../seeded.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';

export interface GPTConfig {
  vocabSize: number;
  /** Longest sequence (context length) the model handles. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Embedding width C (a multiple of nHead). */
  nEmbd: number;
  /** Dropout on embeddings, attention probabilities and residual branches (default 0). */
  dropout?: number;
  /** Biases in Linear layers and LayerNorms (default true, as GPT-2). */
  bias?: boolean;
  /** 'learned' (GPT-2, default) or 'rope' (rotary, Su et al. 2021, rotate-half layout) positions. */
  positions?: 'learned' | 'rope';
  /** Share lm_head.weight with transformer.wte.weight (default true). */
  tieWeights?: boolean;
  /**
   * Which keys each position attends to: full causal attention (default, `{}`), or a causal 2-D
   * neighbourhood over positions laid out on a grid in raster order (NATTEN; the Image Transformer's
   * local 2-D attention): `{ neighborhood: { grid: [rows, cols], kernel, dilation? } }`, rows·cols >=
   * blockSize. Causal in raster order always (see `NeighborhoodOptions.causal`).
   */
  attention?: GPTAttention;
  /** Seed of the initial weights (default: the next seed of nn's global generator). */
  seed?: number;
}

export interface GPTAttention {
  neighborhood?: Omit<NeighborhoodOptions, 'causal'>;
}

export interface GPTForward {
  /** One KV cache per layer (`gpt.createCaches`): keys and values of the new tokens are appended. */
  caches?: readonly KVCache[];
}

export interface GPTForwardDetailed extends GPTForward {
  /**
   * Return the attention probabilities of every layer (true) or of the listed layers, as Hugging Face's
   * `output_attentions`. They come from the same fused pass (recomputed from its log-sum-exp), so asking
   * costs one [B, H, T, Tk] tensor per layer and no second forward. Default: none.
   */
  attentionWeights?: boolean | readonly number[];
}

export interface GPTOutputs {
  /** [B, T, vocabSize] */
  logits: Tensor;
  /**
   * One entry per layer: [B, H, T, Tk] probabilities (Tk = cached + T keys; rows sum to 1, masked keys 0,
   * taken before attention dropout), or null for a layer not asked for. Not differentiable.
   */
  attentions: (Tensor | null)[];
}

/** A layer of the stack: forward, or forwardDetailed for its attention probabilities as well. */
abstract class GPTLayer extends Module {
  /** x [B, T, C] -> [B, T, C]; with a cache, attends to the cached positions too. */
  forward(x: Tensor, cache?: KVCache): Tensor {
    return this.forwardDetailed(x, cache, false).y;
  }

  /** As forward, and the attention probabilities [B, H, T, Tk] when `weights` is set. */
  abstract forwardDetailed(
    x: Tensor,
    cache: KVCache | undefined,
    weights: boolean,
  ): { y: Tensor; weights: Tensor | undefined };
}

/** The Linear layers of a block: the config's bias, each seeded by its own (nanoGPT) name. */
function blockLinear(device: Device, cfg: Required<Omit<GPTConfig, 'seed'>>, seed: number) {
  return (name: string, inFeatures: number, outFeatures: number) =>
    new Linear(device, inFeatures, outFeatures, { bias: cfg.bias, seed: mixSeed(seed, name) });
}

/** Multi-head causal self-attention with a packed q/k/v projection. */
class CausalSelfAttention extends GPTLayer {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  private readonly residDropout: Dropout;
  private readonly seed: number;
  private calls = 0;

  constructor(
    device: Device,
    private readonly cfg: Required<Omit<GPTConfig, 'seed'>>,
    seed: number,
  ) {
    super(device);
    const C = cfg.nEmbd;
    const linear = blockLinear(device, cfg, seed);
    this.c_attn = this.registerModule('c_attn', linear('c_attn', C, 3 * C));
    this.c_proj = this.registerModule('c_proj', linear('c_proj', C, C));
    this.residDropout = this.registerModule(
      'resid_dropout',
      new Dropout(device, cfg.dropout, { seed: mixSeed(seed, 'drop') }),
    );
    this.seed = seed;
  }

  override forwardDetailed(
    x: Tensor,
    cache: KVCache | undefined,
    weights: boolean,
  ): { y: Tensor; weights: Tensor | undefined } {
    const [B, T, C] = x.shape as [number, number, number];
    const H = this.cfg.nHead;
    const hd = C / H;
    const offset = cache?.position ?? 0;
    const qkv = this.c_attn.forward(x).reshape([B, T, 3, H, hd]).permute([2, 0, 3, 1, 4]); // [3, B, H, T, hd]
    let [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0)) as [Tensor, Tensor, Tensor];
    if (this.cfg.positions === 'rope') {
      q = applyRope(q, { offset });
      k = applyRope(k, { offset });
    }
    if (cache) {
      noGrad(() => cache.append(k, v));
      ({ k, v } = cache.view()); // [B, H, cached + T, hd]
    }
    const p = this.training ? this.cfg.dropout : 0;
    // bottom-right: the T new queries are the last T positions of the keys (top-left when nothing is
    // cached); a neighbourhood aligns them the same way (its queries are the last Nq of the Nk cells)
    const nb = this.cfg.attention.neighborhood;
    const opts = {
      ...(nb ? { neighborhood: { ...nb, causal: true } } : { causal: 'bottom-right' as const }),
      ...(p > 0 ? { dropout: { p, seed: mixSeed(this.seed, this.calls++) } } : {}),
    };
    let probs: Tensor | undefined;
    let y: Tensor;
    if (weights) {
      const r = attention.detailed(q, k, v, { ...opts, weights: true });
      r.lse.dispose();
      [y, probs] = [r.out, r.weights!];
    } else {
      y = attention(q, k, v, opts);
    }
    const merged = y.transpose(1, 2).reshape([B, T, C]); // [B, T, H, hd] -> [B, T, C]
    return { y: this.residDropout.forward(this.c_proj.forward(merged)), weights: probs };
  }
}

class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  private readonly dropout: Dropout;

  constructor(device: Device, cfg: Required<Omit<GPTConfig, 'seed'>>, seed: number) {
    super(device);
    const C = cfg.nEmbd;
    const linear = blockLinear(device, cfg, seed);
    this.c_fc = this.registerModule('c_fc', linear('c_fc', C, 4 * C));
    this.c_proj = this.registerModule('c_proj', linear('c_proj', 4 * C, C));
    this.dropout = this.registerModule(
      'dropout',
      new Dropout(device, cfg.dropout, { seed: mixSeed(seed, 'drop') }),
    );
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(gelu(this.c_fc.forward(x), { approximate: 'tanh' })));
  }
}

class Block extends GPTLayer {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(device: Device, cfg: Required<Omit<GPTConfig, 'seed'>>, seed: number) {
    super(device);
    const norm = () => new LayerNorm(device, cfg.nEmbd, { bias: cfg.bias });
    this.ln_1 = this.registerModule('ln_1', norm());
    this.attn = this.registerModule('attn', new CausalSelfAttention(device, cfg, mixSeed(seed, 'attn')));
    this.ln_2 = this.registerModule('ln_2', norm());
    this.mlp = this.registerModule('mlp', new MLP(device, cfg, mixSeed(seed, 'mlp')));
  }

  override forwardDetailed(
    x: Tensor,
    cache: KVCache | undefined,
    weights: boolean,
  ): { y: Tensor; weights: Tensor | undefined } {
    const a = this.attn.forwardDetailed(this.ln_1.forward(x), cache, weights);
    const h = add(x, a.y);
    return { y: add(h, this.mlp.forward(this.ln_2.forward(h))), weights: a.weights };
  }
}

/** The embeddings, blocks and final norm (`transformer.*` in nanoGPT's names). */
class Trunk extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding | null;
  readonly drop: Dropout;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm;

  constructor(device: Device, cfg: Required<Omit<GPTConfig, 'seed'>>, seed: number) {
    super(device);
    this.wte = this.registerModule(
      'wte',
      new Embedding(device, cfg.vocabSize, cfg.nEmbd, { seed: mixSeed(seed, 'wte') }),
    );
    this.wpe =
      cfg.positions === 'learned'
        ? this.registerModule(
            'wpe',
            new Embedding(device, cfg.blockSize, cfg.nEmbd, { seed: mixSeed(seed, 'wpe') }),
          )
        : null;
    this.drop = this.registerModule(
      'drop',
      new Dropout(device, cfg.dropout, { seed: mixSeed(seed, 'drop') }),
    );
    const blocks = Array.from(
      { length: cfg.nLayer },
      (_, i) => new Block(device, cfg, mixSeed(seed, `h${i}`)),
    );
    this.h = this.registerModule('h', new ModuleList(device, blocks));
    this.ln_f = this.registerModule('ln_f', new LayerNorm(device, cfg.nEmbd, { bias: cfg.bias }));
  }
}

export class GPT extends Module {
  readonly config: Required<Omit<GPTConfig, 'seed'>>;
  readonly transformer: Trunk;
  readonly lm_head: Linear;

  constructor(device: Device, config: GPTConfig) {
    super(device);
    const cfg = {
      dropout: 0,
      bias: true,
      positions: 'learned' as const,
      tieWeights: true,
      attention: {},
      ...config,
    };
    for (const key of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) {
      if (!Number.isInteger(cfg[key]) || cfg[key] < 1)
        fail('INVALID_ARGUMENT', `GPT: ${key} must be a positive integer, got ${cfg[key]}`);
    }
    if (cfg.nEmbd % cfg.nHead !== 0)
      fail('INVALID_ARGUMENT', `GPT: nEmbd ${cfg.nEmbd} must be a multiple of nHead ${cfg.nHead}`);
    const nb = cfg.attention.neighborhood;
    // every position up to blockSize must be a cell of the grid, and the window must fit it
    if (nb) resolveNeighborhood('GPT: attention', nb, cfg.blockSize, cfg.blockSize);
    const { seed: _, ...rest } = cfg;
    this.config = rest;
    const seed = config.seed ?? nextSeed();
    this.transformer = this.registerModule('transformer', new Trunk(device, this.config, seed));
    this.lm_head = this.registerModule(
      'lm_head',
      new Linear(device, cfg.nEmbd, cfg.vocabSize, { bias: false }),
    );
    if (cfg.tieWeights) tieWeights(this.lm_head, this.transformer.wte);
    this.initWeights(seed);
  }

  /**
   * GPT-2's initialization (as nanoGPT): Linear and Embedding weights N(0, 0.02), residual projections
   * (c_proj) N(0, 0.02/sqrt(2·nLayer)), biases 0; LayerNorms keep weight 1, bias 0.
   */
  private initWeights(seed: number): void {
    noGrad(() => {
      this.namedParameters().forEach(([name, p], n) => {
        if (name.includes('.ln_')) return; // LayerNorm: weight 1, bias 0 already
        const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * this.config.nLayer) : 0.02;
        const init = name.endsWith('bias')
          ? this.device.zeros(p.shape)
          : randn(this.device, p.shape, { seed: mixSeed(seed, `init${n}`), std });
        copyInto(p, init);
        init.dispose();
      });
    });
  }

  /** One KV cache per layer for incremental decoding of `batch` sequences up to `maxLength` tokens. */
  createCaches(batch: number, maxLength = this.config.blockSize): KVCache[] {
    const { nLayer, nHead, nEmbd } = this.config;
    return Array.from(
      { length: nLayer },
      () => new KVCache(this.device, { batch, kvHeads: nHead, headDim: nEmbd / nHead, maxLength }),
    );
  }

  /** ids [B, T] (i32) -> logits [B, T, vocabSize]. With caches, T new tokens after the cached ones. */
  forward(ids: Tensor, opts: GPTForward = {}): Tensor {
    return this.forwardDetailed(ids, opts.caches ? { caches: opts.caches } : {}).logits;
  }

  /** As forward, and on request the attention probabilities of each layer (see GPTForwardDetailed). */
  forwardDetailed(ids: Tensor, opts: GPTForwardDetailed = {}): GPTOutputs {
    if (ids.rank !== 2 || (ids.dtype !== 'i32' && ids.dtype !== 'u32')) {
      fail('SHAPE_MISMATCH', `GPT.forward: ids must be [B, T] i32, got ${fmt(ids.shape)} ${ids.dtype}`);
    }
    const { nLayer, blockSize } = this.config;
    const caches = opts.caches;
    if (caches && caches.length !== nLayer) {
      fail(
        'INVALID_ARGUMENT',
        `GPT.forward: got ${caches.length} caches; expected one per layer (${nLayer})`,
      );
    }
    const wanted = this.attentionLayers(opts.attentionWeights);
    const T = ids.shape[1]!;
    const offset = caches?.[0]?.position ?? 0;
    if (offset + T > blockSize) {
      fail(
        'INVALID_ARGUMENT',
        `GPT.forward: positions ${offset}..${offset + T - 1} exceed blockSize ${blockSize}`,
      );
    }
    const tr = this.transformer;
    let x = tr.wte.forward(ids); // [B, T, C]
    if (tr.wpe) {
      const positions = this.device.tensor(
        Int32Array.from({ length: T }, (_, i) => offset + i),
        [T],
      );
      x = add(x, tr.wpe.forward(positions)); // + [T, C]
      positions.dispose();
    }
    x = tr.drop.forward(x);
    const attentions: (Tensor | null)[] = [...tr.h].map((block, i) => {
      const r = block.forwardDetailed(x, caches?.[i], wanted.has(i));
      x = r.y;
      return r.weights ?? null;
    });
    return { logits: this.lm_head.forward(tr.ln_f.forward(x)), attentions };
  }

  private attentionLayers(which: GPTForwardDetailed['attentionWeights']): Set<number> {
    const { nLayer } = this.config;
    if (which === undefined || which === false) return new Set();
    if (which === true) return new Set(Array.from({ length: nLayer }, (_, i) => i));
    if (!Array.isArray(which) || which.some((l) => !Number.isInteger(l) || l < 0 || l >= nLayer)) {
      fail(
        'INVALID_ARGUMENT',
        `GPT.forward: attentionWeights must be a boolean or layer indices in [0, ${nLayer}), got ${JSON.stringify(which)}`,
      );
    }
    return new Set(which);
  }
}
