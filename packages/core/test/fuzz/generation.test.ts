/**
 * Family 5 of the hardening suite: generation. An AbortSignal fired by a timer stops `generate` /
 * `stream` within one token on every backend (the CPU backend's reads resolve at once, so the loop
 * must yield to the event loop); NaN or +Infinity logits give NON_FINITE instead of a token; every
 * module's train/eval flag is as it was when generation ends, however it ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KVCache, models, type Tensor } from '../../src/index.js';
import { getDevices, onGpu } from '../device.js';
import { checkAsyncProperty, checkProperty, typedError, typedErrorAsync } from './property.js';

const FAMILY = 'generation';
const { dev } = await getDevices();
const gpt = new models.GPT(dev, { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, seed: 3 });

/** A causal LM whose logits are given rows (cycled), to put NaN and infinities where a test wants. */
function scriptedModel(rows: Float32Array[]) {
  let step = 0;
  return {
    device: dev,
    config: { blockSize: 16, vocabSize: rows[0]!.length },
    forward(ids: Tensor): Tensor {
      const T = ids.shape[1]!;
      const V = rows[0]!.length;
      const out = new Float32Array(T * V);
      out.set(rows[step++ % rows.length]!, (T - 1) * V);
      return dev.tensor(out, [1, T, V]);
    },
    createCaches: (): KVCache[] => [],
    eval() {},
  };
}

describe('hardening: generation', () => {
  it('a timer-fired abort stops generate and stream within one token', async () => {
    await checkAsyncProperty(
      FAMILY,
      'abort from a timer',
      [fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 })],
      async (after, useStream, useCache, delayMs) => {
        const controller = new AbortController();
        let produced = 0;
        let atAbort = -1;
        controller.signal.addEventListener('abort', () => {
          atAbort = produced;
        });
        const maxNewTokens = 400;
        const opts = { maxNewTokens, signal: controller.signal, useCache, seed: 1 };
        const onToken = () => {
          produced++;
          if (produced === after + 1) setTimeout(() => controller.abort(), delayMs);
        };
        if (after === 0 || !useStream) setTimeout(() => controller.abort(), delayMs + after);
        if (useStream) for await (const _ of models.stream(gpt, [1, 2], opts)) onToken();
        else {
          const tokens = await models.generate(gpt, [1, 2], {
            ...opts,
            stopTokens: [],
            logitBias: new Map(),
          });
          // generate returns at the end: count what it returned, and see the abort happened in time
          produced = tokens.length;
        }
        expect(atAbort, 'the timer fired before generation ended by itself').toBeGreaterThanOrEqual(0);
        if (useStream) expect(produced).toBeLessThanOrEqual(atAbort + 1);
        expect(produced).toBeLessThan(maxNewTokens);
      },
      onGpu ? 8 : 20,
    );
  });

  it('NaN or +Infinity logits give NON_FINITE, -Infinity only rules a token out', async () => {
    const cell = fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: -20, max: 20, noNaN: true }) },
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    );
    const sampling = fc.record({
      temperature: fc.constantFrom(0, 0.7, 1),
      topK: fc.constantFrom(0, 2),
      topP: fc.constantFrom(1, 0.9),
    });
    checkProperty(
      FAMILY,
      'pickToken over odd logits',
      [fc.array(cell, { minLength: 2, maxLength: 8 }), sampling, fc.integer({ min: 0, max: 2 ** 31 })],
      (row, opts, seed) => {
        const logits = Float32Array.from(row);
        const bad = row.some((v) => Number.isNaN(v) || v === Number.POSITIVE_INFINITY);
        const none = row.every((v) => v === Number.NEGATIVE_INFINITY);
        let token = -1;
        const error = typedError(() => {
          token = models.pickToken(logits, [], opts, () => (seed % 1000) / 1000);
        }, ['NON_FINITE']);
        expect(error === null).toBe(!bad && !none);
        if (!error) expect(logits[token]).toBeGreaterThan(Number.NEGATIVE_INFINITY);
      },
      300,
    );
    await checkAsyncProperty(
      FAMILY,
      'generate over scripted logits',
      [fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 3 })],
      async (rows) => {
        const model = scriptedModel(rows.map((r) => Float32Array.from(r)));
        const bad = rows.some((r) => r.some((v) => Number.isNaN(v) || v === Number.POSITIVE_INFINITY));
        const none = rows.some((r) => r.every((v) => v === Number.NEGATIVE_INFINITY));
        const error = await typedErrorAsync(
          () => models.generate(model, [0], { maxNewTokens: rows.length, useCache: false }),
          ['NON_FINITE'],
        );
        expect(error === null).toBe(!bad && !none);
      },
      onGpu ? 15 : 50,
    );
  });

  it('generate leaves every module in the train/eval mode it found, however it ends', async () => {
    const modules = gpt.namedModules().map(([, m]) => m);
    await checkAsyncProperty(
      FAMILY,
      'train/eval modes restored',
      [
        fc.array(fc.boolean(), { minLength: modules.length, maxLength: modules.length }),
        fc.constantFrom('complete', 'abort', 'break', 'bad seed'),
      ],
      async (modes, ending) => {
        modules.forEach((m, i) => {
          m.training = modes[i]!;
        });
        const controller = new AbortController();
        if (ending === 'abort') controller.abort();
        const opts = { maxNewTokens: 3, signal: controller.signal, seed: ending === 'bad seed' ? 0.5 : 2 };
        if (ending === 'break') {
          for await (const _ of models.stream(gpt, [1], opts)) {
            expect(gpt.training).toBe(false); // generation runs in eval mode
            break;
          }
        } else await typedErrorAsync(() => models.generate(gpt, [1], opts), ['INVALID_ARGUMENT']);
        expect(modules.map((m) => m.training)).toEqual(modes);
      },
      onGpu ? 10 : 30,
    );
  });
});
