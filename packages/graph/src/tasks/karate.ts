/**
 * graph/karate: Zachary's karate club, semi-supervised: two members of each faction are labelled and a
 * small Graphormer (graphormer.ts: shortest-path attention bias, Laplacian eigenvector encodings, the
 * known labels as an input feature as in UniMP) labels the other 30. Evaluated over 10 seeded draws of
 * the labelled members (mean and worst accuracy on the unlabelled ones) beside label propagation fitted
 * on the same members in the same call. `run` labels every node of a graph: the club by default, or a
 * GML / edge-list graph whose labelled nodes carry a `faction` attribute (or, for an edge list, are the
 * nodes the checkpoint's labelled members are named as); a graph other than the checkpoint's own gets a
 * model fitted to it in the call (transductive, as semi-supervised node classification is).
 */
import {
  type AttentionReport,
  type InputValue,
  noGrad,
  type Task,
  type TaskContext,
  tasks,
} from '@multihead/core';
import { labelPropagation } from '../baselines/label-propagation.js';
import { KARATE_CLUB_FACTIONS, karateClub } from '../data/karate-club.js';
import { invalidArgument } from '../errors.js';
import { Graphormer, type GraphormerConfig } from '../models/graphormer.js';
import type { GraphData } from '../preprocess/graph-data.js';
import { committedCheckpoint } from './committed.js';
import {
  chooseLabelled,
  fitNodeClassifier,
  labelledBatch,
  type NodeClassifierTraining,
  nodeStructure,
  predictNodes,
  rowArgmax,
} from './node-classifier.js';
import { readGraphInput } from './task-inputs.js';

export const KARATE_TASK_ID = 'graph/karate';
/** Labelled members per faction. */
export const KARATE_LABELLED_PER_CLASS = 2;
/** Seeded draws of the labelled members that `evaluate` averages over. */
export const KARATE_EVAL_SEEDS = 10;

/** Without `featureSizes` and `outputs`, which follow the number of classes. */
export const KARATE_GRAPHORMER: Omit<GraphormerConfig, 'featureSizes' | 'outputs' | 'seed'> = {
  positionalDims: 2,
  maxDegree: 0,
  maxDistance: 6,
  edgeTypes: 1,
  dModel: 16,
  nHead: 4,
  nLayer: 2,
  dimFeedforward: 32,
  dropout: 0.1,
  neighboursOnly: false,
};

export const KARATE_TRAINING: NodeClassifierTraining = {
  steps: 200,
  lr: 3e-3,
  weightDecay: 0.01,
  hideProb: 0.5,
};

export interface KarateOptions {
  config?: Partial<typeof KARATE_GRAPHORMER>;
  training?: Partial<NodeClassifierTraining>;
  /** Draws of labelled members in `evaluate` (default 10). */
  evalSeeds?: number;
}

interface KaratePreprocessing {
  classes: string[];
  /** The labelled nodes the checkpoint was trained with: node key -> class. */
  labelled: Record<string, number>;
  /** The graph it was trained on (so `run` knows when it may reuse the weights). */
  graph: { nodes: string[]; edges: [string, string][] };
}

const club = karateClub();
const factions = club.nodes.map((n) => n.attributes['faction'] as number);
const graphSignature = (g: GraphData) => ({
  nodes: g.nodes.map((n) => n.key),
  edges: g.edges.map((e) => [e.source, e.target] as [string, string]),
});

const configFor = (options: KarateOptions, classes: number, seed: number): GraphormerConfig => ({
  ...KARATE_GRAPHORMER,
  ...options.config,
  featureSizes: [1 + classes],
  outputs: classes,
  seed,
});

/** Accuracy on the nodes whose label was not given. */
function unlabelledAccuracy(predicted: Int32Array, truth: readonly number[], known: Int32Array): number {
  let right = 0;
  let count = 0;
  truth.forEach((y, i) => {
    if (known[i]! >= 0) return;
    count++;
    if (predicted[i] === y) right++;
  });
  return count === 0 ? 0 : right / count;
}

/** The labels an input graph carries: nodes with a `faction` attribute, else the checkpoint's by key. */
function knownLabels(
  graph: GraphData,
  pre: KaratePreprocessing,
  readAttributes: boolean,
): { known: Int32Array; classes: string[] } {
  const tagged = readAttributes ? graph.nodes.filter((n) => n.attributes['faction'] !== undefined) : [];
  if (tagged.length > 0) {
    const classes = [...new Set(tagged.map((n) => String(n.attributes['faction'])))].sort();
    const known = Int32Array.from(graph.nodes, (n) =>
      n.attributes['faction'] === undefined ? -1 : classes.indexOf(String(n.attributes['faction'])),
    );
    return { known, classes };
  }
  const known = Int32Array.from(graph.nodes, (n) => pre.labelled[n.key] ?? -1);
  return { known, classes: pre.classes };
}

export function createKarateTask(options: KarateOptions = {}): Task {
  const h = { ...KARATE_TRAINING, ...options.training };

  async function loadModel(ctx: TaskContext) {
    const loaded = await tasks.loadTaskCheckpoint<GraphormerConfig, KaratePreprocessing>(ctx, task);
    const model = new Graphormer(ctx.device, loaded.config);
    model.loadStateDict(loaded.checkpoint.model);
    model.eval();
    return { model, loaded };
  }

  /** A model for `graph` with its known labels: the checkpoint's when it is its graph, else fitted now. */
  async function modelFor(ctx: TaskContext, input: InputValue | undefined) {
    const { model, loaded } = await loadModel(ctx);
    const pre = loaded.preprocessing;
    const graph = input === undefined ? club : await readGraphInput(input, KARATE_TASK_ID);
    // the club's own `faction` attribute is the truth, not labels given: it gets the checkpoint's labelled members
    const { known, classes } = knownLabels(graph, pre, input !== undefined);
    const present = new Set(Array.from(known).filter((y) => y >= 0));
    if (present.size < 2)
      invalidArgument(
        `${KARATE_TASK_ID}: the graph needs labelled nodes of at least 2 classes (a 'faction' node attribute, or nodes named as the checkpoint's labelled members ${Object.keys(pre.labelled).join(', ')}); it has ${present.size}`,
      );
    const structure = nodeStructure(graph, model.config.positionalDims);
    const same =
      JSON.stringify(graphSignature(graph)) === JSON.stringify(pre.graph) &&
      graph.nodes.every((n, i) => known[i] === (pre.labelled[n.key] ?? -1));
    if (same) return { model, graph, structure, known, classes };
    model.dispose();
    ctx.log?.(`${KARATE_TASK_ID}: not the checkpoint's graph and labels; fitting a model to this graph`);
    const config = configFor(options, classes.length, (ctx.seed ?? 0) + 1);
    const fitted = await fitNodeClassifier({ device: ctx.device }, structure, known, config, h, {
      steps: h.steps,
      seed: ctx.seed ?? 0,
    });
    return { model: fitted.model, graph, structure, known, classes };
  }

  const task: Task = tasks.defineTask({
    id: KARATE_TASK_ID,
    kind: 'classify',
    description:
      "Zachary's karate club from 2 labelled members per faction: a Graphormer (shortest-path attention bias) vs label propagation",
    input: {
      kind: 'graph',
      description:
        "a graph as GML or an edge list, labelled nodes carrying a 'faction' attribute (none: the karate club)",
      required: false,
      accept: ['.gml', '.txt', '.edgelist', '.csv'],
      example: '0 1\n0 2\n1 2\n2 3\n3 4\n4 5\n3 5',
    },
    output: { kind: 'labels', labels: [...KARATE_CLUB_FACTIONS], description: 'the faction of every member' },
    metrics: [
      {
        name: 'accuracyMean',
        description: `accuracy on the unlabelled members, mean of ${KARATE_EVAL_SEEDS} draws`,
        better: 'higher',
      },
      { name: 'accuracyMin', description: 'the worst of those draws', better: 'higher' },
      {
        name: 'checkpointAccuracy',
        description: "the evaluated checkpoint's accuracy on its unlabelled members",
        better: 'higher',
      },
    ],
    goal: { metric: 'accuracyMean', op: '>=', beat: ['labelPropagation'] },
    positions: 'nodes',
    async train(ctx, opts = {}) {
      const { steps, maxSeconds } = tasks.checkTrainOptions(KARATE_TASK_ID, opts, h.steps);
      const seed = ctx.seed ?? 0;
      const known = chooseLabelled(factions, 2, KARATE_LABELLED_PER_CLASS, seed);
      const config = configFor(options, 2, seed + 1);
      const structure = nodeStructure(club, config.positionalDims);
      const { model, summary } = await fitNodeClassifier(ctx, structure, known, config, h, {
        steps,
        maxSeconds,
        seed,
      });
      try {
        const labelled = Object.fromEntries(
          club.nodes.flatMap((n, i) => (known[i]! >= 0 ? [[n.key, known[i]!]] : [])),
        );
        const pre: KaratePreprocessing = {
          classes: [...KARATE_CLUB_FACTIONS],
          labelled,
          graph: graphSignature(club),
        };
        const { location } = await tasks.saveTaskCheckpoint(ctx, KARATE_TASK_ID, {
          model: model.stateDict(),
          step: summary.steps,
          config: { ...config },
          preprocessing: { ...pre },
          training: {
            seed,
            steps: summary.steps,
            seconds: Math.round(summary.seconds * 10) / 10,
            finalLoss: summary.finalLoss,
            backend: ctx.device.backend,
            hyper: h,
          },
        });
        ctx.log?.(
          `${KARATE_TASK_ID}: labelled members ${Object.keys(labelled).join(', ')}; saved ${location}`,
        );
        return { task: KARATE_TASK_ID, ...summary, checkpoint: location };
      } finally {
        model.dispose();
      }
    },
    async evaluate(ctx) {
      const { model, loaded } = await loadModel(ctx);
      const pre = loaded.preprocessing;
      const known = Int32Array.from(club.nodes, (n) => pre.labelled[n.key] ?? -1);
      const structure = nodeStructure(club, model.config.positionalDims);
      let checkpointAccuracy: number;
      try {
        checkpointAccuracy = unlabelledAccuracy(
          rowArgmax(await predictNodes(model, structure, known), 2),
          factions,
          known,
        );
      } finally {
        model.dispose();
      }
      const draws = options.evalSeeds ?? KARATE_EVAL_SEEDS;
      const perSeed: { seed: number; labelled: string[]; graphormer: number; labelPropagation: number }[] =
        [];
      for (let s = 0; s < draws; s++) {
        const seed = (ctx.seed ?? 0) * 1000 + s;
        const chosen = chooseLabelled(factions, 2, KARATE_LABELLED_PER_CLASS, seed);
        const config = configFor(options, 2, seed + 1);
        const fitted = await fitNodeClassifier({ device: ctx.device }, structure, chosen, config, h, {
          steps: h.steps,
          seed,
        });
        const predicted = rowArgmax(await predictNodes(fitted.model, structure, chosen), 2);
        fitted.model.dispose();
        const propagated = rowArgmax(labelPropagation(club, chosen, { classes: 2 }), 2);
        perSeed.push({
          seed,
          labelled: club.nodes.flatMap((n, i) => (chosen[i]! >= 0 ? [n.key] : [])),
          graphormer: unlabelledAccuracy(predicted, factions, chosen),
          labelPropagation: unlabelledAccuracy(propagated, factions, chosen),
        });
      }
      const stats = (key: 'graphormer' | 'labelPropagation') => {
        const values = perSeed.map((p) => p[key]);
        return {
          accuracyMean: values.reduce((a, b) => a + b, 0) / values.length,
          accuracyMin: Math.min(...values),
        };
      };
      return tasks.evalReport(task, {
        metrics: { ...stats('graphormer'), checkpointAccuracy },
        baselines: { labelPropagation: stats('labelPropagation') },
        split: {
          name: 'unlabelled members',
          description: `${draws} seeded draws of ${KARATE_LABELLED_PER_CLASS} labelled members per faction; accuracy on the other ${club.nodes.length - 2 * KARATE_LABELLED_PER_CLASS}`,
        },
        examples: draws * (club.nodes.length - 2 * KARATE_LABELLED_PER_CLASS),
        checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
        details: { perSeed, checkpointLabelled: Object.keys(pre.labelled), trainingSteps: h.steps },
      });
    },
    run: (ctx, input) =>
      tasks.resultRun(async () => {
        const { model, graph, structure, known, classes } = await modelFor(ctx, input);
        try {
          const probs = await predictNodes(model, structure, known);
          const C = classes.length;
          return {
            kind: 'labels',
            items: graph.nodes.map((node, i) => {
              const scores = classes.map((label, c) => ({ label, probability: probs[i * C + c]! }));
              const best = scores.reduce((a, b) => (b.probability > a.probability ? b : a));
              return { position: node.key, label: known[i]! >= 0 ? classes[known[i]!]! : best.label, scores };
            }),
          };
        } finally {
          model.dispose();
        }
      }),
    async attention(ctx, input, opts = {}): Promise<AttentionReport> {
      const { model, graph, structure, known } = await modelFor(ctx, input);
      try {
        const L = model.config.nLayer;
        const layers = opts.layers ?? Array.from({ length: L }, (_, i) => i);
        const batch = labelledBatch(structure, known, model.config.maxDistance);
        const { hidden, attentions } = noGrad(() => model.encode(batch, layers));
        hidden.dispose();
        const maps = await tasks.attentionLayerMaps(attentions, layers, model.config.nHead);
        return {
          positions: 'nodes',
          labels: graph.nodes.map((n) => n.key),
          numLayers: L,
          layers: maps,
          causal: false,
        };
      } finally {
        model.dispose();
      }
    },
    committedCheckpoint: committedCheckpoint('karate.safetensors'),
  });
  return task;
}

export const karateTask: Task = createKarateTask();
