import { describe, expect, it } from 'vitest';
import { fixture, rustEncode, rustTokenizer, spamSample } from '../../test/oracle.js';
import { trainWordPieceTokenizer } from './wordpiece-trainer.js';

const train = fixture('moby-dick-train.txt');
const heldOut = fixture('moby-dick-heldout.txt');

describe('WordPiece trainer', () => {
  it('writes a BERT-style tokenizer: [CLS] A [SEP], ## pieces, lowercase', () => {
    const tokenizer = trainWordPieceTokenizer(train, { vocabSize: 600, minFrequency: 1 });
    const json = JSON.parse(tokenizer.toJSON());
    expect(json.model.type).toBe('WordPiece');
    expect(json.normalizer).toMatchObject({ type: 'BertNormalizer', lowercase: true, strip_accents: null });
    expect(tokenizer.vocabSize).toBe(600);
    const { tokens } = tokenizer.encode('Call me ISHMAEL, Ishmaelites!');
    expect(tokens[0]).toBe('[CLS]');
    expect(tokens.at(-1)).toBe('[SEP]');
    expect(tokens.slice(1, 3)).toEqual(['call', 'me']);
    // 'ishmael' occurs once in the sample: pieces, the later ones marked ##
    const pieces = tokens.slice(3, tokens.indexOf(','));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.slice(1).every((piece) => piece.startsWith('##'))).toBe(true);
    expect(pieces.map((piece) => piece.replace(/^##/, '')).join('')).toBe('ishmael');
    expect(tokenizer.encode('café').tokens).not.toContain('[UNK]'); // é -> e once accents are stripped
  });

  it('gives the same ids through @huggingface/tokenizers and the Rust library on held-out text', async () => {
    const emails = spamSample();
    for (const [corpus, text, options] of [
      [[train], heldOut, { vocabSize: 700 }],
      [[train], heldOut, { vocabSize: 700, lowercase: false }],
      [
        emails.slice(0, 7).map((e) => e.body),
        emails
          .slice(7)
          .map((e) => e.body)
          .join('\n'),
        { vocabSize: 500 },
      ],
    ] as const) {
      const tokenizer = trainWordPieceTokenizer(corpus, options);
      const rust = rustTokenizer(tokenizer.toJSON());
      for (const addSpecialTokens of [true, false]) {
        const ids = tokenizer.encode(text, { addSpecialTokens }).ids;
        expect(ids).toEqual(await rustEncode(rust, text, addSpecialTokens));
        expect(tokenizer.decode(ids)).toBe(await rust.decode(ids, false));
        expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(await rust.decode(ids, true));
      }
      // the pair template: [CLS] A [SEP] B [SEP] with type ids 0 / 1
      const pair = await rust.encode('call me', 'ishmael');
      const firstSep = pair.getTokens().indexOf('[SEP]');
      expect(pair.getTokens()[0]).toBe('[CLS]');
      expect(pair.getTokens().at(-1)).toBe('[SEP]');
      expect(pair.getTypeIds()).toEqual(pair.getTypeIds().map((_, i) => (i <= firstSep ? 0 : 1)));
    }
  });

  it('agrees with the Rust library on accents, CJK and emoji', async () => {
    const tokenizer = trainWordPieceTokenizer(train, { vocabSize: 500, minFrequency: 1 });
    const rust = rustTokenizer(tokenizer.toJSON());
    // BMP CJK only: @huggingface/tokenizers misses astral CJK (U+20000+) in handle_chinese_chars (decisions.md)
    const text = 'Ahab sagte: „Ça va?“ 白鲸记 — naïve CAFÉ, Ångström ☃ 🐳\tend\u00a0x\u200by';
    expect(tokenizer.encode(text).ids).toEqual(await rustEncode(rust, text));
  });

  it('trains deterministically', () => {
    expect(trainWordPieceTokenizer(train, { vocabSize: 500 }).toJSON()).toBe(
      trainWordPieceTokenizer(train, { vocabSize: 500 }).toJSON(),
    );
  });

  it('refuses a missing unk token and a vocab smaller than its alphabet', () => {
    expect(() => trainWordPieceTokenizer(train, { specialTokens: { cls: '[CLS]', sep: '[SEP]' } })).toThrow(
      /WordPiece needs an unk token/,
    );
    expect(() => trainWordPieceTokenizer(train, { vocabSize: 20 })).toThrow(
      /vocabSize must be an integer in \[/,
    );
  });
});
