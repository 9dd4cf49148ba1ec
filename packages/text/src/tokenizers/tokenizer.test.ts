import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiheadError } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/oracle.js';
import { trainBpeTokenizer } from './bpe-trainer.js';
import { charTokenizer } from './char.js';
import { Tokenizer } from './tokenizer.js';
import { trainWordPieceTokenizer } from './wordpiece-trainer.js';

/** Expects INVALID_ARGUMENT with a message matching `pattern`. */
function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MultiheadError);
    expect((error as MultiheadError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected a MultiheadError matching ${pattern}`);
}

const abc = () => charTokenizer('abc');

describe('Tokenizer.fromJSON errors', () => {
  const valid = JSON.parse(abc().toJSON()) as Record<string, unknown> & { model: Record<string, unknown> };

  it('names malformed JSON', () => {
    expectInvalid(() => Tokenizer.fromJSON('{"model": '), /not valid JSON/);
    expectInvalid(() => Tokenizer.fromJSON('[1, 2]'), /must hold a JSON object, got array/);
    expectInvalid(
      () => Tokenizer.fromJSON(42 as unknown as string),
      /as a string or a parsed object, got number/,
    );
  });

  it('names a missing or unknown model', () => {
    expectInvalid(() => Tokenizer.fromJSON({ version: '1.0' }), /no "model" object/);
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, model: { ...valid.model, type: 'WordLevel' } }),
      /unknown tokenizer model: model.type "WordLevel"; expected one of BPE, WordPiece, Unigram/,
    );
  });

  it('names a missing vocab, bad ids and merges outside the vocab', () => {
    const { vocab: _vocab, ...noVocab } = valid.model;
    expectInvalid(() => Tokenizer.fromJSON({ ...valid, model: noVocab }), /model \(BPE\) has no "vocab"/);
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, model: { ...valid.model, vocab: { a: -1 } } }),
      /model.vocab\["a"\] = -1; ids must be integers in \[0, 2147483646\]/,
    );
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, model: { ...valid.model, merges: [['a', 'z']] } }),
      /model.merges\[0\] uses "z", which is not in model.vocab/,
    );
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, model: { ...valid.model, merges: [['a', 'b']] } }),
      /model.merges\[0\] uses "ab"/,
    );
  });

  it('names a bad component and passes on what @huggingface/tokenizers refuses', () => {
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, decoder: 'Fuse' }),
      /"decoder" must be null or an object/,
    );
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, decoder: { type: 'NoSuchDecoder' } }),
      /@huggingface\/tokenizers cannot load this tokenizer.json: .*NoSuchDecoder/,
    );
    expectInvalid(
      () => Tokenizer.fromJSON({ ...valid, added_tokens: [{ content: 'x' }] }),
      /added_tokens\[0\]/,
    );
  });

  it('names unknown special tokens and roles', () => {
    expectInvalid(
      () => Tokenizer.fromJSON(valid, { specialTokens: { pad: '<nope>' } }),
      /special token pad="<nope>" is not in the vocabulary/,
    );
    expectInvalid(
      () => Tokenizer.fromJSON(valid, { specialTokens: { padding: '<pad>' } as never }),
      /unknown special token role "padding"/,
    );
  });
});

describe('Tokenizer input checks', () => {
  const tokenizer = abc();
  it('refuses non-string text and bad options', () => {
    expectInvalid(
      () => tokenizer.encode(5 as unknown as string),
      /encode: text must be a string, got number/,
    );
    expectInvalid(
      () => tokenizer.encode('a', { addSpecialTokens: 1 as unknown as boolean }),
      /addSpecialTokens must be a boolean/,
    );
    expectInvalid(
      () => tokenizer.encodeBatch('abc' as unknown as string[]),
      /texts must be an array of strings, got string/,
    );
    expectInvalid(
      () => tokenizer.encodeBatch(['a', null as unknown as string]),
      /texts\[1\] must be a string, got null/,
    );
    expectInvalid(
      () => tokenizer.encodeBatch(['a'], { padding: 0 }),
      /padding must be 'longest' or a positive integer/,
    );
    expectInvalid(() => tokenizer.tokenToId(3 as unknown as string), /tokenToId: token must be a string/);
  });

  it('refuses ids outside the vocabulary', () => {
    expectInvalid(
      () => tokenizer.decode([0, 7]),
      /ids\[1\] = 7 is not a token id \(expected an integer in \[0, 7\)\)/,
    );
    expectInvalid(() => tokenizer.decode([1.5]), /ids\[0\] = 1.5/);
    expectInvalid(
      () => tokenizer.decode('abc' as unknown as number[]),
      /ids must be an array or typed array/,
    );
  });
});

describe('Tokenizer', () => {
  it('finds special token roles by name, and takes them from options', () => {
    const char = abc();
    expect([char.padId, char.bosId, char.eosId, char.unkId]).toEqual([0, 1, 2, 3]);
    expect(char.clsId).toBeUndefined();
    const wordPiece = trainWordPieceTokenizer(fixture('moby-dick-train.txt'), { vocabSize: 300 });
    expect([wordPiece.padId, wordPiece.unkId, wordPiece.clsId, wordPiece.sepId, wordPiece.maskId]).toEqual([
      0, 1, 2, 3, 4,
    ]);
    // reloaded from its file, roles are found again by their conventional names
    expect(Tokenizer.fromJSON(wordPiece.toJSON()).specialTokens).toEqual(wordPiece.specialTokens);
    const renamed = Tokenizer.fromJSON(char.toJSON(), { specialTokens: { pad: '<eos>' } });
    expect(renamed.padId).toBe(2);
  });

  it('encodes with and without special tokens, and decodes', () => {
    const tokenizer = abc();
    expect(tokenizer.encode('cab')).toEqual({
      ids: [1, 6, 4, 5, 2],
      tokens: ['<bos>', 'c', 'a', 'b', '<eos>'],
      attentionMask: [1, 1, 1, 1, 1],
    });
    expect(tokenizer.encode('cab', { addSpecialTokens: false }).ids).toEqual([6, 4, 5]);
    expect(tokenizer.encode('axb', { addSpecialTokens: false }).ids).toEqual([4, 3, 5]); // x -> <unk>
    expect(tokenizer.decode([1, 6, 4, 2])).toBe('<bos>ca<eos>');
    expect(tokenizer.decode(new Int32Array([1, 6, 4, 2]), { skipSpecialTokens: true })).toBe('ca');
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.vocabSize).toBe(7);
    expect(tokenizer.tokenToId('b')).toBe(5);
    expect(tokenizer.idToToken(5)).toBe('b');
    expect(tokenizer.tokenToId('zz')).toBeUndefined();
  });

  it('pads and truncates batches, keeping special tokens', () => {
    const tokenizer = abc();
    const batch = tokenizer.encodeBatch(['ab', 'abcab', '']);
    expect(batch.shape).toEqual([3, 7]);
    expect(Array.from(batch.lengths)).toEqual([4, 7, 2]);
    expect(Array.from(batch.ids.subarray(0, 7))).toEqual([1, 4, 5, 2, 0, 0, 0]);
    expect(Array.from(batch.attentionMask.subarray(0, 7))).toEqual([1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(batch.ids.subarray(14, 21))).toEqual([1, 2, 0, 0, 0, 0, 0]);
    // each row equals encode() of its text
    expect(Array.from(batch.ids.subarray(7, 14))).toEqual(tokenizer.encode('abcab').ids);

    const cut = tokenizer.encodeBatch(['abcab', 'a'], { padding: 4, truncation: 4, paddingSide: 'left' });
    expect(cut.shape).toEqual([2, 4]);
    expect(Array.from(cut.ids)).toEqual([1, 4, 5, 2, 0, 1, 4, 2]);
    expect(Array.from(cut.attentionMask)).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);

    expectInvalid(
      () => tokenizer.encodeBatch(['abcab'], { padding: 3 }),
      /has 7 tokens, more than padding length 3; pass truncation: 3/,
    );
    expectInvalid(() => tokenizer.encodeBatch(['a'], { truncation: 2 }), /above the 2 special tokens added/);
    const noPad = charTokenizer('ab', { specialTokens: { unk: '<unk>' } });
    expectInvalid(() => noPad.encodeBatch(['a', 'ab']), /padding needs a pad token/);
    expect(noPad.encodeBatch(['ab', 'ba']).shape).toEqual([2, 2]); // equal lengths need no pad token
  });

  it('round-trips through toJSON, and through a file', async () => {
    const tokenizer = trainBpeTokenizer(fixture('moby-dick-train.txt'), { vocabSize: 400 });
    const again = Tokenizer.fromJSON(tokenizer.toJSON());
    expect(again.toJSON()).toBe(tokenizer.toJSON());
    const dir = mkdtempSync(join(tmpdir(), 'multihead-text-'));
    try {
      const file = join(dir, 'tokenizer.json');
      await tokenizer.save(file);
      const loaded = await Tokenizer.load(file);
      const text = fixture('moby-dick-heldout.txt');
      expect(loaded.encode(text).ids).toEqual(tokenizer.encode(text).ids);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
