import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { maskTokens } from './protein-masking.js';
import { ProteinTokenizer, STANDARD_AMINO_ACIDS } from './protein-tokenizer.js';

const tokenizer = new ProteinTokenizer();

/** A padded batch of random residues: 200 rows of 10-500 residues. */
function randomBatch() {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const sequences = Array.from({ length: 200 }, () =>
    Array.from(
      { length: 10 + Math.floor(next() * 490) },
      () => STANDARD_AMINO_ACIDS[Math.floor(next() * 20)],
    ).join(''),
  );
  return tokenizer.encodeBatch(sequences);
}

describe('maskTokens', () => {
  const batch = randomBatch();
  const { inputIds, labels } = maskTokens(batch.inputIds, tokenizer, { seed: 7 });

  it('chooses ~15% of residues: 80% <mask>, 10% random residue, 10% unchanged', () => {
    let residues = 0;
    let chosen = 0;
    let masked = 0;
    let unchanged = 0;
    let replaced = 0;
    let wrong = 0; // positions that break the rules below (one expect at the end keeps the test fast)
    for (let i = 0; i < inputIds.length; i++) {
      if (!tokenizer.specialIds.has(batch.inputIds[i]!)) residues++;
      if (labels[i] === -100) {
        if (inputIds[i] !== batch.inputIds[i]) wrong++;
        continue;
      }
      chosen++;
      if (labels[i] !== batch.inputIds[i]) wrong++;
      if (inputIds[i] === tokenizer.maskId) masked++;
      else if (inputIds[i] === batch.inputIds[i]) unchanged++;
      else {
        replaced++;
        if (!STANDARD_AMINO_ACIDS.includes(tokenizer.idToToken(inputIds[i]!)!)) wrong++;
      }
    }
    expect(wrong).toBe(0);
    // ~51k residues: binomial standard deviations are ~0.16% for the 15% and ~0.5% for the shares
    expect(residues).toBeGreaterThan(40_000);
    expect(Math.abs(chosen / residues - 0.15)).toBeLessThan(0.006);
    expect(Math.abs(masked / chosen - 0.8)).toBeLessThan(0.015);
    // a random residue equals the original 1 time in 20, so "unchanged" is 10% + 10%/20
    expect(Math.abs(unchanged / chosen - 0.105)).toBeLessThan(0.012);
    expect(Math.abs(replaced / chosen - 0.095)).toBeLessThan(0.012);
  });

  it('never touches <cls>, <eos>, <pad> or other special tokens', () => {
    let specials = 0;
    let touched = 0;
    for (let i = 0; i < inputIds.length; i++) {
      if (!tokenizer.specialIds.has(batch.inputIds[i]!)) continue;
      specials++;
      if (inputIds[i] !== batch.inputIds[i] || labels[i] !== -100) touched++;
    }
    expect(specials).toBeGreaterThan(400); // 200 <cls>, 200 <eos> and the padding
    expect(touched).toBe(0);
  });

  it('is reproducible by seed and differs between seeds', () => {
    const again = maskTokens(batch.inputIds, tokenizer, { seed: 7 });
    const same = (a: Int32Array, b: Int32Array) =>
      a.length === b.length && a.every((value, i) => value === b[i]);
    expect(same(again.inputIds, inputIds)).toBe(true);
    expect(same(again.labels, labels)).toBe(true);
    expect(same(maskTokens(batch.inputIds, tokenizer, { seed: 8 }).labels, labels)).toBe(false);
  });

  it('takes its rates and ignoreIndex as options and checks them', () => {
    const ids = tokenizer.encode('MKVLAGRT');
    const all = maskTokens(ids, tokenizer, {
      seed: 1,
      probability: 1,
      maskFraction: 1,
      randomFraction: 0,
      ignoreIndex: -1,
    });
    expect([...all.inputIds]).toEqual([0, 32, 32, 32, 32, 32, 32, 32, 32, 2]);
    expect([...all.labels]).toEqual([-1, ...ids.subarray(1, 9), -1]);
    expectError(
      () => maskTokens(ids, tokenizer, { seed: 1, probability: 1.5 }),
      /probability must be a number in \[0, 1\]/,
    );
    expectError(() => maskTokens(ids, tokenizer, { seed: 1, maskFraction: 0.95 }), /at most 1/);
    expectError(() => maskTokens(ids, tokenizer, { seed: 0.5 }), /seed must be an integer/);
    expectError(
      () => maskTokens(Int32Array.from([0, 40]), tokenizer, { seed: 1 }),
      /ids\[1\] = 40 is outside/,
    );
    expectError(
      () => maskTokens([0] as unknown as Int32Array, tokenizer, { seed: 1 }),
      /must be an Int32Array/,
    );
  });
});
