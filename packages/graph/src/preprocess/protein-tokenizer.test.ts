import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { ESM_VOCABULARY, ProteinTokenizer } from './protein-tokenizer.js';

const parity = JSON.parse(
  await readFile(new URL('../../test/fixtures/esm-tokenizer-parity.json', import.meta.url), 'utf8'),
) as { tokenizer: object; cases: { text: string; ids: number[]; decoded: string }[] };

describe('ProteinTokenizer', () => {
  const tokenizer = new ProteinTokenizer();

  it("has ESM-2's 33 tokens and ids", () => {
    expect(ESM_VOCABULARY).toHaveLength(33);
    expect(tokenizer.vocabSize).toBe(33);
    const ids = Object.fromEntries(ESM_VOCABULARY.map((token, id) => [token, id]));
    // fair-esm Alphabet.from_architecture('ESM-1b'), the table of every esm2_* checkpoint
    expect(ids).toMatchObject({
      '<cls>': 0,
      '<pad>': 1,
      '<eos>': 2,
      '<unk>': 3,
      L: 4,
      A: 5,
      C: 23,
      X: 24,
      O: 28,
    });
    expect(ids).toMatchObject({ '.': 29, '-': 30, '<null_1>': 31, '<mask>': 32 });
    expect([tokenizer.clsId, tokenizer.padId, tokenizer.eosId, tokenizer.unkId, tokenizer.maskId]).toEqual([
      0, 1, 2, 3, 32,
    ]);
  });

  it('encodes residues between <cls> and <eos>, special tokens inside the text whole, and decodes back', () => {
    expect([...tokenizer.encode('MKV')]).toEqual([0, 20, 15, 7, 2]);
    expect([...tokenizer.encode('MKV', { addSpecialTokens: false })]).toEqual([20, 15, 7]);
    expect([...tokenizer.encode('M<mask>V')]).toEqual([0, 20, 32, 7, 2]);
    expect(tokenizer.decode(tokenizer.encode('MK<mask>V-.'))).toBe('<cls>MK<mask>V-.<eos>');
    expect(tokenizer.decode(tokenizer.encode('MK<mask>V'), { skipSpecialTokens: true })).toBe('MKV');
  });

  it('upper-cases, skips whitespace and maps unknown characters to <unk> or an error', () => {
    expect([...tokenizer.encode('mk v')]).toEqual([...tokenizer.encode('MKV')]);
    expect([...new ProteinTokenizer({ uppercase: false }).encode('m', { addSpecialTokens: false })]).toEqual([
      3,
    ]);
    expect([...tokenizer.encode('AJ*', { addSpecialTokens: false })]).toEqual([5, 3, 3]);
    expectError(
      () => new ProteinTokenizer({ unknown: 'error' }).encode('MKJ'),
      /^ProteinTokenizer.encode: character "J" at position 2 is not in the vocabulary/,
    );
    expectError(() => tokenizer.decode([0, 33]), /id 33 at position 1 is outside the vocabulary \[0, 33\)/);
    expectError(() => tokenizer.encode(5 as unknown as string), /expected a sequence string, got number/);
    expectError(() => new ProteinTokenizer({ unknown: 'x' as 'unk' }), /unknown must be 'unk' or 'error'/);
  });

  it("matches Hugging Face's tokenizers (Rust and @huggingface/tokenizers) on its tokenizer.json", () => {
    // fixture written by scripts/make-tokenizer-fixture.mts from both libraries' output
    expect(tokenizer.toTokenizerJSON()).toEqual(parity.tokenizer);
    expect(parity.cases.length).toBeGreaterThanOrEqual(8);
    for (const { text, ids, decoded } of parity.cases) {
      expect([...tokenizer.encode(text)], JSON.stringify(text)).toEqual(ids);
      expect(tokenizer.decode(ids)).toBe(decoded);
    }
  });

  it('pads a batch with <pad>, marks tokens in attentionMask and lengths, truncates on request', () => {
    const batch = tokenizer.encodeBatch(['MKV', 'A', '']);
    expect(batch.shape).toEqual([3, 5]);
    expect([...batch.inputIds]).toEqual([0, 20, 15, 7, 2, 0, 5, 2, 1, 1, 0, 2, 1, 1, 1]);
    expect([...batch.attentionMask]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0]);
    expect([...batch.lengths]).toEqual([5, 3, 2]);
    const cut = tokenizer.encodeBatch(['MKVLA', 'A'], { maxLength: 4, truncation: true });
    expect([...cut.inputIds]).toEqual([0, 20, 15, 2, 0, 5, 2, 1]);
    expectError(
      () => tokenizer.encodeBatch(['MKVLA'], { maxLength: 4 }),
      /sequence 0 has 7 tokens, more than maxLength 4/,
    );
    expectError(() => tokenizer.encodeBatch(['M'], { maxLength: 1 }), /maxLength must be an integer >= 2/);
    expect(tokenizer.encodeBatch([]).shape).toEqual([0, 0]);
  });
});
