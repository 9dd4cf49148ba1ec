/** train(): convergence on small problems, progress reports, abort, and no tensor leaks. */
import { describe, expect, it } from 'vitest';
import { getDevices, randomData } from '../../test/device.js';
import { add, matmul, nn, optim, type Tensor, type TrainProgress, train } from '../index.js';

const { dev } = await getDevices();

/** 64 points in 2-D with labels from a known line (logistic regression) and targets of a known plane. */
const N = 64;
const points = randomData(N * 2, 5, 2);
const labels = Float32Array.from({ length: N }, (_, i) =>
  points[2 * i]! - 0.5 * points[2 * i + 1]! > 0.1 ? 1 : 0,
);
const targets = Float32Array.from({ length: N }, (_, i) => 2 * points[2 * i]! - 3 * points[2 * i + 1]! + 0.5);

function linearModel() {
  const w = dev.zeros([2, 1]).requiresGrad_();
  const b = dev.zeros([1]).requiresGrad_();
  return { w, b, parameters: () => [w, b], forward: (x: Tensor) => add(matmul(x, w), b) };
}

describe('train', () => {
  it('linear regression with SGD finds the plane; progress reports every 10 steps; afterStep after each', async () => {
    const model = linearModel();
    const x = dev.tensor(points, [N, 2]);
    const y = dev.tensor(targets, [N, 1]);
    const reports: TrainProgress[] = [];
    const afterSteps: number[] = [];
    const summary = await train({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
      steps: 100,
      batch: () => ({ x, y }),
      loss: ({ x, y }) => nn.mseLoss(model.forward(x), y),
      progressEvery: 10,
      tokensPerStep: N,
      onProgress: (p) => reports.push(p),
      afterStep: (step) => afterSteps.push(step),
    });
    expect(afterSteps).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(summary.steps).toBe(100);
    expect(summary.aborted).toBe(false);
    expect(reports.map((r) => r.step)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(summary.losses.map((l) => l.loss)).toEqual(reports.map((r) => r.loss));
    for (const r of reports) {
      expect(r.lr).toBe(0.1);
      expect(r.msPerStep).toBeGreaterThan(0);
      expect(r.tokensPerSecond).toBeGreaterThan(0);
    }
    expect(summary.finalLoss).toBeLessThan(1e-3);
    expect(summary.finalLoss).toBeLessThan(summary.losses[0]!.loss / 1000);
    const [w0, w1] = await model.w.read();
    expect(w0).toBeCloseTo(2, 1);
    expect(w1).toBeCloseTo(-3, 1);
    expect((await model.b.read())[0]).toBeCloseTo(0.5, 1);
  });

  it('logistic regression with AdamW, a schedule and clipping separates the classes', async () => {
    const model = linearModel();
    const x = dev.tensor(points, [N, 2]);
    const y = dev.tensor(labels, [N, 1]);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 0.2, weightDecay: 0 });
    const summary = await train({
      parameters: model.parameters(),
      optimizer,
      scheduler: new optim.LRScheduler(optimizer, optim.linearWarmup({ warmupSteps: 5 })),
      clipGradNorm: 1,
      steps: 150,
      progressEvery: 50,
      batch: () => ({ x, y }),
      loss: ({ x, y }) => nn.binaryCrossEntropyWithLogits(model.forward(x), y),
    });
    expect(summary.losses[0]!.loss).toBeGreaterThan(summary.finalLoss);
    expect(summary.finalLoss).toBeLessThan(0.15);
    const logits = await model.forward(x).read();
    const correct = Array.from(logits).filter((z, i) => (z > 0 ? 1 : 0) === labels[i]).length;
    expect(correct).toBeGreaterThanOrEqual(N - 1);
  });

  it('keeps live tensors flat over 200 steps', async () => {
    const model = linearModel();
    const y = dev.tensor(targets, [N, 1]);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 0.01 });
    const live: number[] = [];
    await train({
      model,
      optimizer,
      clipGradNorm: 10,
      steps: 200,
      progressEvery: 20,
      // a fresh batch tensor each step: train's tidy scope must dispose it
      batch: (step) => ({ x: dev.tensor(points.subarray(0, 2 * ((step % 8) + 1)), [(step % 8) + 1, 2]), y }),
      loss: ({ x }) => nn.mseLoss(model.forward(x), y.slice(0, 0, x.shape[0]!)),
      onProgress: () => live.push(dev.memory().liveTensors),
    });
    expect(live).toHaveLength(10);
    expect(new Set(live).size).toBe(1);
    optimizer.dispose();
  });

  it('stops at an abort signal', async () => {
    const model = linearModel();
    const x = dev.tensor(points, [N, 2]);
    const y = dev.tensor(targets, [N, 1]);
    const controller = new AbortController();
    const summary = await train({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }),
      steps: 100,
      progressEvery: 5,
      batch: () => ({ x, y }),
      loss: ({ x, y }) => nn.mseLoss(model.forward(x), y),
      onProgress: (p) => {
        if (p.step === 15) controller.abort();
      },
      signal: controller.signal,
    });
    expect(summary).toMatchObject({ steps: 15, aborted: true });

    // aborted between reports: the last step run is still read and reported
    const between = new AbortController();
    const reported: number[] = [];
    const cut = await train({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }),
      steps: 100,
      progressEvery: 5,
      batch: (step) => {
        if (step === 12) between.abort(); // step 12 (the 13th) still runs
        return { x, y };
      },
      loss: ({ x, y }) => nn.mseLoss(model.forward(x), y),
      onProgress: (p) => reported.push(p.step),
      signal: between.signal,
    });
    expect(cut).toMatchObject({ steps: 13, aborted: true });
    expect(reported).toEqual([5, 10, 13]);
    expect(cut.losses.at(-1)!.step).toBe(13);
    expect(cut.finalLoss).toBe(cut.losses.at(-1)!.loss);
    expect(Number.isFinite(cut.finalLoss)).toBe(true);
    await expect(
      train({
        optimizer: new optim.SGD(model.parameters(), { lr: 1 }),
        steps: -1,
        batch: () => 0,
        loss: () => x,
      }),
    ).rejects.toThrowError(/steps -1 must be an integer/);
  });
});
