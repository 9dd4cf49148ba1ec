/**
 * Byte-level BPE training, GPT-2 style (Radford et al. 2019): text is split by the GPT-2 regex, each piece
 * becomes UTF-8 bytes written as printable characters (the byte-to-unicode map), and merges are learned on
 * those. With all 256 bytes in the base vocabulary any string encodes without an unknown token, and
 * decode(encode(x)) == x for every well-formed string; a lone surrogate (a JavaScript string may hold
 * one, UTF-8 and Rust strings cannot) is encoded as U+FFFD, as TextEncoder does, so it decodes as U+FFFD
 * (test/fuzz/tokenizers.test.ts). The result is a standard tokenizer.json (model BPE, pre_tokenizer and decoder
 * ByteLevel) that Hugging Face's Rust library and @huggingface/tokenizers run identically.
 */
import { ByteLevelPreTokenizer } from '@huggingface/tokenizers';
import { invalidArgument } from '../errors.js';
import { type Corpus, corpusSegments, integerOption, minFrequencyOption } from './corpus.js';
import { learnMerges, MAX_VOCAB_SIZE } from './merges.js';
import {
  checkSpecialTokens,
  type SpecialTokens,
  specialTokenList,
  type TemplateOptions,
  templateProcessor,
} from './special-tokens.js';
import { Tokenizer } from './tokenizer.js';
import { bpeModelJSON, type ComponentJSON, specialAddedToken, tokenizerJSON } from './tokenizer-json.js';

export interface BpeTrainerOptions {
  /** Target vocabulary size, special tokens and the 256 bytes included. Default 2000. */
  vocabSize?: number;
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number;
  /** Default `{ pad: '<pad>', bos: '<|endoftext|>', eos: '<|endoftext|>' }` (GPT-2's one token, plus a pad). */
  specialTokens?: SpecialTokens;
  additionalSpecialTokens?: string[];
  /**
   * Special tokens that `encode(..., { addSpecialTokens: true })` puts around a text, e.g.
   * '<|endoftext|> $A'. Default none, as GPT-2 (a ByteLevel post-processor).
   */
  template?: TemplateOptions | null;
  /** Prepend a space so the first word is tokenized like the others (RoBERTa). Default false (GPT-2). */
  addPrefixSpace?: boolean;
}

const DEFAULT_SPECIAL_TOKENS: SpecialTokens = { pad: '<pad>', bos: '<|endoftext|>', eos: '<|endoftext|>' };

/**
 * GPT-2's bytes_to_unicode (openai/gpt-2 encoder.py): printable Latin-1 bytes stand for themselves, the
 * others (controls, space, soft hyphen...) for 256 + n, so no token contains whitespace or a control char.
 * Index = byte value.
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) chars.push(String.fromCodePoint(printable(b) ? b : next++));
  return chars;
}

export function trainBpeTokenizer(corpus: Corpus, options: BpeTrainerOptions = {}): Tokenizer {
  const where = 'trainBpeTokenizer';
  const special = checkSpecialTokens(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS, where);
  const specials = specialTokenList(special, options.additionalSpecialTokens, where);
  const byteChars = bytesToUnicode();
  const clash = specials.find((token) => byteChars.includes(token));
  if (clash !== undefined) {
    invalidArgument(
      `${where}: special token ${JSON.stringify(clash)} is one of the 256 byte-level base tokens`,
    );
  }
  const minVocab = specials.length + 256;
  const vocabSize = integerOption(options.vocabSize ?? 2000, 'vocabSize', minVocab, MAX_VOCAB_SIZE, where);
  const minFrequency = minFrequencyOption(options.minFrequency, 2, where);
  const addPrefixSpace = options.addPrefixSpace ?? false;
  if (typeof addPrefixSpace !== 'boolean') invalidArgument(`${where}: addPrefixSpace must be a boolean`);

  const preTokenizerJSON = {
    type: 'ByteLevel',
    add_prefix_space: addPrefixSpace,
    trim_offsets: true,
    use_regex: true,
  };
  // the same pre-tokenizer object that runs at encode time, so training sees exactly the encoder's words
  const preTokenizer = new ByteLevelPreTokenizer(
    preTokenizerJSON as ConstructorParameters<typeof ByteLevelPreTokenizer>[0],
  );
  const wordCounts = new Map<string, number>();
  for (const segment of corpusSegments(corpus, specials, where)) {
    if (segment.length === 0) continue;
    for (const word of preTokenizer.pre_tokenize_text(segment))
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }

  // ids: special tokens, then the 256 byte characters in byte order, then merges in the order learned
  const { vocab, merges } = learnMerges({
    vocab: [...specials, ...byteChars],
    // byte-level characters are all in the BMP, so one UTF-16 unit is one symbol
    words: [...wordCounts].map(([word, count]) => ({ symbols: word.split(''), count })),
    vocabSize,
    minFrequency,
    join: (left, right) => left + right,
  });

  const idOf = (token: string) => {
    const id = vocab.indexOf(token);
    return id < 0 ? undefined : id;
  };
  const template = options.template ?? null;
  const postProcessor: ComponentJSON =
    template === null
      ? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }
      : templateProcessor(template, (token) => (specials.includes(token) ? idOf(token) : undefined), where);
  const json = tokenizerJSON({
    addedTokens: specials.map((token, id) => specialAddedToken(id, token)),
    preTokenizer: preTokenizerJSON,
    postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModelJSON(vocab, merges, null),
  });
  return Tokenizer.fromJSON(json, { specialTokens: special });
}
