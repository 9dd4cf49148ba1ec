/**
 * graph/protein: generates protein sequences of a chosen family, residue by residue, from a causal GPT
 * conditioned on a family token (protein-gpt.ts), trained on the training split of graph/pfam's families
 * (pfam-data.ts: identity-split, so held-out sequences are remote members of their family). Evaluated by
 * held-out perplexity per residue beside a unigram model per family fitted in the same call. `run` streams
 * residues (text pieces) from the family token and an optional start.
 */
import {
  type AttentionReport,
  models,
  noGrad,
  type Task,
  type TaskContext,
  tasks,
  tidy,
} from '@multihead/core';
import { FamilyUnigram } from '../baselines/family-unigram.js';
import { invalidArgument } from '../errors.js';
import { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';
import { committedCheckpoint } from './committed.js';
import { defaultPfamSource, identityHoldout, loadPfamData, type PfamSource } from './pfam-data.js';
import { familyTokens, type ProteinGptTraining, residueNll, trainProteinGpt } from './protein-gpt.js';
import { readSequenceInput } from './task-inputs.js';

export const PROTEIN_TASK_ID = 'graph/protein';
/** The families of the default data (graph/pfam's classes), in label order: the `family` choices. */
export const PROTEIN_FAMILIES = [
  'Pkinase',
  'fn3',
  'RRM_1',
  'SMC_N',
  'LuxC',
  'Caudal_act',
  'Patched',
  'XYPPX',
  'BCSC_C',
  'Ependymin',
  'Como_SCP',
  'MHC2-interact',
  'globins630',
] as const;

export const PROTEIN_GPT: Omit<models.GPTConfig, 'vocabSize' | 'seed'> = {
  blockSize: 192,
  nLayer: 3,
  nHead: 4,
  nEmbd: 64,
  dropout: 0.3,
};

export const PROTEIN_TRAINING: ProteinGptTraining & {
  maxSeconds: number;
  validationFraction: number;
  validateEvery: number;
} = {
  steps: 1200,
  /** The default run stops here at the latest. */
  maxSeconds: 570,
  batchSize: 16,
  lr: 2e-3,
  minLr: 1e-4,
  warmupSteps: 50,
  weightDecay: 0.1,
  clipGradNorm: 1,
  /**
   * An identity cluster (graph/pfam's single-linkage clusters at 50%), each equally likely, then a
   * member: globins630's training sequences are 2 clusters (469 and 65 near-duplicates) that a uniform
   * draw made 70% of every batch, and the GPT memorized them.
   */
  sampling: 'cluster',
  /**
   * Share of each family's training sequences held out (by identity) for early stopping: at 0.15
   * globins630's cluster of 65 fits (at 0.1 no globin could be held out, and the early stopping never
   * saw the family where the model memorizes).
   */
  validationFraction: 0.15,
  validateEvery: 50,
};

/** Residue letters the generator may emit (ESM ids 4-28); everything else but <eos> is banned. */
const RESIDUE_IDS = Array.from({ length: 25 }, (_, i) => 4 + i);

export interface ProteinOptions {
  config?: Partial<typeof PROTEIN_GPT>;
  training?: Partial<typeof PROTEIN_TRAINING>;
  data?: PfamSource;
  /** The `family` choices (default PROTEIN_FAMILIES; must match the data's families). */
  families?: readonly string[];
}

interface ProteinPreprocessing {
  tokenizer: 'esm-2';
  /** Family token i + 33 is families[i]. */
  families: string[];
}

export function createProteinTask(options: ProteinOptions = {}): Task {
  const source = options.data ?? defaultPfamSource;
  const families = [...(options.families ?? PROTEIN_FAMILIES)];
  const tokenizer = new ProteinTokenizer();

  async function loadModel(ctx: TaskContext) {
    const loaded = await tasks.loadTaskCheckpoint<models.GPTConfig, ProteinPreprocessing>(ctx, task);
    const gpt = new models.GPT(ctx.device, { ...loaded.config, seed: 0 });
    gpt.loadStateDict(loaded.checkpoint.model);
    gpt.eval();
    return { gpt, pre: loaded.preprocessing, loaded };
  }

  async function loadData() {
    const data = await loadPfamData(source);
    if (JSON.stringify(data.families) !== JSON.stringify(families))
      invalidArgument(
        `${PROTEIN_TASK_ID}: the data's families ${data.families.join(', ')} differ from the task's ${families.join(', ')}`,
      );
    return data;
  }

  /** Prompt ids [family, <cls>, start residues] for a run or a map. */
  async function prompt(input: unknown, family: string, pre: ProteinPreprocessing) {
    const index = pre.families.indexOf(family);
    if (index < 0)
      invalidArgument(
        `${PROTEIN_TASK_ID}: family ${family} is not one the checkpoint knows (${pre.families.join(', ')})`,
      );
    const start =
      input === undefined ? '' : (await readSequenceInput(input as string, PROTEIN_TASK_ID)).residues;
    const ids = familyTokens(tokenizer, index, start).slice(0, -1); // no <eos>
    return { ids, start };
  }

  const task: Task = tasks.defineTask({
    id: PROTEIN_TASK_ID,
    kind: 'generate',
    description:
      'protein sequences of a chosen family, residue by residue: a family-conditioned causal GPT vs per-family unigrams',
    input: {
      kind: 'sequence',
      description: 'optional: residues to start from',
      required: false,
      example: 'MV',
    },
    output: { kind: 'text', stream: 'text', description: 'the residues generated (one letter each)' },
    params: [
      {
        name: 'family',
        type: 'choice',
        choices: families,
        default: families.at(-1)!,
        description: 'the family to generate',
      },
      {
        name: 'maxNewTokens',
        type: 'integer',
        min: 1,
        max: PROTEIN_GPT.blockSize - 3,
        default: 160,
        description: 'residues to generate at most (it stops at <eos>)',
      },
      tasks.temperatureParam,
      {
        name: 'topK',
        type: 'integer',
        min: 1,
        max: 25,
        description: 'sample from the k most likely residues',
      },
    ],
    metrics: [
      { name: 'perplexity', description: 'held-out perplexity per residue', better: 'lower' },
      { name: 'nll', description: 'held-out nats per residue', better: 'lower' },
    ],
    goal: { metric: 'perplexity', op: '<=', beat: ['familyUnigram'] },
    positions: 'residues',
    async train(ctx, opts = {}) {
      const { h, seed, run } = tasks.trainingPlan(
        ctx,
        PROTEIN_TASK_ID,
        opts,
        PROTEIN_TRAINING,
        options.training,
      );
      const data = await loadData();
      const config: models.GPTConfig = {
        ...PROTEIN_GPT,
        ...options.config,
        vocabSize: tokenizer.vocabSize + families.length,
        seed: seed + 1,
      };
      const gpt = new models.GPT(ctx.device, config);
      try {
        ctx.log?.(
          `${PROTEIN_TASK_ID}: GPT ${config.nLayer} layers x ${config.nEmbd} (${gpt.numParameters()} parameters) on ${data.train.length} sequences, ${ctx.device.backend}`,
        );
        // early stopping on sequences held out of training by identity, as the test set is
        const { fit, valid, fitClusters } = identityHoldout(data.train, {
          fraction: h.validationFraction,
          seed,
        });
        const tokens = (set: typeof fit) => set.map((s) => familyTokens(tokenizer, s.label, s.sequence));
        const summary = await trainProteinGpt(
          ctx,
          gpt,
          tokens(fit),
          tokenizer.padId,
          h,
          run,
          fit.map((s, i) => ({ family: s.label, cluster: fitClusters[i]! })),
          valid.length > 0 ? { sequences: tokens(valid), every: h.validateEvery } : undefined,
        );
        ctx.log?.(
          `${PROTEIN_TASK_ID}: ${fit.length} training and ${valid.length} validation sequences; kept the weights of step ${summary.bestStep}`,
        );
        const pre: ProteinPreprocessing = { tokenizer: 'esm-2', families };
        const { location } = await tasks.saveTaskCheckpoint(ctx, PROTEIN_TASK_ID, {
          model: gpt.stateDict(),
          step: summary.steps,
          config: { ...gpt.config },
          preprocessing: { ...pre },
          training: {
            seed,
            steps: summary.steps,
            keptStep: summary.bestStep,
            validation: summary.validation,
            seconds: Math.round(summary.seconds),
            finalLoss: summary.finalLoss,
            backend: ctx.device.backend,
            hyper: h,
          },
        });
        ctx.log?.(`${PROTEIN_TASK_ID}: saved ${location}`);
        const { validation: _history, bestStep: _kept, ...report } = summary;
        return { task: PROTEIN_TASK_ID, ...report, checkpoint: location };
      } finally {
        gpt.dispose();
      }
    },
    async evaluate(ctx, opts = {}) {
      const { gpt, loaded } = await loadModel(ctx);
      try {
        const data = await loadData();
        const test = data.test.slice(0, opts.limit ?? data.test.length);
        const model = await residueNll(
          gpt,
          test.map((s) => familyTokens(tokenizer, s.label, s.sequence)),
          tokenizer.padId,
        );
        // the unigram scores the same residues: symbols are ESM residue ids 4-28 shifted to 0-24
        const symbols = (residues: string) =>
          Array.from(tokenizer.encode(residues, { addSpecialTokens: false }), (id) => id - 4);
        const unigram = FamilyUnigram.fit(
          families.map((_, f) => data.train.filter((s) => s.label === f).map((s) => symbols(s.sequence))),
          RESIDUE_IDS.length,
        );
        let unigramNll = 0;
        for (const s of test) unigramNll += unigram.nll(s.label, symbols(s.sequence)).nll;
        const round = (x: number) => Math.round(x * 1e4) / 1e4;
        const metricsOf = (nll: number) => ({
          perplexity: round(Math.exp(nll / model.count)),
          nll: round(nll / model.count),
        });
        return tasks.evalReport(task, {
          metrics: metricsOf(model.nll),
          baselines: { familyUnigram: metricsOf(unigramNll) },
          split: {
            name: 'identity',
            description: `graph/pfam's held-out sequences (no test sequence above 50% identical to a training one of its family): ${test.length} sequences, ${model.count} residues`,
          },
          examples: model.count,
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: { sequences: test.length, residues: model.count, trainSequences: data.train.length },
        });
      } finally {
        gpt.dispose();
      }
    },
    run: (ctx, input, params) =>
      tasks.streamingRun(async function* () {
        const p = tasks.resolveParams(task, params);
        const { gpt, pre } = await loadModel(ctx);
        try {
          const { ids, start } = await prompt(input, p['family'] as string, pre);
          const room = gpt.config.blockSize - ids.length;
          if (room < 1)
            invalidArgument(
              `${PROTEIN_TASK_ID}: the start has ${start.length} residues; at most ${gpt.config.blockSize - 3} fit`,
            );
          const banned = Array.from({ length: gpt.config.vocabSize }, (_, id) => id).filter(
            (id) => id !== tokenizer.eosId && !RESIDUE_IDS.includes(id),
          );
          let text = start;
          const stream = models.stream(gpt, ids, {
            maxNewTokens: Math.min(room, p['maxNewTokens'] as number),
            temperature: p['temperature'] as number,
            ...(p['topK'] !== undefined ? { topK: p['topK'] as number } : {}),
            bannedTokens: banned,
            stopTokens: [tokenizer.eosId],
            seed: ctx.seed ?? 0,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          for await (const token of stream) {
            if (token === tokenizer.eosId) break;
            const residue = tokenizer.idToToken(token)!;
            text += residue;
            yield { kind: 'text', text: residue };
          }
          return { kind: 'text', text };
        } finally {
          gpt.dispose();
        }
      }),
    async attention(ctx, input, opts = {}): Promise<AttentionReport> {
      const p = tasks.resolveParams(task, opts.params);
      const { gpt, pre } = await loadModel(ctx);
      try {
        const { ids } = await prompt(input, p['family'] as string, pre);
        const T = Math.min(ids.length, gpt.config.blockSize);
        const L = gpt.config.nLayer;
        const which = opts.layers ?? Array.from({ length: L }, (_, i) => i);
        const maps = noGrad(() =>
          tidy(
            () =>
              gpt.forwardDetailed(
                gpt.device.tensor(Int32Array.from(ids.slice(0, T)), [1, T], { dtype: 'i32' }),
                { attentionWeights: [...which] },
              ).attentions,
          ),
        );
        const layerMaps = await tasks.attentionLayerMaps(maps, which, gpt.config.nHead);
        const labels = ids
          .slice(0, T)
          .map((id, i) =>
            i === 0 ? (p['family'] as string) : i === 1 ? '<cls>' : `${tokenizer.idToToken(id)}${i - 1}`,
          );
        return {
          positions: 'residues',
          labels,
          numLayers: L,
          layers: layerMaps,
          causal: true,
        };
      } finally {
        gpt.dispose();
      }
    },
    committedCheckpoint: committedCheckpoint('protein.safetensors'),
  });
  return task;
}

export const proteinTask: Task = createProteinTask();
