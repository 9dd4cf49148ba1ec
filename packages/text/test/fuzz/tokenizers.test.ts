/**
 * Family 6 of core's hardening suite, for the tokenizers: vocabularies with huge, duplicate, missing
 * or prototype-like entries load as documented or fail with INVALID_ARGUMENT (in time linear in the
 * entries: an id of 2^31 - 2 loads at once); byte-level BPE round-trips every string, lone surrogates
 * becoming U+FFFD; encoding text without spaces does a linear number of merge lookups. Seeded; the
 * number of cases per property is printed.
 */
import { MultiheadError } from '@multihead/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tokenizer, trainBpeTokenizer } from '../../src/index.js';
import { MAX_TOKEN_ID } from '../../src/tokenizers/tokenizer-json.js';

const SEED = Number(process.env.MULTIHEAD_FUZZ_SEED ?? 20261204);

function check<Ts extends [unknown, ...unknown[]]>(
  what: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...args: Ts) => void,
  numRuns: number,
): void {
  let cases = 0;
  const property = fc.property(...arbitraries, (...args: Ts) => {
    cases++;
    predicate(...args);
  });
  fc.assert(property as fc.IProperty<Ts>, { seed: SEED, numRuns });
  console.log(`[fuzz] tokenizers / ${what}: ${cases} cases (seed ${SEED})`);
}

/** The error of `fn` (an INVALID_ARGUMENT MultiheadError), or null when it returns. */
function invalid(fn: () => unknown): MultiheadError | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (!(error instanceof MultiheadError))
      throw new Error(`expected a MultiheadError, got ${String(error)}`);
    expect(error.code).toBe('INVALID_ARGUMENT');
    return error;
  }
}

/** `s` with every lone surrogate replaced by U+FFFD (what UTF-8 encoding does to it). */
function wellFormed(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else out += c >= 0xd800 && c <= 0xdfff ? '\ufffd' : s[i]!;
  }
  return out;
}

const bpeFile = (
  vocab: Record<string, unknown>,
  unk: string | null,
  added: { id: number; content: string }[],
) => ({
  version: '1.0',
  added_tokens: added.map((t) => ({
    ...t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })),
  model: { type: 'BPE', vocab, merges: [], unk_token: unk },
});

describe('hardening: tokenizer files and encodings', () => {
  it('vocabularies with huge, duplicate, gapped or prototype-like entries load as documented or fail clearly', () => {
    const token = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'a', 'b', 'ab', '<unk>'),
      fc.string({ minLength: 1, maxLength: 3 }),
    );
    const id = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 0, max: 12 }) },
      fc.constantFrom<unknown>(MAX_TOKEN_ID, MAX_TOKEN_ID + 1, 2 ** 31, -1, 1.5, Number.NaN, '3', null),
    );
    check(
      'vocabulary files',
      [
        fc.array(fc.tuple(token, id), { maxLength: 6 }),
        fc.option(fc.constantFrom('<unk>', 'a', 'toString', 'missing'), { nil: null }),
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 14 }), content: token }), { maxLength: 2 }),
      ],
      (pairs, unk, added) => {
        // through JSON, as files come: "__proto__" stays an own key, NaN becomes null
        const file = JSON.parse(JSON.stringify(bpeFile(Object.fromEntries(pairs), unk, added)));
        const vocab = file.model.vocab as Record<string, unknown>;
        let tok: Tokenizer | null = null;
        const error = invalid(() => {
          tok = Tokenizer.fromJSON(file);
        });
        const entries = Object.entries(vocab);
        const idsOk = entries.every(
          ([, v]) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TOKEN_ID,
        );
        const unique = new Set(entries.map(([, v]) => v)).size === entries.length;
        const unkOk = unk === null || Object.hasOwn(vocab, unk);
        const nonEmpty = entries.length > 0 || unk !== null;
        const byId = new Map(entries.map(([t, v]) => [v as number, t]));
        const addedOk = added.every(
          (t, i) =>
            (!byId.has(t.id) || byId.get(t.id) === t.content) &&
            (!Object.hasOwn(vocab, t.content) || vocab[t.content] === t.id) &&
            added.findIndex((u) => u.id === t.id || u.content === t.content) === i,
        );
        expect(error === null, error?.message).toBe(idsOk && unique && unkOk && nonEmpty && addedOk);
        if (!tok) return;
        const t = tok as Tokenizer;
        const maxId = Math.max(-1, ...entries.map(([, v]) => v as number), ...added.map((a) => a.id));
        expect(t.vocabSize).toBe(maxId + 1);
        for (const [name, v] of entries) {
          expect(t.tokenToId(name)).toBe(v);
          expect(t.idToToken(v as number)).toBe(name);
        }
        // an id in a gap decodes to an error, never to '' or another token
        const used = new Set([...entries.map(([, v]) => v as number), ...added.map((a) => a.id)]);
        const gap = [...Array(Math.min(maxId + 1, 20)).keys()].find((i) => !used.has(i));
        if (gap !== undefined) expect(invalid(() => t.decode([gap]))?.message).toMatch(/gap/);
        for (const ids of t.encode('ab toString constructor').ids) expect(Number.isInteger(ids)).toBe(true);
      },
      300,
    );
  });

  it('byte-level BPE: decode(encode(x)) is x with lone surrogates made U+FFFD, for any UTF-16 string', () => {
    const bpe = trainBpeTokenizer(['the cat sat on the mat', 'naïve café 東京 🙂 emoji'], {
      vocabSize: 300,
      minFrequency: 1,
    });
    const units = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.integer({ min: 0, max: 0xffff }),
      ),
      { maxLength: 24 },
    );
    check(
      'byte-level round trip',
      [units],
      (codes) => {
        const text = String.fromCharCode(...codes);
        expect(bpe.decode(bpe.encode(text).ids)).toBe(wellFormed(text));
      },
      300,
    );
  });

  it('encoding text without spaces does a linear number of merge lookups', () => {
    const bpe = trainBpeTokenizer(['aaaa aaaaaaaa abab abababab', 'xyxyxy zzzz aaaaaaaaaaaaaaaa'], {
      vocabSize: 300,
      minFrequency: 1,
    });
    // @huggingface/tokenizers' BPE model looks each adjacent pair up in `bpe_ranks`: count the lookups
    const model = (bpe as unknown as { hf: { model: { bpe_ranks: Map<string, number> } } }).hf.model;
    expect(model.bpe_ranks).toBeInstanceOf(Map);
    let lookups = 0;
    const get = model.bpe_ranks.get.bind(model.bpe_ranks);
    model.bpe_ranks.get = (key: string) => {
      lookups++;
      return get(key);
    };
    check(
      'merge lookups on long words',
      [fc.constantFrom('a', 'ab', 'xy', 'aab', 'z'), fc.integer({ min: 500, max: 6000 })],
      (unit, n) => {
        const text = unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + `${n}`; // unique: no cache hit
        lookups = 0;
        bpe.encode(text);
        // each merge re-ranks at most its two neighbours; the first pass ranks n - 1 pairs
        expect(lookups).toBeLessThanOrEqual(3 * text.length);
      },
      40,
    );
  });
});
