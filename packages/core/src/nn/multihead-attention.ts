/**
 * `nn.MultiHeadAttention`: PyTorch `torch.nn.MultiheadAttention` semantics and state_dict names
 * (in_proj_weight / in_proj_bias, or q_proj_weight / k_proj_weight / v_proj_weight when kdim or vdim
 * differ from embedDim; out_proj.weight / out_proj.bias), running on the fused `attention` kernel.
 * Forward only for now: training through it comes with autograd.
 *
 * Mask conventions are PyTorch's *module* ones, which are the opposite of SDPA's:
 * `keyPaddingMask` [N, S] true = pad (ignore that key); a boolean `attnMask` true = NOT allowed.
 * A float `attnMask` is added to the scores.
 */
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import type { HostTensor } from '../io/safetensors.js';
import { attention } from '../ops/attention/index.js';
import { add, eq, where } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { rand } from '../ops/random.js';
import { mean } from '../ops/reduce.js';
import { tidy } from '../scope.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';

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
  /** Seed for the initial weights (xavier-uniform in-projections, as PyTorch). */
  seed?: number;
}

export interface MultiHeadAttentionForward {
  /** PyTorch `key_padding_mask` [N, S]: true = pad (the key is ignored). */
  keyPaddingMask?: Tensor;
  /** PyTorch `attn_mask` [L, S] or [N·H, L, S]: bool true = NOT allowed, or float added to scores. */
  attnMask?: Tensor;
  /** Return attention weights (default true, as PyTorch). */
  needWeights?: boolean;
  /** Average the weights over heads [N, L, S] (default) or keep them per head [N, H, L, S]. */
  averageAttnWeights?: boolean;
  /** Causal mask (PyTorch `is_causal`: top-left, key j visible from query i iff j <= i). */
  isCausal?: boolean;
}

export class MultiHeadAttention {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly batchFirst: boolean;
  private readonly params = new Map<string, Tensor>();

  constructor(
    readonly device: Device,
    opts: MultiHeadAttentionOptions,
  ) {
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
    const seed = opts.seed ?? 0;
    const xavier = (rows: number, cols: number, s: number) => {
      const a = Math.sqrt(6 / (rows + cols));
      return rand(device, [rows, cols], { seed: seed + s, low: -a, high: a });
    };
    if (this.sameDims) this.params.set('in_proj_weight', xavier(3 * E, E, 1));
    else {
      this.params.set('q_proj_weight', xavier(E, E, 1));
      this.params.set('k_proj_weight', xavier(E, this.kdim, 2));
      this.params.set('v_proj_weight', xavier(E, this.vdim, 3));
    }
    const bound = 1 / Math.sqrt(E); // nn.Linear's default init for out_proj
    this.params.set('out_proj.weight', rand(device, [E, E], { seed: seed + 4, low: -bound, high: bound }));
    if (opts.bias ?? true) {
      this.params.set('in_proj_bias', device.zeros([3 * E]));
      this.params.set('out_proj.bias', device.zeros([E]));
    }
  }

  private get sameDims(): boolean {
    return this.kdim === this.embedDim && this.vdim === this.embedDim;
  }

  /** Parameters by PyTorch state_dict name. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.params);
  }

  parameters(): Tensor[] {
    return [...this.params.values()];
  }

  /**
   * Loads PyTorch-named tensors (device tensors or host tensors from `io.readSafetensors`). Missing,
   * unexpected or mis-shaped keys are errors naming every offending key (strict, as PyTorch's default).
   */
  loadStateDict(state: Record<string, Tensor | HostTensor>): void {
    const missing = [...this.params.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !this.params.has(k));
    if (missing.length || unexpected.length) {
      fail(
        'INVALID_ARGUMENT',
        `MultiHeadAttention.loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`,
      );
    }
    const loaded = new Map<string, Tensor>();
    for (const [name, current] of this.params) {
      const value = state[name]!;
      if (value.shape.length !== current.shape.length || value.shape.some((d, i) => d !== current.shape[i])) {
        for (const t of loaded.values()) t.dispose();
        fail(
          'SHAPE_MISMATCH',
          `MultiHeadAttention.loadStateDict: ${name} has shape ${fmt(value.shape)}; expected ${fmt(current.shape)}`,
        );
      }
      const data = 'data' in value ? Float32Array.from(value.data as ArrayLike<number>) : null;
      loaded.set(name, data ? this.device.tensor(data, current.shape) : (value as Tensor).contiguous());
    }
    for (const [name, t] of loaded) {
      this.params.get(name)!.dispose();
      this.params.set(name, t);
    }
  }

  /** x [..., in] @ W[rows, in]^T + b[rows] */
  private project(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    const y = matmul(x, weight.mT);
    return bias ? add(y, bias) : y;
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
    const p = this.params;
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
      const bias = p.get('in_proj_bias') ?? null;
      const part = (w: Tensor | undefined, k: number) =>
        w ? w : p.get('in_proj_weight')!.slice(0, k * E, (k + 1) * E);
      const bpart = (k: number) => (bias ? bias.slice(0, k * E, (k + 1) * E) : null);
      const heads = (x: Tensor, len: number) => x.reshape([N, len, H, hd]).transpose(1, 2); // [N, H, len, hd]
      const q = heads(this.project(qb, part(p.get('q_proj_weight'), 0), bpart(0)), L);
      const k = heads(this.project(kb, part(p.get('k_proj_weight'), 1), bpart(1)), S);
      const v = heads(this.project(vb, part(p.get('v_proj_weight'), 2), bpart(2)), S);
      const attnOpts: Parameters<typeof attention.detailed>[3] = { weights: needWeights };
      if (opts.isCausal) attnOpts.causal = 'top-left';
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
        const shaped = m.rank === 2 ? m : m.reshape([N, H, L, S]); // [N·H, L, S] in PyTorch
        if (m.dtype === 'bool') {
          const allowed = eq(shaped, 0); // PyTorch attn_mask (bool): true = NOT allowed
          mask = mask ? where(mask, allowed, 0) : allowed;
        } else attnOpts.bias = shaped;
      }
      if (mask) attnOpts.mask = mask;
      const { out, weights } = attention.detailed(q, k, v, attnOpts);
      const merged = out.transpose(1, 2).reshape([N, L, E]);
      const projected = this.project(merged, p.get('out_proj.weight')!, p.get('out_proj.bias') ?? null);
      const y = this.batchFirst ? projected : projected.transpose(0, 1).contiguous();
      const w = weights ? ((opts.averageAttnWeights ?? true) ? mean(weights, 1) : weights) : null;
      return { y, w };
    });
    return [result.y, result.w];
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }
}
