/** @multihead/text: tokenizers that write Hugging Face tokenizer.json, and offline text datasets. */

export { type PreparedDataset, TEXT_DATASETS } from './data/datasets.js';
export {
  loadMobyDick,
  loadMobyDickSections,
  type MobyDickOptions,
  type MobyDickSection,
  type MobyDickSplit,
} from './data/moby-dick.js';
export {
  type FirstNamesOptions,
  loadFirstNames,
  loadFirstNamesList,
} from './data/names.js';
export { datasetBaseUrl, setDatasetBaseUrl } from './data/source.js';
export {
  type Email,
  loadSpamAssassin,
  loadSpamAssassinEmails,
  type SpamAssassinOptions,
  splitMailHeaders,
} from './data/spam-assassin.js';
export { type Split, type SplitOptions, seededShuffle, splitTrainTest } from './data/split.js';
export {
  Bert,
  type BertBatch,
  type BertConfig,
  type BertPooling,
  type MaskedTokens,
  type MaskTokensOptions,
  maskTokens,
} from './models/bert.js';
export { gptAttentionMaps } from './tasks/attention-maps.js';
export {
  GENERATION_PARAMS,
  type GenerateOptions,
  generateOptions,
  gptAttention,
  gptTextRun,
  type PromptPlan,
} from './tasks/gpt-task.js';
export { TEXT_TASKS } from './tasks/index.js';
export {
  committedCheckpoint,
  type LmConfig,
  type LmTraining,
  type LoadedLm,
  loadLm,
  packRows,
  rowsNll,
  saveTrainedLm,
  streamText,
  type TokenizerPreprocessing,
  type TokenRow,
  trainLm,
} from './tasks/lm.js';
export {
  type EvaluateMobyOptions,
  evaluateMoby,
  MOBY_EVAL_CHARS,
  MOBY_GPT,
  MOBY_TASK_ID,
  MOBY_TRAINING,
  mobyTask,
  mobyTokenizer,
  type TrainMobyOptions,
  trainMoby,
} from './tasks/moby.js';
export {
  type EvaluateNamesOptions,
  evaluateNames,
  NAME_BOUNDARY,
  NAMES_GPT,
  NAMES_TASK_ID,
  NAMES_TRAINING,
  namesTask,
  namesTokenizer,
  type TrainNamesOptions,
  trainNames,
} from './tasks/names.js';
export { NgramModel, type NgramOptions, type NllTotals, STRENGTH_GRID, tuneNgram } from './tasks/ngram.js';
export {
  BagOfWordsLogisticRegression,
  type BagOfWordsLogisticRegressionOptions,
  type BagOfWordsWeighting,
  type BinaryMetrics,
  binaryMetrics,
  createSpamTask,
  emailText,
  encodeWindows,
  SPAM_LABELS,
  SPAM_TASK_ID,
  type SpamExample,
  type SpamModelSize,
  type SpamTaskOptions,
  type WindowMode,
} from './tasks/spam/index.js';
export { type BpeTrainerOptions, bytesToUnicode, trainBpeTokenizer } from './tokenizers/bpe-trainer.js';
export {
  type CharTokenizerOptions,
  type CharTrainerOptions,
  charTokenizer,
  trainCharTokenizer,
} from './tokenizers/char.js';
export type { Corpus } from './tokenizers/corpus.js';
export {
  SPECIAL_TOKEN_ROLES,
  type SpecialTokenRole,
  type SpecialTokens,
  type TemplateOptions,
} from './tokenizers/special-tokens.js';
export {
  type BatchEncodeOptions,
  type BatchEncoding,
  type DecodeOptions,
  type EncodeOptions,
  type Encoding,
  Tokenizer,
  type TokenizerOptions,
} from './tokenizers/tokenizer.js';
export type { TokenizerJSON } from './tokenizers/tokenizer-json.js';
export { trainWordPieceTokenizer, type WordPieceTrainerOptions } from './tokenizers/wordpiece-trainer.js';
