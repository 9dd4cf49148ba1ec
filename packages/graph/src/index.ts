/** @multihead/graph: see README.md at the repository root and docs/api.md. */

export {
  type IdentitySplit,
  type IdentitySplitOptions,
  identitySplit,
} from './data/identity-split.js';
export { KARATE_CLUB_FACTIONS, karateClub } from './data/karate-club.js';
export {
  loadMolecules,
  type MoleculeDataset,
  type MoleculeOptions,
  type MoleculeRecord,
  NCI_SMILES_FILE,
  NCI_TPSA_FILE,
} from './data/molecules.js';
export {
  type FamilySequence,
  type FamilySplit,
  loadProteinFamilies,
  loadProteinFamilySplits,
  looksLikeNucleotides,
  PROTEIN_FAMILY_FILES,
  type ProteinFamilies,
  type ProteinFamily,
  type ProteinFamilyOptions,
} from './data/protein-families.js';
export {
  type AlignmentScores,
  alignedIdentity,
  type GlobalAlignment,
  globalAlignment,
  globalAlignmentIdentity,
  SIMPLE_SCORES,
} from './data/sequence-identity.js';
export { type EdgeListOptions, parseEdgeList, readEdgeList } from './preprocess/edge-list.js';
export { type FastaOptions, type FastaRecord, parseFasta, readFasta } from './preprocess/fasta.js';
export { parseGml, readGml } from './preprocess/gml.js';
export {
  type Attributes,
  type AttributeValue,
  fromGraphology,
  type GraphData,
  type GraphEdge,
  type GraphInput,
  type GraphNode,
  toGraphology,
} from './preprocess/graph-data.js';
export {
  type ComponentLabels,
  connectedComponentLabels,
  type DistanceMatrix,
  type DistanceOptions,
  type NodeDegrees,
  nodeDegrees,
  shortestPathDistances,
} from './preprocess/graph-features.js';
export {
  loadSmilesParser,
  type MolecularGraph,
  type MolecularProperties,
  type MoleculeAtom,
  type MoleculeBond,
  type MoleculeRing,
  molecularProperties,
  moleculeToGraphData,
  parseSmiles,
  type SmilesParser,
} from './preprocess/molecule.js';
export { type MaskedTokens, type MaskingOptions, maskTokens } from './preprocess/protein-masking.js';
export {
  type BatchOptions,
  type EncodedBatch,
  type EncodeOptions,
  ESM_VOCABULARY,
  ProteinTokenizer,
  type ProteinTokenizerOptions,
  STANDARD_AMINO_ACIDS,
} from './preprocess/protein-tokenizer.js';
export {
  parseStockholm,
  readStockholm,
  type StockholmAlignment,
  type StockholmOptions,
  type StockholmSequence,
} from './preprocess/stockholm.js';
export type { ReadOptions, TextSource } from './preprocess/text-source.js';
