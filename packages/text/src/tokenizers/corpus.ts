/** Training corpora: one string or an iterable of strings, with special tokens cut out before counting. */
import { describeType, invalidArgument } from '../errors.js';
import { MAX_VOCAB_SIZE } from './merges.js';

export type Corpus = string | Iterable<string>;

/**
 * Yields the corpus' texts split around special tokens. Encoding matches special tokens before the
 * normalizer and pre-tokenizer run, so training sees text the same way and never learns merges across
 * them.
 */
export function* corpusSegments(
  corpus: Corpus,
  specialTokens: readonly string[],
  where: string,
): Generator<string> {
  // a string is iterable too (by character), so check it first
  const texts = typeof corpus === 'string' ? [corpus] : corpus;
  if (
    typeof texts !== 'object' ||
    texts === null ||
    typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function'
  ) {
    invalidArgument(
      `${where}: corpus must be a string or an iterable of strings, got ${describeType(corpus)}`,
    );
  }
  const splitter =
    specialTokens.length === 0
      ? undefined
      : new RegExp(
          [...specialTokens]
            .sort((a, b) => b.length - a.length) // longest first, like Hugging Face's added-token matcher
            .map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('|'),
          'u',
        );
  let index = 0;
  for (const text of texts) {
    if (typeof text !== 'string') {
      invalidArgument(`${where}: corpus item ${index} must be a string, got ${describeType(text)}`);
    }
    index++;
    if (splitter === undefined) yield text;
    else yield* text.split(splitter);
  }
}

/** Checks an integer option in [min, max]. */
export function integerOption(value: unknown, name: string, min: number, max: number, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalidArgument(`${where}: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Checks `minFrequency` (a count, at least 1); `fallback` when not given. */
export function minFrequencyOption(value: unknown, fallback: number, where: string): number {
  return integerOption(value ?? fallback, 'minFrequency', 1, Number.MAX_SAFE_INTEGER, where);
}

/** Checks a cap on kept characters (`maxCharacters`, `limitAlphabet`): in [1, MAX_VOCAB_SIZE], default no cap. */
export function characterLimitOption(value: unknown, name: string, where: string): number {
  return integerOption(value ?? MAX_VOCAB_SIZE, name, 1, MAX_VOCAB_SIZE, where);
}

/**
 * The `limit` most frequent characters of `counts` seen at least `minCount` times, most frequent first
 * (ties: lower code point, so the choice does not depend on the corpus' order).
 */
export function mostFrequentChars(
  counts: ReadonlyMap<string, number>,
  limit: number,
  minCount = 1,
): string[] {
  return [...counts]
    .filter(([, count]) => count >= minCount)
    .sort(([a, ca], [b, cb]) => cb - ca || a.codePointAt(0)! - b.codePointAt(0)!)
    .slice(0, limit)
    .map(([char]) => char);
}
