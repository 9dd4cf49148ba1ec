/**
 * Synthetic sequence tasks for smoke tests, demos and benchmarks: small, seeded, and solvable only by
 * attending by position, so a model that learns them shows attention, its backward and the optimizer
 * working together.
 */
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface SequenceTask {
  /** Token ids 0..vocabSize-1: `digits` symbols, then the separator. */
  vocabSize: number;
  /** Length of the model's input (the full sequence minus its last token). */
  inputLength: number;
  /** The separator's id. */
  separator: number;
  /**
   * `size` problems from `seed`: inputs [size, inputLength] and next-token targets, -100 (ignored by
   * `nn.crossEntropy`) where the answer is not yet being produced.
   */
  batch(device: Device, size: number, seed: number): { inputs: Tensor; targets: Tensor };
  /** The problem and its answer as token lists (for printing). */
  sample(seed: number): { prompt: number[]; answer: number[] };
}

/** `a1 .. an SEP an .. a1`: reverse `length` symbols drawn from `digits` (default 6 digits, length 4). */
export function reversalTask(opts: { digits?: number; length?: number } = {}): SequenceTask {
  const digits = opts.digits ?? 6;
  const length = opts.length ?? 4;
  if (!Number.isInteger(digits) || digits < 2)
    fail('INVALID_ARGUMENT', `reversalTask: digits ${digits} must be >= 2`);
  if (!Number.isInteger(length) || length < 1)
    fail('INVALID_ARGUMENT', `reversalTask: length ${length} must be >= 1`);
  const separator = digits;
  const total = 2 * length + 1;
  const problem = (seed: number) => {
    let s = (seed * 2654435761 + 1) >>> 0;
    const next = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 16) % digits;
    };
    const prompt = Array.from({ length }, next);
    return { prompt, answer: prompt.slice().reverse() };
  };
  return {
    vocabSize: digits + 1,
    inputLength: total - 1,
    separator,
    sample: problem,
    batch(device, size, seed) {
      const inputs = new Int32Array(size * (total - 1));
      const targets = new Int32Array(size * (total - 1));
      for (let b = 0; b < size; b++) {
        const { prompt, answer } = problem(seed * size + b);
        const seq = [...prompt, separator, ...answer];
        for (let t = 0; t < total - 1; t++) {
          inputs[b * (total - 1) + t] = seq[t]!;
          targets[b * (total - 1) + t] = t >= length ? seq[t + 1]! : -100; // score only the answer
        }
      }
      return {
        inputs: device.tensor(inputs, [size, total - 1], { dtype: 'i32' }),
        targets: device.tensor(targets, [size, total - 1], { dtype: 'i32' }),
      };
    },
  };
}
