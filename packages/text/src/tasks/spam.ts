/**
 * `text/spam`: SpamAssassin ham/spam classification with a small BERT trained from scratch, and two
 * logistic regressions over the same tokens (plain bag of words, and tf-idf) as the bars it is measured by.
 *
 *   emails (loadSpamAssassin, seeded stratified 80/20 split)
 *     -> text: Subject, newline, the first `maxChars` characters of the body
 *     -> WordPiece tokenizer trained on the TRAIN split only
 *     -> [CLS] ... [SEP] windows of at most `maxTokens` tokens: the first `windows` pieces of the text
 *        (one by default: the start of the email); with windowMode 'separate' each window is a training
 *        example with its email's label and an email's score is the mean of its windows' log-odds; with
 *        'pooled' the windows are encoded apart and pooled together, one example and one score per email
 *     -> Bert classifier (AdamW, warmup + cosine), batches grouped by length so most need no padding
 *     -> checkpoint `<checkpointDir>/text/spam.safetensors` (TaskContext's `<dir>/<task id>.safetensors`): weights, plus the tokenizer.json text, the
 *        model config and the preprocessing in its metadata, so evaluate and classify need nothing else.
 *
 * Metrics take spam as the positive class.
 */
import {
  add,
  type Device,
  io,
  mul,
  nn,
  noGrad,
  optim,
  type Tensor,
  tidy,
  train as trainLoop,
} from '@multihead/core';
import { loadSpamAssassin } from '../data/spam-assassin.js';
import { type Split, seededShuffle } from '../data/split.js';
import { invalidArgument } from '../errors.js';
import { Bert, type BertBatch, type BertConfig, maskTokens } from '../models/bert.js';
import { nodeFs, nodePath } from '../node.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';
import { trainWordPieceTokenizer } from '../tokenizers/wordpiece-trainer.js';
import type { TaskContext, TaskMetrics, TextTask, TrainTaskOptions, TrainTaskResult } from './task.js';

export const SPAM_TASK_ID = 'text/spam';
/** Class index -> label; index 1 (spam) is the positive class of precision, recall and F1. */
export const SPAM_LABELS = ['ham', 'spam'] as const;

/** One email as the task reads it (`Email` from loadSpamAssassin fits). */
export interface SpamExample {
  subject: string;
  body: string;
  label: 'ham' | 'spam';
}

export type WindowMode = 'separate' | 'pooled';

/** The model's size (the rest of BertConfig comes from the tokenizer and the preprocessing). */
export type SpamModelSize = Pick<
  BertConfig,
  'dModel' | 'nHead' | 'nLayer' | 'dimFeedforward' | 'dropout' | 'pooling'
>;

export interface SpamTaskOptions {
  /** The emails, split (default: loadSpamAssassin with the seed; the split is fixed by the seed). */
  data?: (seed: number) => Promise<Split<SpamExample>>;
  /** Body characters kept before tokenizing (default 2000). */
  maxChars?: number;
  /** Tokens per email, [CLS] and [SEP] included (default 64). */
  maxTokens?: number;
  /**
   * Windows of maxTokens read per email (default 1: the start only). More windows show the model more of
   * each email, in training (each window an example) and in scoring (the mean log-odds); the baseline then
   * reads the same tokens.
   */
  windows?: number;
  /**
   * How an email's windows make one prediction (default 'separate'). 'separate': each window is a training
   * example with its email's label, and an email's score is the mean of its windows' log-odds. 'pooled':
   * the windows run through the encoder apart (attention stays within a window) and the model's max or
   * mean pooling runs over the tokens of all of them, so one example and one prediction is a whole email
   * (hierarchical, as for documents longer than the position table); needs pooling 'max' or 'mean'.
   */
  windowMode?: WindowMode;
  /** WordPiece vocabulary (default 8000). */
  vocabSize?: number;
  model?: Partial<SpamModelSize>;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Default optimizer steps when TrainTaskOptions.steps is not given (900: six epochs of 32). */
  steps?: number;
  /** Peak learning rate (default 1e-3), reached after `warmupFraction` of the steps, then cosine to 0. */
  lr?: number;
  warmupFraction?: number;
  weightDecay?: number;
  /** Masked-LM steps on the training texts before fine-tuning (default 0: none). */
  pretrainSteps?: number;
  /** Characters of each training text that MLM pretraining reads, cut into maxTokens windows (default 8000). */
  pretrainChars?: number;
  /**
   * While training the classifier, corrupt this share of the tokens as BERT's MLM does (80% [MASK], 10%
   * random, 10% kept): an augmentation against leaning on a few tokens. Default 0.15.
   */
  augmentMaskProb?: number;
  /** Weight of the auxiliary masked-LM loss on the corrupted tokens (needs augmentMaskProb > 0). Default 0. */
  mlmWeight?: number;
  /** Label smoothing of the classification loss (default 0). */
  labelSmoothing?: number;
  /**
   * Keep an exponential moving average of the weights over the classification steps
   * (optim.ExponentialMovingAverage with this decay) and save it instead of the last weights. Default 0:
   * off.
   */
  emaDecay?: number;
  /**
   * Seed of the model's initialization, batch order and token masking (default: ctx.seed, which also fixes
   * the split). Set it to compare model seeds on one split.
   */
  modelSeed?: number;
  /** File path inside ctx.checkpointDir (default 'text/spam.safetensors', from the task id). */
  checkpointName?: string;
}

/**
 * Chosen on a validation cut of the training emails (`pnpm --filter @multihead/text tune:spam`, see
 * docs/decisions.md): per-channel max pooling over six epochs; [CLS] pooling, wider models, longer inputs,
 * more epochs and masked-LM pretraining all did as well or worse there.
 */
const DEFAULT_SIZE: SpamModelSize = {
  dModel: 64,
  nHead: 4,
  nLayer: 2,
  dimFeedforward: 256,
  dropout: 0.1,
  pooling: 'max',
};

/** What a checkpoint's metadata holds besides the weights. */
interface SpamMetadata {
  task: typeof SPAM_TASK_ID;
  config: BertConfig;
  tokenizer: string;
  maxChars: number;
  maxTokens: number;
  /** Windows per email (absent in older checkpoints: 1). */
  windows?: number;
  /** Absent in older checkpoints: 'separate'. */
  windowMode?: WindowMode;
  labels: readonly string[];
  /** The split seed: evaluate must hold out the same emails training never saw. */
  seed: number;
  backend: string;
}

/** The text the model reads: Subject, a newline, the start of the body. */
export function emailText(email: Pick<SpamExample, 'subject' | 'body'>, maxChars = 2000): string {
  return `${email.subject}\n${email.body.slice(0, maxChars)}`;
}

// ---- metrics -------------------------------------------------------------------------------------

export interface BinaryMetrics extends Record<string, number> {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Accuracy, and precision / recall / F1 of class 1, from predicted and true classes (0 or 1). */
export function binaryMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): BinaryMetrics {
  if (predicted.length !== actual.length || actual.length === 0) {
    invalidArgument(
      `binaryMetrics: ${predicted.length} predictions for ${actual.length} labels; expected as many, at least one`,
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let right = 0;
  for (let i = 0; i < actual.length; i++) {
    const [p, a] = [predicted[i]!, actual[i]!];
    if (p === a) right++;
    if (p === 1 && a === 1) tp++;
    else if (p === 1) fp++;
    else if (a === 1) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: right / actual.length, precision, recall, f1 };
}

// ---- baselines: bag-of-words and tf-idf L2-regularized logistic regression -----------------------

/**
 * Features of a document: 'tfidf' is sublinear tf (1 + log count) times smoothed idf (scikit-learn's
 * `TfidfVectorizer(sublinear_tf=True)`); 'counts' is the plain bag of words (term counts,
 * `CountVectorizer`). Rows are L2-normalized either way.
 */
export type BagOfWordsWeighting = 'tfidf' | 'counts';

export interface BagOfWordsLogisticRegressionOptions {
  /** Feature ids are below this (the tokenizer's vocabSize). */
  vocabSize: number;
  /** Default 'tfidf'. */
  weighting?: BagOfWordsWeighting;
  /**
   * L2 penalty λ on the weights (the bias is not penalized). Default: the best of `l2Grid` on a seeded
   * 20% hold-out of the training documents, then refit on all of them.
   */
  l2?: number;
  l2Grid?: readonly number[];
  /** Full-batch gradient iterations (default 2000). */
  iterations?: number;
  seed?: number;
}

/** A document as sparse, L2-normalized tf-idf features. */
interface SparseRow {
  index: Int32Array;
  value: Float64Array;
}

/**
 * Bag-of-words logistic regression: tf-idf or count features (see BagOfWordsWeighting), rows
 * L2-normalized, then the mean logistic loss plus
 * λ/2·‖w‖² minimized by Nesterov's accelerated gradient with the step 1/L that the normalized rows give
 * (L ≤ 1/4 · 2 + λ: features and the constant bias feature each have norm ≤ 1). A strongly convex
 * problem, so the fit does not depend on initialization or order.
 */
export class BagOfWordsLogisticRegression {
  private constructor(
    readonly weighting: BagOfWordsWeighting,
    /** Per-id factor: the smoothed idf ('tfidf') or ones ('counts'). */
    readonly idf: Float64Array,
    readonly weights: Float64Array,
    readonly bias: number,
    readonly l2: number,
  ) {}

  static fit(
    docs: readonly ArrayLike<number>[],
    labels: ArrayLike<number>,
    opts: BagOfWordsLogisticRegressionOptions,
  ): BagOfWordsLogisticRegression {
    if (docs.length !== labels.length || docs.length === 0) {
      invalidArgument(
        `BagOfWordsLogisticRegression.fit: ${docs.length} documents for ${labels.length} labels; expected as many, at least one`,
      );
    }
    const V = opts.vocabSize;
    const weighting = opts.weighting ?? 'tfidf';
    if (weighting !== 'tfidf' && weighting !== 'counts') {
      invalidArgument(
        `BagOfWordsLogisticRegression.fit: weighting must be 'tfidf' or 'counts', got ${JSON.stringify(weighting)}`,
      );
    }
    const iterations = opts.iterations ?? 2000;
    let l2 = opts.l2;
    if (l2 === undefined) {
      const grid = opts.l2Grid ?? [1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7];
      const order = seededShuffle(
        Array.from({ length: docs.length }, (_, i) => i),
        opts.seed ?? 0,
      );
      const held = Math.max(1, Math.round(docs.length * 0.2));
      const [val, fit] = [order.slice(0, held), order.slice(held)];
      const fitDocs = fit.map((i) => docs[i]!);
      const fitLabels = fit.map((i) => labels[i]!);
      let best = Number.NEGATIVE_INFINITY;
      for (const candidate of grid) {
        const m = BagOfWordsLogisticRegression.fit(fitDocs, fitLabels, {
          ...opts,
          l2: candidate,
          iterations,
        });
        // accuracy first, then the mean log-likelihood breaks ties between equally accurate penalties
        let right = 0;
        let logLik = 0;
        for (const i of val) {
          const p = m.predictProba(docs[i]!);
          const y = labels[i]!;
          if ((p >= 0.5 ? 1 : 0) === y) right++;
          logLik += Math.log(Math.max(1e-12, y === 1 ? p : 1 - p));
        }
        const score = right / val.length + (1e-3 * logLik) / val.length;
        if (score > best) [best, l2] = [score, candidate];
      }
    }
    const lambda = l2!;
    // document frequencies -> smoothed idf = ln((1 + n) / (1 + df)) + 1
    const df = new Float64Array(V);
    for (const doc of docs) for (const id of new Set(Array.from(doc))) df[checkId(id, V)]!++;
    const idf =
      weighting === 'tfidf'
        ? df.map((d) => Math.log((1 + docs.length) / (1 + d)) + 1)
        : new Float64Array(V).fill(1);
    const rows = docs.map((doc) => featureRow(doc, weighting, idf));
    const y = Float64Array.from(labels as ArrayLike<number>);
    // Nesterov's accelerated gradient (FISTA without a prox term) on [w, b]
    const step = 1 / (0.5 + lambda);
    const n = rows.length;
    let w = new Float64Array(V);
    let b = 0;
    let prevW = new Float64Array(V);
    let prevB = 0;
    const lookW = new Float64Array(V);
    const grad = new Float64Array(V);
    let t = 1;
    for (let it = 0; it < iterations; it++) {
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const momentum = (t - 1) / tNext;
      for (let j = 0; j < V; j++) lookW[j] = w[j]! + momentum * (w[j]! - prevW[j]!);
      const lookB = b + momentum * (b - prevB);
      grad.fill(0);
      let gradB = 0;
      rows.forEach((row, i) => {
        const r = sigmoid(dot(row, lookW) + lookB) - y[i]!; // d(logistic loss)/d(score)
        for (let k = 0; k < row.index.length; k++) grad[row.index[k]!]! += r * row.value[k]!;
        gradB += r;
      });
      [prevW, w] = [w, prevW];
      prevB = b;
      for (let j = 0; j < V; j++) w[j] = lookW[j]! - step * (grad[j]! / n + lambda * lookW[j]!);
      b = lookB - (step * gradB) / n;
      t = tNext;
    }
    return new BagOfWordsLogisticRegression(weighting, idf, w, b, lambda);
  }

  /** P(class 1 | document). */
  predictProba(doc: ArrayLike<number>): number {
    return sigmoid(dot(featureRow(doc, this.weighting, this.idf), this.weights) + this.bias);
  }
}

function checkId(id: number, vocabSize: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    invalidArgument(`BagOfWordsLogisticRegression: token id ${id} is outside [0, ${vocabSize})`);
  }
  return id;
}

function featureRow(doc: ArrayLike<number>, weighting: BagOfWordsWeighting, idf: Float64Array): SparseRow {
  const counts = new Map<number, number>();
  for (let i = 0; i < doc.length; i++) {
    const id = doc[i]!;
    if (id >= 0 && id < idf.length) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const index = Int32Array.from(counts.keys());
  const tf = (count: number) => (weighting === 'tfidf' ? 1 + Math.log(count) : count);
  const value = Float64Array.from(index, (id) => tf(counts.get(id)!) * idf[id]!);
  let squares = 0;
  for (const v of value) squares += v * v;
  const norm = Math.sqrt(squares) || 1;
  for (let k = 0; k < value.length; k++) value[k]! /= norm;
  return { index, value };
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function dot(row: SparseRow, w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < row.index.length; k++) s += row.value[k]! * w[row.index[k]!]!;
  return s;
}

// ---- batches -------------------------------------------------------------------------------------

/**
 * A text's token ids cut into at most `windows` consecutive windows, each [CLS] ... [SEP] of at most
 * maxTokens ids (one window is the text truncated to maxTokens). An empty text gives one [CLS] [SEP].
 */
export function encodeWindows(
  tokenizer: Tokenizer,
  text: string,
  maxTokens: number,
  windows: number,
): Int32Array[] {
  const ids = tokenizer.encode(text, { addSpecialTokens: false }).ids;
  const [cls, sep, width] = [tokenizer.clsId!, tokenizer.sepId!, maxTokens - 2];
  const out: Int32Array[] = [];
  for (let start = 0; out.length < windows && (start < ids.length || out.length === 0); start += width) {
    const piece = ids.slice(start, start + width);
    const row = new Int32Array(piece.length + 2);
    row[0] = cls;
    row.set(piece, 1);
    row[row.length - 1] = sep;
    out.push(row);
  }
  return out;
}

/** Rows of ids padded to the longest (right padding, pad id), with the tokenizer-style attention mask. */
function padBatch(rows: readonly Int32Array[], padId: number): BertBatch {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  const attentionMask = new Uint8Array(rows.length * T);
  rows.forEach((r, b) => {
    ids.set(r, b * T);
    attentionMask.fill(1, b * T, b * T + r.length);
  });
  return { ids, attentionMask, shape: [rows.length, T] };
}

/**
 * What one prediction reads: a single window ('separate') or all of an email's windows ('pooled').
 * Units of a batch are padded to the same number of windows with empty (all padding) rows.
 */
type Unit = readonly Int32Array[];

function unitBatch(units: readonly Unit[], padId: number): { batch: BertBatch; windows: number } {
  const windows = Math.max(...units.map((u) => u.length));
  const empty = new Int32Array(0);
  const rows = units.flatMap((u) => [...u, ...Array<Int32Array>(windows - u.length).fill(empty)]);
  return { batch: padBatch(rows, padId), windows };
}

/** Total tokens of a unit (batches group units of similar size). */
const unitTokens = (u: Unit) => u.reduce((n, w) => n + w.length, 0);

/**
 * Logits [units, 2] from the encoder's output over a unit batch: hidden [U·W, T, C] and its mask [U·W, T]
 * are the same tokens as [U, W·T, C] and [U, W·T], so the pooling runs over all windows of a unit.
 */
function classifyUnits(model: Bert, hidden: Tensor, mask: Tensor | undefined, windows: number): Tensor {
  const [rows, T, C] = hidden.shape as [number, number, number];
  if (windows === 1) return model.classify(hidden, mask);
  const units = rows / windows;
  return model.classify(hidden.reshape([units, windows * T, C]), mask?.reshape([units, windows * T]));
}

/**
 * One epoch of batches, grouped by length (Hugging Face `group_by_length`): shuffle, sort each window
 * of 50 batches by length, cut, shuffle the batches. Rows of a batch then have similar lengths, so most
 * batches of long emails carry no padding and need no attention mask.
 */
function lengthGroupedBatches(lengths: readonly number[], batchSize: number, seed: number): number[][] {
  const order = seededShuffle(
    Array.from({ length: lengths.length }, (_, i) => i),
    seed,
  );
  const batches: number[][] = [];
  const window = batchSize * 50;
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengths[b]! - lengths[a]!);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return seededShuffle(batches, seed + 1);
}

/** Device tensors of a batch; the mask only when some row is padded (a mask costs time in attention). */
function batchTensors(device: Device, batch: BertBatch): { ids: Tensor; mask: Tensor | undefined } {
  const [B, T] = batch.shape;
  const ids = device.tensor(batch.ids, [B, T]);
  const padded = batch.attentionMask.includes(0);
  return { ids, mask: padded ? device.tensor(batch.attentionMask, [B, T]) : undefined };
}

// ---- the model of a checkpoint -------------------------------------------------------------------

interface LoadedSpamModel {
  model: Bert;
  tokenizer: Tokenizer;
  meta: SpamMetadata;
}

const loaded = new WeakMap<Device, Map<string, Promise<LoadedSpamModel>>>();

function loadedModels(device: Device): Map<string, Promise<LoadedSpamModel>> {
  const byPath = loaded.get(device) ?? new Map<string, Promise<LoadedSpamModel>>();
  loaded.set(device, byPath);
  return byPath;
}

async function loadSpamModel(device: Device, path: string): Promise<LoadedSpamModel> {
  const cache = loadedModels(device);
  let entry = cache.get(path);
  if (!entry) {
    entry = (async () => {
      const fs = await nodeFs();
      try {
        await fs.access(path);
      } catch {
        invalidArgument(`${SPAM_TASK_ID}: no checkpoint at ${path}; train the task first`);
      }
      const ckpt = await io.readCheckpoint(path);
      const meta = ckpt.metadata as unknown as SpamMetadata;
      if (meta.task !== SPAM_TASK_ID || typeof meta.tokenizer !== 'string') {
        invalidArgument(
          `${SPAM_TASK_ID}: ${path} is not a ${SPAM_TASK_ID} checkpoint (metadata.task ${meta.task})`,
        );
      }
      const tokenizer = Tokenizer.fromJSON(meta.tokenizer);
      const model = new Bert(device, meta.config);
      model.loadStateDict(ckpt.model);
      model.eval();
      return { model, tokenizer, meta };
    })();
    cache.set(path, entry);
    entry.catch(() => cache.delete(path));
  }
  return entry;
}

/**
 * P(spam) of each email from its windows: 'separate' scores each window and takes the sigmoid of the mean
 * of the windows' log-odds (one window: the softmax); 'pooled' scores each email's windows together. Units
 * run in batches of similar size (eval mode, no autograd). Exported for the tests, not by the package.
 */
export async function spamProbabilities(
  device: Device,
  model: Bert,
  emails: readonly Int32Array[][],
  padId: number,
  mode: WindowMode,
  batchSize = 64,
): Promise<Float32Array> {
  const units: readonly Unit[] = mode === 'pooled' ? emails : emails.flatMap((w) => w.map((r) => [r]));
  const owner = mode === 'pooled' ? emails.map((_, e) => e) : emails.flatMap((w, e) => w.map(() => e));
  const order = Array.from({ length: units.length }, (_, i) => i).sort(
    (a, b) => unitTokens(units[a]!) - unitTokens(units[b]!),
  );
  const logOdds = new Float64Array(emails.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const which = order.slice(start, start + batchSize);
    const { batch, windows } = unitBatch(
      which.map((i) => units[i]!),
      padId,
    );
    const logits = noGrad(() =>
      tidy(() => {
        const { ids, mask } = batchTensors(device, batch);
        return classifyUnits(model, model.encode(ids, mask), mask, windows); // [units, 2]
      }),
    );
    const l = await logits.read();
    logits.dispose();
    which.forEach((i, k) => {
      logOdds[owner[i]!]! += l[2 * k + 1]! - l[2 * k]!;
    });
  }
  const scored = (e: number) => (mode === 'pooled' ? 1 : emails[e]!.length);
  return Float32Array.from(logOdds, (z, e) => 1 / (1 + Math.exp(-z / scored(e))));
}

// ---- the task ------------------------------------------------------------------------------------

function positive(name: string, v: number | undefined, integer = true): void {
  if (v === undefined) return;
  if (!(v > 0) || (integer && !Number.isInteger(v))) {
    invalidArgument(`createSpamTask: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
}

/** The `text/spam` task; options change the data, preprocessing or model (tests use a small sample). */
export function createSpamTask(options: SpamTaskOptions = {}): TextTask {
  for (const key of ['maxChars', 'maxTokens', 'windows', 'vocabSize', 'batchSize', 'steps'] as const)
    positive(key, options[key]);
  positive('lr', options.lr, false);
  const maxChars = options.maxChars ?? 2000;
  const maxTokens = options.maxTokens ?? 64;
  const windows = options.windows ?? 1;
  const windowMode = options.windowMode ?? 'separate';
  if (maxTokens < 3)
    invalidArgument(`createSpamTask: maxTokens must be at least 3 ([CLS], a token, [SEP]), got ${maxTokens}`);
  const vocabSize = options.vocabSize ?? 8000;
  const size: SpamModelSize = { ...DEFAULT_SIZE, ...options.model };
  if (windowMode !== 'separate' && windowMode !== 'pooled')
    invalidArgument(
      `createSpamTask: windowMode must be 'separate' or 'pooled', got ${JSON.stringify(windowMode)}`,
    );
  if (windowMode === 'pooled' && size.pooling !== 'max' && size.pooling !== 'mean') {
    invalidArgument(
      `createSpamTask: windowMode 'pooled' pools over the tokens of all windows and needs model.pooling 'max' or 'mean', got ${JSON.stringify(size.pooling)}`,
    );
  }
  const batchSize = options.batchSize ?? 32;
  const defaultSteps = options.steps ?? 900;
  const lr = options.lr ?? 1e-3;
  const warmupFraction = options.warmupFraction ?? 0.1;
  const weightDecay = options.weightDecay ?? 0.01;
  const pretrainSteps = options.pretrainSteps ?? 0;
  const pretrainChars = options.pretrainChars ?? 8000;
  const augmentMaskProb = options.augmentMaskProb ?? 0.15;
  const mlmWeight = options.mlmWeight ?? 0;
  const labelSmoothing = options.labelSmoothing ?? 0;
  const emaDecay = options.emaDecay ?? 0;
  if (options.modelSeed !== undefined && !Number.isSafeInteger(options.modelSeed))
    invalidArgument(`createSpamTask: modelSeed must be an integer, got ${options.modelSeed}`);
  if (!(emaDecay >= 0 && emaDecay < 1))
    invalidArgument(`createSpamTask: emaDecay must be in [0, 1), got ${emaDecay}`);
  const fileName = options.checkpointName ?? `${SPAM_TASK_ID}.safetensors`;
  const loadData =
    options.data ?? ((seed: number) => loadSpamAssassin({ seed }) as Promise<Split<SpamExample>>);
  const labelOf = (e: SpamExample) => (e.label === 'spam' ? 1 : 0);

  const checkpointPath = async (ctx: TaskContext) => {
    if (typeof ctx.checkpointDir !== 'string' || ctx.checkpointDir === '') {
      invalidArgument(
        `${SPAM_TASK_ID}: checkpointDir must be a directory path, got ${JSON.stringify(ctx.checkpointDir)}`,
      );
    }
    return (await nodePath()).join(ctx.checkpointDir, fileName);
  };

  async function train(ctx: TaskContext, opts: TrainTaskOptions = {}): Promise<TrainTaskResult> {
    const { device } = ctx;
    const log = ctx.log ?? (() => {});
    const splitSeed = ctx.seed ?? 0;
    const seed = options.modelSeed ?? splitSeed;
    const steps = opts.steps ?? defaultSteps;
    positive('steps', steps);
    const t0 = performance.now();
    const data = await loadData(splitSeed);
    const texts = data.train.map((e) => emailText(e, maxChars));
    const tokenizer = trainWordPieceTokenizer(texts, { vocabSize });
    const perEmail = texts.map((t) => encodeWindows(tokenizer, t, maxTokens, windows));
    // the training examples: every window with its email's label, or every email's windows together
    const units: Unit[] = windowMode === 'pooled' ? perEmail : perEmail.flatMap((w) => w.map((r) => [r]));
    const labels =
      windowMode === 'pooled'
        ? data.train.map(labelOf)
        : perEmail.flatMap((w, e) => w.map(() => labelOf(data.train[e]!)));
    const windowCount = perEmail.reduce((n, w) => n + w.length, 0);
    const spamCount = data.train.filter((e) => labelOf(e) === 1).length;
    log(
      `${SPAM_TASK_ID}: ${data.train.length} training emails (${spamCount} spam), ` +
        `WordPiece vocabulary ${tokenizer.vocabSize}, ${windows === 1 ? '1 window' : `${windowCount} windows (up to ${windows} per email, ${windowMode})`} of ${maxTokens} tokens at most ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const padId = tokenizer.padId!;
    const config: BertConfig = {
      vocabSize: tokenizer.vocabSize,
      maxPositions: maxTokens,
      ...size,
      numLabels: SPAM_LABELS.length,
      padId,
      seed,
      mlmHead: pretrainSteps > 0 || mlmWeight > 0,
    };
    const model = new Bert(device, config);
    log(
      `${SPAM_TASK_ID}: BERT ${JSON.stringify(size)}, ${model.numParameters()} parameters on ${device.backend}`,
    );

    // a time limit and the caller's signal both stop training; what was trained is saved
    const controller = new AbortController();
    const timer =
      opts.maxSeconds !== undefined
        ? setTimeout(() => controller.abort(), opts.maxSeconds * 1000)
        : undefined;
    const onAbort = () => controller.abort();
    ctx.signal?.addEventListener('abort', onAbort);
    if (ctx.signal?.aborted) controller.abort();

    /** Step -> indices of items of these sizes: size-grouped batches, a new seeded order every epoch. */
    const batcher = (lengths: readonly number[], salt: number) => {
      const perEpoch = Math.ceil(lengths.length / batchSize);
      let epoch = -1;
      let batches: number[][] = [];
      return (step: number): number[] => {
        const e = Math.floor(step / perEpoch);
        if (e !== epoch)
          [epoch, batches] = [e, lengthGroupedBatches(lengths, batchSize, seed * 1000 + salt + e)];
        return batches[step % perEpoch]!;
      };
    };
    const run = async (
      phase: string,
      phaseSteps: number,
      batchAt: (step: number) => number[],
      loss: (which: number[], step: number) => Tensor,
      peakLr: number,
      ema: optim.ExponentialMovingAverage | null = null,
    ) => {
      const optimizer = new optim.AdamW(model.parameters(), { lr: peakLr, weightDecay });
      const scheduler = new optim.LRScheduler(
        optimizer,
        optim.cosineWithWarmup({
          warmupSteps: Math.round(phaseSteps * warmupFraction),
          totalSteps: phaseSteps,
        }),
      );
      const summary = await trainLoop({
        optimizer,
        scheduler,
        steps: phaseSteps,
        batch: batchAt,
        loss: (which) => loss(which, optimizer.stepCount),
        clipGradNorm: 1,
        progressEvery: 10,
        tokensPerStep: batchSize * maxTokens * (windowMode === 'pooled' ? windows : 1),
        signal: controller.signal,
        ...(ema ? { afterStep: () => ema.update() } : {}),
        onProgress: (p) => {
          ctx.onProgress?.({
            step: p.step,
            steps: phaseSteps,
            loss: p.loss,
            tokensPerSecond: p.tokensPerSecond,
          });
          if (p.step % 50 === 0 || p.step === phaseSteps) {
            log(
              `${SPAM_TASK_ID} ${phase} step ${p.step}/${phaseSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} (${p.msPerStep.toFixed(0)} ms/step)`,
            );
          }
        },
      });
      optimizer.dispose();
      return summary;
    };

    const masking = (maskProb: number, seedOf: number) => ({
      maskId: tokenizer.maskId!,
      specialIds: [tokenizer.padId, tokenizer.clsId, tokenizer.sepId, tokenizer.unkId].filter(
        (id): id is number => id !== undefined,
      ),
      vocabSize: tokenizer.vocabSize,
      maskProb,
      seed: seedOf,
    });

    let pretrained = 0;
    if (pretrainSteps > 0) {
      // MLM sees all of each training text (up to pretrainChars), cut into maxTokens windows
      const mlmRows = data.train.flatMap((e) =>
        encodeWindows(tokenizer, emailText(e, pretrainChars), maxTokens, Number.POSITIVE_INFINITY),
      );
      log(`${SPAM_TASK_ID}: MLM pretraining on ${mlmRows.length} windows of the training texts`);
      const windowsOf = (which: number[]) =>
        padBatch(
          which.map((i) => mlmRows[i]!),
          padId,
        );
      const s = await run(
        'mlm',
        pretrainSteps,
        batcher(
          mlmRows.map((r) => r.length),
          500,
        ),
        (which, step) => model.mlmLoss(windowsOf(which), masking(0.15, seed * 7919 + step)),
        lr,
      );
      pretrained = s.steps;
      log(`${SPAM_TASK_ID}: MLM pretraining ${s.steps} steps, loss ${s.finalLoss.toFixed(4)}`);
    }
    model.train();
    const ema =
      emaDecay > 0 ? new optim.ExponentialMovingAverage(model.parameters(), { decay: emaDecay }) : null;
    const summary = await run(
      'classify',
      steps,
      batcher(units.map(unitTokens), 0),
      (which, step) => {
        const { batch: clean, windows: perUnit } = unitBatch(
          which.map((i) => units[i]!),
          padId,
        );
        // token masking as augmentation: the classifier reads a corrupted copy (BERT's 80/10/10), and
        // with mlmWeight the same forward pass also predicts the corrupted tokens (an auxiliary MLM loss)
        const corrupted =
          augmentMaskProb > 0 ? maskTokens(clean, masking(augmentMaskProb, seed * 104729 + step)) : null;
        const { ids, mask } = batchTensors(device, corrupted ? { ...clean, ids: corrupted.inputIds } : clean);
        const targets = device.tensor(
          Int32Array.from(which, (i) => labels[i]!),
          [which.length],
        );
        const hidden = model.encode(ids, mask); // [B, T, C]
        const logits = classifyUnits(model, hidden, mask, perUnit);
        const loss = nn.crossEntropy(logits, targets, { labelSmoothing });
        if (!corrupted || mlmWeight === 0 || !corrupted.labels.some((l) => l !== -100)) return loss;
        return add(loss, mul(model.maskedLmLoss(hidden, corrupted.labels), mlmWeight));
      },
      lr,
      ema,
    );
    if (ema) {
      ema.copyTo(); // the checkpoint holds the averaged weights
      ema.dispose();
    }
    if (timer) clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);

    const path = await checkpointPath(ctx);
    await (await nodeFs()).mkdir((await nodePath()).dirname(path), { recursive: true });
    const meta: SpamMetadata = {
      task: SPAM_TASK_ID,
      config,
      tokenizer: tokenizer.toJSON(),
      maxChars,
      maxTokens,
      windows,
      windowMode,
      labels: SPAM_LABELS,
      seed: splitSeed,
      backend: device.backend,
    };
    await io.saveCheckpoint(path, {
      model: model.stateDict(),
      step: pretrained + summary.steps,
      metadata: { ...meta },
    });
    loadedModels(device).delete(path);
    model.dispose();
    const seconds = (performance.now() - t0) / 1000;
    log(
      `${SPAM_TASK_ID}: ${summary.steps} steps in ${seconds.toFixed(1)} s, final loss ${summary.finalLoss.toFixed(4)}; saved ${path}`,
    );
    return { steps: pretrained + summary.steps, seconds, finalLoss: summary.finalLoss, checkpoint: path };
  }

  async function evaluate(ctx: TaskContext): Promise<TaskMetrics> {
    const { device } = ctx;
    const log = ctx.log ?? (() => {});
    const t0 = performance.now();
    const { model, tokenizer, meta } = await loadSpamModel(device, await checkpointPath(ctx));
    const data = await loadData(meta.seed);
    const encode = (emails: readonly SpamExample[]) =>
      emails.map((e) =>
        encodeWindows(tokenizer, emailText(e, meta.maxChars), meta.maxTokens, meta.windows ?? 1),
      );
    const [trainRows, testRows] = [encode(data.train), encode(data.test)];
    const actual = data.test.map(labelOf);
    const probs = await spamProbabilities(
      device,
      model,
      testRows,
      meta.config.padId,
      meta.windowMode ?? 'separate',
    );
    const modelMetrics = binaryMetrics(
      Array.from(probs, (p) => (p >= 0.5 ? 1 : 0)),
      actual,
    );
    // the baselines see the same tokens (same tokenizer, same windows) without [CLS] / [SEP]
    const specials = new Set([tokenizer.clsId, tokenizer.sepId, tokenizer.padId]);
    const words = (w: Int32Array[]) =>
      Int32Array.from(w.flatMap((r) => Array.from(r)).filter((id) => !specials.has(id)));
    const [trainDocs, testDocs] = [trainRows.map(words), testRows.map(words)];
    const fitBaseline = (weighting: BagOfWordsWeighting) => {
      const lr = BagOfWordsLogisticRegression.fit(trainDocs, data.train.map(labelOf), {
        vocabSize: tokenizer.vocabSize,
        weighting,
        seed: meta.seed,
      });
      const metrics = binaryMetrics(
        testDocs.map((d) => (lr.predictProba(d) >= 0.5 ? 1 : 0)),
        actual,
      );
      return { l2: lr.l2, metrics };
    };
    const [tfidf, counts] = [fitBaseline('tfidf'), fitBaseline('counts')];
    const line = (m: BinaryMetrics) =>
      `accuracy ${m.accuracy.toFixed(4)}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  f1 ${m.f1.toFixed(4)}`;
    log(
      `${SPAM_TASK_ID}: ${data.test.length} held-out emails (${actual.filter((y) => y === 1).length} spam)`,
    );
    log(`  bert                              ${line(modelMetrics)}`);
    log(`  tf-idf logistic (λ=${tfidf.l2.toExponential(0)})         ${line(tfidf.metrics)}`);
    log(`  bag-of-words logistic (λ=${counts.l2.toExponential(0)})   ${line(counts.metrics)}`);
    return {
      model: modelMetrics,
      baseline: tfidf.metrics,
      baselineL2: tfidf.l2,
      bagOfWords: counts.metrics,
      bagOfWordsL2: counts.l2,
      examples: data.test.length,
      backend: device.backend,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  async function classify(
    ctx: TaskContext,
    text: string,
  ): Promise<{ label: string; probabilities: Record<string, number> }> {
    if (typeof text !== 'string') invalidArgument(`${SPAM_TASK_ID}.classify: text must be a string`);
    const { model, tokenizer, meta } = await loadSpamModel(ctx.device, await checkpointPath(ctx));
    // a text without a line break is a body alone; otherwise its first line stands where the Subject goes
    const cut = text.indexOf('\n');
    const email =
      cut < 0 ? { subject: '', body: text } : { subject: text.slice(0, cut), body: text.slice(cut + 1) };
    const rows = encodeWindows(tokenizer, emailText(email, meta.maxChars), meta.maxTokens, meta.windows ?? 1);
    const [spam] = await spamProbabilities(
      ctx.device,
      model,
      [rows],
      meta.config.padId,
      meta.windowMode ?? 'separate',
    );
    const probabilities = { ham: 1 - spam!, spam: spam! };
    return { label: spam! >= 0.5 ? 'spam' : 'ham', probabilities };
  }

  return {
    id: SPAM_TASK_ID,
    kind: 'classify',
    description:
      'SpamAssassin spam vs ham: a small BERT trained from scratch on subject + start of body, against bag-of-words and tf-idf logistic regressions',
    train,
    evaluate,
    classify,
  };
}

/** The task with its defaults, as TEXT_TASKS lists it. */
export const spamTask: TextTask = createSpamTask();
