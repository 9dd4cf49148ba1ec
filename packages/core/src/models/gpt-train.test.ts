/**
 * End to end: a 2-layer GPT learns to reverse a sequence (autograd, fused attention backward, cross-entropy
 * with ignoreIndex, AdamW, `train`), to near-zero loss, on the backend under test. The sequence is
 * `a1 .. an SEP an .. a1`; only the reversed half is scored, so the model must attend by position.
 */
import { describe, expect, it } from 'vitest';
import { getDevices } from '../../test/device.js';
import { argmax, models, nn, noGrad, optim, reversalTask, type Tensor, tidy, train } from '../index.js';

const { dev } = await getDevices();

const task = reversalTask(); // a1..a4 SEP a4..a1 over 6 digits

describe('GPT training end to end', () => {
  it('learns to reverse sequences to near-zero loss', async () => {
    const gpt = new models.GPT(dev, {
      vocabSize: task.vocabSize,
      blockSize: task.inputLength,
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
      batch: (step) => task.batch(dev, 32, step),
      loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets),
    });
    expect(summary.finalLoss).toBeLessThan(0.05);
    // nothing leaked across 100 steps: only the optimizer's state (m and v per parameter) is new
    expect(dev.memory().liveTensors).toBe(before + 2 * gpt.parameters().length);
    // greedy predictions on unseen problems are exact
    const test = task.batch(dev, 64, 10_000); // problems not seen in training
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
