/**
 * `nn.MultiHeadAttention`: PyTorch `torch.nn.MultiheadAttention` semantics and state_dict names
 * (in_proj_weight / in_proj_bias, or q_proj_weight / k_proj_weight / v_proj_weight when kdim or vdim
 * differ from embedDim; out_proj.weight / out_proj.bias), running on the fused `attention` kernel and
 * differentiable in its inputs and parameters.
 *
 * Mask conventions are PyTorch's *module* ones, which are the opposite of SDPA's:
 * `keyPaddingMask` [N, S] true = pad (ignore that key); a boolean `attnMask` true = NOT allowed.
 * A float `attnMask` is added to the scores.
 */
import { attention } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import type { AttentionDetailedOptions } from '../ops/attention/index.js';
import { eq, fillInPlace, where } from '../ops/elementwise.js';
import { rand } from '../ops/random.js';
import { mean } from '../ops/reduce.js';
import { tidy } from '../scope.js';
import { mixSeed, nextSeed } from '../seeded.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Linear, linear } from './layers.js';
import { Module } from './module.js';

export interface MultiHeadAttentionOptions {
  embedDim: number;
  numHeads: number;
  /** Add biases to the in/out projections (PyTorch `bias`, default true). */
  bias?: boolean;
  /** Key and value feature sizes (default embedDim). */
  kdim?: number;
  vdim?: number;
  /** Inputs [N, L, E] when true; [L, N, E] when false (PyTorch default: false). */
  batchFirst?: boolean;
  /** Dropout on the attention probabilities in training mode (PyTorch `dropout`, default 0). */
  dropout?: number;
  /** Seed for the initial weights (xavier-uniform in-projections, as PyTorch) and the dropout masks. */
  seed?: number;
}

export interface MultiHeadAttentionForward {
  /** PyTorch `key_padding_mask` [N, S]: true = pad (the key is ignored). */
  keyPaddingMask?: Tensor;
  /** PyTorch `attn_mask` [L, S] or [N·H, L, S]: bool true = NOT allowed, or float added to scores. */
  attnMask?: Tensor;
  /**
   * Return attention weights (default true, as PyTorch). They carry no gradient, and are the
   * probabilities before attention dropout (PyTorch returns them after dropout in training mode).
   */
  needWeights?: boolean;
  /** Average the weights over heads [N, L, S] (default) or keep them per head [N, H, L, S]. */
  averageAttnWeights?: boolean;
  /** Causal mask (PyTorch `is_causal`: top-left, key j visible from query i iff j <= i). */
  isCausal?: boolean;
}

export class MultiHeadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly outProj: Linear;
  private readonly seed: number;
  private calls = 0;

  constructor(device: Device, opts: MultiHeadAttentionOptions) {
    super(device);
    const { embedDim: E, numHeads } = opts;
    if (!Number.isInteger(E) || !Number.isInteger(numHeads) || E < 1 || numHeads < 1 || E % numHeads !== 0) {
      fail(
        'INVALID_ARGUMENT',
        `MultiHeadAttention: embedDim ${E} must be a positive multiple of numHeads ${numHeads}`,
      );
    }
    this.embedDim = E;
    this.numHeads = numHeads;
    this.headDim = E / numHeads;
    this.kdim = opts.kdim ?? E;
    this.vdim = opts.vdim ?? E;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) {
      fail('INVALID_ARGUMENT', `MultiHeadAttention: dropout must be in [0, 1), got ${opts.dropout}`);
    }
    const bias = opts.bias ?? true;
    this.seed = opts.seed ?? nextSeed();
    // PyTorch _reset_parameters: xavier-uniform in-projections, zero in-projection and out_proj biases
    const xavier = (rows: number, cols: number, salt: string) => {
      const a = Math.sqrt(6 / (rows + cols));
      return rand(device, [rows, cols], { seed: mixSeed(this.seed, salt), low: -a, high: a });
    };
    if (this.sameDims) this.registerParameter('in_proj_weight', xavier(3 * E, E, 'in_proj_weight'));
    else {
      this.registerParameter('q_proj_weight', xavier(E, E, 'q_proj_weight'));
      this.registerParameter('k_proj_weight', xavier(E, this.kdim, 'k_proj_weight'));
      this.registerParameter('v_proj_weight', xavier(E, this.vdim, 'v_proj_weight'));
    }
    this.registerParameter('in_proj_bias', bias ? device.zeros([3 * E]) : null);
    this.outProj = this.registerModule(
      'out_proj',
      new Linear(device, E, E, { bias, seed: mixSeed(this.seed, 'out_proj') }),
    );
    if (this.outProj.bias) fillInPlace(this.outProj.bias, 0);
  }

  private get sameDims(): boolean {
    return this.kdim === this.embedDim && this.vdim === this.embedDim;
  }

  /** The q (0), k (1) or v (2) rows of the in-projection: weight [E, in] and bias [E]. */
  private projection(which: 0 | 1 | 2): [Tensor, Tensor | null] {
    const E = this.embedDim;
    const bias = this.param('in_proj_bias');
    const b = bias ? bias.slice(0, which * E, (which + 1) * E) : null;
    if (!this.sameDims) return [this.param(['q_proj_weight', 'k_proj_weight', 'v_proj_weight'][which]!)!, b];
    return [this.param('in_proj_weight')!.slice(0, which * E, (which + 1) * E), b];
  }

  /**
   * query [L, N, E] (or [N, L, E] with batchFirst), key [S, N, kdim], value [S, N, vdim].
   * Returns [out (same layout as query), weights or null].
   */
  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: MultiHeadAttentionForward = {},
  ): [Tensor, Tensor | null] {
    const E = this.embedDim;
    const H = this.numHeads;
    const hd = this.headDim;
    for (const [name, t, dim] of [
      ['query', query, E],
      ['key', key, this.kdim],
      ['value', value, this.vdim],
    ] as const) {
      if (t.rank !== 3 || t.shape[2] !== dim) {
        const layout = this.batchFirst ? '[N, L, E]' : '[L, N, E]';
        fail(
          'SHAPE_MISMATCH',
          `MultiHeadAttention: ${name} has shape ${fmt(t.shape)}; expected ${layout} with last dim ${dim}`,
        );
      }
    }
    const needWeights = opts.needWeights ?? true;
    const result = tidy(() => {
      // to batch-first [N, L, E]
      const [qb, kb, vb] = [query, key, value].map((t) => (this.batchFirst ? t : t.transpose(0, 1))) as [
        Tensor,
        Tensor,
        Tensor,
      ];
      const N = qb.shape[0]!;
      const L = qb.shape[1]!;
      const S = kb.shape[1]!;
      if (kb.shape[0] !== N || vb.shape[0] !== N || vb.shape[1] !== S) {
        fail(
          'SHAPE_MISMATCH',
          `MultiHeadAttention: query ${fmt(query.shape)}, key ${fmt(key.shape)}, value ${fmt(value.shape)} disagree on batch or source length`,
        );
      }
      const heads = (x: Tensor, len: number) => x.reshape([N, len, H, hd]).transpose(1, 2); // [N, H, len, hd]
      let q: Tensor;
      let k: Tensor;
      let v: Tensor;
      if (query === key && key === value && this.sameDims) {
        // self-attention: one projection [N, L, 3E] split into q, k, v (PyTorch's packed in-projection)
        const qkv = linear(qb, this.param('in_proj_weight')!, this.param('in_proj_bias'))
          .reshape([N, L, 3, H, hd])
          .permute([2, 0, 3, 1, 4]); // [3, N, H, L, hd]
        [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0)) as [Tensor, Tensor, Tensor];
      } else {
        q = heads(linear(qb, ...this.projection(0)), L);
        k = heads(linear(kb, ...this.projection(1)), S);
        v = heads(linear(vb, ...this.projection(2)), S);
      }
      const attnOpts: AttentionDetailedOptions = { weights: needWeights };
      if (opts.isCausal) attnOpts.causal = 'top-left';
      if (this.training && this.dropout > 0) {
        attnOpts.dropout = { p: this.dropout, seed: mixSeed(this.seed, `call ${this.calls++}`) };
      }
      let mask: Tensor | null = null;
      if (opts.keyPaddingMask) {
        const kpm = opts.keyPaddingMask;
        if (kpm.dtype !== 'bool' || kpm.rank !== 2 || kpm.shape[0] !== N || kpm.shape[1] !== S) {
          fail(
            'SHAPE_MISMATCH',
            `MultiHeadAttention: keyPaddingMask ${kpm.dtype} ${fmt(kpm.shape)}; expected bool [N, S] = [${N}, ${S}] (true = pad)`,
          );
        }
        mask = eq(kpm.reshape([N, 1, 1, S]), 0); // PyTorch key_padding_mask: true = pad; ours: true = attend
      }
      if (opts.attnMask) {
        const m = opts.attnMask;
        const ok2 = m.rank === 2 && m.shape[0] === L && m.shape[1] === S;
        const ok3 = m.rank === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S;
        if (!ok2 && !ok3) {
          fail(
            'SHAPE_MISMATCH',
            `MultiHeadAttention: attnMask ${fmt(m.shape)}; expected [L, S] = [${L}, ${S}] or [N·H, L, S] = [${N * H}, ${L}, ${S}]`,
          );
        }
        const shaped = ok2 ? m : m.reshape([N, H, L, S]);
        if (m.dtype === 'bool') {
          const allowed = eq(shaped, 0); // PyTorch attn_mask (bool): true = NOT allowed
          mask = mask ? where(mask, allowed, 0) : allowed;
        } else attnOpts.bias = shaped;
      }
      if (mask) attnOpts.mask = mask;
      const { out, weights } = attention.detailed(q, k, v, attnOpts); // out [N, H, L, hd]
      const merged = out.transpose(1, 2).reshape([N, L, E]);
      const projected = this.outProj.forward(merged);
      const y = this.batchFirst ? projected : projected.transpose(0, 1).contiguous();
      const w = weights ? ((opts.averageAttnWeights ?? true) ? mean(weights, 1) : weights) : null;
      return { y, w };
    });
    return [result.y, result.w];
  }
}
