/**
 * The bars an image classifier is measured by, fitted on the raw (normalized) pixels in the same call as
 * the evaluation: multinomial logistic regression (784 -> 10) and a one-hidden-layer MLP (784 -> 256 -> 10,
 * ReLU), as in the Fashion-MNIST benchmark table (its README: 0.84 for logistic regression, 0.883 for an
 * MLP). Minibatch AdamW with a cosine schedule on the task's device, seeded.
 */
import {
  argmax,
  type Device,
  nn,
  noGrad,
  optim,
  relu,
  seededUniform,
  type Tensor,
  tidy,
  train,
} from '@multihead/core';
import { invalidArgument } from '../preprocess/errors.js';

export interface PixelClassifierOptions {
  /** Hidden units; 0 = logistic regression (default 0). */
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
}

export interface PixelDataset {
  /** `[count, features]` row-major, normalized. */
  x: Float32Array;
  labels: Uint8Array;
  count: number;
  features: number;
  classes: number;
}

class PixelClassifier extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear | null;
  constructor(device: Device, features: number, hidden: number, classes: number, seed: number) {
    super(device);
    this.fc1 = this.registerModule('fc1', new nn.Linear(device, features, hidden || classes, { seed }));
    this.fc2 = hidden
      ? this.registerModule('fc2', new nn.Linear(device, hidden, classes, { seed: seed + 1 }))
      : null;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => (this.fc2 ? this.fc2.forward(relu(this.fc1.forward(x))) : this.fc1.forward(x)));
  }
}

/** Fits the classifier and returns its predictions on `test` (class indices). */
export async function fitAndPredict(
  device: Device,
  trainSet: PixelDataset,
  test: Pick<PixelDataset, 'x' | 'count'>,
  opts: PixelClassifierOptions = {},
): Promise<Uint8Array> {
  const { count, features, classes } = trainSet;
  if (trainSet.x.length !== count * features || test.x.length !== test.count * features) {
    invalidArgument(`fitAndPredict: pixel arrays disagree with count x features (${count} x ${features})`);
  }
  const hidden = opts.hidden ?? 0;
  const epochs = opts.epochs ?? 5;
  const batchSize = opts.batchSize ?? 256;
  const seed = opts.seed ?? 0;
  const model = new PixelClassifier(device, features, hidden, classes, seed);
  const optimizer = new optim.AdamW(model.parameters(), {
    lr: opts.lr ?? 1e-3,
    weightDecay: opts.weightDecay ?? 1e-4,
  });
  const perEpoch = Math.floor(count / batchSize);
  const steps = perEpoch * epochs;
  const scheduler = new optim.LRScheduler(
    optimizer,
    optim.cosineWithWarmup({ warmupSteps: perEpoch >> 2, totalSteps: steps }),
  );
  const uniform = seededUniform(seed * 7919 + 3);
  let order: number[] = [];
  try {
    await train({
      model,
      optimizer,
      scheduler,
      steps,
      progressEvery: 50,
      batch: (step) => {
        if (step % perEpoch === 0) order = shuffled(count, uniform);
        const rows = order.slice((step % perEpoch) * batchSize, ((step % perEpoch) + 1) * batchSize);
        const x = new Float32Array(rows.length * features);
        for (const [i, r] of rows.entries())
          x.set(trainSet.x.subarray(r * features, (r + 1) * features), i * features);
        return {
          x: device.tensor(x, [rows.length, features]),
          y: device.tensor(
            Int32Array.from(rows, (r) => trainSet.labels[r]!),
            [rows.length],
          ),
        };
      },
      loss: ({ x, y }) => nn.crossEntropy(model.forward(x), y),
    });
    model.eval();
    const out = new Uint8Array(test.count);
    for (let start = 0; start < test.count; start += 1000) {
      const n = Math.min(1000, test.count - start);
      const predicted = noGrad(() =>
        tidy(() =>
          argmax(
            model.forward(
              device.tensor(test.x.subarray(start * features, (start + n) * features), [n, features]),
            ),
            -1,
          ),
        ),
      );
      out.set(Array.from(await predicted.read()), start);
      predicted.dispose();
    }
    return out;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

function shuffled(n: number, uniform: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
