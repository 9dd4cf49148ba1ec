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
 *     -> a task checkpoint (weights; tokenizer.json, windowing and config in its metadata)
 *
 * Metrics take spam as the positive class.
 */
import { type AttentionReport, noGrad, type Task, type TaskContext, tasks, tidy } from '@multihead/core';
import { invalidArgument } from '../../errors.js';
import { committedCheckpoint } from '../lm.js';
import {
  BagOfWordsLogisticRegression,
  type BagOfWordsWeighting,
  type BinaryMetrics,
  binaryMetrics,
} from './baseline.js';
import { batchTensors, encodeWindows } from './batching.js';
import { type LoadedSpamModel, loadSpamModel, spamProbabilities } from './model.js';
import {
  emailText,
  labelOf,
  resolveSpamOptions,
  SPAM_LABELS,
  SPAM_TASK_ID,
  type SpamExample,
  type SpamTaskOptions,
} from './options.js';
import { trainSpam } from './train.js';

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const rounded = (m: BinaryMetrics) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)])) as BinaryMetrics;

/** A text as an email: without a line break it is a body alone; else its first line is the Subject. */
function asEmail(text: string): Pick<SpamExample, 'subject' | 'body'> {
  const cut = text.indexOf('\n');
  return cut < 0 ? { subject: '', body: text } : { subject: text.slice(0, cut), body: text.slice(cut + 1) };
}

async function withModel<T>(
  ctx: TaskContext,
  task: Task,
  use: (m: LoadedSpamModel) => Promise<T>,
): Promise<T> {
  const m = await loadSpamModel(ctx, task);
  try {
    return await use(m);
  } finally {
    m.model.dispose();
  }
}

/** The `text/spam` task; options change the data, preprocessing or model (tests use a small sample). */
export function createSpamTask(options: SpamTaskOptions = {}): Task {
  const s = resolveSpamOptions(options);

  const evaluate: Task['evaluate'] = (ctx, opts = {}) =>
    withModel(ctx, task, async ({ model, tokenizer, pre, splitSeed, loaded }) => {
      const log = ctx.log ?? (() => {});
      const t0 = performance.now();
      const data = await s.loadData(splitSeed);
      const test = data.test.slice(0, opts.limit);
      const encode = (emails: readonly SpamExample[]) =>
        emails.map((e) => encodeWindows(tokenizer, emailText(e, pre.maxChars), pre.maxTokens, pre.windows));
      const [trainRows, testRows] = [encode(data.train), encode(test)];
      const actual = test.map(labelOf);
      const probs = await spamProbabilities(ctx.device, model, testRows, model.config.padId, pre.windowMode);
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
          seed: splitSeed,
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
      log(`${SPAM_TASK_ID}: ${test.length} held-out emails (${actual.filter((y) => y === 1).length} spam)`);
      log(`  bert                              ${line(modelMetrics)}`);
      log(`  tf-idf logistic (λ=${tfidf.l2.toExponential(0)})         ${line(tfidf.metrics)}`);
      log(`  bag-of-words logistic (λ=${counts.l2.toExponential(0)})   ${line(counts.metrics)}`);
      return tasks.evalReport(task, {
        metrics: rounded(modelMetrics),
        baselines: { tfidf: rounded(tfidf.metrics), bagOfWords: rounded(counts.metrics) },
        split: {
          name: 'test',
          description: `${test.length} held-out emails of SpamAssassin (a stratified 20% split, seed ${splitSeed}; spam is the positive class)`,
        },
        examples: test.length,
        checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
        details: {
          tfidfL2: tfidf.l2,
          bagOfWordsL2: counts.l2,
          backend: ctx.device.backend,
          seconds: (performance.now() - t0) / 1000,
        },
      });
    });

  const task: Task = tasks.defineTask({
    id: SPAM_TASK_ID,
    kind: 'classify',
    description:
      'SpamAssassin spam vs ham: a small BERT trained from scratch on subject + start of body, against bag-of-words and tf-idf logistic regressions',
    input: {
      kind: 'text',
      description: 'an email: its first line is read as the Subject, the rest as the body',
      example: 'Win a free cruise!\nClick here to claim your prize before midnight.',
      accept: ['.txt', '.eml', 'text/plain'],
    },
    output: { kind: 'label', labels: SPAM_LABELS, description: 'ham or spam, with probabilities' },
    metrics: [
      { name: 'accuracy', description: 'share of held-out emails labelled right', better: 'higher' },
      { name: 'f1', description: 'F1 of the spam class', better: 'higher' },
      { name: 'precision', description: 'of emails called spam, the share that are', better: 'higher' },
      { name: 'recall', description: 'of spam emails, the share caught', better: 'higher' },
    ],
    goal: { metric: 'accuracy', op: '>=', value: 0.97, beat: ['bagOfWords'] },
    positions: 'tokens',
    train: (ctx, opts) => trainSpam(ctx, s, opts),
    evaluate,
    run: (ctx, input) =>
      tasks.resultRun(async () => {
        const text = await tasks.inputText(input ?? '', SPAM_TASK_ID);
        return withModel(ctx, task, async ({ model, tokenizer, pre }) => {
          const rows = encodeWindows(
            tokenizer,
            emailText(asEmail(text), pre.maxChars),
            pre.maxTokens,
            pre.windows,
          );
          const [spam] = await spamProbabilities(
            ctx.device,
            model,
            [rows],
            model.config.padId,
            pre.windowMode,
          );
          const scores = [
            { label: 'ham', probability: 1 - spam! },
            { label: 'spam', probability: spam! },
          ];
          return { kind: 'label', label: spam! >= 0.5 ? 'spam' : 'ham', scores };
        });
      }),
    attention: (ctx, input, opts = {}) =>
      withModel(ctx, task, async ({ model, tokenizer, pre }): Promise<AttentionReport> => {
        const text = await tasks.inputText(input ?? '', SPAM_TASK_ID);
        // the first window, as the model reads it: [CLS] subject body... [SEP]
        const row = encodeWindows(tokenizer, emailText(asEmail(text), pre.maxChars), pre.maxTokens, 1)[0]!;
        const nLayer = model.config.nLayer;
        const layers = opts.layers ?? Array.from({ length: nLayer }, (_, i) => i);
        if (layers.some((l) => !Number.isInteger(l) || l < 0 || l >= nLayer))
          invalidArgument(
            `${SPAM_TASK_ID}: layers ${JSON.stringify(layers)}; expected integers in [0, ${nLayer})`,
          );
        const maps = noGrad(() =>
          tidy(() => {
            const { ids } = batchTensors(ctx.device, {
              ids: row,
              attentionMask: new Uint8Array(row.length).fill(1),
              shape: [1, row.length],
            });
            return model.encodeDetailed(ids, undefined, layers).attentions;
          }),
        );
        try {
          const read = await Promise.all(layers.map((l) => maps[l]!.read()));
          return {
            positions: 'tokens',
            labels: Array.from(row, (id) => tokenizer.idToToken(id) ?? '?'),
            numLayers: nLayer,
            layers: layers.map((layer, i) => ({
              layer,
              heads: model.config.nHead,
              weights: read[i] as Float32Array,
            })),
            causal: false,
          };
        } finally {
          for (const m of maps) m?.dispose();
        }
      }),
    ...(s.committed ? { committedCheckpoint: committedCheckpoint('spam.safetensors') } : {}),
  });
  return task;
}

/** The task with its defaults, as TEXT_TASKS lists it. */
export const spamTask: Task = createSpamTask();
