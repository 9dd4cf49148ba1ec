/**
 * Transformer layers and stacks with PyTorch semantics and state_dict names (`torch.nn.TransformerEncoderLayer`,
 * `TransformerDecoderLayer`, `TransformerEncoder`, `TransformerDecoder`):
 *
 *   post-norm (Vaswani et al. 2017, PyTorch default):  x = norm1(x + sa(x));      x = norm2(x + ff(x))
 *   pre-norm (`normFirst`, Xiong et al. 2020):         x = x + sa(norm1(x));      x = x + ff(norm2(x))
 *
 * The decoder adds cross-attention to `memory` between the two (`multihead_attn`, `norm2`; the feed-forward
 * norm is then `norm3`). Dropout follows PyTorch: `dropout` inside the feed-forward block, `dropout1..3` on
 * each residual branch, and the attention dropout inside `self_attn` / `multihead_attn`.
 *
 * Masks keep PyTorch's module conventions: `*KeyPaddingMask` [N, S] bool true = pad; a bool `srcMask` /
 * `tgtMask` / `memoryMask` [L, S] (or [N·H, L, S]) true = NOT allowed, a float one is added to the scores;
 * `isCausal` / `tgtIsCausal` apply the top-left causal mask (key j visible from query i iff j <= i) in the
 * kernel, so no mask tensor is needed.
 */
import { add } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { tidy } from '../scope.js';
import { mixSeed, nextSeed } from '../seeded.js';
import type { Tensor } from '../tensor.js';
import { Dropout } from './dropout.js';
import { FeedForward, type FeedForwardActivation } from './feed-forward.js';
import { LayerNorm, positiveInt, type RMSNorm } from './layers.js';
import { Module, ModuleList } from './module.js';
import { MultiHeadAttention, type MultiHeadAttentionForward } from './multihead-attention.js';

export interface TransformerLayerOptions {
  dModel: number;
  nHead: number;
  /** Hidden size of the feed-forward block (default 2048, as PyTorch). */
  dimFeedforward?: number;
  /** Dropout on attention probabilities, inside the feed-forward block and on each residual branch (default 0.1). */
  dropout?: number;
  /** 'relu' (default), 'gelu' (erf), 'gelu_tanh', 'silu', 'swiglu' (then `w1`/`w2`/`w3` replace `linear1`/`linear2`), or a function. */
  activation?: FeedForwardActivation;
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
  /**
   * Inputs [N, L, E] when true; [L, N, E] when false. Default false, as PyTorch; most models here want
   * true (it avoids a transpose per attention).
   */
  batchFirst?: boolean;
  /** Pre-norm (default false: post-norm, as PyTorch). */
  normFirst?: boolean;
  /** Biases in the linear layers and LayerNorms (default true). */
  bias?: boolean;
  seed?: number;
}

export interface EncoderLayerForward {
  /** PyTorch `src_mask` [L, L] or [N·H, L, L]: bool true = NOT allowed, or float added. */
  srcMask?: Tensor;
  /** PyTorch `src_key_padding_mask` [N, L]: true = pad. */
  srcKeyPaddingMask?: Tensor;
  /** Top-left causal self-attention computed in the kernel (PyTorch `is_causal`). */
  isCausal?: boolean;
}

export interface DecoderLayerForward {
  /** PyTorch `tgt_mask` [T, T]: bool true = NOT allowed, or float added. */
  tgtMask?: Tensor;
  /** PyTorch `memory_mask` [T, S]. */
  memoryMask?: Tensor;
  /** [N, T], true = pad. */
  tgtKeyPaddingMask?: Tensor;
  /** [N, S], true = pad. */
  memoryKeyPaddingMask?: Tensor;
  /** Top-left causal self-attention (PyTorch `tgt_is_causal`). */
  tgtIsCausal?: boolean;
  /** Top-left causal cross-attention (PyTorch `memory_is_causal`). */
  memoryIsCausal?: boolean;
}

interface Resolved {
  dModel: number;
  nHead: number;
  dimFeedforward: number;
  dropout: number;
  activation: FeedForwardActivation;
  eps: number;
  batchFirst: boolean;
  normFirst: boolean;
  bias: boolean;
  seed: number;
}

function resolve(op: string, o: TransformerLayerOptions): Resolved {
  const r: Resolved = {
    dModel: o.dModel,
    nHead: o.nHead,
    dimFeedforward: o.dimFeedforward ?? 2048,
    dropout: o.dropout ?? 0.1,
    activation: o.activation ?? 'relu',
    eps: o.layerNormEps ?? 1e-5,
    batchFirst: o.batchFirst ?? false,
    normFirst: o.normFirst ?? false,
    bias: o.bias ?? true,
    seed: o.seed ?? nextSeed(),
  };
  positiveInt(op, 'dimFeedforward', r.dimFeedforward);
  if (!(r.dropout >= 0 && r.dropout < 1))
    fail('INVALID_ARGUMENT', `${op}: dropout must be in [0, 1), got ${o.dropout}`);
  return r;
}

/** The pieces both layers share, registered under PyTorch's names in PyTorch's order. */
function feedForwardBlock(device: Device, r: Resolved): FeedForward {
  const { activation, dropout, bias } = r;
  return new FeedForward(device, r.dModel, r.dimFeedforward, {
    activation,
    dropout,
    bias,
    seed: mixSeed(r.seed, 'ff'),
  });
}

function attentionBlock(device: Device, r: Resolved, name: string): MultiHeadAttention {
  return new MultiHeadAttention(device, {
    embedDim: r.dModel,
    numHeads: r.nHead,
    bias: r.bias,
    batchFirst: r.batchFirst,
    dropout: r.dropout,
    seed: mixSeed(r.seed, name),
  });
}

const norm = (device: Device, r: Resolved) => new LayerNorm(device, r.dModel, { eps: r.eps, bias: r.bias });

/** Self-attention options of a Transformer layer; weights per head only when asked for (maps). */
function attentionCall(
  keyPaddingMask: Tensor | undefined,
  attnMask: Tensor | undefined,
  isCausal: boolean | undefined,
  needWeights = false,
): MultiHeadAttentionForward {
  const o: MultiHeadAttentionForward = { needWeights, averageAttnWeights: false };
  if (keyPaddingMask) o.keyPaddingMask = keyPaddingMask;
  if (attnMask) o.attnMask = attnMask;
  if (isCausal) o.isCausal = true;
  return o;
}

/**
 * What both layers begin with: the resolved options and self-attention (`self_attn`, registered first as
 * in PyTorch); each layer registers the rest in PyTorch's order.
 */
abstract class TransformerLayer extends Module {
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  readonly selfAttn: MultiHeadAttention;
  protected readonly options: Resolved;

  constructor(device: Device, op: string, opts: TransformerLayerOptions) {
    super(device);
    const r = resolve(op, opts);
    this.options = r;
    this.normFirst = r.normFirst;
    this.batchFirst = r.batchFirst;
    this.selfAttn = this.registerModule('self_attn', attentionBlock(device, r, 'self_attn'));
  }
}

/** `torch.nn.TransformerEncoderLayer`: self-attention and a feed-forward block, each with a residual and a norm. */
export class TransformerEncoderLayer extends TransformerLayer {
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  private readonly dropout1: Dropout;
  private readonly dropout2: Dropout;

  constructor(device: Device, opts: TransformerLayerOptions) {
    super(device, 'TransformerEncoderLayer', opts);
    const r = this.options;
    // linear1 / dropout / linear2 (or w1 / w2 / w3) sit directly on the layer, as PyTorch names them
    this.ff = this.registerModule('', feedForwardBlock(device, r));
    this.norm1 = this.registerModule('norm1', norm(device, r));
    this.norm2 = this.registerModule('norm2', norm(device, r));
    this.dropout1 = this.registerModule(
      'dropout1',
      new Dropout(device, r.dropout, { seed: mixSeed(r.seed, 'dropout1') }),
    );
    this.dropout2 = this.registerModule(
      'dropout2',
      new Dropout(device, r.dropout, { seed: mixSeed(r.seed, 'dropout2') }),
    );
  }

  /** src [N, L, E] (batchFirst) or [L, N, E] -> same shape. */
  forward(src: Tensor, opts: EncoderLayerForward = {}): Tensor {
    return this.forwardDetailed(src, opts, false).out;
  }

  /**
   * As forward, and with `weights` the self-attention probabilities per head, [N, H, L, L] (Hugging
   * Face's `output_attentions`): recomputed from the fused kernel's lse, with no gradient.
   */
  forwardDetailed(
    src: Tensor,
    opts: EncoderLayerForward = {},
    weights = true,
  ): { out: Tensor; weights: Tensor | null } {
    const call = attentionCall(opts.srcKeyPaddingMask, opts.srcMask, opts.isCausal, weights);
    let probs: Tensor | null = null;
    const sa = (x: Tensor) => {
      const [y, w] = this.selfAttn.forward(x, x, x, call);
      probs = w;
      return this.dropout1.forward(y);
    };
    const ff = (x: Tensor) => this.dropout2.forward(this.ff.forward(x));
    return tidy(() => {
      if (this.normFirst) {
        const x = add(src, sa(this.norm1.forward(src)));
        return { out: add(x, ff(this.norm2.forward(x))), weights: probs };
      }
      const x = this.norm1.forward(add(src, sa(src)));
      return { out: this.norm2.forward(add(x, ff(x))), weights: probs };
    });
  }
}

/**
 * `torch.nn.TransformerDecoderLayer`: causal self-attention (`self_attn`, `norm1`), cross-attention to
 * `memory` (`multihead_attn`, `norm2`) and a feed-forward block (`linear1`, `linear2`, `norm3`).
 */
export class TransformerDecoderLayer extends TransformerLayer {
  readonly multiheadAttn: MultiHeadAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  private readonly dropouts: [Dropout, Dropout, Dropout];

  constructor(device: Device, opts: TransformerLayerOptions) {
    super(device, 'TransformerDecoderLayer', opts);
    const r = this.options;
    this.multiheadAttn = this.registerModule('multihead_attn', attentionBlock(device, r, 'multihead_attn'));
    // linear1 / dropout / linear2 (or w1 / w2 / w3) sit directly on the layer, as PyTorch names them
    this.ff = this.registerModule('', feedForwardBlock(device, r));
    this.norm1 = this.registerModule('norm1', norm(device, r));
    this.norm2 = this.registerModule('norm2', norm(device, r));
    this.norm3 = this.registerModule('norm3', norm(device, r));
    const drop = (name: string) =>
      this.registerModule(name, new Dropout(device, r.dropout, { seed: mixSeed(r.seed, name) }));
    this.dropouts = [drop('dropout1'), drop('dropout2'), drop('dropout3')];
  }

  /** tgt [N, T, E], memory [N, S, E] (batchFirst; else [T, N, E], [S, N, E]) -> same shape as tgt. */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForward = {}): Tensor {
    const [d1, d2, d3] = this.dropouts;
    const selfCall = attentionCall(opts.tgtKeyPaddingMask, opts.tgtMask, opts.tgtIsCausal);
    const crossCall = attentionCall(opts.memoryKeyPaddingMask, opts.memoryMask, opts.memoryIsCausal);
    const sa = (x: Tensor) => d1.forward(this.selfAttn.forward(x, x, x, selfCall)[0]);
    const mha = (x: Tensor) => d2.forward(this.multiheadAttn.forward(x, memory, memory, crossCall)[0]);
    const ff = (x: Tensor) => d3.forward(this.ff.forward(x));
    return tidy(() => {
      if (this.normFirst) {
        let x = add(tgt, sa(this.norm1.forward(tgt)));
        x = add(x, mha(this.norm2.forward(x)));
        return add(x, ff(this.norm3.forward(x)));
      }
      let x = this.norm1.forward(add(tgt, sa(tgt)));
      x = this.norm2.forward(add(x, mha(x)));
      return this.norm3.forward(add(x, ff(x)));
    });
  }
}

/** A final norm for a stack: `true` makes LayerNorm(dModel, eps: layerNormEps) (PyTorch `nn.Transformer`'s choice). */
export type StackNorm = boolean | LayerNorm | RMSNorm;

function stackNorm(
  device: Device,
  norm: StackNorm | undefined,
  opts: TransformerLayerOptions,
): LayerNorm | RMSNorm | null {
  if (!norm) return null;
  if (norm === true) return new LayerNorm(device, opts.dModel, { eps: opts.layerNormEps ?? 1e-5 });
  return norm;
}

/** The shared body of the two stacks: `layers.N` (each with its own initial weights) and an optional `norm`. */
abstract class TransformerStack<L extends Module> extends Module {
  readonly layers: ModuleList<L>;
  readonly norm: LayerNorm | RMSNorm | null;

  constructor(
    device: Device,
    layerOptions: TransformerLayerOptions,
    numLayers: number,
    opts: { norm?: StackNorm } = {},
  ) {
    super(device);
    positiveInt(this.typeName, 'numLayers', numLayers);
    const seed = layerOptions.seed ?? nextSeed();
    const layers = Array.from({ length: numLayers }, (_, i) =>
      this.newLayer({ ...layerOptions, seed: mixSeed(seed, i) }),
    );
    this.layers = this.registerModule('layers', new ModuleList(device, layers));
    const n = stackNorm(device, opts.norm, layerOptions);
    this.norm = n ? this.registerModule('norm', n) : null;
  }

  /** One layer of the stack, built from its own options (called by the constructor, seed already mixed). */
  protected abstract newLayer(opts: TransformerLayerOptions): L;

  /** Runs `step` through every layer, then the final norm. */
  protected run(input: Tensor, step: (layer: L, x: Tensor) => Tensor): Tensor {
    return tidy(() => {
      let x = input;
      for (const layer of this.layers) x = step(layer, x);
      return this.norm ? this.norm.forward(x) : x;
    });
  }
}

/**
 * `torch.nn.TransformerEncoder`: `numLayers` encoder layers (`layers.0`, `layers.1`, ...) and an optional
 * final norm (`norm`; pre-norm stacks want one). Unlike PyTorch, which deep-copies one layer so every
 * layer starts from the same weights, each layer here draws its own initial weights.
 */
export class TransformerEncoder extends TransformerStack<TransformerEncoderLayer> {
  protected newLayer(opts: TransformerLayerOptions): TransformerEncoderLayer {
    return new TransformerEncoderLayer(this.device, opts);
  }

  /** src [N, L, E] (batchFirst) or [L, N, E] -> same shape; the options go to every layer. */
  forward(src: Tensor, opts: EncoderLayerForward = {}): Tensor {
    return this.run(src, (layer, x) => layer.forward(x, opts));
  }

  /**
   * As forward, with the per-head attention probabilities [N, H, L, L] of the layers listed in
   * `attentionWeights` (`attentions[i]` for layer i, null for the others), as `models.GPT`.
   */
  forwardDetailed(
    src: Tensor,
    opts: EncoderLayerForward & { attentionWeights?: readonly number[] } = {},
  ): { out: Tensor; attentions: (Tensor | null)[] } {
    const wanted = new Set(opts.attentionWeights ?? []);
    for (const i of wanted) {
      if (!Number.isInteger(i) || i < 0 || i >= this.layers.length) {
        fail(
          'INVALID_ARGUMENT',
          `TransformerEncoder: attentionWeights has layer ${i}; expected integers in [0, ${this.layers.length})`,
        );
      }
    }
    return tidy(() => {
      let x = src;
      const attentions: (Tensor | null)[] = [];
      for (const layer of this.layers) {
        const r = layer.forwardDetailed(x, opts, wanted.has(attentions.length));
        attentions.push(r.weights);
        x = r.out;
      }
      return { out: this.norm ? this.norm.forward(x) : x, attentions };
    });
  }
}

/** `torch.nn.TransformerDecoder`: `numLayers` decoder layers (`layers.N.*`) and an optional final `norm`. */
export class TransformerDecoder extends TransformerStack<TransformerDecoderLayer> {
  protected newLayer(opts: TransformerLayerOptions): TransformerDecoderLayer {
    return new TransformerDecoderLayer(this.device, opts);
  }

  /** tgt [N, T, E], memory [N, S, E] (batchFirst) -> same shape as tgt; the options go to every layer. */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForward = {}): Tensor {
    return this.run(tgt, (layer, x) => layer.forward(x, memory, opts));
  }
}
