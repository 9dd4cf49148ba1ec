/**
 * A protein language model encoder in the style of ESM-1b (Rives et al. 2021), small enough to train
 * here, in one file:
 *
 *   ids [B, L] (<cls> residues <eos>, ESM-2's vocabulary) -> token embedding + learned positions
 *     -> nn.TransformerEncoder (pre-norm, GELU, batch first, final LayerNorm = ESM's emb_layer_norm_after)
 *        with the residue-pair bias of pair-bias.ts in every layer (float srcMask [B·H, L, L])
 *     -> lm_head (dense + GELU + LayerNorm, decoder tied to the token embedding + bias): masked-LM logits
 *     -> mean over the real tokens -> classifier                                 family logits [B, labels]
 *
 * Masked-LM pretraining is ESM's (15% of residues; 80% <mask>, 10% a random residue, 10% unchanged:
 * preprocess/protein-masking.ts). Names are ours (core's nn modules, PyTorch names); ESM's
 * `embed_tokens`, `embed_positions`, `layers.N.*` and `lm_head.*` map onto `embed_tokens`,
 * `embed_positions`, `encoder.layers.N.*` (q/k/v packed in `self_attn.in_proj_weight`) and `lm_head.*`.
 */
import {
  add,
  cast,
  copyInto,
  type Device,
  div,
  gelu,
  indexSelect,
  mul,
  nn,
  noGrad,
  randn,
  sum,
  type Tensor,
  tidy,
} from '@multihead/core';
import { invalidArgument } from '../errors.js';
import { ResiduePairBias } from './pair-bias.js';

export interface ProteinEncoderConfig {
  vocabSize: number;
  /** Longest input, <cls> and <eos> included. */
  maxPositions: number;
  dModel: number;
  nHead: number;
  nLayer: number;
  dimFeedforward: number;
  dropout: number;
  /** Classes of the sequence classifier. */
  numLabels: number;
  padId: number;
  /** T5 relative-position buckets of the pair bias, and the distance where the last bucket starts. */
  relativeBuckets: number;
  relativeMaxDistance: number;
  /**
   * Buckets of the whole sequence's length (half-octaves: floor(2·log2(length))) embedded and added to
   * every token, so a window of a long sequence still knows how long the sequence is; 0 = none.
   */
  lengthBuckets: number;
  seed: number;
}

export interface EncodeInputs {
  /** [B, L] token ids. */
  ids: Int32Array;
  shape: readonly [number, number];
  /** [B, L]: 1 = token, 0 = padding (the tokenizer's attentionMask). Omit when nothing is padded. */
  attentionMask?: Uint8Array;
  /** [B, L, L] standardized co-variation of each pair (0 where unknown); omit for none. */
  covariation?: Float32Array;
  /** [B] residues of the whole sequence each row was cut from (for `lengthBuckets`). */
  sequenceLengths?: Int32Array;
}

/** The length bucket of a sequence of `residues`: floor(2·log2(residues)), capped at buckets - 1. */
export function lengthBucket(residues: number, buckets: number): number {
  return Math.min(buckets - 1, Math.max(0, Math.floor(2 * Math.log2(Math.max(1, residues)))));
}

/** A stable hash deriving seeds of submodules. */
function mix(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

class LmHead extends nn.Module {
  readonly dense: nn.Linear;
  readonly norm: nn.LayerNorm;
  readonly decoder: nn.Linear;

  constructor(device: Device, cfg: ProteinEncoderConfig, tokens: nn.Embedding) {
    super(device);
    this.dense = this.registerModule(
      'dense',
      new nn.Linear(device, cfg.dModel, cfg.dModel, { seed: mix(cfg.seed, 'lm.dense') }),
    );
    this.norm = this.registerModule('layer_norm', new nn.LayerNorm(device, cfg.dModel));
    this.decoder = this.registerModule(
      'decoder',
      new nn.Linear(device, cfg.dModel, cfg.vocabSize, { seed: mix(cfg.seed, 'lm.decoder') }),
    );
    nn.tieWeights(this.decoder, tokens); // ESM ties the output projection to embed_tokens
  }

  /** hidden [..., C] -> [..., V] */
  forward(hidden: Tensor): Tensor {
    return tidy(() => this.decoder.forward(this.norm.forward(gelu(this.dense.forward(hidden)))));
  }
}

export class ProteinEncoder extends nn.Module {
  readonly config: ProteinEncoderConfig;
  readonly tokens: nn.Embedding;
  readonly positions: nn.Embedding;
  readonly lengths: nn.Embedding | null;
  readonly pairBias: ResiduePairBias;
  readonly encoder: nn.TransformerEncoder;
  readonly lmHead: LmHead;
  readonly classifier: nn.Linear;

  constructor(device: Device, config: ProteinEncoderConfig) {
    super(device);
    for (const key of ['vocabSize', 'maxPositions', 'dModel', 'nHead', 'nLayer', 'numLabels'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1)
        invalidArgument(`ProteinEncoder: config.${key} must be a positive integer, got ${config[key]}`);
    }
    if (config.dModel % config.nHead !== 0)
      invalidArgument(`ProteinEncoder: dModel ${config.dModel} must be a multiple of nHead ${config.nHead}`);
    this.config = { ...config };
    const { seed } = config;
    this.tokens = this.registerModule(
      'embed_tokens',
      new nn.Embedding(device, config.vocabSize, config.dModel, {
        paddingIdx: config.padId,
        seed: mix(seed, 'tokens'),
      }),
    );
    this.positions = this.registerModule(
      'embed_positions',
      new nn.Embedding(device, config.maxPositions, config.dModel, { seed: mix(seed, 'positions') }),
    );
    this.lengths =
      config.lengthBuckets > 0
        ? this.registerModule(
            'embed_lengths',
            new nn.Embedding(device, config.lengthBuckets, config.dModel, { seed: mix(seed, 'lengths') }),
          )
        : null;
    this.pairBias = this.registerModule(
      'pair_bias',
      new ResiduePairBias(device, {
        numHeads: config.nHead,
        numBuckets: config.relativeBuckets,
        maxDistance: config.relativeMaxDistance,
        seed: mix(seed, 'pair'),
      }),
    );
    this.encoder = this.registerModule(
      'encoder',
      new nn.TransformerEncoder(
        device,
        {
          dModel: config.dModel,
          nHead: config.nHead,
          dimFeedforward: config.dimFeedforward,
          dropout: config.dropout,
          activation: 'gelu',
          batchFirst: true,
          normFirst: true, // ESM-1b and ESM-2 are pre-norm
          seed: mix(seed, 'encoder'),
        },
        config.nLayer,
        { norm: true },
      ),
    );
    this.lmHead = this.registerModule('lm_head', new LmHead(device, config, this.tokens));
    this.classifier = this.registerModule(
      'classifier',
      new nn.Linear(device, config.dModel, config.numLabels, { seed: mix(seed, 'classifier') }),
    );
    // BERT/ESM's N(0, 0.02) embeddings (core's Embedding starts at N(0, 1)); the pad row stays zero
    noGrad(() => {
      const tables: [string, Tensor][] = [
        ['tokens', this.tokens.weight],
        ['positions', this.positions.weight],
      ];
      if (this.lengths) tables.push(['lengths', this.lengths.weight]);
      for (const [name, table] of tables) {
        const init = randn(device, table.shape, { seed: mix(seed, `init ${name}`), std: 0.02 });
        copyInto(table, init);
        init.dispose();
      }
      const pad = this.tokens.weight.slice(0, config.padId, config.padId + 1);
      const zeros = device.zeros(pad.shape);
      copyInto(pad, zeros);
      for (const t of [pad, zeros]) t.dispose();
    });
  }

  /**
   * Final hidden states [B, L, C] and, for the layers listed, the attention probabilities [B, H, L, L]
   * (null for the others; no gradient).
   */
  encode(
    inputs: EncodeInputs,
    attentionWeights: readonly number[] = [],
  ): { hidden: Tensor; attentions: (Tensor | null)[] } {
    const [B, L] = inputs.shape;
    if (inputs.ids.length !== B * L)
      invalidArgument(`ProteinEncoder.encode: ${inputs.ids.length} ids for shape [${B}, ${L}]`);
    if (L > this.config.maxPositions)
      invalidArgument(
        `ProteinEncoder.encode: ${L} tokens exceed maxPositions ${this.config.maxPositions}; cut the sequence into windows`,
      );
    if (inputs.attentionMask && inputs.attentionMask.length !== B * L)
      invalidArgument(
        `ProteinEncoder.encode: attentionMask has ${inputs.attentionMask.length} entries; expected ${B * L}`,
      );
    return tidy(() => {
      const ids = this.device.tensor(inputs.ids, [B, L], { dtype: 'i32' });
      const where = this.device.tensor(
        Int32Array.from({ length: L }, (_, i) => i),
        [L],
        { dtype: 'i32' },
      );
      let x = add(this.tokens.forward(ids), this.positions.forward(where)); // [B, L, C]
      if (this.lengths) {
        const lengths = inputs.sequenceLengths;
        if (lengths?.length !== B)
          invalidArgument(
            `ProteinEncoder.encode: the model reads sequence lengths; expected sequenceLengths of ${B} rows`,
          );
        const buckets = Int32Array.from(lengths, (n) => lengthBucket(n, this.config.lengthBuckets));
        x = add(x, this.lengths.forward(this.device.tensor(buckets, [B, 1], { dtype: 'i32' }))); // + [B, 1, C]
      }
      const opts: nn.EncoderLayerForward = { srcMask: this.pairBias.forward(B, L, inputs.covariation) };
      if (inputs.attentionMask?.includes(0)) {
        // PyTorch src_key_padding_mask: true = pad
        opts.srcKeyPaddingMask = this.device.tensor(
          inputs.attentionMask.map((m) => (m === 0 ? 1 : 0)),
          [B, L],
          { dtype: 'bool' },
        );
      }
      if (attentionWeights.length === 0) return { hidden: this.encoder.forward(x, opts), attentions: [] };
      const { out, attentions } = this.encoder.forwardDetailed(x, { ...opts, attentionWeights });
      return { hidden: out, attentions };
    });
  }

  /** Family logits [B, labels] from hidden states: the mean over real tokens, then the classifier. */
  classify(hidden: Tensor, attentionMask?: Uint8Array): Tensor {
    const [B, L] = hidden.shape as [number, number, number];
    return tidy(() => {
      const m = attentionMask
        ? cast(this.device.tensor(attentionMask, [B, L, 1], { dtype: 'bool' }), 'f32')
        : this.device.ones([B, L, 1]);
      return this.classifier.forward(div(sum(mul(hidden, m), 1), sum(m, 1))); // [B, C] -> [B, labels]
    });
  }

  /** Masked-LM cross-entropy of hidden [B, L, C] against labels (B·L ids, -100 where not scored). */
  maskedLmLoss(hidden: Tensor, labels: Int32Array): Tensor {
    const [B, L, C] = hidden.shape as [number, number, number];
    if (labels.length !== B * L)
      invalidArgument(`ProteinEncoder.maskedLmLoss: ${labels.length} labels for [${B}, ${L}]`);
    const rows: number[] = [];
    labels.forEach((label, i) => {
      if (label !== -100) rows.push(i);
    });
    if (rows.length === 0) invalidArgument('ProteinEncoder.maskedLmLoss: no position is scored');
    return tidy(() => {
      // only the scored rows go through the vocabulary projection
      const index = this.device.tensor(Int32Array.from(rows), [rows.length], { dtype: 'i32' });
      const logits = this.lmHead.forward(indexSelect(hidden.reshape([B * L, C]), 0, index)); // [M, V]
      const targets = this.device.tensor(
        Int32Array.from(rows, (i) => labels[i]!),
        [rows.length],
        { dtype: 'i32' },
      );
      return nn.crossEntropy(logits, targets);
    });
  }
}
