/**
 * text/moby on the committed excerpts (test/fixtures/moby-dick-*.txt): training lowers the loss,
 * evaluate scores every held-out character once beside the n-gram baselines, generate streams text.
 */
import { readFile } from 'node:fs/promises';
import { tasks } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { taskContext } from '../../test/task-context.js';
import {
  charIds,
  evaluateMoby,
  mobyNgrams,
  mobyTask,
  mobyTokenizer,
  scoringWindows,
  trainMoby,
} from './moby.js';

const fixture = (name: string) => readFile(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
const train = await fixture('moby-dick-train.txt');
const test = await fixture('moby-dick-heldout.txt');

const { ctx } = await taskContext('moby', 2);

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
    const report = await evaluateMoby(ctx, { train, test, chars: 500 });
    expect(report.examples).toBe(499);
    for (const m of [report.metrics, report.baselines['bigram']!, report.baselines['trigram']!]) {
      expect(m['nll']).toBeGreaterThan(0);
      expect(m['bitsPerChar']).toBeCloseTo(m['nll']! / Math.LN2, 3);
    }
    expect(report.goal).toMatchObject({ metric: 'nll', beat: ['trigram'] });
    expect((await evaluateMoby(ctx, { train, test, chars: 500, limit: 100 })).examples).toBe(99);
  });

  it('run streams text after the prompt', async () => {
    const { pieces, output } = await tasks.collectRun(
      mobyTask.run({ ...ctx, seed: 1 }, 'Call me ', { maxNewTokens: 20 }),
    );
    let text = '';
    for (const piece of pieces) {
      expect(piece.kind).toBe('text');
      if (piece.kind === 'text') text += piece.text;
    }
    expect(Array.from(text)).toHaveLength(20);
    expect(output).toEqual({ kind: 'text', text: `Call me ${text}` });
  });

  it('the trigram beats the bigram on held-out text', () => {
    const tok = mobyTokenizer(train);
    const { bigram, trigram } = mobyNgrams(charIds(tok, train), tok.vocabSize);
    const heldOut = charIds(tok, test);
    expect(trigram.nll(heldOut).nll).toBeLessThan(bigram.nll(heldOut).nll);
  });
});
