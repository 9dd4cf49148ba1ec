/**
 * WordPiece training, BERT style (Devlin et al. 2019): BertNormalizer (clean text, CJK spacing, optional
 * lowercase and accent stripping), BertPreTokenizer (whitespace and punctuation), `##` on pieces inside a
 * word, and a TemplateProcessing post-processor for `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`. The vocabulary
 * is learned with BPE merges over those pieces, as Hugging Face's WordpieceTrainer does; encoding then
 * uses WordPiece's greedy longest-match-first.
 */
import { BertNormalizer, BertPreTokenizer } from '@huggingface/tokenizers';
import { invalidArgument } from '../errors.js';
import {
  type Corpus,
  characterLimitOption,
  corpusSegments,
  integerOption,
  minFrequencyOption,
  mostFrequentChars,
} from './corpus.js';
import { learnMerges, MAX_VOCAB_SIZE, type WordCount } from './merges.js';
import {
  checkSpecialTokens,
  type SpecialTokens,
  specialTokenList,
  type TemplateOptions,
  wrappingTemplateProcessor,
} from './special-tokens.js';
import { Tokenizer } from './tokenizer.js';
import { specialAddedToken, tokenizerJSON } from './tokenizer-json.js';

export interface WordPieceTrainerOptions {
  /** Target vocabulary size, special tokens and alphabet included. Default 8000. */
  vocabSize?: number;
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number;
  /** Lowercase before tokenizing (bert-base-uncased). Default true. */
  lowercase?: boolean;
  /** Strip accents (NFD, drop combining marks). Default: same as `lowercase`, as BertNormalizer does. */
  stripAccents?: boolean;
  /** Keep only the most frequent characters (ties: lower code point); others become [UNK]. Default: all. */
  limitAlphabet?: number;
  /** Default `{ pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' }` (ids 0-4). */
  specialTokens?: SpecialTokens;
  additionalSpecialTokens?: string[];
  /** Default '[CLS] $A [SEP]' (pair: '[CLS] $A [SEP] $B:1 [SEP]:1') from the cls/sep tokens. */
  template?: TemplateOptions | null;
  /** Default '##'. */
  continuingSubwordPrefix?: string;
  /** Longer words encode as [UNK] (BERT: 100). */
  maxInputCharsPerWord?: number;
}

const DEFAULT_SPECIAL_TOKENS: SpecialTokens = {
  pad: '[PAD]',
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  mask: '[MASK]',
};

export function trainWordPieceTokenizer(corpus: Corpus, options: WordPieceTrainerOptions = {}): Tokenizer {
  const where = 'trainWordPieceTokenizer';
  const special = checkSpecialTokens(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS, where);
  if (special.unk === undefined) {
    invalidArgument(
      `${where}: WordPiece needs an unk token (words it cannot spell become it); set specialTokens.unk`,
    );
  }
  const specials = specialTokenList(special, options.additionalSpecialTokens, where);
  const minFrequency = minFrequencyOption(options.minFrequency, 2, where);
  const maxChars = integerOption(options.maxInputCharsPerWord ?? 100, 'maxInputCharsPerWord', 1, 1e9, where);
  const prefix = options.continuingSubwordPrefix ?? '##';
  if (typeof prefix !== 'string' || prefix.length === 0) {
    invalidArgument(`${where}: continuingSubwordPrefix must be a non-empty string`);
  }
  const lowercase = options.lowercase ?? true;
  if (typeof lowercase !== 'boolean') invalidArgument(`${where}: lowercase must be a boolean`);
  if (options.stripAccents !== undefined && typeof options.stripAccents !== 'boolean') {
    invalidArgument(`${where}: stripAccents must be a boolean`);
  }

  // null strip_accents = follow lowercase (BertNormalizer's rule); written as given otherwise
  const normalizerJSON = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: options.stripAccents ?? null,
    lowercase,
  };
  // the encoder's own normalizer and pre-tokenizer, so training sees the words encoding will see
  const normalizer = new BertNormalizer(
    normalizerJSON as unknown as ConstructorParameters<typeof BertNormalizer>[0],
  );
  const preTokenizer = new BertPreTokenizer();
  const wordCounts = new Map<string, number>();
  const charCounts = new Map<string, number>();
  for (const segment of corpusSegments(corpus, specials, where)) {
    for (const word of preTokenizer.pre_tokenize_text(normalizer.normalize(segment))) {
      if ([...word].length > maxChars) continue; // encodes as [UNK] whatever the vocabulary holds
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    }
  }
  for (const [word, count] of wordCounts) {
    for (const char of word) charCounts.set(char, (charCounts.get(char) ?? 0) + count);
  }

  const limit = characterLimitOption(options.limitAlphabet, 'limitAlphabet', where);
  const alphabet = mostFrequentChars(charCounts, limit).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const inAlphabet = new Set(alphabet);
  // every character both word-initial and continuing, so any word over the alphabet can be spelled
  const base = [...specials, ...alphabet, ...alphabet.map((char) => prefix + char)];
  const unique = [...new Set(base)];
  const vocabSize = integerOption(
    options.vocabSize ?? 8000,
    'vocabSize',
    unique.length,
    MAX_VOCAB_SIZE,
    where,
  );

  const words: WordCount[] = [];
  for (const [word, count] of wordCounts) {
    const chars = [...word];
    if (!chars.every((char) => inAlphabet.has(char))) continue; // would be [UNK]: nothing to learn from it
    words.push({ symbols: chars.map((char, i) => (i === 0 ? char : prefix + char)), count });
  }
  const { vocab } = learnMerges({
    vocab: unique,
    words,
    vocabSize,
    minFrequency,
    // "##a" + "##b" -> "##ab", "a" + "##b" -> "ab" (Hugging Face BpeTrainer with continuing_subword_prefix)
    join: (left, right) => left + (right.startsWith(prefix) ? right.slice(prefix.length) : right),
  });

  const postProcessor = wrappingTemplateProcessor(
    options.template,
    [special.cls, special.sep],
    specials,
    where,
  );
  const json = tokenizerJSON({
    addedTokens: specials.map((token, id) => specialAddedToken(id, token)),
    normalizer: normalizerJSON,
    preTokenizer: { type: 'BertPreTokenizer' },
    postProcessor,
    decoder: { type: 'WordPiece', prefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: special.unk,
      continuing_subword_prefix: prefix,
      max_input_chars_per_word: maxChars,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  });
  return Tokenizer.fromJSON(json, { specialTokens: special });
}
