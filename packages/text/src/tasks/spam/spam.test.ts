/**
 * text/spam on the committed SpamAssassin sample (test/fixtures/spam-sample.json): the whole pipeline
 * (tokenizer, a few steps, checkpoint, evaluate, classify) with a tiny model; and the tf-idf logistic
 * regression baseline on an easy synthetic split, so the bar the model is measured against is real.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concat, io, softmax, tasks } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { taskContext } from '../../../test/task-context.js';
import { splitTrainTest } from '../../data/split.js';
import { Bert, type BertConfig } from '../../models/bert.js';
import { Tokenizer } from '../../tokenizers/tokenizer.js';
import { trainWordPieceTokenizer } from '../../tokenizers/wordpiece-trainer.js';
import { TEXT_TASKS } from '../index.js';
import {
  BagOfWordsLogisticRegression,
  binaryMetrics,
  createSpamTask,
  emailText,
  encodeWindows,
  type SpamExample,
  type SpamTaskOptions,
  spamProbabilities,
} from './index.js';

/** A context whose checkpoints go to their own folder, and where that checkpoint lands. */
const at = (name: string) => ({
  ctx: { ...ctx, store: tasks.folderStore(join(dir, name)) },
  path: join(dir, name, 'text', 'spam.safetensors'),
});
const label = (output: tasks.TaskOutput) => {
  if (output.kind !== 'label') throw new Error(`expected a label output, got ${output.kind}`);
  return output;
};

const sample = JSON.parse(
  await readFile(new URL('../../../test/fixtures/spam-sample.json', import.meta.url), 'utf8'),
) as { id: string; label: 'ham' | 'spam'; body: string }[];
const emails: SpamExample[] = sample.map((e) => ({
  subject: `message ${e.id}`,
  body: e.body,
  label: e.label,
}));

const { ctx, device, dir } = await taskContext('spam', 3);

/** A tiny task over the committed sample (30% held out); `overrides` change what a test needs. */
const tiny = (overrides: SpamTaskOptions = {}): SpamTaskOptions => ({
  data: async (seed: number) => splitTrainTest(emails, { testFraction: 0.3, seed, stratify: (e) => e.label }),
  maxTokens: 16,
  vocabSize: 300,
  model: { dModel: 16, nHead: 2, nLayer: 1, dimFeedforward: 32 },
  batchSize: 4,
  ...overrides,
});

describe('text/spam', () => {
  it('is in TEXT_TASKS as a classify task', () => {
    expect(TEXT_TASKS.find((t) => t.id === 'text/spam')?.kind).toBe('classify');
  });

  it('trains, checkpoints, evaluates and classifies end to end on the sample', async () => {
    const options = tiny({
      maxTokens: 32,
      // every training path: MLM pretraining, then token-masking augmentation with the auxiliary MLM loss
      pretrainSteps: 2,
      augmentMaskProb: 0.15,
      mlmWeight: 0.5,
    });
    const progress: number[] = [];
    const result = await createSpamTask(options).train(
      { ...ctx, onProgress: (p) => progress.push(p.step) },
      { steps: 4 },
    );
    expect(result.steps).toBe(2 + 4);
    expect(Number.isFinite(result.finalLoss)).toBe(true);
    expect(progress).toEqual([2, 4]); // progress is read every 10 steps and after the last of each phase
    const path = join(dir, 'text', 'spam.safetensors');
    expect(result.checkpoint).toBe(path);
    await access(path);
    // the checkpoint carries what evaluate and classify need: tokenizer, config, preprocessing
    const { metadata } = await io.readCheckpoint(path);
    expect(metadata).toMatchObject({
      task: 'text/spam',
      preprocessing: { maxTokens: 32, labels: ['ham', 'spam'] },
      training: { splitSeed: 3 },
    });
    const pre = metadata['preprocessing'] as { tokenizer: string };
    expect(JSON.parse(pre.tokenizer).model.type).toBe('WordPiece');

    const fresh = createSpamTask(options); // a new task object: everything comes from the checkpoint
    const lines: string[] = [];
    const report = await fresh.evaluate({ ...ctx, log: (l) => lines.push(l) });
    for (const m of [report.metrics, report.baselines['tfidf']!, report.baselines['bagOfWords']!]) {
      expect(Object.keys(m).sort()).toEqual(['accuracy', 'f1', 'precision', 'recall']);
    }
    expect(report).toMatchObject({
      examples: 3,
      split: { name: 'test' },
      checkpoint: { source: 'trained', step: 6 },
    });
    expect(report.goal).toMatchObject({ metric: 'accuracy', op: '>=', value: 0.97, beat: ['bagOfWords'] });
    expect(lines.join('\n')).toMatch(/tf-idf logistic .*\n.*bag-of-words logistic/);

    const out = label(await fresh.run(ctx, 'WIN MONEY NOW\nclick here to claim your prize').result);
    expect(out.scores.map((s) => s.label)).toEqual(['ham', 'spam']);
    const [ham, spam] = out.scores.map((s) => s.probability) as [number, number];
    expect(ham + spam).toBeCloseTo(1, 5);
    expect(out.label).toBe(spam >= 0.5 ? 'spam' : 'ham');

    const maps = await fresh.attention(ctx, 'WIN MONEY NOW\nclick here');
    expect(maps).toMatchObject({ positions: 'tokens', numLayers: 1, causal: false });
    expect(maps.labels[0]).toBe('[CLS]');
    expect(maps.labels.at(-1)).toBe('[SEP]');
    const T = maps.labels.length;
    expect(maps.layers[0]!.weights).toHaveLength(2 * T * T);
  });

  it('evaluate and run say when there is no checkpoint', async () => {
    const { ctx: empty } = at('none');
    const task = createSpamTask({ committed: false });
    await expect(task.evaluate(empty)).rejects.toThrow(/no checkpoint .*multihead train text\/spam/);
    await expect(task.run(empty, 'hi').result).rejects.toThrow(/no checkpoint/);
  });

  it('the committed checkpoint classifies at once, with attention maps over its tokens', async () => {
    const { ctx: empty } = at('nothing-trained');
    const spam = label(
      await createSpamTask().run(empty, 'WIN A FREE CRUISE\nclick here to claim your prize now').result,
    );
    const ham = label(
      await createSpamTask().run(empty, 'Re: meeting notes\nsee you at the design review on tuesday').result,
    );
    expect([spam.label, ham.label]).toEqual(['spam', 'ham']);
    const maps = await createSpamTask().attention(empty, 'Re: meeting notes\nsee you tuesday');
    expect(maps.numLayers).toBe(2);
    expect(maps.layers.map((l) => l.heads)).toEqual([4, 4]);
  });

  it('cuts an email into [CLS] ... [SEP] windows; one window is plain truncation', async () => {
    const texts = emails.map((e) => emailText(e));
    const tokenizer = trainWordPieceTokenizer(texts, { vocabSize: 300 });
    const [cls, sep] = [tokenizer.clsId!, tokenizer.sepId!];
    const text = texts.reduce((a, b) => (b.length > a.length ? b : a));
    const all = Array.from(tokenizer.encode(text, { addSpecialTokens: false }).ids);
    expect(all.length).toBeGreaterThan(3 * 14);
    const w = encodeWindows(tokenizer, text, 16, 3);
    expect(w).toHaveLength(3);
    for (const row of w) expect([row.length, row[0], row.at(-1)]).toEqual([16, cls, sep]);
    expect(w.flatMap((r) => Array.from(r.slice(1, -1)))).toEqual(all.slice(0, 3 * 14));
    expect(Array.from(encodeWindows(tokenizer, text, 16, 1)[0]!)).toEqual(
      Array.from(tokenizer.encodeBatch([text], { truncation: 16 }).ids),
    );
    expect(encodeWindows(tokenizer, 'short', 16, 5)).toHaveLength(1);
    expect(Array.from(encodeWindows(tokenizer, '', 16, 5)[0]!)).toEqual([cls, sep]);
  });

  it('trains and scores with several windows per email', async () => {
    const options = tiny({ windows: 3 });
    const w = at('windows');
    await createSpamTask(options).train(w.ctx, { steps: 2 });
    const { metadata } = await io.readCheckpoint(w.path);
    expect(metadata).toMatchObject({ preprocessing: { maxTokens: 16, windows: 3 } });
    expect((await createSpamTask(options).evaluate(w.ctx)).examples).toBe(3);
    const out = label(
      await createSpamTask(options).run(w.ctx, 'a subject\n' + 'lorem ipsum '.repeat(40)).result,
    );
    expect(out.scores[0]!.probability + out.scores[1]!.probability).toBeCloseTo(1, 5);
    await expect(async () => createSpamTask({ maxTokens: 2 })).rejects.toThrow(
      /maxTokens must be at least 3/,
    );
  });

  it("windowMode 'pooled' encodes an email's windows apart and pools over all their tokens", async () => {
    const options = tiny({ windows: 3, windowMode: 'pooled' });
    const pooled = at('pooled');
    await createSpamTask(options).train(pooled.ctx, { steps: 2 });
    const ckpt = await io.readCheckpoint(pooled.path);
    expect(ckpt.metadata).toMatchObject({ preprocessing: { windows: 3, windowMode: 'pooled' } });
    expect((await createSpamTask(options).evaluate(pooled.ctx)).examples).toBe(3);

    const tokenizer = Tokenizer.fromJSON((ckpt.metadata['preprocessing'] as { tokenizer: string }).tokenizer);
    const model = new Bert(device, ckpt.metadata['config'] as unknown as BertConfig);
    model.loadStateDict(ckpt.model);
    model.eval();
    // the shortest text of three windows: the unit batch then pads its last window
    let words = 1;
    const textOf = (n: number) => `a subject\n${'lorem ipsum '.repeat(n)}`;
    while (encodeWindows(tokenizer, textOf(words), 16, 3).length < 3) words++;
    const text = textOf(words);
    const long = encodeWindows(tokenizer, text, 16, 3);
    expect(long.map((w) => w.length)).toEqual([16, 16, expect.any(Number)]);
    expect(long[2]!.length).toBeLessThan(16);
    // by hand: each window through the encoder alone, the pooler's max over all their tokens, the classifier
    const hidden = long.map((w) => model.encode(device.tensor(w, [1, w.length])));
    const logits = model.classifier.forward(model.pooler.forward(concat(hidden, 1)));
    const byHand = (await softmax(logits, -1).read())[1]!;
    const out = label(await createSpamTask(options).run(pooled.ctx, text).result);
    expect(out.scores[1]!.probability).toBeCloseTo(byHand, 5);
    // emails with fewer windows get empty (all padding) windows in a batch; they change nothing
    const short = encodeWindows(tokenizer, 'hi\nfree money', 16, 3);
    expect(short).toHaveLength(1);
    const together = await spamProbabilities(device, model, [long, short], tokenizer.padId!, 'pooled');
    const alone = await spamProbabilities(device, model, [short], tokenizer.padId!, 'pooled');
    expect(together[0]!).toBeCloseTo(byHand, 5);
    expect(together[1]!).toBeCloseTo(alone[0]!, 5);
    model.dispose();
    expect(() => createSpamTask({ windowMode: 'pooled', model: { pooling: 'cls' } })).toThrowError(
      /windowMode 'pooled' .* needs model.pooling 'max' or 'mean', got "cls"/,
    );
  });

  it('emaDecay saves the moving average of the weights, not the last ones', async () => {
    const [l, e] = [at('last'), at('ema')];
    await createSpamTask(tiny()).train(l.ctx, { steps: 3 });
    await createSpamTask(tiny({ emaDecay: 0.5 })).train(e.ctx, { steps: 3 });
    const last = await io.readCheckpoint(l.path);
    const ema = await io.readCheckpoint(e.path);
    // the same run (same seed, same batches); only what is saved differs
    const name = 'classifier.weight';
    const values = (c: typeof ema) => Array.from(c.model[name]!.data as Float32Array);
    expect(values(ema)).not.toEqual(values(last));
    expect(() => createSpamTask({ emaDecay: 1 })).toThrowError(/emaDecay must be in \[0, 1\), got 1/);
  });

  it('modelSeed changes the model, not the split', async () => {
    const seeds = [undefined, 3, 4] as const;
    const runs = [];
    for (const [n, modelSeed] of seeds.entries()) {
      const task = createSpamTask(tiny(modelSeed === undefined ? {} : { modelSeed }));
      const run = at(`seed${n}`);
      await task.train(run.ctx, { steps: 2 });
      const ckpt = await io.readCheckpoint(run.path);
      runs.push({
        weights: Array.from(ckpt.model['classifier.weight']!.data as Float32Array),
        tokenizer: (ckpt.metadata['preprocessing'] as { tokenizer: string }).tokenizer,
        splitSeed: (ckpt.metadata['training'] as { splitSeed: number }).splitSeed,
      });
    }
    expect(runs[1]!.weights).toEqual(runs[0]!.weights); // modelSeed = ctx.seed (3) is the default
    expect(runs[2]!.weights).not.toEqual(runs[0]!.weights);
    // the tokenizer is trained on the training split alone: the same split, the same vocabulary
    expect(runs[2]!.tokenizer).toEqual(runs[0]!.tokenizer);
    expect(runs.map((r) => r.splitSeed)).toEqual([3, 3, 3]); // what evaluate holds out
    expect(() => createSpamTask({ modelSeed: 0.5 })).toThrowError(/modelSeed must be an integer, got 0.5/);
  });

  it('emailText keeps the subject and the start of the body', () => {
    expect(emailText({ subject: 'Hello', body: 'abcdef' }, 3)).toBe('Hello\nabc');
  });
});

describe('baselines: bag-of-words logistic regression (tf-idf and counts)', () => {
  it('binaryMetrics counts spam (1) as the positive class', () => {
    const m = binaryMetrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]);
    expect(m).toEqual({ accuracy: 0.6, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3 });
  });

  it('learns an easy synthetic split to high held-out accuracy, choosing λ on a hold-out', () => {
    // 40 ids: class-1 documents draw mostly from ids 0-9, class-0 from 10-19, both from the shared 20-39
    let s = 12345;
    const random = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const doc = (label: number) =>
      Array.from({ length: 20 }, () => {
        const r = random();
        if (r < 0.4) return Math.floor(random() * 10) + (label === 1 ? 0 : 10);
        if (r < 0.45) return Math.floor(random() * 10) + (label === 1 ? 10 : 0); // noise from the other class
        return 20 + Math.floor(random() * 20);
      });
    const labels = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const docs = labels.map(doc);
    const model = BagOfWordsLogisticRegression.fit(docs.slice(0, 300), labels.slice(0, 300), {
      vocabSize: 40,
    });
    expect([1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7]).toContain(model.l2);
    const predicted = docs.slice(300).map((d) => (model.predictProba(d) >= 0.5 ? 1 : 0));
    expect(binaryMetrics(predicted, labels.slice(300)).accuracy).toBeGreaterThan(0.97);
    // the learned weights point the right way
    expect(model.weights[3]!).toBeGreaterThan(0);
    expect(model.weights[13]!).toBeLessThan(0);
    expect(() => BagOfWordsLogisticRegression.fit([[50]], [1], { vocabSize: 40, l2: 0.1 })).toThrow(
      /outside \[0, 40\)/,
    );

    // plain counts: no idf, the same bar on this split, and another model
    const counts = BagOfWordsLogisticRegression.fit(docs.slice(0, 300), labels.slice(0, 300), {
      vocabSize: 40,
      weighting: 'counts',
    });
    expect([counts.weighting, ...new Set(counts.idf)]).toEqual(['counts', 1]);
    const byCounts = docs.slice(300).map((d) => (counts.predictProba(d) >= 0.5 ? 1 : 0));
    expect(binaryMetrics(byCounts, labels.slice(300)).accuracy).toBeGreaterThan(0.97);
    expect(Array.from(counts.weights)).not.toEqual(Array.from(model.weights));
    expect(() =>
      BagOfWordsLogisticRegression.fit([[1]], [1], {
        vocabSize: 40,
        weighting: 'binary' as 'counts',
      }),
    ).toThrow(/weighting must be 'tfidf' or 'counts', got "binary"/);
  });
});
