export {
  BagOfWordsLogisticRegression,
  type BagOfWordsLogisticRegressionOptions,
  type BagOfWordsWeighting,
  type BinaryMetrics,
  binaryMetrics,
} from './baseline.js';
export { encodeWindows } from './batching.js';
export { spamProbabilities } from './model.js';
export {
  emailText,
  SPAM_LABELS,
  SPAM_TASK_ID,
  type SpamExample,
  type SpamModelSize,
  type SpamTaskOptions,
  type WindowMode,
} from './options.js';
export { createSpamTask, spamTask } from './task.js';
