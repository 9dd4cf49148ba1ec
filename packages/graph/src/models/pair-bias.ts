/**
 * Residue-pair features as attention bias, in the spirit of AlphaFold's pair representation (Jumper et
 * al. 2021, §1.6: the pair stack biases the row attention of the MSA stack): for every pair of positions
 * (i, j) a bias per head is added to the attention scores, from
 *   - their relative position: T5's log-spaced buckets of j - i (Raffel et al. 2020, §2.1), one learned
 *     scalar per bucket per head (core's nn.RelativePositionBias), and
 *   - their co-variation in the family alignment (covariation.ts: mutual information with APC), one
 *     learned scale per head, so a head can look at the positions that co-vary with its query.
 * The bias reaches core's fused attention as a float `srcMask` [B·H, L, L] (PyTorch's `attn_mask`
 * convention: a float mask is added to the scores), which the fused backward differentiates (dbias).
 */
import { add, copyInto, type Device, mul, nn, noGrad, type Tensor, tidy } from '@multihead/core';
import { invalidArgument } from '../errors.js';

export interface PairBiasOptions {
  numHeads: number;
  /** T5 buckets (bidirectional: half for each direction). */
  numBuckets: number;
  /** Distances beyond this share the last bucket. */
  maxDistance: number;
  seed: number;
}

export class ResiduePairBias extends nn.Module {
  readonly numHeads: number;
  readonly relative: nn.RelativePositionBias;

  constructor(device: Device, opts: PairBiasOptions) {
    super(device);
    this.numHeads = opts.numHeads;
    this.relative = this.registerModule(
      'relative',
      new nn.RelativePositionBias(device, {
        numHeads: opts.numHeads,
        numBuckets: opts.numBuckets,
        maxDistance: opts.maxDistance,
        bidirectional: true,
        seed: opts.seed,
      }),
    );
    // both start at zero: an untrained model attends as one without pair features
    this.registerParameter('covariation_scale', device.zeros([1, opts.numHeads, 1, 1]));
    noGrad(() => {
      const zeros = device.zeros(this.relative.relativeAttentionBias.weight.shape);
      copyInto(this.relative.relativeAttentionBias.weight, zeros);
      zeros.dispose();
    });
  }

  /**
   * The bias of a batch of `batch` sequences of `length` tokens: [B·H, L, L]. `covariation`, when given,
   * is [B, L, L] row-major (0 where a pair has no alignment column, and for every pair of a sequence
   * without an alignment).
   */
  forward(batch: number, length: number, covariation?: Float32Array): Tensor {
    const H = this.numHeads;
    if (covariation !== undefined && covariation.length !== batch * length * length) {
      invalidArgument(
        `ResiduePairBias: covariation has ${covariation.length} values; expected [B, L, L] = ${batch * length * length}`,
      );
    }
    return tidy(() => {
      let bias = this.relative.forward(length, length); // [1, H, L, L]
      if (covariation !== undefined) {
        const pairs = this.device.tensor(covariation, [batch, 1, length, length]);
        bias = add(bias, mul(pairs, this.param('covariation_scale')!)); // [B, H, L, L]
      } else {
        bias = bias.expand([batch, H, length, length]);
      }
      return bias.contiguous().reshape([batch * H, length, length]);
    });
  }
}
