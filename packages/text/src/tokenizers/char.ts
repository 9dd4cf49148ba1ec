/**
 * Character-level tokenizer: one token per Unicode code point (names, small Shakespeare-style language
 * models, nanoGPT's char model). @huggingface/tokenizers has no WordLevel model, so the file is a BPE model
 * with no merges and no pre-tokenizer: both libraries then look every character up on its own (unknown
 * ones become `unk`), and a Fuse decoder joins tokens back without spaces.
 */
import { invalidArgument } from '../errors.js';
import {
  type Corpus,
  characterLimitOption,
  corpusSegments,
  minFrequencyOption,
  mostFrequentChars,
} from './corpus.js';
import {
  checkSpecialTokens,
  type SpecialTokens,
  specialTokenList,
  type TemplateOptions,
  wrappingTemplateProcessor,
} from './special-tokens.js';
import { Tokenizer } from './tokenizer.js';
import { bpeModelJSON, specialAddedToken, tokenizerJSON } from './tokenizer-json.js';

export interface CharTokenizerOptions {
  /** Default `{ pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' }` (ids 0-3). */
  specialTokens?: SpecialTokens;
  additionalSpecialTokens?: string[];
  /** Added by `encode(..., { addSpecialTokens: true })`. Default '<bos> $A <eos>' when both exist, else none. */
  template?: TemplateOptions | null;
}

export interface CharTrainerOptions extends CharTokenizerOptions {
  /** Characters seen fewer times map to `unk`. Default 1 (keep every character). */
  minFrequency?: number;
  /** Keep at most this many characters, the most frequent (ties: lower code point). Default: all. */
  maxCharacters?: number;
}

const DEFAULT_SPECIAL_TOKENS: SpecialTokens = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' };

/** A character tokenizer whose vocabulary is the corpus' characters, in code point order after the specials. */
export function trainCharTokenizer(corpus: Corpus, options: CharTrainerOptions = {}): Tokenizer {
  const where = 'trainCharTokenizer';
  const special = checkSpecialTokens(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS, where);
  const specials = specialTokenList(special, options.additionalSpecialTokens, where);
  const minFrequency = minFrequencyOption(options.minFrequency, 1, where);
  const maxCharacters = characterLimitOption(options.maxCharacters, 'maxCharacters', where);
  const counts = new Map<string, number>();
  for (const segment of corpusSegments(corpus, specials, where)) {
    for (const char of segment) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  return charTokenizer(mostFrequentChars(counts, maxCharacters, minFrequency), {
    ...options,
    specialTokens: special,
  });
}

/** A character tokenizer over a fixed alphabet (a string or a list of single characters). */
export function charTokenizer(
  alphabet: string | Iterable<string>,
  options: CharTokenizerOptions = {},
): Tokenizer {
  const where = 'charTokenizer';
  const special = checkSpecialTokens(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS, where);
  const specials = specialTokenList(special, options.additionalSpecialTokens, where);
  const chars = new Set<string>();
  for (const char of typeof alphabet === 'string' ? Array.from(alphabet) : alphabet) {
    if (typeof char !== 'string' || [...char].length !== 1) {
      invalidArgument(`${where}: alphabet entries must be single characters, got ${JSON.stringify(char)}`);
    }
    if (!specials.includes(char)) chars.add(char);
  }
  // code point order, so the same alphabet always gives the same ids whatever order it came in
  const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const vocab = [...specials, ...sorted];
  const json = tokenizerJSON({
    addedTokens: specials.map((token, id) => specialAddedToken(id, token)),
    postProcessor: wrappingTemplateProcessor(options.template, [special.bos, special.eos], specials, where),
    decoder: { type: 'Fuse' },
    model: bpeModelJSON(vocab, [], special.unk ?? null),
  });
  return Tokenizer.fromJSON(json, { specialTokens: special });
}
