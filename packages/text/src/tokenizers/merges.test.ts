import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LearnMergesOptions, learnMerges } from './merges.js';

/** The textbook loop: recount every pair after every merge. The incremental learner must agree with it. */
function naiveMerges(options: LearnMergesOptions): { vocab: string[]; merges: [string, string][] } {
  const vocab = [...options.vocab];
  const words = [...options.words].map((w) => ({ symbols: [...w.symbols], count: w.count }));
  const merges: [string, string][] = [];
  const done = new Set<string>();
  while (vocab.length < options.vocabSize) {
    const counts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = JSON.stringify([symbols[i], symbols[i + 1]]);
        counts.set(key, (counts.get(key) ?? 0) + count);
      }
    }
    let best: [string, string] | undefined;
    let bestCount = 0;
    let bestIds: [number, number] = [0, 0];
    for (const [key, count] of counts) {
      if (done.has(key)) continue;
      const pair = JSON.parse(key) as [string, string];
      const ids: [number, number] = [vocab.indexOf(pair[0]), vocab.indexOf(pair[1])];
      const smaller = ids[0] < bestIds[0] || (ids[0] === bestIds[0] && ids[1] < bestIds[1]);
      if (count > bestCount || (count === bestCount && smaller))
        [best, bestCount, bestIds] = [pair, count, ids];
    }
    if (best === undefined || bestCount < options.minFrequency) break;
    done.add(JSON.stringify(best));
    const token = options.join(best[0], best[1]);
    if (!vocab.includes(token)) vocab.push(token);
    merges.push(best);
    for (const word of words) {
      const out: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === best[0] && word.symbols[i + 1] === best[1] && i + 1 < word.symbols.length) {
          out.push(token);
          i++;
        } else out.push(word.symbols[i]!);
      }
      word.symbols = out;
    }
  }
  return { vocab, merges };
}

const concat = (a: string, b: string) => a + b;

describe('learnMerges', () => {
  it('merges the most frequent pair first, ties to the smaller ids', () => {
    // "low" x5, "lower" x2, "newest" x6, "widest" x3 (Sennrich et al. 2016, Fig. 1)
    const words = [
      ['low', 5],
      ['lower', 2],
      ['newest', 6],
      ['widest', 3],
    ].map(([word, count]) => ({ symbols: [...(word as string)], count: count as number }));
    const alphabet = [...new Set(words.flatMap((w) => w.symbols))].sort();
    const { merges } = learnMerges({
      vocab: alphabet,
      words,
      vocabSize: alphabet.length + 4,
      minFrequency: 1,
      join: concat,
    });
    // es (9) and st (9) tie: 'e' < 's' decides; then est (9); then lo (7) ties ow (7): 'l' < 'o'
    expect(merges).toEqual([
      ['e', 's'],
      ['es', 't'],
      ['l', 'o'],
      ['lo', 'w'],
    ]);
  });

  it('agrees with recounting every pair after every merge', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 1, maxLength: 9 });
    fc.assert(
      fc.property(
        fc.array(fc.record({ word, count: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (entries, minFrequency) => {
          const options: LearnMergesOptions = {
            vocab: ['a', 'b', 'c', 'd'],
            words: entries.map((e) => ({ symbols: [...e.word], count: e.count })),
            vocabSize: 30,
            minFrequency,
            join: concat,
          };
          expect(learnMerges(options)).toEqual(naiveMerges(options));
        },
      ),
      { numRuns: 300 },
    );
  });
});
