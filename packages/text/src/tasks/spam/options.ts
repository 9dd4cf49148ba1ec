/**
 * text/spam's options: what changes the data, the preprocessing, the model and its training, with the
 * defaults chosen on a validation cut (docs/decisions.md, "Text tasks"), checked once in `resolveSpamOptions`.
 */

import { loadSpamAssassin } from '../../data/spam-assassin.js';
import type { Split } from '../../data/split.js';
import { invalidArgument } from '../../errors.js';
import type { BertConfig } from '../../models/bert.js';

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
   * Fall back to the checkpoint shipped with the package when none is given or stored (default true;
   * it was trained with the defaults, so a task with other preprocessing should set false).
   */
  committed?: boolean;
  /**
   * Seed of the model's initialization, batch order and token masking (default: ctx.seed, which also fixes
   * the split). Set it to compare model seeds on one split.
   */
  modelSeed?: number;
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

/** The text the model reads: Subject, a newline, the start of the body. */
export function emailText(email: Pick<SpamExample, 'subject' | 'body'>, maxChars = 2000): string {
  return `${email.subject}\n${email.body.slice(0, maxChars)}`;
}

function positive(name: string, v: number | undefined, integer = true): void {
  if (v === undefined) return;
  if (!(v > 0) || (integer && !Number.isInteger(v))) {
    invalidArgument(`createSpamTask: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
}

/** Every option with its default, checked. */
export function resolveSpamOptions(options: SpamTaskOptions = {}) {
  for (const key of ['maxChars', 'maxTokens', 'windows', 'vocabSize', 'batchSize', 'steps'] as const)
    positive(key, options[key]);
  positive('lr', options.lr, false);
  const maxTokens = options.maxTokens ?? 64;
  const windowMode = options.windowMode ?? 'separate';
  if (maxTokens < 3)
    invalidArgument(`createSpamTask: maxTokens must be at least 3 ([CLS], a token, [SEP]), got ${maxTokens}`);
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
  const emaDecay = options.emaDecay ?? 0;
  if (options.modelSeed !== undefined && !Number.isSafeInteger(options.modelSeed))
    invalidArgument(`createSpamTask: modelSeed must be an integer, got ${options.modelSeed}`);
  if (!(emaDecay >= 0 && emaDecay < 1))
    invalidArgument(`createSpamTask: emaDecay must be in [0, 1), got ${emaDecay}`);
  return {
    maxChars: options.maxChars ?? 2000,
    maxTokens,
    windows: options.windows ?? 1,
    windowMode,
    vocabSize: options.vocabSize ?? 8000,
    size,
    batchSize: options.batchSize ?? 32,
    steps: options.steps ?? 900,
    lr: options.lr ?? 1e-3,
    warmupFraction: options.warmupFraction ?? 0.1,
    weightDecay: options.weightDecay ?? 0.01,
    pretrainSteps: options.pretrainSteps ?? 0,
    pretrainChars: options.pretrainChars ?? 8000,
    augmentMaskProb: options.augmentMaskProb ?? 0.15,
    mlmWeight: options.mlmWeight ?? 0,
    labelSmoothing: options.labelSmoothing ?? 0,
    emaDecay,
    modelSeed: options.modelSeed,
    committed: options.committed ?? true,
    loadData: options.data ?? ((seed: number) => loadSpamAssassin({ seed }) as Promise<Split<SpamExample>>),
  };
}

export type SpamSettings = ReturnType<typeof resolveSpamOptions>;

/** 1 = spam (the positive class), 0 = ham. */
export const labelOf = (e: Pick<SpamExample, 'label'>) => (e.label === 'spam' ? 1 : 0);
