/**
 * Semi-supervised node classification with a Graphormer (graph/karate): the few known labels are an
 * input feature of their nodes, as in UniMP's masked label prediction (Shi et al. 2021, §3.2): each
 * training step hides some of the labelled nodes' labels and asks the model for them from the others
 * and the structure (shortest-path bias; degrees too where the config's `maxDegree` is above 0, which
 * graph/karate's is not). At inference every known label is visible and the model labels the rest. Node
 * features: the label input (0 = unknown, 1 + class) and the degree encoding when enabled.
 */
import { nn, noGrad, optim, seededUniform, softmax, type TaskContext, tasks, tidy } from '@multihead/core';
import { invalidArgument } from '../errors.js';
import { type GraphBatch, type GraphFeatures, graphBatch, graphFeatures } from '../models/graph-batch.js';
import { Graphormer, type GraphormerConfig } from '../models/graphormer.js';
import { laplacianEncoding } from '../models/laplacian.js';
import type { GraphData } from '../preprocess/graph-data.js';

export interface NodeClassifierTraining {
  steps: number;
  lr: number;
  weightDecay: number;
  /** Chance that a labelled node's label is hidden in a step (at least one is hidden). */
  hideProb: number;
}

/** The structure of a graph once (distances, degrees); label inputs are set per step. */
export function nodeStructure(graph: GraphData, positionalDims: number, maxNodes = 512): GraphFeatures {
  const structure = graphFeatures(
    graph,
    () => [0],
    () => 1,
    { maxNodes },
  );
  return positionalDims > 0
    ? { ...structure, positional: laplacianEncoding(graph, positionalDims, maxNodes) }
    : structure;
}

/** A one-graph batch whose label input shows `visible` labels (class or -1 per node). */
export function labelledBatch(
  structure: GraphFeatures,
  visible: ArrayLike<number>,
  maxDistance: number,
): GraphBatch {
  const features = Int32Array.from({ length: structure.nodes }, (_, i) =>
    visible[i]! < 0 ? 0 : 1 + visible[i]!,
  );
  return graphBatch([{ ...structure, features }], maxDistance);
}

/** Picks `perClass` labelled nodes of each class with a seeded draw; -1 for the rest. */
export function chooseLabelled(
  labels: ArrayLike<number>,
  classes: number,
  perClass: number,
  seed: number,
): Int32Array {
  const random = seededUniform(seed * 2654435761 + 7);
  const chosen = new Int32Array(labels.length).fill(-1);
  for (let c = 0; c < classes; c++) {
    const members = Array.from(labels).flatMap((y, i) => (y === c ? [i] : []));
    if (members.length < perClass)
      invalidArgument(`chooseLabelled: class ${c} has ${members.length} nodes, fewer than ${perClass}`);
    for (let k = 0; k < perClass; k++) {
      const pick = k + Math.floor(random() * (members.length - k));
      [members[k], members[pick]] = [members[pick]!, members[k]!];
      chosen[members[k]!] = c;
    }
  }
  return chosen;
}

/** Trains a fresh Graphormer on one graph's known labels (`known[i]`: class or -1). */
export async function fitNodeClassifier(
  ctx: TaskContext,
  structure: GraphFeatures,
  known: Int32Array,
  config: GraphormerConfig,
  h: NodeClassifierTraining,
  run: { steps: number; maxSeconds?: number | undefined; seed: number },
): Promise<{ model: Graphormer; summary: tasks.TaskTrainSummary }> {
  const labelled = Array.from(known).flatMap((y, i) => (y >= 0 ? [i] : []));
  if (labelled.length < 2)
    invalidArgument(`node classifier: need at least 2 labelled nodes, got ${labelled.length}`);
  const model = new Graphormer(ctx.device, config);
  const optimizer = new optim.AdamW(model.parameters(), { lr: h.lr, weightDecay: h.weightDecay });
  const uniform = seededUniform(run.seed * 7919 + 3);
  model.train();
  try {
    const summary = await tasks.trainForTask(ctx, {
      model,
      optimizer,
      steps: run.steps,
      maxSeconds: run.maxSeconds,
      progressEvery: 10,
      unit: 'nodes',
      items: (b) => b.hidden.length,
      batch: () => {
        let hidden = labelled.filter(() => uniform() < h.hideProb);
        if (hidden.length === 0) hidden = [labelled[Math.floor(uniform() * labelled.length)]!];
        const visible = Int32Array.from(known);
        for (const i of hidden) visible[i] = -1;
        return { batch: labelledBatch(structure, visible, config.maxDistance), hidden };
      },
      loss: ({ batch, hidden }) => {
        const N = batch.nodes;
        const logits = model.nodeOutputs(batch).reshape([N, config.outputs]); // [N, classes]
        const targets = new Int32Array(N).fill(-100);
        for (const i of hidden) targets[i] = known[i]!;
        return nn.crossEntropy(logits, ctx.device.tensor(targets, [N], { dtype: 'i32' }));
      },
    });
    model.eval();
    return { model, summary };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
}

/** Class probabilities [nodes, classes] with every known label visible. */
export async function predictNodes(
  model: Graphormer,
  structure: GraphFeatures,
  known: ArrayLike<number>,
): Promise<Float32Array> {
  model.eval();
  const batch = labelledBatch(structure, known, model.config.maxDistance);
  const probs = noGrad(() => tidy(() => softmax(model.nodeOutputs(batch), -1)));
  const values = (await probs.read()) as Float32Array;
  probs.dispose();
  return values;
}

/** Index of the largest of each row of `[rows, classes]`. */
export function rowArgmax(values: ArrayLike<number>, classes: number): Int32Array {
  const out = new Int32Array(values.length / classes);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c]! > values[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}
