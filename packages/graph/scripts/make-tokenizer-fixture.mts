/**
 * Writes test/fixtures/esm-tokenizer-parity.json: ProteinTokenizer's tokenizer.json and, for a set of
 * texts, the ids and decoded text that Hugging Face's two libraries give for it (the Rust `tokenizers`
 * npm binding and @huggingface/tokenizers). Neither is a dependency of @multihead/graph, so this one-off
 * script borrows the copies installed for @multihead/text; the test then needs neither.
 *   pnpm exec tsx scripts/make-tokenizer-fixture.mts
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ProteinTokenizer } from '../src/preprocess/protein-tokenizer.js';

const textPackage = new URL('../../text/', import.meta.url);
const require = createRequire(new URL('package.json', textPackage));
// the few calls used here, typed by hand (the packages' own types are not visible from this package)
interface RustTokenizer {
  encode(text: string, pair: null, options: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
}
const { Tokenizer: Rust } = require('tokenizers') as {
  Tokenizer: { fromString(json: string): RustTokenizer };
};
const hf = (await import(
  new URL('node_modules/@huggingface/tokenizers/dist/tokenizers.mjs', textPackage).href
)) as {
  Tokenizer: new (json: object, config: object) => { encode(text: string): { ids: number[] } };
};

const texts = [
  'MKTVRQERLKSIVRILERSKEPVSGAQLAEELSVSRQVIVQDIAYLRSLGYNIVATPRGYVLAGG',
  'KALTARQQEVFDLIRD<mask>ISQTGMPPTRAEIAQRLGFRSPNAAE',
  'K A <mask> I S Q',
  'mkv-..xbzuoJ*1 ',
  'ß😀AC',
  '<cls><eos>ABC<pad><null_1><unk>',
  'aCdEf\tgH\nik\r\n',
  '',
];

const json = new ProteinTokenizer().toTokenizerJSON();
const text = JSON.stringify(json);
const rust = Rust.fromString(text);
const js = new hf.Tokenizer(JSON.parse(text), {});
const cases = [];
for (const input of texts) {
  const ids = (await rust.encode(input, null, { addSpecialTokens: true })).getIds();
  const jsIds = js.encode(input).ids;
  if (JSON.stringify(ids) !== JSON.stringify(jsIds))
    throw new Error(`the libraries disagree on ${JSON.stringify(input)}`);
  cases.push({ text: input, ids, decoded: await rust.decode(ids, false) });
}
writeFileSync(
  new URL('../test/fixtures/esm-tokenizer-parity.json', import.meta.url),
  `${JSON.stringify({ tokenizer: json, cases }, null, 1)}\n`,
);
console.log(`wrote ${cases.length} cases`);
