/** @multihead/graph: see README.md at the repository root and docs/api.md. */
export { type FastaOptions, type FastaRecord, parseFasta, readFasta } from './preprocess/fasta.js';
export {
  parseStockholm,
  readStockholm,
  type StockholmAlignment,
  type StockholmOptions,
  type StockholmSequence,
} from './preprocess/stockholm.js';
export type { ReadOptions, TextSource } from './preprocess/text-source.js';
