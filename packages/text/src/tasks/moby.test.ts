/**
 * text/moby on the committed excerpts (test/fixtures/moby-dick-*.txt): training lowers the loss,
 * evaluate scores every held-out character once beside the n-gram baselines, generate streams text.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice } from '@multihead/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  charIds,
  evaluateMoby,
  mobyNgrams,
  mobyTask,
  mobyTokenizer,
  scoringWindows,
  trainMoby,
} from './moby.js';
import type { TaskContext } from './task.js';

const fixture = (name: string) => readFile(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
const train = await fixture('moby-dick-train.txt');
const test = await fixture('moby-dick-heldout.txt');

let dir: string;
let ctx: TaskContext;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moby-task-'));
  ctx = { device: await createDevice({ backend: 'cpu' }), checkpointDir: dir, seed: 2 };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('text/moby', () => {
  it('scoring windows score every position from 1 once, with at least half a block of context', () => {
    const ids = Array.from({ length: 50 }, (_, i) => i);
    const rows = scoringWindows(ids, 8);
    const scored: number[] = [];
    rows.forEach((row, r) => {
      for (let t = row.from ?? 0; t < row.ids.length - 1; t++) {
        scored.push(row.ids[t + 1]!);
        if (r > 0) expect(t).toBeGreaterThanOrEqual(4); // context: t + 1 ids
      }
      expect(row.ids.length).toBeLessThanOrEqual(9);
    });
    expect(scored).toEqual(ids.slice(1));
  });

  it('trains, lowers the loss, and evaluates beside bigram and trigram models', async () => {
    const result = await trainMoby(ctx, {
      text: train,
      steps: 30,
      config: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 },
      training: { batchSize: 8, warmupSteps: 3, lr: 1e-2 },
    });
    expect(result.steps).toBe(30);
    expect(result.losses.at(-1)!.loss).toBeLessThan(result.losses[0]!.loss);
    const metrics = await evaluateMoby(ctx, { train, test, chars: 500 });
    expect(metrics.heldOutChars).toBe(499);
    for (const key of ['nll', 'bitsPerChar', 'bigramNll', 'trigramNll', 'trigramBitsPerChar'])
      expect(metrics[key]).toBeGreaterThan(0);
    expect(metrics.bitsPerChar).toBeCloseTo((metrics.nll as number) / Math.LN2, 3);
  });

  it('generate streams text after the prompt', async () => {
    let text = '';
    for await (const piece of mobyTask.generate!(ctx, 'Call me ', { maxNewTokens: 20, seed: 1 })) {
      expect(piece.length).toBeGreaterThan(0);
      text += piece;
    }
    expect(Array.from(text)).toHaveLength(20);
  });

  it('the trigram beats the bigram on held-out text', () => {
    const tok = mobyTokenizer(train);
    const { bigram, trigram } = mobyNgrams(charIds(tok, train), tok.vocabSize);
    const heldOut = charIds(tok, test);
    expect(trigram.nll(heldOut).nll).toBeLessThan(bigram.nll(heldOut).nll);
  });
});
