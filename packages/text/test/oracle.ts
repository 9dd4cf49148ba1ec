/**
 * Hugging Face's Rust `tokenizers` (npm, napi binary) as the parity oracle: the same tokenizer.json must
 * give the same ids and text there as through @huggingface/tokenizers.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer as RustTokenizer } from 'tokenizers';

export function rustTokenizer(json: string): RustTokenizer {
  return RustTokenizer.fromString(json);
}

export async function rustEncode(
  rust: RustTokenizer,
  text: string,
  addSpecialTokens = true,
): Promise<number[]> {
  return (await rust.encode(text, null, { addSpecialTokens })).getIds();
}

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

export interface SpamSample {
  id: string;
  label: 'spam' | 'ham';
  body: string;
}

export function spamSample(): SpamSample[] {
  return JSON.parse(fixture('spam-sample.json')) as SpamSample[];
}
