/**
 * End to end: a 2-layer GPT learns to reverse a sequence (autograd, fused attention backward, cross-entropy
 * with ignoreIndex, AdamW, `train`), to near-zero loss, on the backend under test. The sequence is
 * `a1 .. an SEP an .. a1`; only the reversed half is scored, so the model must attend by position.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getDevices } from '../../test/device.js';
import { argmax, type Device, models, nn, noGrad, optim, type Tensor, tidy, train } from '../index.js';

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const DIGITS = 6;
const SEP = DIGITS; // token ids 0..5 are digits, 6 separates
const LEN = 4;
const T = 2 * LEN + 1; // a1..an SEP an..a1

/** A batch of reversal problems from a seeded generator: inputs [B, T-1], targets [B, T-1]. */
function reversalBatch(device: Device, batch: number, seed: number) {
  let s = seed * 2654435761 + 1;
  const next = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s >>> 16) % DIGITS;
  };
  const inputs = new Int32Array(batch * (T - 1));
  const targets = new Int32Array(batch * (T - 1));
  for (let b = 0; b < batch; b++) {
    const digits = Array.from({ length: LEN }, next);
    const seq = [...digits, SEP, ...digits.slice().reverse()];
    for (let t = 0; t < T - 1; t++) {
      inputs[b * (T - 1) + t] = seq[t]!;
      // score only the positions that predict the reversed half
      targets[b * (T - 1) + t] = t >= LEN ? seq[t + 1]! : -100;
    }
  }
  return {
    inputs: device.tensor(inputs, [batch, T - 1], { dtype: 'i32' }),
    targets: device.tensor(targets, [batch, T - 1], { dtype: 'i32' }),
  };
}

describe('GPT training end to end', () => {
  it('learns to reverse sequences to near-zero loss', async () => {
    const gpt = new models.GPT(dev, {
      vocabSize: DIGITS + 1,
      blockSize: T,
      nLayer: 2,
      nHead: 2,
      nEmbd: 32,
      seed: 1,
    });
    const opt = new optim.AdamW(gpt.parameters(), { lr: 1e-2, betas: [0.9, 0.98], weightDecay: 0 });
    const before = dev.memory().liveTensors;
    const summary = await train({
      optimizer: opt,
      steps: 100,
      progressEvery: 25,
      batch: (step) => reversalBatch(dev, 32, step),
      loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets),
    });
    expect(summary.finalLoss).toBeLessThan(0.05);
    // nothing leaked across 100 steps: only the optimizer's state (m and v per parameter) is new
    expect(dev.memory().liveTensors).toBe(before + 2 * gpt.parameters().length);
    // greedy predictions on unseen problems are exact
    const test = reversalBatch(dev, 64, 10_000);
    const predicted = noGrad(() => tidy(() => argmax(gpt.forward(test.inputs), -1)));
    const [p, t] = [await predicted.read(), await test.targets.read()];
    let right = 0;
    let scored = 0;
    t.forEach((target, i) => {
      if (target === -100) return;
      scored++;
      if (p[i] === target) right++;
    });
    expect(right / scored).toBeGreaterThan(0.99);
    for (const x of [predicted, test.inputs, test.targets] as Tensor[]) x.dispose();
    opt.dispose();
    gpt.dispose();
  }, 120_000);
});
