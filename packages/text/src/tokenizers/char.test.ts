import { MultiheadError } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { fixture, rustEncode, rustTokenizer } from '../../test/oracle.js';
import { charTokenizer, trainCharTokenizer } from './char.js';
import { Tokenizer } from './tokenizer.js';

const names = fixture('names-sample.txt').trim().split('\n');

describe('char tokenizer', () => {
  it('learns the corpus characters after the special tokens, in code point order', () => {
    const tokenizer = trainCharTokenizer(names);
    const vocab = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.idToToken(id));
    expect(vocab.slice(0, 4)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>']);
    expect(vocab.slice(4).join('')).toBe('abcdefghijklmnopqrstuvwxyz');
    // the sample has no hyphenated name: '-' is unknown
    expect(tokenizer.decode(tokenizer.encode('anne-marie').ids)).toBe('<bos>anne<unk>marie<eos>');
  });

  it('gives the same ids through @huggingface/tokenizers and the Rust library', async () => {
    const tokenizer = trainCharTokenizer(fixture('moby-dick-train.txt'));
    const rust = rustTokenizer(tokenizer.toJSON());
    // held-out text has characters the training text lacks (unk), and a literal special token
    const text = `${fixture('moby-dick-heldout.txt')} Ünknown 🐳 <eos> end`;
    for (const addSpecialTokens of [true, false]) {
      const ids = tokenizer.encode(text, { addSpecialTokens }).ids;
      expect(ids).toEqual(await rustEncode(rust, text, addSpecialTokens));
      expect(tokenizer.decode(ids)).toBe(await rust.decode(ids, false));
      expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(await rust.decode(ids, true));
    }
    expect(tokenizer.vocabSize).toBe(rust.getVocabSize(true));
  });

  it('keeps frequent characters only when asked, and maps the rest to <unk>', () => {
    const tokenizer = trainCharTokenizer('aaabbc', { minFrequency: 2 });
    expect(tokenizer.encode('abc', { addSpecialTokens: false }).tokens).toEqual(['a', 'b', '<unk>']);
    const top = trainCharTokenizer('aaabbc', { maxCharacters: 1 });
    expect(top.vocabSize).toBe(5);
  });

  it('builds from a fixed alphabet whatever its order, and trains deterministically', () => {
    expect(charTokenizer('cba').toJSON()).toBe(charTokenizer(['a', 'b', 'c']).toJSON());
    expect(trainCharTokenizer(names).toJSON()).toBe(trainCharTokenizer(names).toJSON());
    const reloaded = Tokenizer.fromJSON(trainCharTokenizer(names).toJSON());
    expect(reloaded.encode('zoe').ids).toEqual(trainCharTokenizer(names).encode('zoe').ids);
  });

  it('refuses bad alphabets, corpora and templates', () => {
    expect(() => charTokenizer(['ab'])).toThrow(/alphabet entries must be single characters, got "ab"/);
    expect(() => trainCharTokenizer(42 as unknown as string)).toThrow(
      /corpus must be a string or an iterable of strings, got number/,
    );
    expect(() => trainCharTokenizer(['a', 3 as unknown as string])).toThrow(
      /corpus item 1 must be a string, got number/,
    );
    expect(() => charTokenizer('ab', { template: '<cls> $A' })).toThrow(
      /template uses "<cls>", which is not a special token/,
    );
    expect(() => charTokenizer('ab', { specialTokens: { start: '<s>' } as never })).toThrow(MultiheadError);
  });
});
