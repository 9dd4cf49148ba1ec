/**
 * The parts of Hugging Face's tokenizer.json format that we write and check. The format is defined by the
 * Rust `tokenizers` crate (serde); @huggingface/tokenizers reads the same file. We write only components
 * that both libraries implement (their parity is tested), and check what both would otherwise fail on
 * with a less helpful message.
 */
import { describeType, invalidArgument } from '../errors.js';

export interface AddedTokenJSON {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A component (normalizer, pre_tokenizer, post_processor, decoder): a `type` plus its fields. */
export interface ComponentJSON {
  type: string;
  [field: string]: unknown;
}

export interface ModelJSON {
  type?: string;
  vocab?: unknown;
  merges?: unknown;
  unk_token?: string | null;
  [field: string]: unknown;
}

export interface TokenizerJSON {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJSON[];
  normalizer: ComponentJSON | null;
  pre_tokenizer: ComponentJSON | null;
  post_processor: ComponentJSON | null;
  decoder: ComponentJSON | null;
  model: ModelJSON;
}

/** Model types @huggingface/tokenizers runs. (WordLevel is Rust-only, so we never write it.) */
const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram'] as const;

/**
 * The largest token id: ids and `vocabSize` (max id + 1) must fit the i32 tensors models take. Gaps
 * are allowed (vocabSize counts them; decoding an id in a gap is an error), but a vocabulary is read in
 * time linear in its entries, never in its largest id.
 */
export const MAX_TOKEN_ID = 2 ** 31 - 2;

/** WordPiece's greedy longest match costs O(L^3) per word of L characters; longer words become [UNK]. */
export const MAX_INPUT_CHARS_PER_WORD = 1000;

/** Special tokens are matched before normalization and never split, as Hugging Face writes them. */
export function specialAddedToken(id: number, content: string): AddedTokenJSON {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * A BPE model as Hugging Face's BpeTrainer writes it (no dropout, affixes or byte fallback), ids in
 * `vocab` order; the character tokenizer is one with no merges.
 */
export function bpeModelJSON(
  vocab: readonly string[],
  merges: unknown[],
  unkToken: string | null,
): ModelJSON {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: unkToken,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    merges,
  };
}

/** A tokenizer.json skeleton; trainers fill the components and the model. */
export function tokenizerJSON(parts: {
  addedTokens: AddedTokenJSON[];
  normalizer?: ComponentJSON | null;
  preTokenizer?: ComponentJSON | null;
  postProcessor?: ComponentJSON | null;
  decoder?: ComponentJSON | null;
  model: ModelJSON;
}): TokenizerJSON {
  // key order follows the files the Rust library saves, so our files diff cleanly against theirs
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: parts.addedTokens,
    normalizer: parts.normalizer ?? null,
    pre_tokenizer: parts.preTokenizer ?? null,
    post_processor: parts.postProcessor ?? null,
    decoder: parts.decoder ?? null,
    model: parts.model,
  };
}

/**
 * Parses and checks a tokenizer.json (string or already-parsed object). Returns a fresh object (the
 * caller's input is never aliased) with `added_tokens` defaulted to [] and the model type filled in
 * where Hugging Face would infer it.
 */
export function parseTokenizerJSON(input: unknown, where: string): TokenizerJSON {
  let value: unknown;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      invalidArgument(`${where}: tokenizer.json is not valid JSON (${(error as Error).message})`);
    }
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    value = structuredClone(input);
  } else {
    invalidArgument(
      `${where}: expected tokenizer.json as a string or a parsed object, got ${describeType(input)}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidArgument(`${where}: tokenizer.json must hold a JSON object, got ${describeType(value)}`);
  }
  const json = value as Record<string, unknown>;
  const model = json['model'];
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    invalidArgument(`${where}: tokenizer.json has no "model" object (got ${describeType(model)})`);
  }
  const ids = checkModel(model as ModelJSON, where);
  json['added_tokens'] = checkAddedTokens(json['added_tokens'], ids, where);
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) {
    const component = json[key];
    if (component === undefined) json[key] = null;
    else if (
      component !== null &&
      (typeof component !== 'object' || typeof (component as ComponentJSON).type !== 'string')
    ) {
      invalidArgument(`${where}: tokenizer.json "${key}" must be null or an object with a "type" string`);
    }
  }
  return json as unknown as TokenizerJSON;
}

const isId = (id: unknown): id is number =>
  Number.isInteger(id) && (id as number) >= 0 && (id as number) <= MAX_TOKEN_ID;

/** Checks the model and returns its vocabulary as id -> token (one token per id, in linear time). */
function checkModel(model: ModelJSON, where: string): Map<number, string> {
  // Hugging Face infers a missing type from the fields (old files); do the same, then insist on it
  if (model.type === undefined) {
    if (Array.isArray(model.vocab)) model.type = 'Unigram';
    else if ('merges' in model) model.type = 'BPE';
    else if ('continuing_subword_prefix' in model) model.type = 'WordPiece';
  }
  const type = model.type;
  if (typeof type !== 'string' || !(SUPPORTED_MODELS as readonly string[]).includes(type)) {
    const got = type === undefined ? 'no model.type' : `model.type ${JSON.stringify(type)}`;
    invalidArgument(
      `${where}: unknown tokenizer model: ${got}; expected one of ${SUPPORTED_MODELS.join(', ')} ` +
        '(the types @huggingface/tokenizers runs)',
    );
  }
  if (model.vocab === undefined) invalidArgument(`${where}: tokenizer.json model (${type}) has no "vocab"`);
  const ids = new Map<number, string>();
  if (type === 'Unigram') {
    if (!Array.isArray(model.vocab)) {
      invalidArgument(`${where}: Unigram model.vocab must be an array of [token, score] pairs`);
    }
    const seen = new Set<string>();
    model.vocab.forEach((entry: unknown, i) => {
      const ok =
        Array.isArray(entry) &&
        typeof entry[0] === 'string' &&
        typeof entry[1] === 'number' &&
        Number.isFinite(entry[1]);
      if (!ok) invalidArgument(`${where}: model.vocab[${i}] must be [token, finite score]`);
      const token = (entry as [string, number])[0];
      if (seen.has(token)) invalidArgument(`${where}: model.vocab has ${JSON.stringify(token)} twice`);
      seen.add(token);
      ids.set(i, token);
    });
    const unkId = model.unk_id;
    if (unkId !== undefined && unkId !== null && !(isId(unkId) && ids.has(unkId as number)))
      invalidArgument(`${where}: model.unk_id ${JSON.stringify(unkId)} is not an index of model.vocab`);
    if (ids.size === 0 && (unkId === undefined || unkId === null))
      invalidArgument(
        `${where}: model.vocab is empty and there is no unknown token: every text would encode to nothing`,
      );
    return ids;
  }
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    invalidArgument(
      `${where}: ${type} model.vocab must be an object of token -> id, got ${describeType(vocab)}`,
    );
  }
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id)) {
      invalidArgument(
        `${where}: model.vocab[${JSON.stringify(token)}] = ${String(id)}; ids must be integers in [0, ${MAX_TOKEN_ID}]`,
      );
    }
    const other = ids.get(id);
    if (other !== undefined) {
      invalidArgument(
        `${where}: model.vocab gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(token)}; ids must be unique`,
      );
    }
    ids.set(id, token);
  }
  const unk = model.unk_token;
  if (unk !== undefined && unk !== null && (typeof unk !== 'string' || !Object.hasOwn(vocab, unk))) {
    invalidArgument(`${where}: model.unk_token ${JSON.stringify(unk)} is not in model.vocab`);
  }
  if (ids.size === 0 && typeof unk !== 'string') {
    invalidArgument(
      `${where}: model.vocab is empty and there is no unk_token: every text would encode to nothing`,
    );
  }
  if (type === 'WordPiece') {
    const max = model.max_input_chars_per_word;
    if (
      max !== undefined &&
      !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= MAX_INPUT_CHARS_PER_WORD)
    ) {
      invalidArgument(
        `${where}: model.max_input_chars_per_word ${String(max)}; expected an integer in [1, ${MAX_INPUT_CHARS_PER_WORD}] (longer words become the unknown token)`,
      );
    }
  }
  if (type === 'BPE') checkMerges(model.merges, vocab as Record<string, number>, where);
  return ids;
}

/** Both the old ("a b") and the new (["a", "b"]) merge formats; the Rust library rejects unknown tokens. */
function checkMerges(merges: unknown, vocab: Record<string, number>, where: string): void {
  if (!Array.isArray(merges)) {
    invalidArgument(`${where}: BPE model.merges must be an array, got ${describeType(merges)}`);
  }
  merges.forEach((merge: unknown, i) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((part) => typeof part !== 'string')) {
      invalidArgument(`${where}: model.merges[${i}] must be "left right" or ["left", "right"]`);
    }
    const [left, right] = pair as [string, string];
    for (const token of [left, right, left + right]) {
      if (!Object.hasOwn(vocab, token)) {
        invalidArgument(
          `${where}: model.merges[${i}] uses ${JSON.stringify(token)}, which is not in model.vocab`,
        );
      }
    }
  });
}

/**
 * Added tokens must agree with the vocabulary: an id the vocabulary gives another token, a token the
 * vocabulary gives another id, or one id or content twice would make encode and decode disagree.
 */
function checkAddedTokens(added: unknown, vocab: Map<number, string>, where: string): AddedTokenJSON[] {
  if (added === undefined || added === null) return [];
  if (!Array.isArray(added)) {
    invalidArgument(`${where}: tokenizer.json "added_tokens" must be an array, got ${describeType(added)}`);
  }
  const byToken = new Map<string, number>();
  for (const [id, token] of vocab) byToken.set(token, id);
  const seenIds = new Map<number, string>();
  const seenContents = new Set<string>();
  added.forEach((token: unknown, i) => {
    const t = token as Partial<AddedTokenJSON> | null;
    if (typeof t !== 'object' || t === null || typeof t.content !== 'string' || !isId(t.id)) {
      invalidArgument(
        `${where}: added_tokens[${i}] must have an integer "id" in [0, ${MAX_TOKEN_ID}] and a string "content"`,
      );
    }
    const { id, content } = t as AddedTokenJSON;
    const inVocab = vocab.get(id);
    const vocabId = byToken.get(content);
    const before = seenIds.get(id);
    if ((inVocab !== undefined && inVocab !== content) || (vocabId !== undefined && vocabId !== id)) {
      invalidArgument(
        `${where}: added_tokens[${i}] ${JSON.stringify(content)} = ${id} disagrees with model.vocab ` +
          `(${inVocab !== undefined ? `id ${id} is ${JSON.stringify(inVocab)}` : `${JSON.stringify(content)} is ${vocabId}`})`,
      );
    }
    if (before !== undefined || seenContents.has(content)) {
      invalidArgument(
        `${where}: added_tokens[${i}] repeats ${before !== undefined ? `id ${id}` : JSON.stringify(content)}`,
      );
    }
    seenIds.set(id, content);
    seenContents.add(content);
  });
  return added as AddedTokenJSON[];
}

/** One past the largest id of the vocabulary and the added tokens (embedding rows a model needs). */
export function vocabularySize(json: TokenizerJSON): number {
  let max = -1;
  const vocab = json.model.vocab;
  if (Array.isArray(vocab)) max = vocab.length - 1;
  else for (const id of Object.values(vocab as Record<string, number>)) if (id > max) max = id;
  for (const t of json.added_tokens) if (t.id > max) max = t.id;
  return max + 1;
}
