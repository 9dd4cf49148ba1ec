/**
 * graph/pfam: which protein family a sequence belongs to, among the Pfam seed families of Debian's
 * hmmer-examples and hmmer2's globins (pfam-data.ts), split so no test sequence is above 50% identical
 * to a training sequence of its family. The model is a small ESM-style encoder (protein-encoder.ts)
 * trained from scratch on windows of residues with masked-LM corruption beside the family loss, a
 * relative-position pair bias, and the family alignment's co-variation as pair bias in its masked-LM
 * pretraining steps; the baseline is a logistic regression on 3-mer counts fitted in the same call.
 * `run` also draws a contact-style map from the attention (contact-map.ts) as a PNG artifact.
 */
import { type AttentionReport, noGrad, type Task, type TaskContext, tasks } from '@multihead/core';
import { argmax, KmerLogisticRegression } from '../baselines/kmer-logistic.js';
import { contactMap } from '../models/contact-map.js';
import { columnCovariation, residueColumns } from '../models/covariation.js';
import { ProteinEncoder, type ProteinEncoderConfig } from '../models/protein-encoder.js';
import { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';
import { committedCheckpoint } from './committed.js';
import {
  defaultPfamSource,
  familyCovariation,
  identityHoldout,
  loadPfamData,
  type PfamSource,
} from './pfam-data.js';
import { mlmLossOf } from './pfam-pair-check.js';
import { encodePng, heatmapPixels } from './png.js';
import {
  classifySequences,
  type ProteinClassifierTraining,
  priorShift,
  type SequenceWindow,
  trainProteinClassifier,
  windowInputs,
} from './protein-classifier.js';
import { readSequenceInput, type SequenceInput } from './task-inputs.js';

export const PFAM_TASK_ID = 'graph/pfam';

export const PFAM_ENCODER: Omit<ProteinEncoderConfig, 'numLabels' | 'seed' | 'vocabSize' | 'padId'> = {
  maxPositions: 130,
  dModel: 64,
  nHead: 4,
  nLayer: 2,
  dimFeedforward: 256,
  dropout: 0.1,
  relativeBuckets: 32,
  relativeMaxDistance: 128,
  lengthBuckets: 24,
};

export const PFAM_TRAINING: ProteinClassifierTraining & { maxSeconds: number } = {
  /** 400 steps (359 s) ended with the loss still falling (2.11 at step 210, 2.01 at 400) and 0.962 held out. */
  steps: 1000,
  /** The default run stops here at the latest (14 minutes: 877 steps on the shared, loaded 2-core machine). */
  maxSeconds: 840,
  pretrainSteps: 60,
  batchSize: 32,
  window: 128,
  lr: 2e-3,
  minLr: 1e-4,
  warmupSteps: 30,
  weightDecay: 0.05,
  clipGradNorm: 1,
  labelSmoothing: 0.1,
  maskProb: 0.15,
  mlmWeight: 0.5,
  covariationLrScale: 30,
};

export interface PfamOptions {
  config?: Partial<typeof PFAM_ENCODER>;
  training?: Partial<ProteinClassifierTraining>;
  /** The family splits (tests pass committed samples); default the Debian families at 50% identity. */
  data?: PfamSource;
  /** Iterations of the 3-mer baseline (default its own). */
  baselineIterations?: number;
}

export interface PfamPreprocessing {
  tokenizer: 'esm-2';
  families: string[];
  window: number;
  /** Logit adjustment back to the training data's family frequencies (protein-classifier.ts). */
  shift: number[];
}

export function createPfamTask(options: PfamOptions = {}): Task {
  const source = options.data ?? defaultPfamSource;
  const tokenizer = new ProteinTokenizer();

  async function loadModel(ctx: TaskContext) {
    const loaded = await tasks.loadTaskCheckpoint<ProteinEncoderConfig, PfamPreprocessing>(ctx, task);
    const model = new ProteinEncoder(ctx.device, loaded.config);
    model.loadStateDict(loaded.checkpoint.model);
    model.eval();
    return { model, pre: loaded.preprocessing, loaded };
  }

  /** The query's first window as encoder input, with its alignment's co-variation when it came with one. */
  function queryWindow(input: SequenceInput, window: number): SequenceWindow {
    const w: SequenceWindow = {
      sequence: input.residues,
      start: 0,
      length: Math.min(window, input.residues.length),
    };
    if (input.alignment)
      w.covariation = {
        values: columnCovariation(input.alignment),
        columns: residueColumns(input.alignment[0]!),
      };
    return w;
  }

  async function attentionOf(
    ctx: TaskContext,
    input: SequenceInput,
    layers?: readonly number[],
  ): Promise<AttentionReport> {
    const { model, pre } = await loadModel(ctx);
    try {
      const L = model.config.nLayer;
      const which = layers ?? Array.from({ length: L }, (_, i) => i);
      const inputs = windowInputs(tokenizer, [queryWindow(input, pre.window)]);
      const { hidden, attentions } = noGrad(() => model.encode(inputs, which));
      hidden.dispose();
      const maps = await tasks.attentionLayerMaps(attentions, which, model.config.nHead);
      const residues = input.residues.slice(0, pre.window);
      return {
        positions: 'residues',
        labels: ['<cls>', ...[...residues].map((r, i) => `${r}${i + 1}`), '<eos>'],
        numLayers: L,
        layers: maps,
        causal: false,
      };
    } finally {
      model.dispose();
    }
  }

  const task: Task = tasks.defineTask({
    id: PFAM_TASK_ID,
    kind: 'classify',
    description:
      'the Pfam family of a protein (13 families, test sequences <= 50% identical to training ones): an ESM-style encoder vs 3-mer logistic regression',
    input: {
      kind: 'sequence',
      description:
        'a protein: residues or FASTA (an aligned FASTA: first record the query, the rest its family alignment, whose co-variation then biases the attention maps and the contact map of its first window; the family label comes from the sequence alone)',
      accept: ['.fa', '.fasta', '.txt', '.gz'],
      example:
        'VLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR',
    },
    output: {
      kind: 'label',
      description: 'the family, with probabilities (and a contact-style map as a PNG)',
    },
    params: [
      {
        name: 'contactMap',
        type: 'boolean',
        default: true,
        description: 'draw the attention contact map (PNG artifact)',
      },
    ],
    metrics: [
      { name: 'accuracy', description: 'share of held-out sequences given their family', better: 'higher' },
      { name: 'balancedAccuracy', description: 'mean over families of the share right', better: 'higher' },
    ],
    goal: { metric: 'accuracy', op: '>=', value: 0.97, beat: ['kmer3LogisticRegression'] },
    positions: 'residues',
    async train(ctx, opts = {}) {
      const plan = tasks.trainingPlan(ctx, PFAM_TASK_ID, opts, PFAM_TRAINING, options.training);
      const data = await loadPfamData(source);
      const covariation = plan.h.pretrainSteps > 0 ? familyCovariation(data) : data.families.map(() => null);
      const config: ProteinEncoderConfig = {
        ...PFAM_ENCODER,
        ...options.config,
        maxPositions: Math.max(options.config?.maxPositions ?? PFAM_ENCODER.maxPositions, plan.h.window + 2),
        vocabSize: tokenizer.vocabSize,
        padId: tokenizer.padId,
        numLabels: data.families.length,
        seed: plan.seed + 1,
      };
      const pre: PfamPreprocessing = {
        tokenizer: 'esm-2',
        families: data.families,
        window: plan.h.window,
        shift: priorShift(data.train, data.families.length),
      };
      return await tasks.trainAndSave(ctx, PFAM_TASK_ID, plan, {
        build: () => new ProteinEncoder(ctx.device, config),
        describe: (model) =>
          `${PFAM_TASK_ID}: encoder ${config.nLayer} layers x ${config.dModel} (${model.numParameters()} parameters) on ${data.train.length} sequences of ${data.families.length} families, windows of ${plan.h.window}, ${ctx.device.backend}`,
        train: (model) =>
          trainProteinClassifier(ctx, model, tokenizer, data.train, covariation, plan.h, plan.run),
        preprocessing: pre,
        config,
      });
    },
    async evaluate(ctx, opts = {}) {
      const { model, pre, loaded } = await loadModel(ctx);
      try {
        const data = await loadPfamData(source);
        const test = data.test.slice(0, opts.limit ?? data.test.length);
        const C = data.families.length;
        const scores = await classifySequences(
          model,
          tokenizer,
          test.map((s) => s.sequence),
          pre.window,
          pre.shift,
        );
        const predicted = test.map((_, i) => argmax(scores.subarray(i * C, (i + 1) * C)));
        // the baseline's penalty is chosen on training sequences held out by identity, as the test ones are
        const held = new Set(identityHoldout(data.train, { fraction: 0.2, seed: ctx.seed ?? 0 }).valid);
        const holdout = data.train.flatMap((s, i) => (held.has(s) ? [i] : []));
        const kmer = KmerLogisticRegression.fit(
          data.train.map((s) => s.sequence),
          data.train.map((s) => s.label),
          C,
          {
            seed: ctx.seed ?? 0,
            ...(holdout.length > 0 && holdout.length < data.train.length ? { holdout } : {}),
            ...(options.baselineIterations ? { iterations: options.baselineIterations } : {}),
          },
        );
        const kmerPredicted = test.map((s) => kmer.predict(s.sequence));
        const metricsOf = (p: number[]) => {
          const perFamily = data.families.map((_, c) => {
            const members = test.flatMap((s, i) => (s.label === c ? [i] : []));
            return members.length === 0 ? null : members.filter((i) => p[i] === c).length / members.length;
          });
          const present = perFamily.filter((x): x is number => x !== null);
          return {
            accuracy: p.filter((y, i) => y === test[i]!.label).length / test.length,
            balancedAccuracy: present.reduce((a, b) => a + b, 0) / present.length,
          };
        };
        const errors = test.flatMap((s, i) =>
          predicted[i] === s.label
            ? []
            : [{ name: s.name, family: data.families[s.label], predicted: data.families[predicted[i]!] }],
        );
        const covariation = familyCovariation(data);
        return tasks.evalReport(task, {
          metrics: metricsOf(predicted),
          baselines: { kmer3LogisticRegression: metricsOf(kmerPredicted) },
          split: {
            name: 'identity',
            description: `${data.families.length} families split by sequence identity (no test sequence above 50% identical to a training sequence of its family): ${data.train.length} train, ${data.test.length} test${test.length < data.test.length ? `, the first ${test.length} scored` : ''}`,
          },
          examples: test.length,
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: {
            sizes: data.sizes,
            dropped: data.dropped,
            errors,
            kmerL2: kmer.l2,
            kmerL2Holdout: holdout.length,
            pairBias: await mlmLossOf(model, tokenizer, test, covariation, pre.window, ctx.seed ?? 0),
          },
        });
      } finally {
        model.dispose();
      }
    },
    run: (ctx, input, params) =>
      tasks.resultRun(async () => {
        const p = tasks.resolveParams(task, params);
        const query = await readSequenceInput(input, PFAM_TASK_ID);
        const { model, pre } = await loadModel(ctx);
        let scores: Float32Array;
        try {
          scores = await classifySequences(model, tokenizer, [query.residues], pre.window, pre.shift);
        } finally {
          model.dispose();
        }
        const probabilities = Array.from(scores, Math.exp);
        const total = probabilities.reduce((a, b) => a + b, 0);
        const ranked = pre.families.map((label, c) => ({ label, probability: probabilities[c]! / total }));
        const output: tasks.TaskOutput = {
          kind: 'label',
          label: pre.families[argmax(scores)]!,
          scores: ranked,
        };
        if (p['contactMap'] === true) {
          const report = await attentionOf(ctx, query);
          const n = report.labels.length;
          const map = contactMap(report.layers, n, 1, n - 1);
          const cell = Math.max(1, Math.ceil(256 / (n - 2)));
          output.artifacts = [
            {
              name: 'contact-map.png',
              mime: 'image/png',
              bytes: await encodePng(heatmapPixels(map, n - 2, n - 2, cell)),
            },
          ];
        }
        return output;
      }),
    async attention(ctx, input, opts = {}) {
      return attentionOf(ctx, await readSequenceInput(input, PFAM_TASK_ID), opts.layers);
    },
    committedCheckpoint: committedCheckpoint('pfam.safetensors'),
  });
  return task;
}

export const pfamTask: Task = createPfamTask();
