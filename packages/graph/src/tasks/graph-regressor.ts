/**
 * Graph-level regression with a Graphormer (graph/molecules): the model's additive readout (a sum over
 * atoms, as TPSA is a sum over atoms) predicts the target in units of a scale (`TargetScale`: y = mean +
 * std · output; molecules use mean 0, so an empty sum is 0), and the loss is the mean absolute error, the
 * metric it is judged by. Batches are drawn uniformly from the training graphs; prediction runs in batches of similar size.
 */
import { abs, mean, noGrad, seededUniform, sub, type TaskContext, tasks, tidy } from '@multihead/core';
import { type GraphFeatures, graphBatch } from '../models/graph-batch.js';
import type { Graphormer } from '../models/graphormer.js';

export type GraphRegressorTraining = tasks.TaskTrainingHyper;

/** How targets are scaled for the model: y = mean + std · output. */
export interface TargetScale {
  mean: number;
  std: number;
}

export function targetScale(values: readonly number[]): TargetScale {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) || 1 };
}

export async function trainGraphRegressor(
  ctx: TaskContext,
  model: Graphormer,
  graphs: readonly GraphFeatures[],
  targets: readonly number[],
  scale: TargetScale,
  h: GraphRegressorTraining,
  run: tasks.TaskTrainingRun,
): Promise<tasks.TaskTrainSummary> {
  const uniform = seededUniform(run.seed * 7919 + 5);
  const maxDistance = model.config.maxDistance;
  return await tasks.trainTaskModel(ctx, model, h, run, {
    unit: 'molecules',
    items: () => h.batchSize,
    batch: () => {
      const rows = Array.from({ length: h.batchSize }, () => Math.floor(uniform() * graphs.length));
      return {
        batch: graphBatch(
          rows.map((r) => graphs[r]!),
          maxDistance,
        ),
        y: Float32Array.from(rows, (r) => (targets[r]! - scale.mean) / scale.std),
      };
    },
    loss: ({ batch, y }) =>
      mean(abs(sub(model.graphOutputs(batch).reshape([y.length]), ctx.device.tensor(y, [y.length])))),
  });
}

/** Predictions (in target units) for every graph, in batches of graphs of similar size. */
export async function predictGraphs(
  model: Graphormer,
  graphs: readonly GraphFeatures[],
  scale: TargetScale,
  maxBatch = 64,
): Promise<Float64Array> {
  model.eval();
  const order = graphs.map((_, i) => i).sort((a, b) => graphs[a]!.nodes - graphs[b]!.nodes);
  const out = new Float64Array(graphs.length);
  for (let i = 0; i < order.length; i += maxBatch) {
    const rows = order.slice(i, i + maxBatch);
    const batch = graphBatch(
      rows.map((r) => graphs[r]!),
      model.config.maxDistance,
    );
    const outputs = noGrad(() => tidy(() => model.graphOutputs(batch)));
    const values = await outputs.read();
    outputs.dispose();
    rows.forEach((r, b) => {
      out[r] = scale.mean + scale.std * values[b]!;
    });
  }
  return out;
}
