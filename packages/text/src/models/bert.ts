/**
 * BERT: a bidirectional transformer encoder (Devlin et al. 2019) in one file. Token ids and the
 * tokenizer's attention mask in; a sequence classification (the [CLS] vector through BERT's pooler) or
 * masked-language-model logits out.
 *
 *   ids [B, T] -> word + learned position embeddings -> LayerNorm -> dropout
 *              -> nn.TransformerEncoder (post-norm, GELU, batchFirst; key padding mask from the tokenizer)
 *              -> [CLS] row -> pooler (Linear + tanh) -> dropout -> classifier        logits [B, numLabels]
 *              -> (MLM head) Linear + GELU + LayerNorm -> decoder tied to the word embedding + bias
 *
 * Parameter names are ours (the nn modules' PyTorch names); Hugging Face `BertForSequenceClassification` /
 * `BertForMaskedLM` names map onto them as follows (a loader would concatenate q, k, v and drop
 * token_type_embeddings after adding its row 0 to every position embedding):
 *
 *   embeddings.word_embeddings.weight [V, C]        bert.embeddings.word_embeddings.weight
 *   embeddings.position_embeddings.weight [P, C]    bert.embeddings.position_embeddings.weight
 *   embeddings.LayerNorm.{weight, bias}             bert.embeddings.LayerNorm.{weight, bias}
 *   encoder.layers.N.self_attn.in_proj_weight [3C, C]  cat(bert.encoder.layer.N.attention.self.{query, key, value}.weight)
 *   encoder.layers.N.self_attn.in_proj_bias [3C]       cat(... .attention.self.{query, key, value}.bias)
 *   encoder.layers.N.self_attn.out_proj.*          bert.encoder.layer.N.attention.output.dense.*
 *   encoder.layers.N.norm1.*                        bert.encoder.layer.N.attention.output.LayerNorm.*
 *   encoder.layers.N.linear1.* [F, C]               bert.encoder.layer.N.intermediate.dense.*
 *   encoder.layers.N.linear2.* [C, F]               bert.encoder.layer.N.output.dense.*
 *   encoder.layers.N.norm2.*                        bert.encoder.layer.N.output.LayerNorm.*
 *   pooler.dense.* [C, C]                           bert.pooler.dense.*
 *   classifier.* [numLabels, C]                     classifier.*
 *   mlm_head.dense.* [C, C]                         cls.predictions.transform.dense.*
 *   mlm_head.LayerNorm.*                            cls.predictions.transform.LayerNorm.*
 *   mlm_head.decoder.weight [V, C] (tied), .bias    cls.predictions.decoder.weight, cls.predictions.bias
 */
import {
  add,
  cast,
  copyInto,
  type Device,
  div,
  eq,
  gelu,
  indexSelect,
  max,
  mean,
  mul,
  nn,
  noGrad,
  randn,
  seededUniform,
  sub,
  sum,
  type Tensor,
  tanh,
  tidy,
} from '@multihead/core';
import { invalidArgument } from '../errors.js';

export type BertPooling = 'cls' | 'mean' | 'max';

export interface BertConfig {
  vocabSize: number;
  /** Longest sequence, [CLS] and [SEP] included (BERT: 512). */
  maxPositions: number;
  /** Hidden width C (a multiple of nHead). */
  dModel: number;
  nHead: number;
  nLayer: number;
  /** Feed-forward width (BERT: 4 · dModel). */
  dimFeedforward: number;
  /** Dropout on embeddings, attention probabilities, residual branches and before the classifier (BERT: 0.1). */
  dropout: number;
  /** Classes of the sequence classifier. */
  numLabels: number;
  /** The tokenizer's pad id: its embedding row starts at zero and gets no gradient. */
  padId: number;
  /** Seed of the initial weights and the dropout masks. */
  seed: number;
  /** Build the masked-language-model head (for `mlmLoss`); default false. */
  mlmHead?: boolean;
  /** LayerNorm epsilon (BERT: 1e-12). */
  layerNormEps?: number;
  /**
   * What the pooler reads: the [CLS] row (BERT, default), the mean over real tokens (sentence-transformers), or
   * the per-channel max over real tokens (keyword-like features, often better for small data from scratch).
   */
  pooling?: BertPooling;
}

/** What `Tokenizer.encodeBatch` returns, as far as the model needs it: row-major [B, T] arrays. */
export interface BertBatch {
  ids: Int32Array;
  /** 1 = token, 0 = padding (Hugging Face attention_mask). */
  attentionMask: Uint8Array;
  shape: readonly [number, number];
}

export interface MaskTokensOptions {
  /** The [MASK] id. */
  maskId: number;
  /** Ids never chosen for prediction nor drawn as random replacements ([CLS], [SEP], [PAD], [UNK]...). */
  specialIds: readonly number[];
  /** Vocabulary size (random replacements are drawn from the non-special ids below it). */
  vocabSize: number;
  /** Share of real, non-special tokens chosen for prediction (BERT: 0.15). */
  maskProb?: number;
  /** Seed of the choice (use a new one per step). */
  seed?: number;
}

export interface MaskedTokens {
  /** The ids the model sees: chosen positions are [MASK] 80%, a random token 10%, unchanged 10%. */
  inputIds: Int32Array;
  /** The original id at chosen positions, -100 elsewhere (crossEntropy's ignoreIndex). */
  labels: Int32Array;
}

/**
 * BERT's masked-LM corruption (Devlin et al. 2019, §3.1): each real, non-special token is chosen with
 * probability `maskProb`; a chosen token becomes [MASK] 80% of the time, a random non-special token 10%
 * and stays itself 10%, and is the only kind of position scored. Padding and special tokens are never
 * chosen. At least one token is chosen when the batch has any eligible one (a loss over nothing is NaN).
 */
export function maskTokens(batch: BertBatch, opts: MaskTokensOptions): MaskedTokens {
  const { ids, attentionMask } = batch;
  const p = opts.maskProb ?? 0.15;
  if (!(p > 0 && p <= 1)) invalidArgument(`maskTokens: maskProb must be in (0, 1], got ${opts.maskProb}`);
  if (attentionMask.length !== ids.length) {
    invalidArgument(
      `maskTokens: attentionMask has ${attentionMask.length} entries; expected one per id (${ids.length})`,
    );
  }
  const special = new Set([...opts.specialIds, opts.maskId]);
  const replacements: number[] = [];
  for (let id = 0; id < opts.vocabSize; id++) if (!special.has(id)) replacements.push(id);
  if (replacements.length === 0) invalidArgument('maskTokens: every id of the vocabulary is special');
  const random = seededUniform(((opts.seed ?? 0) ^ 0x9e3779b9) >>> 0);
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(-100);
  const eligible: number[] = [];
  const choose = (i: number) => {
    labels[i] = ids[i]!;
    const r = random();
    if (r < 0.8) inputIds[i] = opts.maskId;
    else if (r < 0.9) inputIds[i] = replacements[Math.floor(random() * replacements.length)]!;
  };
  let chosen = 0;
  for (let i = 0; i < ids.length; i++) {
    if (attentionMask[i] === 0 || special.has(ids[i]!)) continue;
    eligible.push(i);
    if (random() < p) {
      choose(i);
      chosen++;
    }
  }
  if (chosen === 0 && eligible.length > 0) choose(eligible[Math.floor(random() * eligible.length)]!);
  return { inputIds, labels };
}

/** A small, stable hash that derives independent seeds for submodules and initial values. */
function mix(seed: number, salt: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  for (const c of salt) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

class BertEmbeddings extends nn.Module {
  readonly wordEmbeddings: nn.Embedding;
  readonly positionEmbeddings: nn.Embedding;
  readonly norm: nn.LayerNorm;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, cfg: Required<BertConfig>) {
    super(device);
    const { vocabSize, maxPositions, dModel, seed } = cfg;
    this.wordEmbeddings = this.registerModule(
      'word_embeddings',
      new nn.Embedding(device, vocabSize, dModel, { paddingIdx: cfg.padId, seed: mix(seed, 'word') }),
    );
    this.positionEmbeddings = this.registerModule(
      'position_embeddings',
      new nn.Embedding(device, maxPositions, dModel, { seed: mix(seed, 'position') }),
    );
    this.norm = this.registerModule('LayerNorm', new nn.LayerNorm(device, dModel, { eps: cfg.layerNormEps }));
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: mix(seed, 'embeddings.dropout') }),
    );
  }

  /** ids [B, T] -> [B, T, C] */
  forward(ids: Tensor): Tensor {
    const T = ids.shape[1]!;
    return tidy(() => {
      const positions = this.device.tensor(
        Int32Array.from({ length: T }, (_, i) => i),
        [T],
      );
      const x = add(this.wordEmbeddings.forward(ids), this.positionEmbeddings.forward(positions)); // [B, T, C] + [T, C]
      return this.dropout.forward(this.norm.forward(x));
    });
  }
}

/** BERT's pooler: the [CLS] row through a dense layer and tanh (trained by next-sentence prediction in BERT). */
class BertPooler extends nn.Module {
  readonly dense: nn.Linear;
  private readonly pooling: BertPooling;

  constructor(device: Device, cfg: Required<BertConfig>) {
    super(device);
    this.pooling = cfg.pooling;
    this.dense = this.registerModule(
      'dense',
      new nn.Linear(device, cfg.dModel, cfg.dModel, { seed: mix(cfg.seed, 'pooler') }),
    );
  }

  /** hidden [B, T, C] -> [B, C]: the [CLS] row, or the mean / max over the real tokens' rows (see `pooling`). */
  forward(hidden: Tensor, attentionMask?: Tensor): Tensor {
    return tidy(() => tanh(this.dense.forward(this.pool(hidden, attentionMask))));
  }

  private pool(hidden: Tensor, attentionMask?: Tensor): Tensor {
    if (this.pooling === 'cls') return hidden.slice(1, 0, 1).squeeze(1);
    if (this.pooling === 'mean') {
      if (!attentionMask) return mean(hidden, 1);
      const m = cast(attentionMask, 'f32').unsqueeze(2); // [B, T, 1], 1 = token
      return div(sum(mul(hidden, m), 1), sum(m, 1));
    }
    if (!attentionMask) return max(hidden, 1);
    // padding rows sink far below any real activation, so they never win the max
    const padPenalty = mul(sub(cast(attentionMask, 'f32'), 1), 1e4).unsqueeze(2); // 0 = token, -1e4 = pad
    return max(add(hidden, padPenalty), 1);
  }
}

/** The masked-LM head: transform (dense + GELU + LayerNorm), then logits over the vocabulary. */
class BertMLMHead extends nn.Module {
  readonly dense: nn.Linear;
  readonly norm: nn.LayerNorm;
  readonly decoder: nn.Linear;

  constructor(device: Device, cfg: Required<BertConfig>, wordEmbeddings: nn.Embedding) {
    super(device);
    const { dModel, vocabSize, seed } = cfg;
    this.dense = this.registerModule(
      'dense',
      new nn.Linear(device, dModel, dModel, { seed: mix(seed, 'mlm.dense') }),
    );
    this.norm = this.registerModule('LayerNorm', new nn.LayerNorm(device, dModel, { eps: cfg.layerNormEps }));
    this.decoder = this.registerModule(
      'decoder',
      new nn.Linear(device, dModel, vocabSize, { seed: mix(seed, 'mlm.decoder') }),
    );
    nn.tieWeights(this.decoder, wordEmbeddings); // Press & Wolf 2017, as BERT
  }

  /** hidden [..., C] -> [..., V] */
  forward(hidden: Tensor): Tensor {
    return tidy(() => this.decoder.forward(this.norm.forward(gelu(this.dense.forward(hidden)))));
  }
}

export class Bert extends nn.Module {
  readonly config: Required<BertConfig>;
  readonly embeddings: BertEmbeddings;
  readonly encoder: nn.TransformerEncoder;
  readonly pooler: BertPooler;
  readonly classifier: nn.Linear;
  readonly mlmHead: BertMLMHead | null;
  private readonly dropout: nn.Dropout;

  constructor(device: Device, config: BertConfig) {
    super(device);
    const cfg: Required<BertConfig> = { mlmHead: false, layerNormEps: 1e-12, pooling: 'cls', ...config };
    for (const key of [
      'vocabSize',
      'maxPositions',
      'dModel',
      'nHead',
      'nLayer',
      'dimFeedforward',
      'numLabels',
    ] as const) {
      if (!Number.isInteger(cfg[key]) || cfg[key] < 1)
        invalidArgument(`Bert: config.${key} must be a positive integer, got ${cfg[key]}`);
    }
    if (cfg.dModel % cfg.nHead !== 0)
      invalidArgument(`Bert: config.dModel ${cfg.dModel} must be a multiple of nHead ${cfg.nHead}`);
    if (!Number.isInteger(cfg.padId) || cfg.padId < 0 || cfg.padId >= cfg.vocabSize)
      invalidArgument(`Bert: config.padId ${cfg.padId} must be an id below vocabSize ${cfg.vocabSize}`);
    if (!(cfg.dropout >= 0 && cfg.dropout < 1))
      invalidArgument(`Bert: config.dropout must be in [0, 1), got ${cfg.dropout}`);
    this.config = cfg;
    this.embeddings = this.registerModule('embeddings', new BertEmbeddings(device, cfg));
    this.encoder = this.registerModule(
      'encoder',
      new nn.TransformerEncoder(
        device,
        {
          dModel: cfg.dModel,
          nHead: cfg.nHead,
          dimFeedforward: cfg.dimFeedforward,
          dropout: cfg.dropout,
          activation: 'gelu', // erf GELU, as BERT
          layerNormEps: cfg.layerNormEps,
          batchFirst: true,
          normFirst: false, // post-norm, as BERT
          seed: mix(cfg.seed, 'encoder'),
        },
        cfg.nLayer,
      ),
    );
    this.pooler = this.registerModule('pooler', new BertPooler(device, cfg));
    this.dropout = this.registerModule(
      'dropout',
      new nn.Dropout(device, cfg.dropout, { seed: mix(cfg.seed, 'classifier.dropout') }),
    );
    this.classifier = this.registerModule(
      'classifier',
      new nn.Linear(device, cfg.dModel, cfg.numLabels, { seed: mix(cfg.seed, 'classifier') }),
    );
    this.mlmHead = cfg.mlmHead
      ? this.registerModule('mlm_head', new BertMLMHead(device, cfg, this.embeddings.wordEmbeddings))
      : null;
    this.initWeights();
  }

  /**
   * BERT's initialization (HF `BertPreTrainedModel._init_weights`): Linear and Embedding weights (the
   * packed in-projections too) N(0, 0.02), biases 0, LayerNorm weight 1 and bias 0, the pad row 0.
   */
  private initWeights(): void {
    noGrad(() => {
      this.namedParameters().forEach(([name, p]) => {
        if (/(^|\.)(LayerNorm|norm\d)\./.test(name)) return; // weight 1, bias 0 already
        const init = /bias$/.test(name)
          ? this.device.zeros(p.shape)
          : randn(this.device, p.shape, { seed: mix(this.config.seed, `init ${name}`), std: 0.02 });
        copyInto(p, init);
        init.dispose();
      });
      const pad = this.config.padId;
      const row = this.embeddings.wordEmbeddings.weight.slice(0, pad, pad + 1);
      const zeros = this.device.zeros(row.shape);
      copyInto(row, zeros);
      for (const t of [row, zeros]) t.dispose();
    });
  }

  private checkInputs(op: string, ids: Tensor, attentionMask?: Tensor): void {
    if (ids.rank !== 2 || ids.dtype !== 'i32') {
      invalidArgument(`Bert.${op}: ids must be [B, T] i32, got [${ids.shape.join(', ')}] ${ids.dtype}`);
    }
    if (ids.shape[1]! > this.config.maxPositions) {
      invalidArgument(
        `Bert.${op}: ${ids.shape[1]} tokens exceed maxPositions ${this.config.maxPositions}; truncate when encoding`,
      );
    }
    if (
      attentionMask &&
      (attentionMask.rank !== 2 || attentionMask.shape.some((d, i) => d !== ids.shape[i]))
    ) {
      invalidArgument(
        `Bert.${op}: attentionMask [${attentionMask.shape.join(', ')}] must have the shape of ids [${ids.shape.join(', ')}]`,
      );
    }
  }

  /**
   * The encoder's last hidden states. ids [B, T] i32; attentionMask [B, T] (the tokenizer's: 1 = token,
   * 0 = pad; bool or integer) -> [B, T, C]. Padded keys are invisible to every query.
   */
  encode(ids: Tensor, attentionMask?: Tensor): Tensor {
    return this.encodeDetailed(ids, attentionMask, []).hidden;
  }

  /**
   * As encode, with the per-head attention probabilities [B, H, T, T] of the layers listed (Hugging
   * Face's `output_attentions`; `attentions[i]` for layer i, null for the others). Not differentiable.
   */
  encodeDetailed(
    ids: Tensor,
    attentionMask: Tensor | undefined,
    attentionWeights: readonly number[],
  ): { hidden: Tensor; attentions: (Tensor | null)[] } {
    this.checkInputs('encode', ids, attentionMask);
    return tidy(() => {
      const x = this.embeddings.forward(ids); // [B, T, C]
      // PyTorch src_key_padding_mask: true = pad (the tokenizer's mask says 1 = token)
      const opts = attentionMask ? { srcKeyPaddingMask: eq(attentionMask, 0) } : {}; // [B, T] bool
      if (attentionWeights.length === 0) return { hidden: this.encoder.forward(x, opts), attentions: [] };
      const { out, attentions } = this.encoder.forwardDetailed(x, { ...opts, attentionWeights });
      return { hidden: out, attentions };
    });
  }

  /** Sequence classification: ids [B, T], attentionMask [B, T] -> logits [B, numLabels]. */
  forward(ids: Tensor, attentionMask?: Tensor): Tensor {
    return tidy(() => this.classify(this.encode(ids, attentionMask), attentionMask));
  }

  /** The classifier on hidden states: [B, T, C] -> [CLS] -> pooler -> dropout -> logits [B, numLabels]. */
  classify(hidden: Tensor, attentionMask?: Tensor): Tensor {
    return tidy(() =>
      this.classifier.forward(this.dropout.forward(this.pooler.forward(hidden, attentionMask))),
    );
  }

  private head(op: string): BertMLMHead {
    if (!this.mlmHead)
      invalidArgument(`Bert.${op}: the model was built without the MLM head (config.mlmHead)`);
    return this.mlmHead;
  }

  /** Masked-LM logits at every position: ids [B, T], attentionMask [B, T] -> [B, T, V]. */
  mlmLogits(ids: Tensor, attentionMask?: Tensor): Tensor {
    const head = this.head('mlmLogits');
    return tidy(() => head.forward(this.encode(ids, attentionMask)));
  }

  /**
   * Mean masked-LM cross-entropy of hidden states [B, T, C] against `labels` (B·T ids, -100 where nothing
   * is scored, as `maskTokens` gives them). Only the scored rows go through the vocabulary projection.
   */
  maskedLmLoss(hidden: Tensor, labels: Int32Array): Tensor {
    const head = this.head('maskedLmLoss');
    const [B, T, C] = hidden.shape as [number, number, number];
    if (labels.length !== B * T) {
      invalidArgument(
        `Bert.maskedLmLoss: ${labels.length} labels for hidden states [${B}, ${T}, ${C}]; expected ${B * T}`,
      );
    }
    const rows: number[] = [];
    labels.forEach((label, i) => {
      if (label !== -100) rows.push(i);
    });
    if (rows.length === 0) invalidArgument('Bert.maskedLmLoss: no position is scored (every label is -100)');
    return tidy(() => {
      const index = this.device.tensor(Int32Array.from(rows), [rows.length]);
      const logits = head.forward(indexSelect(hidden.reshape([B * T, C]), 0, index)); // [M, V]
      const targets = this.device.tensor(
        Int32Array.from(rows, (i) => labels[i]!),
        [rows.length],
      );
      return nn.crossEntropy(logits, targets);
    });
  }

  /**
   * The masked-LM pretraining loss of one batch (BERT's 15% with 80/10/10 replacement, see `maskTokens`):
   * mean cross-entropy over the chosen positions.
   */
  mlmLoss(batch: BertBatch, opts: MaskTokensOptions): Tensor {
    this.head('mlmLoss');
    const [B, T] = batch.shape;
    const { inputIds, labels } = maskTokens(batch, opts);
    if (!labels.some((label) => label !== -100))
      invalidArgument('Bert.mlmLoss: the batch has no token that can be masked');
    return tidy(() => {
      const ids = this.device.tensor(inputIds, [B, T]);
      // an all-ones mask changes nothing and costs time in attention: leave it out
      const padded = batch.attentionMask.includes(0);
      const mask = padded ? this.device.tensor(batch.attentionMask, [B, T]) : undefined;
      return this.maskedLmLoss(this.encode(ids, mask), labels);
    });
  }
}
