/**
 * A protein tokenizer with ESM-2's vocabulary and ids (fair-esm `Alphabet("ESM-1b")`, which Hugging Face's
 * `EsmTokenizer` for facebook/esm2_* reproduces): `<cls> <pad> <eos> <unk>`, the 20 amino acids, X B U Z O,
 * `.` and `-` (gaps), `<null_1>` (padding the table to a multiple of 8) and `<mask>`: 33 tokens, so ids
 * and embeddings move between ESM checkpoints and ours. One token per residue; `encode` adds
 * `<cls> ... <eos>` as ESM does. Special tokens written inside a sequence ("MK<mask>V") are matched whole;
 * whitespace is skipped (as ESM's tokenizer does); lower case is upper-cased unless `uppercase: false`;
 * any other character becomes `<unk>` (or an error with `unknown: 'error'`).
 */
import { describeType, invalidArgument } from '../errors.js';

/** ESM-2's token table, id = index. */
export const ESM_VOCABULARY = [
  '<cls>',
  '<pad>',
  '<eos>',
  '<unk>',
  ...'LAGVSERTIDPKQNFYMHWCXBUZO.-',
  '<null_1>',
  '<mask>',
] as const;

/** The 20 standard amino acids (masking draws its random replacements from them). */
export const STANDARD_AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';

export interface ProteinTokenizerOptions {
  /** Upper-case residues before lookup (Stockholm insert states are lower case). Default true. */
  uppercase?: boolean;
  /** A character outside the vocabulary: 'unk' (default, `<unk>`) or 'error'. */
  unknown?: 'unk' | 'error';
}

export interface EncodeOptions {
  /** `<cls>` before and `<eos>` after the residues, as ESM-2 was trained. Default true. */
  addSpecialTokens?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** Pad to this length; default: the longest encoded sequence of the batch. */
  maxLength?: number;
  /** Cut residues of longer sequences (keeping `<cls>`/`<eos>`); default false: a longer one is an error. */
  truncation?: boolean;
}

export interface EncodedBatch {
  /** Row-major [batch, length], padded with `<pad>` (id 1). */
  inputIds: Int32Array;
  /** [batch, length]: 1 for tokens, 0 for padding (Hugging Face's attention_mask). */
  attentionMask: Uint8Array;
  /** Tokens per row before padding: core's `attention(..., { kvLens })` takes it as it is. */
  lengths: Int32Array;
  shape: [number, number];
}

const SPECIAL_PATTERN = /<cls>|<pad>|<eos>|<unk>|<null_1>|<mask>/g;

export class ProteinTokenizer {
  readonly vocabulary: readonly string[] = ESM_VOCABULARY;
  readonly clsId = 0;
  readonly padId = 1;
  readonly eosId = 2;
  readonly unkId = 3;
  readonly maskId = 32;
  /** Ids never masked, replaced or predicted: the `<...>` tokens. */
  readonly specialIds: ReadonlySet<number> = new Set([0, 1, 2, 3, 31, 32]);
  readonly uppercase: boolean;
  readonly unknown: 'unk' | 'error';
  private readonly ids = new Map<string, number>(ESM_VOCABULARY.map((token, id) => [token, id]));

  constructor(options: ProteinTokenizerOptions = {}) {
    const where = 'ProteinTokenizer';
    if (typeof options !== 'object' || options === null) {
      invalidArgument(`${where}: options must be an object, got ${describeType(options)}`);
    }
    if (options.uppercase !== undefined && typeof options.uppercase !== 'boolean') {
      invalidArgument(`${where}: uppercase must be a boolean, got ${describeType(options.uppercase)}`);
    }
    if (options.unknown !== undefined && options.unknown !== 'unk' && options.unknown !== 'error') {
      invalidArgument(`${where}: unknown must be 'unk' or 'error', got ${JSON.stringify(options.unknown)}`);
    }
    this.uppercase = options.uppercase ?? true;
    this.unknown = options.unknown ?? 'unk';
  }

  get vocabSize(): number {
    return this.vocabulary.length;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocabulary[id];
  }

  /** Token ids of one sequence. */
  encode(sequence: string, options: EncodeOptions = {}): Int32Array {
    if (typeof sequence !== 'string') {
      invalidArgument(`ProteinTokenizer.encode: expected a sequence string, got ${describeType(sequence)}`);
    }
    const ids: number[] = [];
    if (options.addSpecialTokens ?? true) ids.push(this.clsId);
    let start = 0;
    for (const match of sequence.matchAll(SPECIAL_PATTERN)) {
      this.encodeResidues(sequence, start, match.index, ids);
      ids.push(this.ids.get(match[0])!);
      start = match.index + match[0].length;
    }
    this.encodeResidues(sequence, start, sequence.length, ids);
    if (options.addSpecialTokens ?? true) ids.push(this.eosId);
    return Int32Array.from(ids);
  }

  /** The tokens of `ids` joined without spaces; `skipSpecialTokens` drops the `<...>` tokens. */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const token = this.vocabulary[id];
      if (token === undefined) {
        invalidArgument(
          `ProteinTokenizer.decode: id ${id} at position ${i} is outside the vocabulary [0, ${this.vocabSize})`,
        );
      }
      if (!(options.skipSpecialTokens && this.specialIds.has(id))) text += token;
    }
    return text;
  }

  /** Sequences encoded and padded to one length. */
  encodeBatch(sequences: readonly string[], options: BatchOptions = {}): EncodedBatch {
    const where = 'ProteinTokenizer.encodeBatch';
    if (!Array.isArray(sequences))
      invalidArgument(`${where}: expected an array of sequences, got ${describeType(sequences)}`);
    const special = options.addSpecialTokens ?? true;
    const { maxLength } = options;
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= (special ? 2 : 1))) {
      invalidArgument(
        `${where}: maxLength must be an integer >= ${special ? 2 : 1}, got ${String(maxLength)}`,
      );
    }
    const rows = sequences.map((sequence, index) => {
      let ids = this.encode(sequence, options);
      if (maxLength !== undefined && ids.length > maxLength) {
        if (!options.truncation) {
          invalidArgument(
            `${where}: sequence ${index} has ${ids.length} tokens, more than maxLength ${maxLength}; pass truncation: true to cut it`,
          );
        }
        ids = special
          ? Int32Array.from([...ids.subarray(0, maxLength - 1), this.eosId])
          : ids.slice(0, maxLength);
      }
      return ids;
    });
    const length = maxLength ?? rows.reduce((longest, ids) => Math.max(longest, ids.length), 0);
    const inputIds = new Int32Array(rows.length * length).fill(this.padId);
    const attentionMask = new Uint8Array(rows.length * length);
    const lengths = new Int32Array(rows.length);
    for (const [row, ids] of rows.entries()) {
      inputIds.set(ids, row * length);
      attentionMask.fill(1, row * length, row * length + ids.length);
      lengths[row] = ids.length;
    }
    return { inputIds, attentionMask, lengths, shape: [rows.length, length] };
  }

  /**
   * The tokenizer as Hugging Face tokenizer.json: a BPE model with no merges (each character looks itself
   * up; @huggingface/tokenizers has no WordLevel model), whitespace removed and, with `uppercase`, a-z
   * mapped to A-Z by Replace normalizers (Hugging Face has no upper-casing normalizer), `<cls> $A <eos>`
   * added by TemplateProcessing, and a Fuse decoder.
   */
  toTokenizerJSON(): Record<string, unknown> {
    const special = (id: number) => ({
      id,
      content: this.vocabulary[id]!,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    const replace = (pattern: Record<string, string>, content: string) => ({
      type: 'Replace',
      pattern,
      content,
    });
    const normalizers = [replace({ Regex: '\\s+' }, '')];
    if (this.uppercase) {
      for (const letter of 'abcdefghijklmnopqrstuvwxyz')
        normalizers.push(replace({ String: letter }, letter.toUpperCase()));
    }
    const piece = (kind: 'SpecialToken' | 'Sequence', id: string) => ({ [kind]: { id, type_id: 0 } });
    const specialEntry = (token: string) => ({ id: token, ids: [this.ids.get(token)!], tokens: [token] });
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [...this.specialIds].sort((a, b) => a - b).map(special),
      normalizer: { type: 'Sequence', normalizers },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [piece('SpecialToken', '<cls>'), piece('Sequence', 'A'), piece('SpecialToken', '<eos>')],
        // EsmTokenizer's pair form: <cls> A <eos> B <eos>
        pair: [
          piece('SpecialToken', '<cls>'),
          piece('Sequence', 'A'),
          piece('SpecialToken', '<eos>'),
          piece('Sequence', 'B'),
          piece('SpecialToken', '<eos>'),
        ],
        special_tokens: { '<cls>': specialEntry('<cls>'), '<eos>': specialEntry('<eos>') },
      },
      decoder: { type: 'Fuse' },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(this.vocabulary.map((token, id) => [token, id])),
        merges: [],
      },
    };
  }

  private encodeResidues(sequence: string, start: number, end: number, ids: number[]): void {
    let position = start;
    // by code point, so a character outside the BMP is one <unk>, as in Hugging Face
    for (const char of sequence.slice(start, end)) {
      const at = position;
      position += char.length;
      if (/\s/.test(char)) continue;
      // a-z only, as the tokenizer.json normalizers do ('ß'.toUpperCase() would be two letters)
      const id = this.ids.get(this.uppercase && char >= 'a' && char <= 'z' ? char.toUpperCase() : char);
      if (id !== undefined && !this.specialIds.has(id)) ids.push(id);
      else if (this.unknown === 'error') {
        invalidArgument(
          `ProteinTokenizer.encode: character ${JSON.stringify(char)} at position ${at} is not in the ` +
            'vocabulary (20 amino acids, X B U Z O, gaps . -)',
        );
      } else ids.push(this.unkId);
    }
  }
}
