/**
 * The one tokenizer type the models use. Whatever trained it (char, byte-level BPE, WordPiece, or a
 * tokenizer.json from the Hub), it runs through @huggingface/tokenizers, so the same file gives the same
 * ids in the browser, in Node and in Hugging Face's Rust library (parity is tested).
 */
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { describeType, invalidArgument } from '../errors.js';
import { nodeFs } from '../node.js';
import {
  checkSpecialTokens,
  SPECIAL_TOKEN_ROLES,
  type SpecialTokenRole,
  type SpecialTokens,
} from './special-tokens.js';
import { parseTokenizerJSON, type TokenizerJSON, vocabularySize } from './tokenizer-json.js';

export interface TokenizerOptions {
  /**
   * Roles of special tokens, as tokenizer_config.json's `pad_token`, `bos_token`... would give them. Roles
   * not given are recognized by name among the file's special tokens (`<pad>`, `[PAD]`, `</s>`...).
   */
  specialTokens?: SpecialTokens;
}

export interface EncodeOptions {
  /** Add the post-processor's special tokens (`[CLS] ... [SEP]`, `<bos> ... <eos>`). Default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface Encoding {
  ids: number[];
  tokens: string[];
  attentionMask: number[];
}

export interface BatchEncodeOptions extends EncodeOptions {
  /** Pad every row to the longest one (default) or to a fixed length. */
  padding?: 'longest' | number;
  /** Cut sequences to at most this many tokens, special tokens included (content is cut, specials kept). */
  truncation?: number;
  /** Where padding goes; 'left' keeps the last tokens aligned, as batched generation wants. Default 'right'. */
  paddingSide?: 'right' | 'left';
}

export interface BatchEncoding {
  /** Row-major `[B, L]` token ids; padding positions hold the pad id. */
  ids: Int32Array;
  /** `[B, L]`, 1 = real token, 0 = padding (Hugging Face attention_mask). */
  attentionMask: Uint8Array;
  shape: [number, number];
  /** Real tokens per row (before padding). */
  lengths: Int32Array;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** Conventional names per role, used when a tokenizer.json arrives without tokenizer_config.json. */
const CONVENTIONAL_NAMES: Record<SpecialTokenRole, string[]> = {
  pad: ['<pad>', '[PAD]', '<|pad|>', '<|padding|>'],
  bos: ['<bos>', '<s>', '[BOS]', '<|begin_of_text|>', '<|startoftext|>', '<|endoftext|>'],
  eos: ['<eos>', '</s>', '[EOS]', '<|end_of_text|>', '<|endoftext|>'],
  unk: ['<unk>', '[UNK]', '<|unk|>'],
  cls: ['[CLS]', '<cls>'],
  sep: ['[SEP]', '<sep>'],
  mask: ['[MASK]', '<mask>'],
};

/** Stands in for the sequence when asking the post-processor what it wraps around one. */
const SEQUENCE_SENTINEL = '\u0000multihead:sequence\u0000';

export class Tokenizer {
  /** Role -> token string for the roles this tokenizer defines. */
  readonly specialTokens: Readonly<SpecialTokens>;
  /** Embedding rows needed: one past the largest id (vocab and added tokens). */
  readonly vocabSize: number;
  private readonly hf: HFTokenizer;
  private readonly serialized: string;
  /** Special token ids the post-processor puts before / after one sequence. */
  private readonly wrap: { prefix: number[]; suffix: number[] };

  private constructor(json: TokenizerJSON, options: TokenizerOptions) {
    // serialize before @huggingface/tokenizers sees the object: it keeps (and may touch) what it is given
    this.serialized = JSON.stringify(json, null, 2);
    try {
      // clean_up_tokenization_spaces is a transformers (Python) habit the Rust library does not have;
      // off, decode matches Rust and byte-level round trips are exact
      this.hf = new HFTokenizer(json, { clean_up_tokenization_spaces: false });
    } catch (error) {
      invalidArgument(
        `Tokenizer.fromJSON: @huggingface/tokenizers cannot load this tokenizer.json: ${(error as Error).message}`,
      );
    }
    // from the file's entries, not @huggingface/tokenizers' get_vocab (a loop up to the largest id)
    this.vocabSize = vocabularySize(json);
    this.specialTokens = this.resolveRoles(json, options.specialTokens ?? {});
    this.wrap = this.findWrap();
  }

  /** Loads a tokenizer.json (string or parsed object). Throws INVALID_ARGUMENT naming what is wrong. */
  static fromJSON(json: string | object, options: TokenizerOptions = {}): Tokenizer {
    return new Tokenizer(parseTokenizerJSON(json, 'Tokenizer.fromJSON'), options);
  }

  /** Reads a tokenizer.json file (Node only). */
  static async load(path: string, options: TokenizerOptions = {}): Promise<Tokenizer> {
    const fs = await nodeFs();
    return Tokenizer.fromJSON(await fs.readFile(path, 'utf8'), options);
  }

  /** Writes `toJSON()` to a file (Node only); Hugging Face's libraries load it as is. */
  async save(path: string): Promise<void> {
    const fs = await nodeFs();
    await fs.writeFile(path, this.toJSON());
  }

  /** The tokenizer.json text (2-space indented, deterministic). */
  toJSON(): string {
    return this.serialized;
  }

  tokenToId(token: string): number | undefined {
    if (typeof token !== 'string')
      invalidArgument(`tokenToId: token must be a string, got ${describeType(token)}`);
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id)) invalidArgument(`idToToken: id must be an integer, got ${String(id)}`);
    return this.hf.id_to_token(id);
  }

  get padId(): number | undefined {
    return this.roleId('pad');
  }
  get bosId(): number | undefined {
    return this.roleId('bos');
  }
  get eosId(): number | undefined {
    return this.roleId('eos');
  }
  get unkId(): number | undefined {
    return this.roleId('unk');
  }
  get clsId(): number | undefined {
    return this.roleId('cls');
  }
  get sepId(): number | undefined {
    return this.roleId('sep');
  }
  get maskId(): number | undefined {
    return this.roleId('mask');
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    if (typeof text !== 'string') invalidArgument(`encode: text must be a string, got ${describeType(text)}`);
    const addSpecialTokens = checkAddSpecialTokens(options, 'encode');
    const out = this.hf.encode(text, { add_special_tokens: addSpecialTokens });
    return { ids: out.ids, tokens: out.tokens, attentionMask: out.attention_mask };
  }

  /**
   * Encodes texts into one padded `[B, L]` batch. Truncation cuts the text's tokens and keeps the special
   * tokens (Hugging Face's `truncation=True, max_length=L` for one sequence).
   */
  encodeBatch(texts: readonly string[], options: BatchEncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(texts)) {
      invalidArgument(`encodeBatch: texts must be an array of strings, got ${describeType(texts)}`);
    }
    texts.forEach((text, i) => {
      if (typeof text !== 'string')
        invalidArgument(`encodeBatch: texts[${i}] must be a string, got ${describeType(text)}`);
    });
    const addSpecialTokens = checkAddSpecialTokens(options, 'encodeBatch');
    const { padding = 'longest', truncation, paddingSide = 'right' } = options;
    if (padding !== 'longest' && !(Number.isInteger(padding) && padding > 0)) {
      invalidArgument(
        `encodeBatch: padding must be 'longest' or a positive integer length, got ${String(padding)}`,
      );
    }
    if (paddingSide !== 'right' && paddingSide !== 'left') {
      invalidArgument(`encodeBatch: paddingSide must be 'right' or 'left', got ${String(paddingSide)}`);
    }
    const prefix = addSpecialTokens ? this.wrap.prefix : [];
    const suffix = addSpecialTokens ? this.wrap.suffix : [];
    if (truncation !== undefined) {
      const specials = prefix.length + suffix.length;
      if (!Number.isInteger(truncation) || truncation <= specials) {
        invalidArgument(
          `encodeBatch: truncation must be an integer max length above the ${specials} special tokens added, got ${String(truncation)}`,
        );
      }
    }
    const rows = texts.map((text) => {
      let content = this.hf.encode(text, { add_special_tokens: false }).ids;
      if (truncation !== undefined) content = content.slice(0, truncation - prefix.length - suffix.length);
      return [...prefix, ...content, ...suffix];
    });
    const longest = rows.reduce((max, row) => Math.max(max, row.length), 0);
    const length = padding === 'longest' ? longest : padding;
    if (longest > length) {
      invalidArgument(
        `encodeBatch: a text has ${longest} tokens, more than padding length ${length}; pass truncation: ${length}`,
      );
    }
    const padId = this.padId;
    if (padId === undefined && rows.some((row) => row.length < length)) {
      invalidArgument(
        'encodeBatch: padding needs a pad token, and this tokenizer has none ' +
          '(train with specialTokens.pad or pass { specialTokens: { pad } } to Tokenizer.fromJSON)',
      );
    }
    const ids = new Int32Array(rows.length * length).fill(padId ?? 0);
    const attentionMask = new Uint8Array(rows.length * length);
    const lengths = new Int32Array(rows.length);
    rows.forEach((row, b) => {
      const start = b * length + (paddingSide === 'left' ? length - row.length : 0);
      ids.set(row, start);
      attentionMask.fill(1, start, start + row.length);
      lengths[b] = row.length;
    });
    return { ids, attentionMask, shape: [rows.length, length], lengths };
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (typeof ids !== 'object' || ids === null || typeof ids.length !== 'number') {
      invalidArgument(`decode: ids must be an array or typed array of token ids, got ${describeType(ids)}`);
    }
    const list = Array.from(ids);
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        invalidArgument(
          `decode: ids[${i}] = ${String(id)} is not a token id (expected an integer in [0, ${this.vocabSize}))`,
        );
      }
      if (this.hf.id_to_token(id) === undefined) {
        invalidArgument(`decode: ids[${i}] = ${id} falls in a gap of the vocabulary: no token has it`);
      }
    });
    const skip = options.skipSpecialTokens ?? false;
    if (typeof skip !== 'boolean')
      invalidArgument(`decode: skipSpecialTokens must be a boolean, got ${describeType(skip)}`);
    // @huggingface/tokenizers refuses an empty list; an empty sequence decodes to ''
    if (list.length === 0) return '';
    return this.hf.decode(list, { skip_special_tokens: skip });
  }

  private roleId(role: SpecialTokenRole): number | undefined {
    const token = this.specialTokens[role];
    return token === undefined ? undefined : this.hf.token_to_id(token);
  }

  private resolveRoles(json: TokenizerJSON, given: SpecialTokens): SpecialTokens {
    const roles = checkSpecialTokens(given, 'Tokenizer.fromJSON');
    for (const [role, token] of Object.entries(roles)) {
      if (this.hf.token_to_id(token) === undefined) {
        invalidArgument(
          `Tokenizer.fromJSON: special token ${role}=${JSON.stringify(token)} is not in the vocabulary`,
        );
      }
    }
    const special = new Set(json.added_tokens.filter((t) => t.special).map((t) => t.content));
    const unk = json.model.unk_token;
    for (const role of SPECIAL_TOKEN_ROLES) {
      if (roles[role] !== undefined) continue;
      if (role === 'unk' && typeof unk === 'string') {
        roles.unk = unk;
        continue;
      }
      const name = CONVENTIONAL_NAMES[role].find((candidate) => special.has(candidate));
      if (name !== undefined) roles[role] = name;
    }
    return roles;
  }

  private findWrap(): { prefix: number[]; suffix: number[] } {
    const processor = this.hf.post_processor;
    if (processor === null) return { prefix: [], suffix: [] };
    const tokens = processor([SEQUENCE_SENTINEL], null, true).tokens;
    const at = tokens.indexOf(SEQUENCE_SENTINEL);
    const ids = (part: string[]) => part.map((token) => this.hf.token_to_id(token) ?? this.unkId ?? 0);
    return { prefix: ids(tokens.slice(0, at)), suffix: ids(tokens.slice(at + 1)) };
  }
}

function checkAddSpecialTokens(options: EncodeOptions, where: string): boolean {
  if (typeof options !== 'object' || options === null) {
    invalidArgument(`${where}: options must be an object, got ${describeType(options)}`);
  }
  const add = options.addSpecialTokens ?? true;
  if (typeof add !== 'boolean') {
    invalidArgument(`${where}: addSpecialTokens must be a boolean, got ${describeType(add)}`);
  }
  return add;
}
