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

/** Special tokens are matched before normalization and never split, as Hugging Face writes them. */
export function specialAddedToken(id: number, content: string): AddedTokenJSON {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
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
  checkModel(model as ModelJSON, where);
  json['added_tokens'] = checkAddedTokens(json['added_tokens'], where);
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

function checkModel(model: ModelJSON, where: string): void {
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
  if (type === 'Unigram') {
    if (!Array.isArray(model.vocab)) {
      invalidArgument(`${where}: Unigram model.vocab must be an array of [token, score] pairs`);
    }
    return;
  }
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    invalidArgument(
      `${where}: ${type} model.vocab must be an object of token -> id, got ${describeType(vocab)}`,
    );
  }
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      invalidArgument(`${where}: model.vocab[${JSON.stringify(token)}] must be a non-negative integer id`);
    }
  }
  if (typeof model.unk_token === 'string' && !(model.unk_token in vocab)) {
    invalidArgument(`${where}: model.unk_token ${JSON.stringify(model.unk_token)} is not in model.vocab`);
  }
  if (type === 'BPE') checkMerges(model.merges, vocab as Record<string, number>, where);
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

function checkAddedTokens(added: unknown, where: string): AddedTokenJSON[] {
  if (added === undefined || added === null) return [];
  if (!Array.isArray(added)) {
    invalidArgument(`${where}: tokenizer.json "added_tokens" must be an array, got ${describeType(added)}`);
  }
  added.forEach((token: unknown, i) => {
    const t = token as Partial<AddedTokenJSON> | null;
    if (typeof t !== 'object' || t === null || typeof t.content !== 'string' || !Number.isInteger(t.id)) {
      invalidArgument(`${where}: added_tokens[${i}] must have an integer "id" and a string "content"`);
    }
  });
  return added as AddedTokenJSON[];
}
