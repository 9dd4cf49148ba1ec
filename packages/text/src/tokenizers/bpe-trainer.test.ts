import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixture, rustEncode, rustTokenizer } from '../../test/oracle.js';
import { loadMobyDick } from '../data/moby-dick.js';
import { bytesToUnicode, trainBpeTokenizer } from './bpe-trainer.js';
import type { Tokenizer } from './tokenizer.js';

const train = fixture('moby-dick-train.txt');
const heldOut = fixture('moby-dick-heldout.txt');

async function expectParity(tokenizer: Tokenizer, text: string): Promise<void> {
  const rust = rustTokenizer(tokenizer.toJSON());
  for (const addSpecialTokens of [true, false]) {
    const ids = tokenizer.encode(text, { addSpecialTokens }).ids;
    expect(ids).toEqual(await rustEncode(rust, text, addSpecialTokens));
    expect(tokenizer.decode(ids)).toBe(await rust.decode(ids, false));
  }
  expect(tokenizer.vocabSize).toBe(rust.getVocabSize(true));
}

describe('byte-level BPE trainer', () => {
  it('maps bytes to 256 distinct printable characters (GPT-2)', () => {
    const chars = bytesToUnicode();
    expect(new Set(chars).size).toBe(256);
    expect(chars[0x41]).toBe('A');
    expect(chars[0x20]).toBe('Ġ'); // space, the familiar GPT-2 prefix
    expect(chars[0x0a]).toBe('Ċ');
  });

  it('reaches the vocab size: specials, 256 bytes, then merges', () => {
    const tokenizer = trainBpeTokenizer(train, { vocabSize: 400 });
    const json = JSON.parse(tokenizer.toJSON());
    expect(tokenizer.vocabSize).toBe(400);
    expect(json.model.merges).toHaveLength(400 - 2 - 256);
    expect(json.model.merges[0]).toEqual(['Ġ', 't']); // the most frequent pair in English prose
    expect([tokenizer.padId, tokenizer.bosId, tokenizer.eosId]).toEqual([0, 1, 1]);
    expect(json.pre_tokenizer.type).toBe('ByteLevel');
    expect(json.decoder.type).toBe('ByteLevel');
  });

  it('gives the same ids through @huggingface/tokenizers and the Rust library on held-out text', async () => {
    await expectParity(trainBpeTokenizer(train, { vocabSize: 500 }), heldOut);
    const wrapped = trainBpeTokenizer(train, {
      vocabSize: 500,
      template: '<|endoftext|> $A <|endoftext|>',
      addPrefixSpace: true,
    });
    expect(wrapped.encode('Call me').tokens[0]).toBe('<|endoftext|>');
    await expectParity(wrapped, `${heldOut}<|endoftext|>${heldOut}`);
  });

  it('trains 2000 tokens on Moby-Dick in seconds, with parity on the held-out last 10%', async () => {
    const { train: book, test } = await loadMobyDick({ cacheDir: false });
    const start = performance.now();
    const tokenizer = trainBpeTokenizer(book, { vocabSize: 2000 });
    const seconds = (performance.now() - start) / 1000;
    console.info(`BPE, 2000 tokens on ${book.length} characters of Moby-Dick: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(30);
    expect(tokenizer.vocabSize).toBe(2000);
    const excerpt = test.slice(0, 40_000);
    await expectParity(tokenizer, excerpt);
    // about 3.5 characters per token on unseen prose: the merges generalize
    expect(excerpt.length / tokenizer.encode(excerpt).ids.length).toBeGreaterThan(3);
  });

  it('decode(encode(x)) == x for any Unicode string', () => {
    const tokenizer = trainBpeTokenizer(train, { vocabSize: 400 });
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 32 }), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('trains deterministically: the same corpus gives a byte-identical tokenizer.json', () => {
    expect(trainBpeTokenizer(train, { vocabSize: 450 }).toJSON()).toBe(
      trainBpeTokenizer(train, { vocabSize: 450 }).toJSON(),
    );
    // texts given one by one or joined only change the words, never the order of ties
    const a = trainBpeTokenizer([train, heldOut], { vocabSize: 450 }).toJSON();
    expect(trainBpeTokenizer([train, heldOut], { vocabSize: 450 }).toJSON()).toBe(a);
  });

  it('never merges across special tokens, and stops at minFrequency', () => {
    const tokenizer = trainBpeTokenizer('ab<|endoftext|>ab<|endoftext|>ab', {
      vocabSize: 300,
      minFrequency: 3,
    });
    const merges = JSON.parse(tokenizer.toJSON()).model.merges;
    expect(merges).toEqual([['a', 'b']]);
    const none = trainBpeTokenizer('ab ab', { vocabSize: 300, minFrequency: 3 });
    expect(JSON.parse(none.toJSON()).model.merges).toEqual([]);
  });

  it('refuses impossible options', () => {
    expect(() => trainBpeTokenizer(train, { vocabSize: 100 })).toThrow(
      /vocabSize must be an integer in \[258, /,
    );
    expect(() => trainBpeTokenizer(train, { specialTokens: { pad: 'a' } })).toThrow(
      /"a" is one of the 256 byte-level base tokens/,
    );
    expect(() => trainBpeTokenizer(train, { minFrequency: 0 })).toThrow(/minFrequency must be an integer/);
  });
});
