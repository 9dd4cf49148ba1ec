/** @multihead/graph: see README.md at the repository root and docs/api.md. */

// ---- models, baselines and tasks (docs/api.md, "@multihead/graph tasks and models") ----
export { FamilyUnigram } from './baselines/family-unigram.js';
export { type KmerLogisticOptions, KmerLogisticRegression, kmerFeatures } from './baselines/kmer-logistic.js';
export { type LabelPropagationOptions, labelPropagation } from './baselines/label-propagation.js';
export { type RidgeOptions, RidgeRegression } from './baselines/ridge.js';
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
export { contactMap } from './models/contact-map.js';
export {
  type ColumnCovariation,
  columnCovariation,
  residueColumns,
  writeResidueCovariation,
} from './models/covariation.js';
export { type GraphBatch, type GraphFeatures, graphBatch, graphFeatures } from './models/graph-batch.js';
export { Graphormer, type GraphormerConfig, GraphormerLayer } from './models/graphormer.js';
export { type Eigen, laplacianEncoding, normalizedLaplacian, symmetricEigen } from './models/laplacian.js';
export { type PairBiasOptions, ResiduePairBias } from './models/pair-bias.js';
export {
  type EncodeInputs,
  lengthBucket,
  ProteinEncoder,
  type ProteinEncoderConfig,
} from './models/protein-encoder.js';
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
export { GRAPH_TASKS } from './tasks/index.js';
export {
  createKarateTask,
  KARATE_GRAPHORMER,
  KARATE_TASK_ID,
  KARATE_TRAINING,
  type KarateOptions,
  karateTask,
} from './tasks/karate.js';
export {
  ATOM_FEATURE_SIZES,
  BOND_TYPES,
  elementCounts,
  MOLECULE_ELEMENTS,
  moleculeFeatures,
  scaffoldAtoms,
  scaffoldKeys,
  scaffoldSplit,
} from './tasks/molecule-data.js';
export {
  createMoleculesTask,
  MOLECULES_GRAPHORMER,
  MOLECULES_TASK_ID,
  MOLECULES_TRAINING,
  type MoleculesOptions,
  moleculesTask,
} from './tasks/molecules.js';
export { chooseLabelled } from './tasks/node-classifier.js';
export {
  createPfamTask,
  PFAM_ENCODER,
  PFAM_TASK_ID,
  PFAM_TRAINING,
  type PfamOptions,
  pfamTask,
} from './tasks/pfam.js';
export { type LabelledSequence, loadPfamData, type PfamData, windowStarts } from './tasks/pfam-data.js';
export { crc32, encodePng, heatmapPixels } from './tasks/png.js';
export {
  createProteinTask,
  PROTEIN_FAMILIES,
  PROTEIN_GPT,
  PROTEIN_TASK_ID,
  PROTEIN_TRAINING,
  type ProteinOptions,
  proteinTask,
} from './tasks/protein.js';
export { readGraphInput, readSequenceInput, readSmilesInput } from './tasks/task-inputs.js';
